/*
 * mirrorer: runs the mirror pushes of lib/mirror.h from the daemon.
 *
 * Whoever wants a repo mirrored (a job after its render, an admin) writes
 * a request into the target's state file in DATA/mirror; the server's main
 * loop polls mirrorer_fd() (an inotify watch on that directory) and calls
 * mirrorer_tick() at least once a second, which starts the runs that are
 * due, each in a forked process of its own: at most MIRRORER_MAX_RUNS at
 * once, never two for one target. A run pushes the repo's refs as they are
 * when it starts, so requests that arrive while one is waiting or running
 * cost one more run at most (coalescing).
 *
 * Failures back off exponentially with jitter (mirror_backoff_ms); a run
 * still going after MIRRORER_RUN_TIMEOUT_MS is killed and counts as failed.
 * At startup every pending target runs at once, back-off or not: requests
 * survive a crash of gitd in their state files.
 */
#ifndef GITD_MIRRORER_H
#define GITD_MIRRORER_H

#include <stddef.h>
#include <sys/types.h>

struct gitd_config;
struct mirrorer;

#define MIRRORER_MAX_RUNS 3
#define MIRRORER_RUN_TIMEOUT_MS (10 * 60 * 1000)

/* Watch DATA/mirror. NULL on failure (logged). */
struct mirrorer *mirrorer_new(const char *data_dir);
void mirrorer_free(struct mirrorer *m);

/* A descriptor that becomes readable when a mirror state changed (a run was requested). */
int mirrorer_fd(const struct mirrorer *m);
/* Drain mirrorer_fd(), start the runs that are due; close_fds: descriptors a run must not keep. */
void mirrorer_tick(struct mirrorer *m, const struct gitd_config *cfg, const int *close_fds, size_t nfds);
/* How long the main loop may sleep before the next run is due: 0 to 1000 ms. */
int mirrorer_timeout_ms(const struct mirrorer *m);
/* Whether pid was one of the mirrorer's runs (then it is accounted for). */
int mirrorer_reaped(struct mirrorer *m, pid_t pid, int status);
/* Send SIGTERM to every run (gitd is stopping; their targets stay pending). */
void mirrorer_stop(struct mirrorer *m);
/* Runs going on now. */
size_t mirrorer_running(const struct mirrorer *m);

#endif
