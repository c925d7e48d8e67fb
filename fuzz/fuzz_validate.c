/*
 * libFuzzer target: validate an app built from the input.
 *
 * The input is up to three parts separated by NUL bytes: app.yaml,
 * resources/r.yaml and overlays/prod/kustomization.yaml. Every part goes
 * through the YAML loader and the validator, exactly as a push would.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../renderer/validate.h"
#include "config.h"
#include "diag.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
	"app.yaml",
	"resources/r.yaml",
	"overlays/prod/kustomization.yaml",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gitd_config *cfg;
	const char *p = (const char *)data, *end = p + size;
	struct source *src = source_new_mem();
	struct diags *d = diags_new();

	if (!cfg)
		cfg = config_default();
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]) && p <= end; i++) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);

		source_mem_add(src, paths[i], p, len);
		p += len + 1;
	}
	validate_app(d, src, cfg, "fuzz", NULL);
	diags_free(d);
	source_free(src);
	return 0;
}
