/* libFuzzer: the exec request splitter and git service recognition (client data). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "strbuf.h"
#include "strvec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	struct strvec words = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *arg;

	memcpy(line, data, size);
	line[size] = '\0'; /* libssh hands us a C string: NULs end it */
	if (command_split(&words, line, &err) == 0)
		command_git_service(&words, &arg);
	strvec_clear(&words);
	strbuf_release(&err);
	free(line);
	return 0;
}
