/*
 * listen: a non-blocking, close-on-exec TCP listening socket for
 * "HOST:PORT" or "[V6ADDR]:PORT" (port 0: any free port).
 */
#ifndef GITD_LISTEN_H
#define GITD_LISTEN_H

struct strbuf;

/* The socket, or -1 with a message in err. */
int listen_tcp(const char *addr, struct strbuf *err);

#endif
