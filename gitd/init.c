#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adminrepo.h"
#include "hostkeys.h"
#include "repos.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

static const char default_config[] =
	"# gitd platform config. See docs/design.md (\"Platform config\") and docs/server.md.\n"
	"listen: 127.0.0.1:2222\n"
	"environments:            # order is promotion order\n"
	"  - name: dev\n"
	"    ref: refs/heads/main\n"
	"  - name: staging\n"
	"    ref: refs/heads/main\n"
	"  - name: prod\n"
	"    ref: refs/tags/v*\n"
	"namespace: \"{app}-{env}\"\n"
	"log_format: text\n";

static int make_dir(const char *path, mode_t mode, struct strbuf *err)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Write gitd.yaml unless there is one: an operator's config is never replaced. */
static int write_default_config(const char *data_dir, struct strbuf *err)
{
	char *path = xstrfmt("%s/gitd.yaml", data_dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int rc = 0;

	if (fd < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot create %s: %s", path, strerror(errno));
		rc = -1;
	} else if (fd >= 0) {
		if (write(fd, default_config, strlen(default_config)) != (ssize_t)strlen(default_config) ||
		    fsync(fd) < 0) {
			strbuf_addf(err, "cannot write %s: %s", path, strerror(errno));
			unlink(path);
			rc = -1;
		}
		close(fd);
	}
	free(path);
	return rc;
}

static int init_admin_repo(const char *data_dir, const char *key_file, const char *admin,
			   struct strbuf *err)
{
	char *path = repos_path(data_dir, ADMIN_REPO);
	struct strbuf keys;
	struct diags *d = diags_new();
	int rc = -1;

	strbuf_init_capped(&keys, ADMINREPO_KEYFILE_MAX);
	if (repos_exists(data_dir, ADMIN_REPO)) {
		rc = 0; /* already initialised: keep it */
		goto cleanup;
	}
	if (!key_file) {
		strbuf_addstr(err, "--admin-key FILE is required to create the admin repo");
		goto cleanup;
	}
	if (strbuf_read_file(&keys, key_file) < 0) {
		strbuf_addf(err, "cannot read %s: %s", key_file, strerror(errno));
		goto cleanup;
	}
	if (adminrepo_init(path, admin, key_file, keys.buf, keys.len, d, err) < 0) {
		diags_print(d, stderr);
		if (!err->len)
			strbuf_addf(err, "%s holds no usable public key", key_file);
		goto cleanup;
	}
	rc = 0;
cleanup:
	diags_free(d);
	strbuf_release(&keys);
	free(path);
	return rc;
}

int init_data_dir(const char *data_dir, const char *admin_key_file, const char *admin_name)
{
	struct strbuf err = STRBUF_INIT, fps = STRBUF_INIT;
	char *repos = xstrfmt("%s/repos", data_dir);
	int rc = 1;

	if (make_dir(data_dir, 0700, &err) < 0 || make_dir(repos, 0700, &err) < 0 ||
	    hostkeys_generate(data_dir, &err) < 0 || write_default_config(data_dir, &err) < 0 ||
	    init_admin_repo(data_dir, admin_key_file, admin_name, &err) < 0)
		goto cleanup;
	if (!repos_exists(data_dir, DEPLOY_REPO) && repos_create(data_dir, DEPLOY_REPO, &err) < 0)
		goto cleanup;
	hostkeys_describe(&fps, data_dir);
	printf("gitd: data directory %s is ready; admin: %s\nhost keys:\n%s", data_dir, admin_name, fps.buf);
	rc = 0;
cleanup:
	if (rc)
		fprintf(stderr, "gitd: init: %s\n", err.buf);
	strbuf_release(&err);
	strbuf_release(&fps);
	free(repos);
	return rc;
}
