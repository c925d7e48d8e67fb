/*
 * metrics_server: answers Prometheus scrapes on metrics_listen (gitd.yaml)
 * from the shared counters (lib/metrics.h), the job queue and the mirror
 * state.
 *
 * It runs in a process of its own, so a slow or silent scraper delays
 * only other scrapes, never the SSH listener. The HTTP side is
 * deliberately tiny: one GET per connection, a second to send it, a
 * second to take the answer.
 */
#ifndef GITD_METRICS_SERVER_H
#define GITD_METRICS_SERVER_H

#include <stddef.h>
#include <sys/types.h>

struct gitd_config;
struct strbuf;

/* Listen on HOST:PORT for scrapes; the socket, or -1 with a message in err. */
int metrics_server_listen(const char *addr, struct strbuf *err);

/*
 * Fork the process serving listen_fd, reading cfg as it is now (restart
 * it to change that). close_fds lists the descriptors it must not keep.
 * Its pid, or -1 (logged).
 */
pid_t metrics_server_start(int listen_fd, const char *data_dir, const struct gitd_config *cfg,
			   const int *close_fds, size_t nfds);

/* The scrape's body, as the process serves it (for tests). */
void metrics_format(struct strbuf *out, const char *data_dir, const struct gitd_config *cfg);

#endif
