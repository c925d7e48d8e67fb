#include <stdio.h>

#include "util.h"
#include "banned.h"

int main(int argc, char **argv)
{
	(void)argc;
	set_progname(argv[0]);
	fprintf(stderr, "usage: %s ...\n", get_progname());
	return 2;
}
