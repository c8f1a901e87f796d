/*
 * cmd_pattern.c — `cairn pattern check|explain`: validate a STIX 2.1 pattern
 * and show how cairn reads it. Needs no database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "stix/pattern.h"

static const char usage[] =
	"usage: cairn pattern check PATTERN\n"
	"       cairn pattern check --batch FILE\n"
	"       cairn pattern explain PATTERN\n"
	"\n"
	"check    prints \"valid\" and exits 0, or prints the reason, the pattern and a\n"
	"         caret under the offending byte to stderr and exits 1.\n"
	"--batch  reads one pattern a line from FILE ('-' for stdin) and prints one\n"
	"         line per input line: \"ok\" or \"error OFFSET MESSAGE\"; exits 1 if\n"
	"         any pattern is invalid.\n"
	"explain  prints the pattern's tree, every comparison in it, and whether it\n"
	"         becomes indicator records (\"simple: N records (type value, ...)\")\n"
	"         or not (\"composite: reason\").\n";

/* Control characters would break the one-line output: show them as spaces. */
static void put_clean(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		fputc(c < 0x20 || c == 0x7f ? ' ' : c, f);
	}
}

/* The reason, then the pattern and a caret under the offset (in characters). */
static void show_error(const char *s, size_t len, const struct err *e)
{
	cli_fail("pattern", "%s", e->msg);
	if (len > 4096)
		return;
	fputs("  ", stderr);
	put_clean(stderr, s, len);
	fputs("\n  ", stderr);
	size_t end = e->offset < len ? e->offset : len;
	for (size_t i = 0; i < end; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			fputc(' ', stderr);
	fputs("^\n", stderr);
}

static int check_one(const char *s)
{
	struct stix_pattern *p;
	struct err e = { 0 };
	size_t len = strlen(s);
	if (stix_pattern_parse(s, len, &p, &e) != 0) {
		show_error(s, len, &e);
		return 1;
	}
	stix_pattern_free(p);
	puts("valid");
	return 0;
}

static int check_batch(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		cli_fail("pattern", "cannot open %s", path);
		return 2;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int bad = 0;
	struct buf out = BUF_INIT;
	while ((n = getline(&line, &cap, f)) != -1) {
		size_t len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		struct stix_pattern *p;
		struct err e = { 0 };
		if (stix_pattern_parse(line, len, &p, &e) == 0) {
			stix_pattern_free(p);
			buf_puts(&out, "ok\n");
		} else {
			bad = 1;
			buf_printf(&out, "error %zu %s\n", e.offset, e.msg);
		}
		if (out.len >= 64 * 1024) {
			fwrite(out.data, 1, out.len, stdout);
			buf_reset(&out);
		}
	}
	int rc = ferror(f) ? 2 : bad;
	if (rc == 2)
		cli_fail("pattern", "cannot read %s", path);
	fwrite(out.data, 1, out.len, stdout);
	buf_cleanup(&out);
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int print_observable(const struct stix_observable *o, void *ctx)
{
	struct buf *b = ctx;
	buf_puts(b, "  ");
	stix_cmp_print(b, o->cmp);
	buf_putc(b, '\n');
	return 0;
}

struct records {
	struct buf list;
	size_t n;
};

static int add_record(const struct stix_simple_ioc *r, void *ctx)
{
	struct records *rs = ctx;
	if (rs->n++ > 0)
		buf_puts(&rs->list, ", ");
	buf_printf(&rs->list, "%s ", ioc_type_name(r->type));
	for (size_t i = 0; i < r->len; i++) {
		unsigned char c = (unsigned char)r->value[i];
		buf_putc(&rs->list, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	return 0;
}

static int explain(const char *s)
{
	struct stix_pattern *p;
	struct err e = { 0 };
	size_t len = strlen(s);
	if (stix_pattern_parse(s, len, &p, &e) != 0) {
		show_error(s, len, &e);
		return 1;
	}
	struct buf b = BUF_INIT;
	buf_puts(&b, "canonical: ");
	stix_pattern_print(&b, p);
	buf_puts(&b, "\ntree:\n");
	stix_pattern_dump(&b, p);
	buf_puts(&b, "observables:\n");
	(void)stix_pattern_observables(p, print_observable, &b);
	struct records rs = { BUF_INIT, 0 };
	struct err why = { 0 };
	if (stix_pattern_simple(p, add_record, &rs, &why) == STIX_COMPOSITE)
		buf_printf(&b, "composite: %s (offset %zu)\n", why.msg, why.offset);
	else
		buf_printf(&b, "simple: %zu record%s (%s)\n", rs.n, rs.n == 1 ? "" : "s",
			   buf_cstr(&rs.list));
	fwrite(b.data, 1, b.len, stdout);
	buf_cleanup(&rs.list);
	buf_cleanup(&b);
	stix_pattern_free(p);
	return 0;
}

int cmd_pattern(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 0;
		}
	}
	if (argc == 4 && !strcmp(argv[1], "check") && !strcmp(argv[2], "--batch"))
		return check_batch(argv[3]);
	if (argc == 3 && !strcmp(argv[1], "check"))
		return check_one(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "explain"))
		return explain(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "check") && strcmp(argv[1], "explain"))
		cli_fail("pattern", "unknown subcommand '%.64s' (check or explain)", argv[1]);
	else
		cli_fail("pattern", "give one pattern (quote it for the shell), or --batch FILE");
	fputs(usage, stderr);
	return 2;
}
