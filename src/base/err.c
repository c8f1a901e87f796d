#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, int code, const char *fmt, ...)
{
	if (e != NULL) {
		va_list ap;
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void err_clear(struct err *e)
{
	if (e != NULL) {
		e->code = 0;
		e->offset = 0;
		e->msg[0] = '\0';
	}
}

const char *err_code_name(int code)
{
	switch (code) {
	case ERR_OK: return "ok";
	case ERR_INVALID: return "invalid";
	case ERR_NOT_FOUND: return "not found";
	case ERR_TOO_LARGE: return "too large";
	case ERR_IO: return "i/o error";
	case ERR_DB: return "database error";
	case ERR_CONFLICT: return "conflict";
	case ERR_DENIED: return "denied";
	default: return "internal error";
	}
}
