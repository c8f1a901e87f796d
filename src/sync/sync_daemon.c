/*
 * Running the pipelines of a sync_config: once, or on their intervals until SIGTERM or
 * SIGINT, with Prometheus metrics served by a small listener thread (see sync_config.h).
 */
#include "sync/sync_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"

/* Set by SIGTERM / SIGINT; the HTTP clients and the sources watch it (hc_conf.abort). */
static bool stop_flag;
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
	__atomic_store_n(&stop_flag, true, __ATOMIC_RELEASE);
}

static bool stopping(void)
{
	return __atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE);
}

/* What /metrics shows of a pipeline. */
struct pipe_metrics {
	int64_t runs_ok, runs_failed;
	int64_t fetched, written, expired, failed, skipped;
	int64_t last_success_us, last_error_us;
	char last_error[ERR_MSG_MAX];
};

struct daemon {
	struct sync_config *c;
	struct pipe_metrics m[SYNC_PIPELINES_MAX];
	pthread_mutex_t mu;
	int listen_fd;
};

/* ---- /metrics ---- */

/* A label value: backslash, double quote and new line escaped (Prometheus text format). */
static void put_label(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_putc(b, '\\');
		if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *s);
	}
}

static void render_metrics(struct daemon *d, struct buf *b)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} counters[] = {
		{ "cairn_sync_fetched_total", "counter", "STIX objects read from the source",
		  offsetof(struct pipe_metrics, fetched) },
		{ "cairn_sync_written_total", "counter", "Documents delivered to the output",
		  offsetof(struct pipe_metrics, written) },
		{ "cairn_sync_expired_total", "counter", "Delivered documents already expired when written",
		  offsetof(struct pipe_metrics, expired) },
		{ "cairn_sync_failed_total", "counter", "Objects that could not be mapped or delivered (dead letters)",
		  offsetof(struct pipe_metrics, failed) },
		{ "cairn_sync_skipped_total", "counter", "Objects the output does not take",
		  offsetof(struct pipe_metrics, skipped) },
	};
	pthread_mutex_lock(&d->mu);
	buf_puts(b, "# HELP cairn_sync_runs_total Runs of the pipeline, by result.\n"
		    "# TYPE cairn_sync_runs_total counter\n");
	for (int i = 0; i < d->c->npipe; i++) {
		buf_printf(b, "cairn_sync_runs_total{pipeline=\"");
		put_label(b, d->c->pipe[i].name);
		buf_printf(b, "\",result=\"ok\"} %lld\n", (long long)d->m[i].runs_ok);
		buf_printf(b, "cairn_sync_runs_total{pipeline=\"");
		put_label(b, d->c->pipe[i].name);
		buf_printf(b, "\",result=\"error\"} %lld\n", (long long)d->m[i].runs_failed);
	}
	for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++) {
		buf_printf(b, "# HELP %s %s.\n# TYPE %s %s\n", counters[k].name, counters[k].help,
			   counters[k].name, counters[k].type);
		for (int i = 0; i < d->c->npipe; i++) {
			buf_printf(b, "%s{pipeline=\"", counters[k].name);
			put_label(b, d->c->pipe[i].name);
			buf_printf(b, "\"} %lld\n", (long long)*(const int64_t *)((const char *)&d->m[i] + counters[k].off));
		}
	}
	buf_puts(b, "# HELP cairn_sync_last_success_timestamp_seconds When the last successful run ended (0: never).\n"
		    "# TYPE cairn_sync_last_success_timestamp_seconds gauge\n");
	for (int i = 0; i < d->c->npipe; i++) {
		buf_printf(b, "cairn_sync_last_success_timestamp_seconds{pipeline=\"");
		put_label(b, d->c->pipe[i].name);
		buf_printf(b, "\"} %.3f\n", (double)d->m[i].last_success_us / 1e6);
	}
	buf_puts(b, "# HELP cairn_sync_last_error_timestamp_seconds When the last failed run ended, with its error.\n"
		    "# TYPE cairn_sync_last_error_timestamp_seconds gauge\n");
	for (int i = 0; i < d->c->npipe; i++) {
		if (d->m[i].last_error_us == 0)
			continue;
		buf_printf(b, "cairn_sync_last_error_timestamp_seconds{pipeline=\"");
		put_label(b, d->c->pipe[i].name);
		buf_puts(b, "\",error=\"");
		put_label(b, d->m[i].last_error);
		buf_printf(b, "\"} %.3f\n", (double)d->m[i].last_error_us / 1e6);
	}
	pthread_mutex_unlock(&d->mu);
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* One request on a connection, then close: GET /metrics, or an error status. */
static void serve_one(struct daemon *d, int fd)
{
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	char req[8192];
	size_t n = 0;
	while (n < sizeof(req) - 1) {
		ssize_t r = recv(fd, req + n, sizeof(req) - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[n] = '\0';
	const char *status = "400 Bad Request", *ctype = "text/plain; charset=utf-8";
	struct buf body = BUF_INIT;
	bool head = !strncmp(req, "HEAD ", 5);
	if (strstr(req, "\r\n\r\n") == NULL && strstr(req, "\n\n") == NULL) {
		buf_puts(&body, n == sizeof(req) - 1 ? "request headers too large\n" : "incomplete request\n");
		if (n == sizeof(req) - 1)
			status = "431 Request Header Fields Too Large";
	} else if (strncmp(req, "GET ", 4) && !head) {
		status = "405 Method Not Allowed";
		buf_puts(&body, "only GET /metrics\n");
	} else if (strncmp(req + (head ? 5 : 4), "/metrics ", 9) && strncmp(req + (head ? 5 : 4), "/metrics?", 9)) {
		status = "404 Not Found";
		buf_puts(&body, "only GET /metrics\n");
	} else {
		status = "200 OK";
		ctype = "text/plain; version=0.0.4; charset=utf-8";
		render_metrics(d, &body);
	}
	struct buf out = BUF_INIT;
	buf_printf(&out, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
		   status, ctype, body.len, status[0] == '4' && status[2] == '5' ? "Allow: GET, HEAD\r\n" : "");
	if (!head)
		buf_append(&out, body.data, body.len);
	send_all(fd, out.data, out.len);
	buf_cleanup(&out);
	buf_cleanup(&body);
	shutdown(fd, SHUT_WR);
	close(fd);
}

static void *metrics_thread(void *arg)
{
	struct daemon *d = arg;
	while (!stopping()) {
		struct pollfd pfd = { .fd = d->listen_fd, .events = POLLIN };
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		int fd = accept(d->listen_fd, NULL, NULL);
		if (fd >= 0)
			serve_one(d, fd);
	}
	return NULL;
}

static int metrics_listen(struct daemon *d)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)d->c->metrics_port) };
	inet_pton(AF_INET, d->c->metrics_host, &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0) {
		fprintf(stderr, "cairn sync: cannot serve metrics on %s:%d: %s\n", d->c->metrics_host,
			d->c->metrics_port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	d->listen_fd = fd;
	return 0;
}

/* ---- runs ---- */

/* One run of pipeline i; true when it succeeded. */
static bool run_pipeline(struct daemon *d, int i, bool dry_run)
{
	struct sync_pipeline *p = &d->c->pipe[i];
	struct sync_opts o = p->o;
	o.dry_run = dry_run;
	o.stop = &stop_flag;
	o.ecs.now = time_now_us();	/* event.ingested: the time of the run */
	struct sync_stats st;
	struct err e = { 0 };
	int rc = sync_run_once(&o, &st, &e);
	int64_t end = time_now_us();
	bool abandoned = rc != 0 && stopping();
	fprintf(stderr, "cairn sync [%s]: fetched %lld, written %lld, expired %lld, failed %lld, skipped %lld%s%s\n",
		p->name, (long long)st.fetched, (long long)st.written, (long long)st.expired,
		(long long)st.failed, (long long)st.skipped, st.cursor[0] ? ", cursor " : "", st.cursor);
	if (abandoned)
		fprintf(stderr, "cairn sync [%s]: stopped in the middle of a run; the cursor stays where it was saved\n", p->name);
	else if (rc)
		fprintf(stderr, "cairn sync [%s]: error: %s\n", p->name, e.msg);
	pthread_mutex_lock(&d->mu);
	struct pipe_metrics *m = &d->m[i];
	m->fetched += st.fetched;
	m->written += st.written;
	m->expired += st.expired;
	m->failed += st.failed;
	m->skipped += st.skipped;
	if (rc == 0) {
		m->runs_ok++;
		m->last_success_us = end;
	} else if (!abandoned) {
		m->runs_failed++;
		m->last_error_us = end;
		snprintf(m->last_error, sizeof(m->last_error), "%s", e.msg);
	}
	pthread_mutex_unlock(&d->mu);
	return rc == 0;
}

/* Sleeps until the wall clock reaches until_us, or a signal stops the daemon. */
static void sleep_until(int64_t until_us)
{
	for (;;) {
		int64_t left = until_us - time_now_us();
		if (left <= 0 || stopping())
			return;
		poll(NULL, 0, (int)(left > 200000 ? 200 : (left + 999) / 1000));
	}
}

int sync_daemon(struct sync_config *c, bool once, bool dry_run)
{
	struct daemon *d = xcalloc(1, sizeof(*d));
	d->c = c;
	d->listen_fd = -1;
	pthread_mutex_init(&d->mu, NULL);
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int rc = 0;
	if (c->state_dir && !dry_run && mkdir(c->state_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "cairn sync: cannot create the state folder %s: %s\n", c->state_dir, strerror(errno));
		rc = 1;
	}
	once = once || dry_run;
	pthread_t th;
	bool serving = false;
	if (rc == 0 && !once && c->metrics_host[0]) {
		if (metrics_listen(d) != 0) {
			rc = 1;
		} else {
			/* The signals go to the main thread: the listener blocks them. */
			sigset_t block, old;
			sigemptyset(&block);
			sigaddset(&block, SIGTERM);
			sigaddset(&block, SIGINT);
			pthread_sigmask(SIG_BLOCK, &block, &old);
			serving = pthread_create(&th, NULL, metrics_thread, d) == 0;
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			if (!serving) {
				fprintf(stderr, "cairn sync: cannot start the metrics listener\n");
				rc = 1;
			}
		}
	}
	if (rc == 0 && once) {
		for (int i = 0; i < c->npipe && !stopping(); i++)
			if (!run_pipeline(d, i, dry_run))
				rc = 1;
		if (stopping())
			rc = 1;
	} else if (rc == 0) {
		if (serving)
			fprintf(stderr, "cairn sync: %d pipelines; metrics on http://%s:%d/metrics\n", c->npipe,
				c->metrics_host, c->metrics_port);
		int64_t next[SYNC_PIPELINES_MAX];
		int64_t now = time_now_us();
		for (int i = 0; i < c->npipe; i++)
			next[i] = now;	/* every pipeline runs at start */
		while (!stopping()) {
			for (int i = 0; i < c->npipe && !stopping(); i++) {
				int64_t start = time_now_us();
				if (start < next[i])
					continue;
				run_pipeline(d, i, false);
				next[i] += c->pipe[i].interval_s * USEC_PER_SEC;
				int64_t end = time_now_us();
				if (next[i] < end)
					next[i] = end;	/* a run longer than its interval: the next one now, no burst */
			}
			int64_t soonest = next[0];
			for (int i = 1; i < c->npipe; i++)
				if (next[i] < soonest)
					soonest = next[i];
			sleep_until(soonest);
		}
		fprintf(stderr, "cairn sync: stopped by %s\n", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	}
	if (serving) {
		__atomic_store_n(&stop_flag, true, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
	}
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	pthread_mutex_destroy(&d->mu);
	free(d);
	return rc;
}
