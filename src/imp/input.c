#include "imp/input.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "base/xmalloc.h"

/* zlib's own input buffer; larger than its 8 KiB default because importers
 * read big files sequentially and nothing else. */
#define GZ_BUFFER (128 * 1024)

struct input {
	gzFile gz;		/* NULL for a memory input */
	const char *mem;	/* borrowed */
	size_t mem_len;
	size_t mem_pos;
	uint64_t size;
	int failed;
	char error[ERR_MSG_MAX];
};

struct input *input_open(const char *path, struct err *e)
{
	int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "(stdin)" : path;
	/* gzclose() closes the descriptor it was given; a duplicate keeps the
	 * process's fd 0 open for whoever needs it after us. */
	int fd = is_stdin ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0)
			  : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, ERR_IO, "cannot open '%.200s': %s", name, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		err_set(e, ERR_IO, "cannot open '%.200s': %s", name, strerror(errno));
		close(fd);
		return NULL;
	}
	/* open() succeeds on a directory and the first read fails; say so now. */
	if (S_ISDIR(st.st_mode)) {
		err_set(e, ERR_IO, "cannot open '%.200s': %s", name, strerror(EISDIR));
		close(fd);
		return NULL;
	}
	gzFile gz = gzdopen(fd, "rb");
	if (gz == NULL) {
		err_set(e, ERR_IO, "cannot open '%.200s': out of memory in zlib", name);
		close(fd);
		return NULL;
	}
	gzbuffer(gz, GZ_BUFFER);

	struct input *in = xcalloc(1, sizeof(*in));
	in->gz = gz;
	in->size = S_ISREG(st.st_mode) && st.st_size > 0 ? (uint64_t)st.st_size : 0;
	return in;
}

struct input *input_from_memory(const char *p, size_t n)
{
	struct input *in = xcalloc(1, sizeof(*in));
	in->mem = p;
	in->mem_len = n;
	in->size = n;
	return in;
}

static long fail(struct input *in, const char *what, const char *zmsg)
{
	/* zlib prefixes its messages with the "path", which for gzdopen() is a
	 * meaningless "<fd:3>"; the caller knows the real name. */
	const char *sep = strstr(zmsg, ": ");
	if (strncmp(zmsg, "<fd:", 4) == 0 && sep != NULL)
		zmsg = sep + 2;
	in->failed = 1;
	snprintf(in->error, sizeof(in->error), "%s: %s", what, zmsg);
	return -1;
}

long input_read(struct input *in, char *buf, size_t cap)
{
	if (in->failed)
		return -1;
	if (cap == 0)
		return 0;
	if (in->gz == NULL) {
		size_t n = in->mem_len - in->mem_pos;
		if (n > cap)
			n = cap;
		if (n > LONG_MAX)
			n = LONG_MAX;
		memcpy(buf, in->mem + in->mem_pos, n);
		in->mem_pos += n;
		return (long)n;
	}

	unsigned want = cap > INT_MAX ? INT_MAX : (unsigned)cap;
	int got = gzread(in->gz, buf, want);
	int zerr = Z_OK;
	const char *zmsg = gzerror(in->gz, &zerr);
	if (got < 0)
		return fail(in, zerr == Z_ERRNO ? "read error" : "corrupt gzip stream", zmsg);
	/* gzread() reports a gzip stream cut short as a plain end of input and
	 * leaves Z_BUF_ERROR behind; a truncated download must not import as
	 * if it were complete. */
	if (got == 0 && zerr == Z_BUF_ERROR)
		return fail(in, "truncated gzip stream", zmsg);
	return got;
}

const char *input_error(const struct input *in)
{
	return in->error;
}

uint64_t input_size(const struct input *in)
{
	return in->size;
}

uint64_t input_pos(const struct input *in)
{
	if (in->gz == NULL)
		return in->mem_pos;
	z_off_t off = gzoffset(in->gz);
	return off > 0 ? (uint64_t)off : 0;
}

void input_close(struct input *in)
{
	if (in == NULL)
		return;
	if (in->gz != NULL)
		gzclose(in->gz);
	free(in);
}
