#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/timeutil.h"

static enum log_level min_level = LOG_INFO;

void log_set_level(enum log_level l)
{
	min_level = l;
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	if (l < min_level)
		return;
	char ts[40];
	time_format_to(ts, time_now_us(), TIME_MSEC);
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s cairn %s: %s\n", ts, names[l], line);
}
