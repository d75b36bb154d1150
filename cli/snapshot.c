/* nsgsim snapshot-tags IN OUT: compiles a service-tags file into a snapshot
 * (include/nsgsim.h, nsgsim_loader_service_tags_snapshot) that --service-tags
 * loads in a few milliseconds.  OUT is written atomically: a temporary file
 * beside it, renamed over it once complete. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "nsgsim.h"

/* 95012 -> "95,012" */
const char *grouped(unsigned long long v, char *buf, size_t cap)
{
	char digits[32];
	int n = snprintf(digits, sizeof digits, "%llu", v);
	size_t o = 0;
	for (int i = 0; i < n && o + 2 < cap; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t k = write(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* Writes buf to path through a mkstemp file beside it and rename(2): a reader of path
 * sees the old file or the new one, never a part.  0, or -1 with errno. */
int write_atomically(const char *path, const void *buf, size_t len)
{
	size_t cap = strlen(path) + 8;
	char *tmp = malloc(cap);
	if (!tmp)
		return -1;
	snprintf(tmp, cap, "%s.XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		return -1;
	}
	mode_t mask = umask(0); /* mkstemp makes 0600; give what a plain create would */
	umask(mask);
	int rc = fchmod(fd, 0666 & ~mask);
	if (rc == 0)
		rc = write_all(fd, buf, len);
	if (rc == 0)
		rc = fsync(fd);
	int saved = errno;
	if (close(fd) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		rc = -1;
		saved = errno;
	}
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	errno = saved;
	return rc;
}

int cmd_snapshot_tags(const options *o)
{
	if (o->n_args != 2)
		return usage_error("give IN (a service-tags file) and OUT");
	const char *in = o->args[0], *out = o->args[1];
	nsgsim_error err = {0};
	nsgsim_loader *l = nsgsim_loader_new();
	if (!l) {
		fprintf(stderr, "nsgsim: error: out of memory\n");
		return EXIT_USAGE;
	}
	void *buf = NULL;
	size_t len = 0;
	int rc = nsgsim_loader_add_service_tags(l, in, &err);
	if (rc == 0)
		rc = nsgsim_loader_service_tags_snapshot(l, &buf, &len, &err);
	nsgsim_tags_info info;
	if (rc == 0)
		rc = nsgsim_loader_service_tags_info(l, &info);
	if (rc != 0) {
		print_error(&err);
	} else if (write_atomically(out, buf, len) != 0) {
		fprintf(stderr, "nsgsim: error: %s: cannot write: %s\n", out, strerror(errno));
		rc = -1;
	} else {
		char a[32], b[32], c[32];
		fprintf(stderr, "wrote %s: %s tags, %s prefixes, %s bytes\n", out,
		        grouped(info.tags, a, sizeof a), grouped(info.prefixes, b, sizeof b),
		        grouped(len, c, sizeof c));
	}
	nsgsim_free(buf);
	nsgsim_loader_free(l);
	return rc == 0 ? 0 : EXIT_USAGE;
}
