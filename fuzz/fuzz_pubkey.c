/* libFuzzer harness: key lines as `key add` reads them from a client's stdin. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pubkey.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pubkey_list *list = pubkey_list_new();
	struct diags *d = diags_new();
	struct strbuf sb = STRBUF_INIT;

	pubkey_list_parse(list, "fuzz", "<stdin>", (const char *)data, size, d);
	for (size_t i = 0; i < pubkey_list_count(list); i++) {
		const struct pubkey *k = pubkey_list_get(list, i);

		pubkey_format(&sb, k);
		if (pubkey_list_find_key(list, k->key) == NULL ||
		    pubkey_list_find_fingerprint(list, k->fingerprint) == NULL)
			__builtin_trap();
	}
	strbuf_release(&sb);
	diags_free(d);
	pubkey_list_free(list);
	return 0;
}
