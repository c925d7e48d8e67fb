/* libFuzzer: what a builder prints (the error line gitd shows the pusher) and the digest it writes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	struct strbuf line = STRBUF_INIT;

	build_error_line(&line, text);
	if (strchr(line.buf, '\n') || strchr(line.buf, '\x1b'))
		abort(); /* one line, nothing a terminal would interpret */
	build_digest_ok(text);
	strbuf_release(&line);
	free(text);
	return 0;
}
