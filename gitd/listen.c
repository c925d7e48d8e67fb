#include "listen.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "strbuf.h"
#include "util.h"
#include "banned.h"

int listen_tcp(const char *listen_addr, struct strbuf *err)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char *host = xstrdup(listen_addr), *port = strrchr(host, ':');
	int fd = -1, one = 1, rc;

	if (!port) {
		strbuf_addf(err, "listen address '%s' is not HOST:PORT", listen_addr);
		goto cleanup;
	}
	*port++ = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
	if (rc) {
		strbuf_addf(err, "cannot resolve '%s': %s", listen_addr, gai_strerror(rc));
		goto cleanup;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 512) < 0) {
		strbuf_addf(err, "cannot listen on %s: %s", listen_addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
cleanup:
	if (ai)
		freeaddrinfo(ai);
	free(host);
	return fd;
}

