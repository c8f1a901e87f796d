/*
 * input.h — the byte source every importer reads from.
 *
 * A struct input is a file, stdin ("-") or a borrowed memory block. Files and
 * stdin go through zlib's gz* reader, so gzip-compressed input is decompressed
 * transparently and plain input passes through unchanged; memory blocks are
 * read as they are (no decompression). Depends on base/ and zlib.
 *
 * Ownership: input_open() and input_from_memory() return a handle the caller
 * releases with input_close(). input_from_memory() borrows its block: the
 * memory must outlive the handle and is never written. Reading "-" works on a
 * duplicate of fd 0, so input_close() leaves the process's stdin open.
 *
 * Errors: input_open() fails with ERR_IO and a one-line reason in e->msg.
 * input_read() returns -1 on a read failure or a corrupt or truncated gzip
 * stream; the reason is then available from input_error(). Errors are sticky:
 * every later input_read() returns -1 again.
 *
 * Limits: none of its own; it holds one zlib stream and its fixed buffers,
 * whatever the size of the input. Not thread-safe per handle.
 */
#ifndef CAIRN_IMP_INPUT_H
#define CAIRN_IMP_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct input;

/* Opens path ("-" for stdin). Returns NULL with ERR_IO and e->msg such as
 * "cannot open 'x.csv': No such file or directory" (directories are refused). */
struct input *input_open(const char *path, struct err *e) CAIRN_MUST_USE;

/* A reader over the n bytes at p, which are borrowed, not copied. Never NULL. */
struct input *input_from_memory(const char *p, size_t n) CAIRN_MUST_USE;

/* Reads up to cap bytes into buf. Returns the count (> 0), 0 at the end of
 * input, or -1 on error (see input_error()). */
long input_read(struct input *in, char *buf, size_t cap) CAIRN_MUST_USE;

/* The reason of the last failed input_read(), or "" when none failed. The
 * string lives as long as the handle. */
const char *input_error(const struct input *in);

/* Size in bytes of the underlying regular file (compressed size for gzip),
 * else 0 (pipes, terminals). For a memory input, the block's length. */
uint64_t input_size(const struct input *in);

/* Raw (compressed) bytes consumed so far, for a progress display against
 * input_size(). Not exact: zlib reads ahead in blocks. */
uint64_t input_pos(const struct input *in);

/*
 * Another reader over the same bytes, from the first one, independent of in's position (a
 * reader that looks ahead of another). A memory block is shared; a regular file is opened
 * again (refused with ERR_IO if its path now names another file); an input on which
 * input_keep() was called reads the kept bytes. Anything else (a pipe, a terminal) can be
 * read only once: NULL with ERR_IO. The new reader is closed with input_close(), in any
 * order with in.
 */
struct input *input_again(struct input *in, struct err *e) CAIRN_MUST_USE;

/*
 * Makes input_again() possible on a source that can be read only once (stdin from a pipe):
 * from now on, what is read from it is also written to an unlinked temporary file (in
 * $TMPDIR, else /tmp), which readers that are behind read instead. Memory stays constant;
 * the disk holds a copy of the input. Call it before the first input_read(); it does
 * nothing for memory blocks and regular files. ERR_IO when no temporary file can be made.
 */
int input_keep(struct input *in, struct err *e) CAIRN_MUST_USE;

/* Closes the file (not the process's stdin) and frees in. NULL does nothing. */
void input_close(struct input *in);

#endif
