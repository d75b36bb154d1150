/* Reading a whole test input file.  Include after cmocka.h. */
#ifndef NSGSIM_TEST_FILES_H
#define NSGSIM_TEST_FILES_H

#include <stdio.h>
#include <stdlib.h>

/* The file's bytes, NUL-terminated (one byte more than *len); fails the
 * test when the file cannot be read. */
static inline char *test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

#endif
