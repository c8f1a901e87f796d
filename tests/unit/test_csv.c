/*
 * test_csv.c — the streaming CSV reader (imp/csv.h): RFC 4180 quoting,
 * embedded newlines, empty fields, blank lines, a BOM, delimiter detection,
 * malformed and overlong rows reported with their line and followed by the
 * right rows, gzip input, and input trickling in a byte at a time.
 *
 * Most cases are table-shaped: an input and the dump of everything the reader
 * returns, each row as "<line>:[field][field]…" and each error as
 * "!<code>@<line>", separated by '|'.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include "base/buf.h"
#include "base/err.h"
#include "imp/csv.h"
#include "imp/input.h"
#include "check.h"

static char *dump_csv(struct input *in, char delim, char *detected)
{
	struct buf out = BUF_INIT;
	struct csv_reader *r = csv_new(in, delim);
	struct csv_row row;
	struct err e;
	int rc;
	size_t unterminated = 0, guard = 0;
	if (detected != NULL)
		*detected = csv_delimiter(r);
	while ((rc = csv_next(r, &row, &e)) != 0 && guard++ < 1000000) {
		if (rc == 1) {
			buf_printf(&out, "%zu:", row.line);
			for (size_t i = 0; i < row.n; i++) {
				unterminated += row.field[i][row.len[i]] != '\0';
				buf_putc(&out, '[');
				buf_append(&out, row.field[i], row.len[i]);
				buf_putc(&out, ']');
			}
			buf_putc(&out, '|');
			continue;
		}
		buf_printf(&out, "!%s@%zu|", err_code_name(rc), e.offset);
		if (rc == ERR_IO)
			break;
	}
	CHECK_INT(unterminated, 0);
	csv_free(r);
	input_close(in);
	return buf_take(&out);
}

static void check_csv(const char *data, size_t n, char delim, const char *want)
{
	char *got = dump_csv(input_from_memory(data, n), delim, NULL);
	CHECK_STR(got, want);
	free(got);
}

#define CSV(lit, want) check_csv(lit, sizeof(lit) - 1, ',', want)

static void test_basic(void)
{
	CSV("a,b,c\n1,2,3\n", "1:[a][b][c]|2:[1][2][3]|");
	CSV("a,b,c\r\n1,2,3\r\n", "1:[a][b][c]|2:[1][2][3]|");
	CSV("a,b\nc,d", "1:[a][b]|2:[c][d]|");
	CSV("a,b\r\nc,d\r", "1:[a][b]|2:[c][d]|");
	CSV("", "");
	CSV("x", "1:[x]|");
	CSV(" a , b ", "1:[ a ][ b ]|");
	CSV("a\rb,c\n", "1:[a\rb][c]|");
}

static void test_quoting(void)
{
	CSV("\"a,b\",c\n", "1:[a,b][c]|");
	CSV("\"say \"\"hi\"\"\",x\n", "1:[say \"hi\"][x]|");
	CSV("\"\"\"\"\n", "1:[\"]|");
	CSV("\"\",\"\"\n", "1:[][]|");
	CSV("\"a\",b,\"c\"\r\n", "1:[a][b][c]|");
	CSV("\"l1\nl2\",x\n\"a\r\nb\",y\r\nz,w\r\n", "1:[l1\nl2][x]|3:[a\r\nb][y]|5:[z][w]|");
	CSV("\"\n\n\n\"\nnext\n", "1:[\n\n\n]|5:[next]|");
	CSV("\"a\rb\"\n", "1:[a\rb]|");
	CSV("\"x\"", "1:[x]|");
}

static void test_empty_fields_and_blank_lines(void)
{
	CSV(",,\n", "1:[][][]|");
	CSV("a,,b\n", "1:[a][][b]|");
	CSV("a,b,\n", "1:[a][b][]|");
	CSV("a,b,", "1:[a][b][]|");
	CSV(",\n", "1:[][]|");
	CSV("\n\na\n\r\n\nb\n\n", "3:[a]|6:[b]|");
	CSV("\r\n\r\n", "");
	CSV("\"\"\n", "1:[]|");
}

static void test_bom(void)
{
	char d = 0;
	CSV("\xEF\xBB\xBFid,value\n1,2\n", "1:[id][value]|2:[1][2]|");
	CSV("\xEF\xBB\xBF", "");
	static const char semi[] = "\xEF\xBB\xBF\"id\";value\n";
	char *got = dump_csv(input_from_memory(semi, sizeof(semi) - 1), 0, &d);
	CHECK_STR(got, "1:[id][value]|");
	CHECK_INT(d, ';');
	free(got);
	/* Only at the very start. */
	CSV("a\n\xEF\xBB\xBF" "b\n", "1:[a]|2:[\xEF\xBB\xBF" "b]|");
}

static void check_detect(const char *data, char want_delim, const char *want)
{
	char d = 0;
	char *got = dump_csv(input_from_memory(data, strlen(data)), 0, &d);
	CHECK_INT(d, want_delim);
	CHECK_STR(got, want);
	free(got);
}

static void test_detection(void)
{
	check_detect("a,b,c\n1,2,3\n", ',', "1:[a][b][c]|2:[1][2][3]|");
	check_detect("a;b;c\n1;2;3\n", ';', "1:[a][b][c]|2:[1][2][3]|");
	check_detect("a\tb\tc\n1\t2\t3\n", '\t', "1:[a][b][c]|2:[1][2][3]|");
	check_detect("a|b\n1|2\n", '|', "1:[a][b]|2:[1][2]|");
	/* Delimiters inside quotes do not count. */
	check_detect("\"x;y;z\",b\n", ',', "1:[x;y;z][b]|");
	check_detect("\"a,b,c\";\"d,e\"\n", ';', "1:[a,b,c][d,e]|");
	/* Only the first line counts; blank lines before it are passed over. */
	check_detect("\n\r\na;b\nc,d,e,f\n", ';', "3:[a][b]|4:[c,d,e,f]|");
	/* A quoted newline does not end the first line. */
	check_detect("\"a\nb,c,d\";x;y\n", ';', "1:[a\nb,c,d][x][y]|");
	/* Ties go to the earlier candidate; none at all means ','. */
	check_detect("a;b,c\n", ',', "1:[a;b][c]|");
	check_detect("a\tb|c\n", '\t', "1:[a][b|c]|");
	check_detect("single\ncolumn\n", ',', "1:[single]|2:[column]|");
	check_detect("", ',', "");

	/* A given delimiter is used as is. */
	char d = 0;
	static const char data[] = "a;b,c\n";
	char *got = dump_csv(input_from_memory(data, sizeof(data) - 1), ';', &d);
	CHECK_INT(d, ';');
	CHECK_STR(got, "1:[a][b,c]|");
	free(got);
}

static void test_malformed(void)
{
	/* A quote inside an unquoted field. */
	CSV("a,b\nx\"y,z\nc,d\n", "1:[a][b]|!invalid@2|3:[c][d]|");
	/* Text after a closing quote, in the first and in the last field. */
	CSV("\"ab\"c,d\ne,f\n", "!invalid@1|2:[e][f]|");
	CSV("a,\"b\" \ne,f", "!invalid@1|2:[e][f]|");
	/* Unterminated at the end of input: the lines after the row's first are
	 * read again as rows, so one stray quote costs one line. */
	CSV("a,b\n\"open,x\nc,d\ne,f\n", "1:[a][b]|!invalid@2|3:[c][d]|4:[e][f]|");
	CSV("\"", "!invalid@1|");
	/* A stray quote whose "field" is closed lines later by another quote. */
	CSV("1,\"oops\n2,y\n3,\"z\"\n4,w\n", "!invalid@1|2:[2][y]|3:[3][z]|4:[4][w]|");
	/* The error's line is where the row starts, after multi-line rows. */
	CSV("\"a\nb\",c\nd\"e\nf\n", "1:[a\nb][c]|!invalid@3|4:[f]|");
	CSV("\"a\nb\"x\nc\n", "!invalid@1|!invalid@2|3:[c]|");
	/* Blank lines after an error keep their numbers. */
	CSV("a\"\n\n\nb\n", "!invalid@1|4:[b]|");
	/* The reason. */
	struct input *in = input_from_memory("a\"b\n\"c\"d\n\"e", 11);
	struct csv_reader *r = csv_new(in, ',');
	struct csv_row row;
	struct err e;
	CHECK_INT(csv_next(r, &row, &e), ERR_INVALID);
	CHECK_STR(e.msg, "quote inside an unquoted field");
	CHECK_INT(csv_next(r, &row, &e), ERR_INVALID);
	CHECK_STR(e.msg, "text after a closing quote");
	CHECK_INT(csv_next(r, &row, &e), ERR_INVALID);
	CHECK_STR(e.msg, "quoted field not terminated at end of input");
	CHECK_INT(e.offset, 3);
	CHECK_INT(csv_next(r, &row, &e), 0);
	CHECK_INT(csv_next(r, &row, &e), 0);
	csv_free(r);
	input_close(in);
}

static void test_limits(void)
{
	struct buf b = BUF_INIT;
	char *got;

	/* One byte over CSV_MAX_ROW on one line; the rows around it survive. */
	buf_puts(&b, "a,b\n");
	for (int i = 0; i < CSV_MAX_ROW + 1; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\nc,d\n");
	got = dump_csv(input_from_memory(b.data, b.len), ',', NULL);
	CHECK_STR(got, "1:[a][b]|!too large@2|3:[c][d]|");
	free(got);

	/* Exactly CSV_MAX_ROW, ending in "\r\n", "\n" or the end of input. */
	const char *ends[] = { "\r\n", "\n", "" };
	for (size_t k = 0; k < 3; k++) {
		buf_reset(&b);
		buf_puts(&b, "\"");
		for (int i = 0; i < CSV_MAX_ROW - 4; i++)
			buf_putc(&b, 'q');
		buf_puts(&b, "\",y");
		buf_puts(&b, ends[k]);
		struct input *in = input_from_memory(b.data, b.len);
		struct csv_reader *r = csv_new(in, 0);
		struct csv_row row;
		struct err e;
		CHECK_INT(csv_next(r, &row, &e), 1);
		CHECK_INT(row.n, 2);
		CHECK_INT(row.len[0], CSV_MAX_ROW - 4);
		CHECK_STR(row.field[1], "y");
		CHECK_INT(csv_next(r, &row, &e), 0);
		csv_free(r);
		input_close(in);
	}

	/* Far longer than the buffer, several times, and at the end. */
	buf_reset(&b);
	for (int k = 0; k < 3; k++) {
		for (int i = 0; i < 3 * CSV_MAX_ROW; i++)
			buf_putc(&b, i % 7 ? 'z' : ',');
		buf_puts(&b, "\r\n");
	}
	buf_puts(&b, "ok\n");
	for (int i = 0; i < 3 * CSV_MAX_ROW; i++)
		buf_putc(&b, 'w');
	got = dump_csv(input_from_memory(b.data, b.len), ',', NULL);
	CHECK_STR(got, "!too large@1|!too large@2|!too large@3|4:[ok]|!too large@5|");
	free(got);
	/* Detection looks at no more than CSV_MAX_ROW bytes of a long first line. */
	char d = 0;
	got = dump_csv(input_from_memory(b.data, b.len), 0, &d);
	CHECK_INT(d, ',');
	CHECK_STR(got, "!too large@1|!too large@2|!too large@3|4:[ok]|!too large@5|");
	free(got);

	/* An unterminated quote running past the limit over many lines: the
	 * reader resumes at the line after the row's first. */
	buf_reset(&b);
	buf_puts(&b, "\"stray\n");
	for (int i = 0; i < 10000; i++)
		buf_printf(&b, "r%d,v\n", i);
	struct input *in = input_from_memory(b.data, b.len);
	struct csv_reader *r = csv_new(in, 0);
	struct csv_row row;
	struct err e;
	CHECK_INT(csv_next(r, &row, &e), ERR_TOO_LARGE);
	CHECK_INT(e.offset, 1);
	CHECK_STR(e.msg, "row longer than 65536 bytes");
	size_t rows = 0, bad = 0;
	int rc;
	while ((rc = csv_next(r, &row, &e)) == 1) {
		char want[32];
		snprintf(want, sizeof(want), "r%zu", rows);
		bad += row.n != 2 || strcmp(row.field[0], want) != 0 || row.line != rows + 2;
		rows++;
	}
	CHECK_INT(rc, 0);
	CHECK_INT(rows, 10000);
	CHECK_INT(bad, 0);
	csv_free(r);
	input_close(in);

	/* CSV_MAX_FIELDS fields are fine, one more is not. */
	for (int extra = 0; extra < 2; extra++) {
		buf_reset(&b);
		for (int i = 0; i < CSV_MAX_FIELDS + extra; i++)
			buf_puts(&b, i ? ",f" : "f");
		buf_puts(&b, "\nlast\n");
		in = input_from_memory(b.data, b.len);
		r = csv_new(in, 0);
		if (extra == 0) {
			CHECK_INT(csv_next(r, &row, &e), 1);
			CHECK_INT(row.n, CSV_MAX_FIELDS);
			CHECK_STR(row.field[CSV_MAX_FIELDS - 1], "f");
		} else {
			CHECK_INT(csv_next(r, &row, &e), ERR_TOO_LARGE);
			CHECK_INT(e.offset, 1);
			CHECK_STR(e.msg, "more than 256 fields");
		}
		CHECK_INT(csv_next(r, &row, &e), 1);
		CHECK_STR(row.field[0], "last");
		CHECK_INT(row.line, 2);
		csv_free(r);
		input_close(in);
	}
	/* 257 fields because of a trailing delimiter. */
	buf_reset(&b);
	for (int i = 0; i < CSV_MAX_FIELDS; i++)
		buf_puts(&b, "f,");
	got = dump_csv(input_from_memory(b.data, b.len), ',', NULL);
	CHECK_STR(got, "!too large@1|");
	free(got);
	buf_cleanup(&b);
}

static void test_gzip(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/cairn_test_csv_%d.csv.gz", (int)getpid());
	static const char text[] =
		"\xEF\xBB\xBFtype;value\r\nipv4;\"10.0.0.1\"\r\ndomain;\"a;b\"\r\n";
	gzFile gz = gzopen(path, "wb");
	CHECK(gz != NULL);
	CHECK_INT(gzwrite(gz, text, sizeof(text) - 1), sizeof(text) - 1);
	CHECK_INT(gzclose(gz), Z_OK);

	struct err e;
	struct input *in = input_open(path, &e);
	CHECK(in != NULL);
	if (in != NULL) {
		char d = 0;
		char *got = dump_csv(in, 0, &d);
		CHECK_INT(d, ';');
		CHECK_STR(got, "1:[type][value]|2:[ipv4][10.0.0.1]|3:[domain][a;b]|");
		free(got);
	}

	/* A gzip file cut short is an i/o error, reported again if asked. */
	struct buf big = BUF_INIT;
	for (int i = 0; i < 5000; i++)
		buf_printf(&big, "row%d,%u\n", i, (unsigned)i * 2654435761u);
	gz = gzopen(path, "wb");
	CHECK_INT(gzwrite(gz, big.data, (unsigned)big.len), big.len);
	CHECK_INT(gzclose(gz), Z_OK);
	struct stat st;
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(truncate(path, st.st_size / 2), 0);
	in = input_open(path, &e);
	CHECK(in != NULL);
	if (in != NULL) {
		struct csv_reader *r = csv_new(in, 0);
		struct csv_row row;
		size_t rows = 0;
		int rc;
		while ((rc = csv_next(r, &row, &e)) == 1)
			rows++;
		CHECK_INT(rc, ERR_IO);
		CHECK(strncmp(e.msg, "truncated gzip stream", 21) == 0);
		CHECK(rows > 0 && rows < 5000);
		CHECK_INT(csv_next(r, &row, &e), ERR_IO);
		csv_free(r);
		input_close(in);
	}
	buf_cleanup(&big);
	unlink(path);
}

/* Bytes arriving one at a time through a FIFO: a BOM, "\r\n" and "" split
 * across reads, and delimiter detection waiting for its line. */
static void test_trickle(void)
{
	static const char text[] =
		"\xEF\xBB\xBF" "a;\"b\"\"\r\nc\";\r\n\r\n\"d\";e\r\nf\"g;h\r\ni;j";
	char path[64];
	snprintf(path, sizeof(path), "/tmp/cairn_test_csv_%d.fifo", (int)getpid());
	unlink(path);
	CHECK_INT(mkfifo(path, 0600), 0);
	pid_t pid = fork();
	if (pid == 0) {
		FILE *f = fopen(path, "wb");
		if (f == NULL)
			_exit(1);
		for (size_t i = 0; i < sizeof(text) - 1; i++) {
			fputc(text[i], f);
			fflush(f);
			usleep(200);
		}
		fclose(f);
		_exit(0);
	}
	struct err e;
	struct input *in = input_open(path, &e);
	CHECK(in != NULL);
	if (in != NULL) {
		char d = 0;
		char *got = dump_csv(in, 0, &d);
		CHECK_INT(d, ';');
		CHECK_STR(got, "1:[a][b\"\r\nc][]|4:[d][e]|!invalid@5|6:[i][j]|");
		free(got);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(path);
}

int main(void)
{
	test_basic();
	test_quoting();
	test_empty_fields_and_blank_lines();
	test_bom();
	test_detection();
	test_malformed();
	test_limits();
	test_gzip();
	test_trickle();
	return check_summary("test_csv");
}
