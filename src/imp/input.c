#include "imp/input.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
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

/* What a one-time source (a pipe) gave so far, kept for input_again(): every reader of a
 * spool reads from the temporary file, and the one that gets ahead reads the source. */
struct spool {
	struct input *src;	/* the one-time source, owned */
	int fd;			/* an unlinked temporary file */
	uint64_t len;		/* bytes in it */
	bool eof;
	int refs;
};

struct input {
	gzFile gz;		/* NULL for a memory input and a spooled one */
	const char *mem;	/* borrowed */
	size_t mem_len;
	size_t mem_pos;
	uint64_t size;
	char *path;		/* a regular file's path, for input_again() */
	dev_t dev;
	ino_t ino;
	struct spool *spool;	/* input_keep() on a source that cannot be read again */
	uint64_t spool_pos;
	bool started;		/* read from at least once */
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
	if (S_ISREG(st.st_mode) && !is_stdin) {
		in->path = xstrdup(path);
		in->dev = st.st_dev;
		in->ino = st.st_ino;
	}
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

static long plain_read(struct input *in, char *buf, size_t cap)
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

/* Reads through the spool: from the temporary file while behind, else from the source,
 * keeping what it gives. */
static long spool_read(struct input *in, char *buf, size_t cap)
{
	struct spool *sp = in->spool;
	if (in->failed)
		return -1;
	if (in->spool_pos < sp->len) {
		uint64_t left = sp->len - in->spool_pos;
		size_t n = left < cap ? (size_t)left : cap;
		ssize_t got = pread(sp->fd, buf, n, (off_t)in->spool_pos);
		if (got <= 0) {
			in->failed = 1;
			snprintf(in->error, sizeof(in->error), "reading the spooled input: %s",
				 got < 0 ? strerror(errno) : "it is shorter than written");
			return -1;
		}
		in->spool_pos += (uint64_t)got;
		return (long)got;
	}
	if (sp->eof)
		return 0;
	long got = plain_read(sp->src, buf, cap);
	if (got < 0) {
		in->failed = 1;
		snprintf(in->error, sizeof(in->error), "%s", input_error(sp->src));
		return -1;
	}
	if (got == 0) {
		sp->eof = true;
		return 0;
	}
	for (size_t done = 0; done < (size_t)got;) {
		ssize_t w = pwrite(sp->fd, buf + done, (size_t)got - done, (off_t)(sp->len + done));
		if (w <= 0) {
			in->failed = 1;
			snprintf(in->error, sizeof(in->error), "spooling the input to a temporary file: %s",
				 w < 0 ? strerror(errno) : "no space");
			return -1;
		}
		done += (size_t)w;
	}
	sp->len += (uint64_t)got;
	in->spool_pos = sp->len;
	return got;
}

long input_read(struct input *in, char *buf, size_t cap)
{
	in->started = true;
	return in->spool ? spool_read(in, buf, cap) : plain_read(in, buf, cap);
}

int input_keep(struct input *in, struct err *e)
{
	if (in->gz == NULL || in->path != NULL || in->spool != NULL)
		return 0;	/* memory, a regular file, or already kept: readable again as it is */
	if (in->started)
		return err_set(e, ERR_INTERNAL, "input_keep() after the first read");
	const char *dir = getenv("TMPDIR");
	char tmpl[512];
	snprintf(tmpl, sizeof(tmpl), "%s/cairn-spool-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(tmpl);
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot create a temporary file in %.200s: %s", dir && *dir ? dir : "/tmp",
			       strerror(errno));
	unlink(tmpl);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	struct spool *sp = xcalloc(1, sizeof(*sp));
	sp->src = xcalloc(1, sizeof(*sp->src));
	sp->src->gz = in->gz;
	sp->fd = fd;
	sp->refs = 1;
	in->gz = NULL;
	in->spool = sp;
	return 0;
}

struct input *input_again(struct input *in, struct err *e)
{
	if (in->spool) {
		struct input *again = xcalloc(1, sizeof(*again));
		again->spool = in->spool;
		in->spool->refs++;
		return again;
	}
	if (in->gz == NULL)
		return input_from_memory(in->mem, in->mem_len);
	if (in->path == NULL) {
		err_set(e, ERR_IO, "this input can be read only once (a pipe or a terminal)");
		return NULL;
	}
	struct input *again = input_open(in->path, e);
	if (again == NULL)
		return NULL;
	if (again->dev != in->dev || again->ino != in->ino) {
		input_close(again);
		err_set(e, ERR_IO, "'%.200s' was replaced while it was being read", in->path);
		return NULL;
	}
	return again;
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
	if (in->spool)
		return in->spool_pos;
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
	if (in->spool && --in->spool->refs == 0) {
		input_close(in->spool->src);
		close(in->spool->fd);
		free(in->spool);
	}
	free(in->path);
	free(in);
}
