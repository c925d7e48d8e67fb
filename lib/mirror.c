/* Targets, URLs, back-off and refspecs: the pure part of mirroring. */
#include "mirror.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"
#include "banned.h"

/* The admin repository: never selected by a pattern, only by its exact name. */
#define ADMIN_REPO_NAME "gitd-admin"

int mirror_pattern_matches(const char *pattern, const char *repo)
{
	if (!strcmp(repo, ADMIN_REPO_NAME))
		return !strcmp(pattern, repo);
	return fnmatch(pattern, repo, 0) == 0;
}

char *mirror_url_expand(const char *url, const char *repo)
{
	struct strbuf out = STRBUF_INIT;
	const char *p = url, *hit;

	while ((hit = strstr(p, "{repo}"))) {
		strbuf_add(&out, p, (size_t)(hit - p));
		strbuf_addstr(&out, repo);
		p = hit + strlen("{repo}");
	}
	strbuf_addstr(&out, p);
	return strbuf_detach(&out, NULL);
}

char *mirror_url_display(const char *url)
{
	const char *scheme = strstr(url, "://"), *auth, *end, *at, *colon;

	if (!scheme)
		return xstrdup(url); /* USER@HOST:PATH and paths carry no password */
	auth = scheme + 3;
	end = auth + strcspn(auth, "/?#");
	at = memrchr(auth, '@', (size_t)(end - auth));
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (!colon)
		return xstrdup(url);
	return xstrfmt("%.*s%s", (int)(colon - url), url, at);
}

/* FNV-1a, 64 bits: a stable, file-name-safe name for a URL (not a secret, not a MAC). */
static void url_id(char out[17], const char *url)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

size_t mirror_targets(struct mirror_target **out, const struct gitd_config *cfg, const char *repo)
{
	size_t nr = 0, alloc = 0;

	*out = NULL;
	for (size_t i = 0; i < config_mirror_count(cfg); i++) {
		const struct config_mirror *m = config_mirror(cfg, i);
		char *url;
		size_t k;

		if (!mirror_pattern_matches(m->repos, repo))
			continue;
		url = mirror_url_expand(m->url, repo);
		for (k = 0; k < nr && strcmp((*out)[k].url, url); k++)
			;
		if (k < nr) {
			free(url); /* two entries, one remote: the first one's credentials win */
			continue;
		}
		ALLOC_GROW(*out, nr + 1, alloc);
		(*out)[nr] = (struct mirror_target){ m, xstrdup(repo), url, mirror_url_display(url), "" };
		url_id((*out)[nr].id, url);
		nr++;
	}
	return nr;
}

void mirror_targets_free(struct mirror_target *t, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(t[i].repo);
		free(t[i].url);
		free(t[i].display);
	}
	free(t);
}

uint64_t mirror_backoff_ms(unsigned attempts, uint32_t random)
{
	uint64_t delay = MIRROR_BACKOFF_CAP_MS;

	if (!attempts)
		return 0;
	/* 2^19 seconds is far past the cap: stop shifting before it overflows */
	if (attempts - 1 < 20 && ((uint64_t)MIRROR_BACKOFF_BASE_MS << (attempts - 1)) < delay)
		delay = (uint64_t)MIRROR_BACKOFF_BASE_MS << (attempts - 1);
	return delay - random % (delay / 2 + 1);
}

int64_t mirror_due_time(int64_t since, int64_t last_request, int64_t last_run_end, unsigned attempts,
			int64_t next_retry)
{
	int64_t quiet;

	if (attempts)
		return next_retry;
	if (!last_run_end || last_run_end + MIRROR_SETTLE_MS <= since)
		return since; /* idle: the first request of a burst runs at once */
	quiet = (last_request > since ? last_request : since) + MIRROR_SETTLE_MS;
	return quiet < since + MIRROR_MAX_WAIT_MS ? quiet : since + MIRROR_MAX_WAIT_MS;
}

int mirror_ref_in_scope(const char *name, const json_t *branches)
{
	size_t i;
	const json_t *p;

	if (starts_with(name, "refs/tags/"))
		return name[strlen("refs/tags/")] != '\0';
	if (!starts_with(name, "refs/heads/") || !name[strlen("refs/heads/")])
		return 0;
	if (!branches)
		return 1;
	json_array_foreach(branches, i, p) {
		if (json_is_string(p) && !fnmatch(json_string_value(p), name + strlen("refs/heads/"), 0))
			return 1;
	}
	return 0;
}

static const struct mirror_ref *find_ref(const struct mirror_ref *refs, size_t nr, const char *name)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(refs[i].name, name))
			return &refs[i];
	return NULL;
}

void mirror_refspecs(struct strvec *out, const struct mirror_ref *local, size_t nlocal,
		     const struct mirror_ref *remote, size_t nremote, const json_t *branches)
{
	for (size_t i = 0; i < nlocal; i++) {
		const struct mirror_ref *there = find_ref(remote, nremote, local[i].name);

		if (!mirror_ref_in_scope(local[i].name, branches))
			continue;
		if (!there || !git_oid_equal(&there->oid, &local[i].oid))
			strvec_pushf(out, "+%s:%s", local[i].name, local[i].name);
	}
	for (size_t i = 0; i < nremote; i++)
		if (mirror_ref_in_scope(remote[i].name, branches) && !find_ref(local, nlocal, remote[i].name))
			strvec_pushf(out, ":%s", remote[i].name);
}

/* HOST or [HOST] (IPv6) then an optional :PORT, within [p, end). */
static int parse_host_port(char **host, unsigned *port, const char *p, const char *end)
{
	const char *hend, *colon;
	unsigned long n;

	if (*p == '[') {
		hend = memchr(p, ']', (size_t)(end - p));
		if (!hend || hend == p + 1)
			return -1;
		colon = hend + 1 < end && hend[1] == ':' ? hend + 1 : NULL;
		p++;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		hend = colon ? colon : end;
	}
	if (hend == p)
		return -1;
	*port = 22;
	if (colon) {
		char *digits = xstrndup(colon + 1, (size_t)(end - colon - 1));
		int bad = parse_uint(digits, 65535, &n) < 0 || !n;

		free(digits);
		if (bad)
			return -1;
		*port = (unsigned)n;
	}
	*host = xstrndup(p, (size_t)(hend - p));
	return 0;
}

int mirror_url_ssh_host(char **host, unsigned *port, const char *url)
{
	const char *start, *end, *at;

	*host = NULL;
	if (starts_with(url, "ssh://")) {
		start = url + strlen("ssh://");
		end = start + strcspn(start, "/");
		at = memrchr(start, '@', (size_t)(end - start));
		return parse_host_port(host, port, at ? at + 1 : start, end);
	}
	if (strstr(url, "://") || url[0] == '/')
		return -1;
	/* scp style, as git reads it: a colon before any slash ends HOST */
	end = url + strcspn(url, ":/");
	if (*end != ':' || end == url)
		return -1;
	at = memrchr(url, '@', (size_t)(end - url));
	start = at ? at + 1 : url;
	if (start == end)
		return -1;
	*host = xstrndup(start, (size_t)(end - start));
	*port = 22;
	return 0;
}

const char *mirror_url_local_path(const char *url)
{
	if (starts_with(url, "file://"))
		url += strlen("file://");
	return url[0] == '/' ? url : NULL;
}
