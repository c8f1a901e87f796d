/*
 * The NDJSON output of `cairn sync`: a file, appended, or stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/xmalloc.h"
#include "sync/sync_out.h"

struct file_out {
	struct sync_output base;
	FILE *f;
	bool is_stdout;
	const char *path;
};

static int file_doc(struct sync_output *out, const struct ecs_doc *d, struct err *e)
{
	struct file_out *o = (struct file_out *)out;
	if (fwrite(d->json, 1, d->len, o->f) != d->len || fputc('\n', o->f) == EOF)
		return err_set(e, ERR_IO, "writing %s: %s", o->path, strerror(errno));
	return 0;
}

/* Makes what was written durable: the point after which the cursor may move. */
static int file_flush(struct sync_output *out, struct err *e)
{
	struct file_out *o = (struct file_out *)out;
	if (fflush(o->f) != 0)
		return err_set(e, ERR_IO, "writing %s: %s", o->path, strerror(errno));
	if (!o->is_stdout && fsync(fileno(o->f)) != 0)
		return err_set(e, ERR_IO, "syncing %s: %s", o->path, strerror(errno));
	return 0;
}

static void file_close(struct sync_output *out)
{
	struct file_out *o = (struct file_out *)out;
	if (o->f && !o->is_stdout)
		fclose(o->f);
	free(o);
}

int sync_output_file(const struct sync_opts *so, struct sync_output **out, struct err *e)
{
	const char *to = so->to;
	if (!so->dry_run && strcmp(to, "-") && strstr(to, "://"))
		return err_set(e, ERR_INVALID, "--to %s: expected a file, -, elasticsearch+http(s)://HOST:PORT,"
				   " splunk+http(s)://HOST:PORT or sentinel://WORKSPACE_ID", to);
	struct file_out *o = xcalloc(1, sizeof(*o));
	o->path = to;
	if (so->dry_run || !strcmp(to, "-")) {
		o->f = stdout;
		o->is_stdout = true;
	} else if ((o->f = fopen(to, "a")) == NULL) {
		free(o);
		return err_set(e, ERR_IO, "cannot open %s: %s", to, strerror(errno));
	}
	o->base.doc = file_doc;
	o->base.flush = file_flush;
	o->base.close = file_close;
	*out = &o->base;
	return 0;
}
