/*
 * init: `gitd init`, creating a data directory ready to serve: host keys,
 * a default gitd.yaml, the admin repo with its first admin, the deploy
 * repo. Safe to re-run: it only creates what is missing.
 */
#ifndef GITD_INIT_H
#define GITD_INIT_H

/* The process exit code: 0 on success. */
int init_data_dir(const char *data_dir, const char *admin_key_file, const char *admin_name);

#endif
