#include "userslot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "fileutil.h"
#include "util.h"
#include "banned.h"

/* Lock slot n of user; its descriptor, or -1 (errno EWOULDBLOCK when another holds it). */
static int lock_slot(const char *dir, const char *user, unsigned n)
{
	char *path = xstrfmt("%s/%s.%u", dir, user, n);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;

		close(fd);
		fd = -1;
		errno = saved;
	}
	free(path);
	return fd;
}

int userslot_take(const char *data_dir, const char *user, unsigned max)
{
	char *dir = xstrfmt("%s/run/slots", data_dir);
	int fd = -1, saved;

	if (mkdir_p(dir, 0700) < 0)
		goto cleanup;
	/* the lowest free slot: with k connections open, k + 1 tries at most */
	for (unsigned n = 0; n < max; n++) {
		fd = lock_slot(dir, user, n);
		if (fd >= 0 || errno != EWOULDBLOCK)
			goto cleanup;
	}
	errno = EBUSY;
cleanup:
	saved = errno;
	free(dir);
	errno = saved;
	return fd;
}
