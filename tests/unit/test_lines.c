/*
 * test_lines.c — the importers' byte source (imp/input.h) and line reader
 * (imp/lines.h): files, stdin, gzip (written here with zlib), memory, CRLF,
 * a final line without newline, a BOM, and overlong lines being skipped with
 * the reader carrying on.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "base/buf.h"
#include "base/err.h"
#include "imp/input.h"
#include "imp/lines.h"
#include "check.h"

static char tmp_plain[64], tmp_gz[64], tmp_bad[64], tmp_cut[64];

static void write_file(const char *path, const char *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK_INT(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void write_gz(const char *path, const char *p, size_t n)
{
	gzFile gz = gzopen(path, "wb");
	CHECK(gz != NULL);
	if (gz == NULL)
		return;
	CHECK_INT(gzwrite(gz, p, (unsigned)n), n);
	CHECK_INT(gzclose(gz), Z_OK);
}

static char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char tmp[4096];
	size_t got;
	while (f != NULL && (got = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(&b, tmp, got);
	if (f != NULL)
		fclose(f);
	*n = b.len;
	return buf_take(&b);
}

/* Every line of in as "<number>:<text>|", errors as "!<code>@<offset>|". */
static char *dump_lines(struct input *in)
{
	struct buf out = BUF_INIT;
	struct line_reader *r = line_reader_new(in);
	struct err e;
	const char *line;
	size_t len;
	int rc;
	size_t unterminated = 0;
	while ((rc = line_next(r, &line, &len, &e)) != 0) {
		if (rc == 1) {
			unterminated += line[len] != '\0';
			buf_printf(&out, "%zu:", line_number(r));
			buf_append(&out, line, len);
			buf_putc(&out, '|');
			continue;
		}
		buf_printf(&out, "!%s@%zu|", err_code_name(rc), e.offset);
		if (rc == ERR_IO)
			break;
	}
	CHECK_INT(unterminated, 0);
	line_reader_free(r);
	input_close(in);
	return buf_take(&out);
}

static void check_lines(const char *data, size_t n, const char *want)
{
	char *got = dump_lines(input_from_memory(data, n));
	CHECK_STR(got, want);
	free(got);
}

#define LINES(lit, want) check_lines(lit, sizeof(lit) - 1, want)

static void test_memory_input(void)
{
	struct input *in = input_from_memory("hello world", 11);
	char b[4];
	CHECK_INT(input_size(in), 11);
	CHECK_INT(input_read(in, b, 4), 4);
	CHECK(memcmp(b, "hell", 4) == 0);
	CHECK_INT(input_pos(in), 4);
	CHECK_INT(input_read(in, b, 0), 0);
	CHECK_INT(input_read(in, b, 4), 4);
	CHECK_INT(input_read(in, b, 4), 3);
	CHECK(memcmp(b, "rld", 3) == 0);
	CHECK_INT(input_read(in, b, 4), 0);
	CHECK_INT(input_read(in, b, 4), 0);
	CHECK_STR(input_error(in), "");
	input_close(in);
	input_close(NULL);
}

static void test_open_errors(void)
{
	struct err e;
	err_clear(&e);
	CHECK(input_open("/nonexistent/x.csv", &e) == NULL);
	CHECK_INT(e.code, ERR_IO);
	CHECK_STR(e.msg, "cannot open '/nonexistent/x.csv': No such file or directory");
	err_clear(&e);
	CHECK(input_open("/tmp", &e) == NULL);
	CHECK_STR(e.msg, "cannot open '/tmp': Is a directory");
}

static void test_plain_and_gzip_files(void)
{
	static const char text[] = "alpha\r\nbeta\n\xEF\xBB\xBFgamma";
	struct err e;
	write_file(tmp_plain, text, sizeof(text) - 1);
	write_gz(tmp_gz, text, sizeof(text) - 1);

	struct input *in = input_open(tmp_plain, &e);
	CHECK(in != NULL);
	CHECK_INT(input_size(in), sizeof(text) - 1);
	char *got = dump_lines(in);
	CHECK_STR(got, "1:alpha|2:beta|3:\xEF\xBB\xBFgamma|");
	free(got);

	in = input_open(tmp_gz, &e);
	CHECK(in != NULL);
	size_t gz_len;
	free(read_file(tmp_gz, &gz_len));
	CHECK_INT(input_size(in), gz_len);
	CHECK_INT(input_pos(in), 0);
	char b[256];
	long n = input_read(in, b, sizeof(b));
	CHECK_INT(n, sizeof(text) - 1);
	CHECK(n > 0 && memcmp(b, text, (size_t)n) == 0);
	CHECK_INT(input_read(in, b, sizeof(b)), 0);
	CHECK_INT(input_pos(in), gz_len);
	input_close(in);

	in = input_open(tmp_gz, &e);
	got = dump_lines(in);
	CHECK_STR(got, "1:alpha|2:beta|3:\xEF\xBB\xBFgamma|");
	free(got);
}

/* A flipped byte in the compressed data or a cut-short file is an error,
 * never a silently shorter import. */
static void test_gzip_damage(void)
{
	struct buf big = BUF_INIT;
	for (int i = 0; i < 20000; i++)
		buf_printf(&big, "line %d %u\n", i, (unsigned)i * 2654435761u);
	write_gz(tmp_gz, big.data, big.len);
	size_t n;
	char *gz = read_file(tmp_gz, &n);
	CHECK(n > 1000);

	write_file(tmp_cut, gz, n / 2);
	struct err e;
	struct input *in = input_open(tmp_cut, &e);
	CHECK(in != NULL);
	char *got = dump_lines(in);
	CHECK(strstr(got, "!i/o error@0|") != NULL);
	free(got);
	in = input_open(tmp_cut, &e);
	char b[65536];
	long r;
	while ((r = input_read(in, b, sizeof(b))) > 0)
		;
	CHECK_INT(r, -1);
	CHECK(strncmp(input_error(in), "truncated gzip stream", 21) == 0);
	CHECK_INT(input_read(in, b, sizeof(b)), -1);
	input_close(in);

	gz[n / 2] = (char)(gz[n / 2] ^ 0x55);
	write_file(tmp_bad, gz, n);
	in = input_open(tmp_bad, &e);
	struct line_reader *lr = line_reader_new(in);
	const char *line;
	size_t len;
	int rc;
	size_t lines = 0;
	while ((rc = line_next(lr, &line, &len, &e)) == 1)
		lines++;
	CHECK_INT(rc, ERR_IO);
	CHECK(strncmp(e.msg, "corrupt gzip stream: ", 21) == 0);
	CHECK(lines < 20000);
	CHECK_INT(line_next(lr, &line, &len, &e), ERR_IO);
	line_reader_free(lr);
	input_close(in);
	free(gz);
	buf_cleanup(&big);
}

/* "-" reads fd 0 and closing the input leaves fd 0 open. */
static void test_stdin(void)
{
	write_file(tmp_plain, "one\ntwo\n", 8);
	int saved = dup(STDIN_FILENO);
	int fd = open(tmp_plain, O_RDONLY);
	CHECK(saved >= 0 && fd >= 0);
	dup2(fd, STDIN_FILENO);
	close(fd);
	struct err e;
	struct input *in = input_open("-", &e);
	CHECK(in != NULL);
	CHECK_INT(input_size(in), 8);
	char *got = dump_lines(in);
	CHECK_STR(got, "1:one|2:two|");
	free(got);
	CHECK(fcntl(STDIN_FILENO, F_GETFD) != -1);
	dup2(saved, STDIN_FILENO);
	close(saved);
}

static void test_line_endings(void)
{
	LINES("a\r\nb\r\n\r\nc\r\n", "1:a|2:b|3:|4:c|");
	LINES("a\nb", "1:a|2:b|");
	LINES("a\nb\r", "1:a|2:b|");
	LINES("a\r\nb\r\n", "1:a|2:b|");
	LINES("a\rb\n", "1:a\rb|");
	LINES("\n\n", "1:|2:|");
	LINES("", "");
	LINES("x", "1:x|");
	LINES("\xEF\xBB\xBFid\n\xEF\xBB\xBFx\n", "1:id|2:\xEF\xBB\xBFx|");
	LINES("\xEF\xBB\xBF", "");
	LINES("\xEF\xBB", "1:\xEF\xBB|");
}

/* A NUL byte is data: the length, not strlen(), tells where a line ends. */
static void test_nul_bytes(void)
{
	struct input *in = input_from_memory("a\0b\nc", 5);
	struct line_reader *r = line_reader_new(in);
	struct err e;
	const char *line;
	size_t len;
	CHECK_INT(line_next(r, &line, &len, &e), 1);
	CHECK_INT(len, 3);
	CHECK(memcmp(line, "a\0b", 4) == 0);
	CHECK_INT(line_next(r, &line, &len, &e), 1);
	CHECK_STR(line, "c");
	CHECK_INT(line_number(r), 2);
	CHECK_INT(line_next(r, &line, &len, &e), 0);
	line_reader_free(r);
	input_close(in);
}

static void test_long_lines(void)
{
	struct buf b = BUF_INIT;
	char *got;

	/* An overlong line is skipped; its number is reported; reading goes on. */
	buf_puts(&b, "first\n");
	for (int i = 0; i < LINE_MAX_LEN + 10; i++)
		buf_putc(&b, 'y');
	buf_puts(&b, "\nthird\n");
	got = dump_lines(input_from_memory(b.data, b.len));
	CHECK_STR(got, "1:first|!too large@2|3:third|");
	free(got);

	/* Far longer than the reader's buffer, twice in a row, and at the end. */
	buf_reset(&b);
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 5 * LINE_MAX_LEN; i++)
			buf_putc(&b, 'z');
		buf_putc(&b, '\n');
	}
	buf_puts(&b, "ok\n");
	for (int i = 0; i < 3 * LINE_MAX_LEN; i++)
		buf_putc(&b, 'w');
	got = dump_lines(input_from_memory(b.data, b.len));
	CHECK_STR(got, "!too large@1|!too large@2|3:ok|!too large@4|");
	free(got);

	/* Exactly LINE_MAX_LEN is fine, with "\n", "\r\n" or nothing after it;
	 * one byte more is not. */
	const char *ends[] = { "\n", "\r\n", "" };
	for (size_t k = 0; k < 3; k++) {
		buf_reset(&b);
		for (int i = 0; i < LINE_MAX_LEN; i++)
			buf_putc(&b, 'm');
		buf_puts(&b, ends[k]);
		struct input *in = input_from_memory(b.data, b.len);
		struct line_reader *r = line_reader_new(in);
		struct err e;
		const char *line;
		size_t len;
		CHECK_INT(line_next(r, &line, &len, &e), 1);
		CHECK_INT(len, LINE_MAX_LEN);
		CHECK_INT(line_next(r, &line, &len, &e), 0);
		line_reader_free(r);
		input_close(in);

		buf_reset(&b);
		for (int i = 0; i < LINE_MAX_LEN + 1; i++)
			buf_putc(&b, 'm');
		buf_puts(&b, ends[k]);
		buf_puts(&b, "next");
		got = dump_lines(input_from_memory(b.data, b.len));
		CHECK_STR(got, k < 2 ? "!too large@1|2:next|" : "!too large@1|");
		free(got);
	}
	buf_cleanup(&b);
}

/* Many lines through a small fixed buffer: counts and contents hold up. */
static void test_many_lines(void)
{
	struct buf b = BUF_INIT;
	for (int i = 1; i <= 200000; i++)
		buf_printf(&b, i % 3 ? "%d\n" : "%d\r\n", i);
	struct input *in = input_from_memory(b.data, b.len);
	struct line_reader *r = line_reader_new(in);
	struct err e;
	const char *line;
	size_t len;
	size_t n = 0, bad = 0;
	while (line_next(r, &line, &len, &e) == 1) {
		n++;
		if (strtoul(line, NULL, 10) != n || line_number(r) != n)
			bad++;
	}
	CHECK_INT(n, 200000);
	CHECK_INT(bad, 0);
	line_reader_free(r);
	input_close(in);
	buf_cleanup(&b);
}

int main(void)
{
	snprintf(tmp_plain, sizeof(tmp_plain), "/tmp/cairn_test_lines_%d.txt", (int)getpid());
	snprintf(tmp_gz, sizeof(tmp_gz), "/tmp/cairn_test_lines_%d.txt.gz", (int)getpid());
	snprintf(tmp_bad, sizeof(tmp_bad), "/tmp/cairn_test_lines_%d.bad.gz", (int)getpid());
	snprintf(tmp_cut, sizeof(tmp_cut), "/tmp/cairn_test_lines_%d.cut.gz", (int)getpid());
	test_memory_input();
	test_open_errors();
	test_plain_and_gzip_files();
	test_gzip_damage();
	test_stdin();
	test_line_endings();
	test_nul_bytes();
	test_long_lines();
	test_many_lines();
	unlink(tmp_plain);
	unlink(tmp_gz);
	unlink(tmp_bad);
	unlink(tmp_cut);
	return check_summary("test_lines");
}
