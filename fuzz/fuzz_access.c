/* libFuzzer harness: access.yaml as pushed to the admin repository. */
#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "yamlload.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strvec users = STRVEC_INIT;
	struct diags *d = diags_new();
	struct access *a = NULL;
	struct ydoc *doc = NULL;
	struct access_ref_rule rule;
	struct strbuf sb = STRBUF_INIT;

	strvec_pushl(&users, "admin", "alice", "bob", NULL);
	if (ydoc_load(&doc, "access.yaml", (const char *)data, size, NULL, d) == 0 &&
	    access_parse(&a, doc, &users, d) == 0) {
		json_decref(access_to_json(a));
		access_perm(a, "shop", "alice");
		access_perm(a, "gitd-admin", "bob");
		if (!access_ref_check(&rule, a, "shop", "bob", "refs/tags/v1"))
			access_ref_refusal(&sb, &rule, "refs/tags/v1");
		access_remove_user(a, "alice");
		access_remove_repo(a, "shop");
		json_decref(access_to_json(a));
	}
	strbuf_release(&sb);
	access_free(a);
	ydoc_free(doc);
	diags_free(d);
	strvec_clear(&users);
	return 0;
}
