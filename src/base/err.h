/*
 * err.h — the project-wide error codes and the small error record.
 *
 * Depends on nothing. 0 is success, failures are negative. Details travel in a
 * caller-provided `struct err` (code, offset into the input, message); errno and
 * library messages are copied into it where they happen and never cross a
 * module boundary raw.
 */
#ifndef CAIRN_BASE_ERR_H
#define CAIRN_BASE_ERR_H

#include <stddef.h>

#define CAIRN_MUST_USE __attribute__((warn_unused_result))
#define CAIRN_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum err_code {
	ERR_OK = 0,
	ERR_INVALID = -1,	/* malformed input */
	ERR_NOT_FOUND = -2,
	ERR_TOO_LARGE = -3,	/* a size, count or depth limit was hit */
	ERR_IO = -4,		/* file or socket failure */
	ERR_DB = -5,		/* storage failure */
	ERR_CONFLICT = -6,	/* already exists / state does not allow it */
	ERR_DENIED = -7,	/* not allowed */
	ERR_INTERNAL = -8,
};

#define ERR_MSG_MAX 256

struct err {
	int code;
	size_t offset;		/* byte offset or line number where it applies, else 0 */
	char msg[ERR_MSG_MAX];
};

/* Sets e (if not NULL) and returns code, so callers can write `return err_set(...)`. */
int err_set(struct err *e, int code, const char *fmt, ...) CAIRN_PRINTF(3, 4);
void err_clear(struct err *e);
const char *err_code_name(int code);

#endif
