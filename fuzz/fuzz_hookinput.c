/* libFuzzer: the ref update lines the hooks read from git. */
#include <stdint.h>
#include <stdio.h>

#include "hookinput.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *in = fmemopen((void *)data, size, "r");
	struct diags *d = diags_new();
	struct ref_update *u = NULL;
	size_t nr = 0;

	if (in && hookinput_read(&u, &nr, in, d) == 0)
		hookinput_free(u, nr);
	if (in)
		fclose(in);
	diags_free(d);
	return 0;
}
