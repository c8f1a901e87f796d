#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow/allow_db.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "cli/cli.h"
#include "net/http_client.h"
#include "store/store.h"

static const char usage[] =
	"usage: cairn allowlist add NAME FILE|URL\n"
	"       cairn allowlist list\n"
	"       cairn allowlist remove NAME\n"
	"       cairn allowlist enable|disable NAME\n"
	"       cairn allowlist show NAME\n"
	"       cairn allowlist check [--stats] VALUE...|-\n"
	"\n"
	"Allow-lists hold the values cairn never publishes (docs/allowlists.md). add reads a MISP\n"
	"warning list (JSON, as published) or a plain list, one entry a line: an IP or CIDR range,\n"
	"a domain (with all its subdomains and the URLs on them), 're:' and a POSIX extended\n"
	"regular expression, 'sub:' and a substring, else an exact value; '#' starts a comment.\n"
	"A URL is fetched. Values on an enabled list are kept out of imports, and records already\n"
	"stored are hidden from every output (REST, exports, TAXII) until the list goes away.\n"
	"The built-in list (private, loopback, documentation and other special ranges, public DNS\n"
	"resolvers) is on in every database; `disable builtin` turns it off.\n"
	"check tells whether each value (or each line of standard input, with -) is on a list;\n"
	"--stats adds the matcher's load time and lookup rate on standard error.\n"
	"Every form takes --db PATH (default $CAIRN_DB, else ./cairn.db).\n";

static bool valid_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > ALLOW_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(isalnum((unsigned char)n[i]) || n[i] == '-' || n[i] == '_' || n[i] == '.'))
			return false;
	return true;
}

static const char *types_text(unsigned types, char *out, size_t cap)
{
	if ((types & ALLOW_ALL_TYPES) == ALLOW_ALL_TYPES)
		return "all";
	size_t o = 0;
	out[0] = '\0';
	for (int t = 1; t < IOC_TYPE_COUNT; t++)
		if (types & (1u << t))
			o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", o ? "," : "", ioc_type_name((enum ioc_type)t));
	return o ? out : "none";
}

/* The list's bytes from a file or, for http(s) URLs, from the web. */
static int read_source(const char *src, struct buf *b, struct err *e)
{
	if (!strncmp(src, "http://", 7) || !strncmp(src, "https://", 8)) {
		struct hc_conf conf = { 0 };
		conf.max_body = ALLOW_FILE_MAX;
		struct http_client *hc = http_client_new(&conf);
		if (hc == NULL)
			return err_set(e, ERR_INTERNAL, "cannot start the HTTP client");
		struct hc_request rq = { .url = src };
		struct hc_response rs = { 0 };
		int rc = http_client_do(hc, &rq, &rs, e);
		http_client_free(hc);
		if (rc == 0 && (rs.status < 200 || rs.status > 299))
			rc = err_set(e, ERR_IO, "%s answered %ld", src, rs.status);
		if (rc == 0) {
			buf_append(b, rs.body.data ? rs.body.data : "", rs.body.len);
		}
		hc_response_cleanup(&rs);
		return rc;
	}
	FILE *f = strcmp(src, "-") ? fopen(src, "rb") : stdin;
	if (f == NULL)
		return err_set(e, ERR_IO, "cannot open '%s': %s", src, strerror(errno));
	char chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b->len + n > ALLOW_FILE_MAX) {
			rc = err_set(e, ERR_TOO_LARGE, "'%s' is larger than %u MiB", src, ALLOW_FILE_MAX >> 20);
			break;
		}
		buf_append(b, chunk, n);
	}
	if (rc == 0 && ferror(f))
		rc = err_set(e, ERR_IO, "cannot read '%s'", src);
	if (f != stdin)
		fclose(f);
	return rc;
}

static void print_report(const struct allow_db_report *rep)
{
	if (rep->hidden || rep->restored)
		printf("  records: %lld suppressed, %lld published again\n", (long long)rep->hidden,
		       (long long)rep->restored);
}

static int do_add(struct store *s, const char *name, const char *src)
{
	struct err e = { 0 };
	if (!valid_name(name)) {
		cli_fail("allowlist", "a list name is 1 to %d letters, digits, '.', '-' or '_'", ALLOW_NAME_MAX);
		return 2;
	}
	struct buf b = BUF_INIT;
	struct allow_set *set = allow_set_new();
	struct allow_list_info *info = xcalloc(1, sizeof(*info));
	int status = 1;
	int64_t t0 = time_mono_us();
	if (read_source(src, &b, &e) != 0) {
		cli_fail("allowlist", "%s", e.msg);
		goto out;
	}
	if (memchr(b.data ? b.data : "", '\0', b.len)) {
		cli_fail("allowlist", "%s: a NUL byte: not a text list", src);
		goto out;
	}
	/* Read it first: a list that does not read is not stored. */
	if (allow_set_add_list(set, name, 0, b.data ? b.data : "", b.len, info, &e) != 0) {
		cli_fail("allowlist", "%s: %s", src, e.msg);
		goto out;
	}
	allow_set_freeze(set);
	int64_t t1 = time_mono_us();
	/* An empty list is stored (published lists can be empty for a while); one whose every
	 * entry is unusable is most likely not an allow-list at all. */
	if (info->entries == 0 && info->skipped > 0) {
		cli_fail("allowlist", "%s: no usable entries (%lld skipped%s%s)", src, (long long)info->skipped,
			 info->nskips ? ": " : "", info->nskips ? info->skips[0].reason : "");
		goto out;
	}
	struct allowlist_row row = { .name = name, .format = info->format, .type = info->type,
				     .title = info->name, .description = info->description, .source = src,
				     .entries = info->entries, .skipped = info->skipped, .types = info->types,
				     .body = b.data, .body_len = b.len };
	int64_t id;
	if (store_allow_add(s, &row, time_now_us(), &id, &e) != 0) {
		cli_fail("allowlist", "%s", e.msg);
		goto out;
	}
	allow_set_relabel(set, 0, id);
	struct allow_db_report rep = { 0 };
	if (allow_db_settle(s, set, id, &rep, &e) != 0) {
		cli_fail("allowlist", "the list is stored, but marking the records failed (the next"
			 " `cairn allowlist` or `cairn serve` finishes it): %s", e.msg);
		goto out;
	}
	char tb[160];
	printf("added allow-list %s (%s, %s", name, info->format, info->type);
	if (info->name[0])
		printf(", \"%.80s\"", info->name);
	printf("): %lld entries (exact %lld, cidr %lld, domain %lld, substring %lld, regex %lld), %lld skipped;"
	       " applies to %s; read in %.3f s\n", (long long)info->entries, (long long)info->kinds[ALLOW_EXACT],
	       (long long)info->kinds[ALLOW_CIDR], (long long)info->kinds[ALLOW_DOMAIN],
	       (long long)info->kinds[ALLOW_SUBSTR], (long long)info->kinds[ALLOW_REGEX], (long long)info->skipped,
	       types_text(info->types, tb, sizeof(tb)), (double)(t1 - t0) / 1e6);
	for (size_t i = 0; i < info->nskips; i++)
		printf("  skipped %s %zu: %s\n", !strcmp(info->format, "misp") ? "entry" : "line", info->skips[i].line,
		       info->skips[i].reason);
	if (info->skipped > (int64_t)info->nskips)
		printf("  ... and %lld more skipped\n", (long long)(info->skipped - (int64_t)info->nskips));
	printf("  records: %lld suppressed\n", (long long)rep.hidden);
	status = 0;
out:
	free(info);
	allow_set_unref(set);
	buf_cleanup(&b);
	return status;
}

static int list_row(void *ctx, const struct allowlist_row *r)
{
	(void)ctx;
	if (r->removing)
		return 0;
	char added[40], tb[160];
	time_format_to(added, r->added_at, TIME_SEC);
	printf("%-24s %-8s %-9s %10lld  %-8s %10lld %10lld  %-12s %s  %s\n", r->name, r->format, r->type,
	       (long long)r->entries, r->enabled ? "enabled" : "disabled", (long long)r->suppressed,
	       (long long)r->import_hits, types_text(r->types ? r->types : ALLOW_ALL_TYPES, tb, sizeof(tb)), added,
	       r->source);
	return 0;
}

static int show_row(void *ctx, const struct allowlist_row *r)
{
	(void)ctx;
	if (!strcmp(r->format, "builtin")) {
		size_t n;
		const struct allow_builtin_entry *b = allow_builtin(&n);
		for (size_t i = 0; i < n; i++)
			printf("%-22s # %s\n", b[i].entry, b[i].reason);
		return 0;
	}
	fwrite(r->body ? r->body : "", 1, r->body_len, stdout);
	if (r->body_len && r->body[r->body_len - 1] != '\n')
		putchar('\n');
	return 0;
}

/* One value: canonical, then matched; prints VALUE TAB LIST TAB ENTRY, or VALUE TAB "-". */
static bool check_one(const struct allow_set *set, const char *v, size_t len, int64_t *ns)
{
	char canon[IOC_VALUE_MAX + 1];
	size_t n;
	enum ioc_type t;
	struct err e = { 0 };
	if (ioc_canon(v, len, IOC_NONE, IOC_REFANG, &t, canon, sizeof(canon), &n, &e) != 0) {
		printf("%.*s\tnot an indicator: %s\n", (int)(len > 200 ? 200 : len), v, e.msg);
		return false;
	}
	struct allow_hit hit;
	int64_t t0 = ns ? time_mono_us() : 0;
	bool on = allow_match(set, t, canon, n, &hit);
	if (ns)
		*ns += time_mono_us() - t0;
	if (on)
		printf("%s\t%s\t%s\t%s\n", canon, hit.list, allow_kind_name(hit.kind), hit.entry);
	else
		printf("%s\t-\n", canon);
	return on;
}

/* --stats: the values are read and made canonical first, then matched in a timed loop. */
static int check_stats(const struct allow_set *set, FILE *in, int64_t load_us)
{
	struct buf vals = BUF_INIT;
	size_t n = 0, cap = 0;
	struct item {
		enum ioc_type t;
		size_t off, len;
	} *items = NULL;
	char line[ALLOW_LINE_MAX + 2];
	while (fgets(line, sizeof(line), in)) {
		size_t len = strcspn(line, "\r\n");
		char canon[IOC_VALUE_MAX + 1];
		size_t cn;
		enum ioc_type t;
		if (len == 0 || ioc_canon(line, len, IOC_NONE, IOC_REFANG, &t, canon, sizeof(canon), &cn, NULL) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			items = xrealloc(items, cap * sizeof(*items));
		}
		items[n].t = t;
		items[n].off = vals.len;
		items[n].len = cn;
		buf_append(&vals, canon, cn + 1);
		n++;
	}
	int64_t hits = 0;
	int64_t t0 = time_mono_us();
	for (size_t i = 0; i < n; i++)
		hits += allow_match(set, items[i].t, vals.data + items[i].off, items[i].len, NULL);
	int64_t took = time_mono_us() - t0;
	printf("%lld of %zu values are on an allow-list\n", (long long)hits, n);
	fprintf(stderr, "lists %zu, entries %lld, matcher built in %.3f s; %zu lookups in %.3f s: %.0f lookups/s,"
			" %.0f ns per lookup\n", allow_set_lists(set), (long long)allow_set_entries(set),
		(double)load_us / 1e6, n, (double)took / 1e6, took ? (double)n * 1e6 / (double)took : 0.0,
		n ? (double)took * 1000.0 / (double)n : 0.0);
	free(items);
	buf_cleanup(&vals);
	return 0;
}

int cmd_allowlist(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' }, { "stats", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *db = NULL;
	bool stats = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 's': stats = true; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	const char *verb = argv[optind];
	int nargs = argc - optind - 1;
	char **args = argv + optind + 1;
	struct {
		const char *verb;
		int min, max;
	} forms[] = { { "add", 2, 2 }, { "list", 0, 0 }, { "remove", 1, 1 }, { "enable", 1, 1 },
		      { "disable", 1, 1 }, { "show", 1, 1 }, { "check", 1, 1 << 20 } };
	size_t f = 0;
	while (f < sizeof(forms) / sizeof(forms[0]) && strcmp(forms[f].verb, verb))
		f++;
	if (f == sizeof(forms) / sizeof(forms[0])) {
		cli_fail("allowlist", "unknown action '%.32s' (add, list, remove, enable, disable, show, check)", verb);
		return 2;
	}
	if (nargs < forms[f].min || nargs > forms[f].max) {
		cli_fail("allowlist", "%s takes %s", verb,
			 f == 0 ? "NAME FILE|URL" : f == 1 ? "no arguments" : f == 6 ? "values, or -" : "NAME");
		return 2;
	}
	bool readonly = !strcmp(verb, "show") || !strcmp(verb, "check");
	struct err e = { 0 };
	struct store *s;
	if (store_open(&s, cli_db_path(db), NULL, readonly ? STORE_READONLY : 0, &e) != 0) {
		cli_fail("allowlist", "%s", e.msg);
		return 1;
	}
	int status = 0;
	struct allow_db_report rep = { 0 };
	/* Passes a killed command or a new database left undone come first. */
	if (!readonly && allow_db_settle(s, NULL, 0, &rep, &e) != 0) {
		cli_fail("allowlist", "%s", e.msg);
		store_close(s);
		return 1;
	}
	if (!strcmp(verb, "add")) {
		status = do_add(s, args[0], args[1]);
	} else if (!strcmp(verb, "list")) {
		printf("%-24s %-8s %-9s %10s  %-8s %10s %10s  %-12s %-20s  %s\n", "NAME", "FORMAT", "TYPE", "ENTRIES",
		       "STATE", "SUPPRESSED", "AT_IMPORT", "APPLIES_TO", "ADDED", "SOURCE");
		if (store_allow_list(s, NULL, false, list_row, NULL, &e) != 0) {
			cli_fail("allowlist", "%s", e.msg);
			status = 1;
		}
	} else if (!strcmp(verb, "remove") || !strcmp(verb, "enable") || !strcmp(verb, "disable")) {
		int rc;
		if (!strcmp(verb, "remove") && !strcmp(args[0], "builtin")) {
			cli_fail("allowlist", "the built-in list cannot be removed; `cairn allowlist disable builtin`"
				 " turns it off");
			store_close(s);
			return 1;
		}
		if (!strcmp(verb, "remove"))
			rc = store_allow_remove(s, args[0], &e);
		else
			rc = store_allow_enable(s, args[0], !strcmp(verb, "enable"), &e);
		struct allow_db_report r2 = { 0 };
		if (rc == 0)
			rc = allow_db_settle(s, NULL, 0, &r2, &e);
		if (rc != 0) {
			cli_fail("allowlist", "%s", e.msg);
			status = 1;
		} else {
			printf("%s allow-list %s\n", !strcmp(verb, "remove") ? "removed" : !strcmp(verb, "enable") ? "enabled"
															: "disabled",
			       args[0]);
			print_report(&r2);
		}
	} else if (!strcmp(verb, "show")) {
		if (store_allow_list(s, args[0], true, show_row, NULL, &e) != 0) {
			cli_fail("allowlist", "%s", e.msg);
			status = 1;
		}
	} else {
		struct allow_set *set;
		int64_t t0 = time_mono_us();
		if (allow_db_load(s, &set, &e) != 0) {
			cli_fail("allowlist", "%s", e.msg);
			store_close(s);
			return 1;
		}
		int64_t load_us = time_mono_us() - t0;
		bool from_stdin = nargs == 1 && !strcmp(args[0], "-");
		if (stats && from_stdin) {
			status = check_stats(set, stdin, load_us);
		} else if (from_stdin) {
			char line[ALLOW_LINE_MAX + 2];
			while (fgets(line, sizeof(line), stdin)) {
				size_t len = strcspn(line, "\r\n");
				if (len)
					check_one(set, line, len, NULL);
			}
		} else {
			for (int i = 0; i < nargs; i++)
				check_one(set, args[i], strlen(args[i]), NULL);
		}
		allow_set_unref(set);
	}
	store_close(s);
	return status;
}
