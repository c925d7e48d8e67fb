/* libFuzzer harness: repository paths as git clients send them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reponame.h"
#include "util.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An accepted name must be safe to join under repos/. */
static void check_safe(const char *name)
{
	if (!*name || strchr(name, '/') || strstr(name, "..") || name[0] == '-' || name[0] == '.' ||
	    strlen(name) > REPONAME_MAX)
		__builtin_trap();
	for (const char *p = name; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", *p))
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = xstrndup((const char *)data, size), *name = NULL;
	struct strbuf err = STRBUF_INIT;

	if (reponame_normalize(&name, in, &err) == 0) {
		check_safe(name);
		if (reponame_check(name, &err) < 0 || !reponame_match(name, name))
			__builtin_trap();
	}
	if (reponame_check_pattern(in, &err) == 0)
		reponame_match(in, "shop");
	reponame_check_user(in, &err);
	free(name);
	free(in);
	strbuf_release(&err);
	return 0;
}
