/*
 * webhook-receiver: a tiny HTTP server standing in for a CI system in the
 * webhook builder's end-to-end test (t_build.sh).
 *
 *   webhook-receiver PORTFILE SECRETFILE OUTDIR
 *
 * Listens on 127.0.0.1 (an ephemeral port, written to PORTFILE), and for
 * each POST checks X-Gitd-Signature-256 against the HMAC-SHA256 of the
 * body under the key in SECRETFILE (trailing newline removed). A good
 * request is answered 202 and its body saved as OUTDIR/N.json; a bad one
 * is answered 401 and saved as OUTDIR/N.rejected. The test script then
 * reports the build back over SSH. Runs until killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "banned.h"

#define MAX_REQUEST (64 * 1024)

static char secret[4096];
static size_t secret_len;

static void load_secret(const char *path)
{
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		exit(2);
	}
	secret_len = fread(secret, 1, sizeof(secret), f);
	fclose(f);
	while (secret_len && (secret[secret_len - 1] == '\n' || secret[secret_len - 1] == '\r'))
		secret_len--;
}

/* The value of header name in the head (NUL-terminated), copied into out; 0 if absent. */
static int header(const char *head, const char *name, char *out, size_t outlen)
{
	size_t len = strlen(name);

	for (const char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
		const char *v = line + 2;
		size_t n;

		if (strncasecmp(v, name, len) || v[len] != ':')
			continue;
		v += len + 1;
		while (*v == ' ')
			v++;
		n = strcspn(v, "\r\n");
		if (n >= outlen)
			return 0;
		memcpy(out, v, n);
		out[n] = '\0';
		return 1;
	}
	return 0;
}

static int signature_ok(const char *head, const char *body, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char want[7 + 64 + 1] = "sha256=", got[128];

	if (!header(head, "X-Gitd-Signature-256", got, sizeof(got)) || strlen(got) != 7 + 64)
		return 0;
	HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)body, len, md, &md_len);
	for (unsigned i = 0; i < 32; i++) {
		want[7 + 2 * i] = hex[md[i] >> 4];
		want[7 + 2 * i + 1] = hex[md[i] & 15];
	}
	return CRYPTO_memcmp(want, got, 7 + 64) == 0;
}

static void save(const char *dir, unsigned n, const char *ext, const char *body, size_t len)
{
	char tmp[4096], path[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/.%u.tmp", dir, n);
	snprintf(path, sizeof(path), "%s/%u.%s", dir, n, ext);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fwrite(body, 1, len, f);
	fclose(f);
	rename(tmp, path); /* the test sees the file whole or not at all */
}

/* Read one request into buf; the body's offset in *body and its length in *len. */
static int read_request(int fd, char *buf, size_t *body, size_t *len)
{
	size_t got = 0;
	char value[32];

	for (;;) {
		ssize_t n = read(fd, buf + got, MAX_REQUEST - 1 - got);
		char *end;

		if (n <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		*body = (size_t)(end + 4 - buf);
		end[2] = '\0'; /* the head ends with its last header's CRLF */
		*len = header(buf, "Content-Length", value, sizeof(value)) ? strtoul(value, NULL, 10) : 0;
		if (*body + *len > MAX_REQUEST - 1)
			return -1;
		while (got < *body + *len) {
			n = read(fd, buf + got, *body + *len - got);
			if (n <= 0)
				return -1;
			got += (size_t)n;
		}
		return 0;
	}
}

static void serve(int fd, const char *dir, unsigned n)
{
	static char buf[MAX_REQUEST];
	static const char ok[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	static const char bad[] = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 14\r\n"
				  "Connection: close\r\n\r\nbad signature\n";
	size_t body, len;
	int good;

	if (read_request(fd, buf, &body, &len) < 0)
		return;
	good = signature_ok(buf, buf + body, len);
	save(dir, n, good ? "json" : "rejected", buf + body, len);
	if (write(fd, good ? ok : bad, good ? sizeof(ok) - 1 : sizeof(bad) - 1) < 0)
		perror("write");
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t alen = sizeof(addr);
	int lfd, one = 1;
	char tmp[4096];
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: webhook-receiver PORTFILE SECRETFILE OUTDIR\n");
		return 2;
	}
	load_secret(argv[2]);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 8) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) {
		perror("listen");
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	f = fopen(tmp, "w");
	if (!f)
		return 1;
	fprintf(f, "%u\n", ntohs(addr.sin_port));
	fclose(f);
	rename(tmp, argv[1]);
	for (unsigned n = 1;; n++) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		serve(fd, argv[3], n);
		close(fd);
	}
}
