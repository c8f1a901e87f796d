#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <h2o.h>
#pragma GCC diagnostic pop

#include "base/log.h"
#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "http/http.h"

struct worker;

struct app_handler {
	h2o_handler_t super;
	struct server *srv;
};

struct server {
	const struct http_conf *conf;
	const struct http_app *app;
	volatile sig_atomic_t *stop;
	h2o_globalconf_t globalconf;
	struct worker *workers;
	int max_conn_per_worker;
	pthread_mutex_t ready_lock;
	pthread_cond_t ready_cond;
	int ready, failed;
	char fail_msg[ERR_MSG_MAX];
};

/* An open connection, so shutdown can find the idle ones. */
struct conn {
	struct worker *w;
	h2o_socket_t *sock;
	int64_t writing_since;	/* when a still-pending write was first seen, else 0 */
	struct conn *prev, *next;
};

struct worker {
	struct server *srv;
	struct conn *conns;
	int no;
	pthread_t thread;
	int fd;
	h2o_evloop_t *loop;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	h2o_socket_t *listener;
	int nconn;
	int accepting;
	void *tctx;
};

static __thread struct worker *current_worker;

/* ---- shared bodies ---- */

struct http_shared {
	int refs;	/* only touched on one worker thread at a time, or under the cache's lock */
	size_t len;
	char data[];
};

struct http_shared *http_shared_new(const void *p, size_t n)
{
	struct http_shared *s = xmalloc(sizeof(*s) + n + 1);
	__atomic_store_n(&s->refs, 1, __ATOMIC_RELAXED);
	s->len = n;
	memcpy(s->data, p, n);
	s->data[n] = '\0';
	return s;
}

void http_shared_ref(struct http_shared *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void http_shared_unref(struct http_shared *s)
{
	if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(s);
}

const char *http_shared_data(const struct http_shared *s)
{
	return s->data;
}

size_t http_shared_len(const struct http_shared *s)
{
	return s->len;
}

/* ---- requests and responses ---- */

const char *http_req_header(const struct http_req *r, const char *name, size_t *len)
{
	h2o_req_t *req = r->impl;
	ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
	if (i < 0)
		return NULL;
	if (len)
		*len = req->headers.entries[i].value.len;
	return req->headers.entries[i].value.base;
}

void http_resp_header(struct http_resp *r, const char *name, const char *fmt, ...)
{
	if (r->nheaders >= HTTP_MAX_RESP_HEADERS)
		return;
	va_list ap;
	va_start(ap, fmt);
	r->headers[r->nheaders].name = name;
	vsnprintf(r->headers[r->nheaders].value, sizeof(r->headers[0].value), fmt, ap);
	va_end(ap);
	r->nheaders++;
}

const char *http_status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

static void release_shared(void *p)
{
	struct http_shared **slot = p;
	http_shared_unref(*slot);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
	struct app_handler *h = (struct app_handler *)self;
	struct worker *w = current_worker;
	struct http_req hr;
	struct http_resp resp;
	char peer[INET6_ADDRSTRLEN + 1] = "";
	struct sockaddr_storage ss;
	socklen_t sl = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);

	if (sl > 0) {
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, peer, sizeof(peer));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, peer, sizeof(peer));
	}
	memset(&hr, 0, sizeof(hr));
	hr.method = req->method.base;
	hr.method_len = req->method.len;
	hr.path = req->path.base;
	hr.path_len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	if (req->query_at != SIZE_MAX) {
		hr.query = req->path.base + req->query_at + 1;
		hr.query_len = req->path.len - req->query_at - 1;
	} else {
		hr.query = "";
	}
	hr.body = req->entity.base;
	hr.body_len = req->entity.base ? req->entity.len : 0;
	hr.host = req->input.authority.base;
	hr.host_len = req->input.authority.len;
	hr.peer = peer;
	hr.start_us = time_mono_us();
	for (size_t i = 0; i < req->headers.size; i++)
		hr.header_bytes += req->headers.entries[i].name->len + req->headers.entries[i].value.len;
	hr.impl = req;

	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	buf_init(&resp.body);
	h->srv->app->handle(w->tctx, &hr, &resp);

	req->res.status = resp.status;
	req->res.reason = http_status_reason(resp.status);
	if (resp.content_type)
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
			       resp.content_type, strlen(resp.content_type));
	for (int i = 0; i < resp.nheaders; i++) {
		h2o_iovec_t v = h2o_strdup(&req->pool, resp.headers[i].value, SIZE_MAX);
		h2o_add_header_by_str(&req->pool, &req->res.headers, resp.headers[i].name,
				      strlen(resp.headers[i].name), 0, NULL, v.base, v.len);
	}
	h2o_iovec_t body;
	if (resp.shared) {
		/* Zero copy: the request's pool owns the slot, and with it our reference, until
		 * the response is sent. */
		struct http_shared **slot = h2o_mem_alloc_shared(&req->pool, sizeof(*slot), release_shared);
		*slot = resp.shared;
		body = h2o_iovec_init(resp.shared->data, resp.shared->len);
	} else {
		body = h2o_strdup(&req->pool, resp.body.data ? resp.body.data : "", resp.body.len);
	}
	/* A known length keeps the connection alive whatever the status. */
	static h2o_generator_t gen = { NULL, NULL };
	req->res.content_length = body.len;
	h2o_start_response(req, &gen);
	if (h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")))
		h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
	else
		h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
	buf_cleanup(&resp.body);
	return 0;
}

/* ---- connections ---- */

static void on_accept(h2o_socket_t *listener, const char *err);

static void on_conn_close(void *data)
{
	struct conn *cn = data;
	struct worker *w = cn->w;
	if (cn->prev)
		cn->prev->next = cn->next;
	else
		w->conns = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
	free(cn);
	w->nconn--;
	if (!w->accepting && w->listener && !*w->srv->stop && w->nconn < w->srv->max_conn_per_worker) {
		w->accepting = 1;
		h2o_socket_read_start(w->listener, on_accept);
	}
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
	struct worker *w = listener->data;
	if (err != NULL)
		return;
	for (int i = 0; i < 16; i++) {
		if (w->nconn >= w->srv->max_conn_per_worker) {
			/* At the limit: stop accepting until a connection closes. */
			h2o_socket_read_stop(listener);
			w->accepting = 0;
			return;
		}
		h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
		if (sock == NULL)
			return;
		int one = 1;
		setsockopt(h2o_socket_get_fd(sock), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *cn = xcalloc(1, sizeof(*cn));
		cn->w = w;
		cn->sock = sock;
		cn->next = w->conns;
		if (w->conns)
			w->conns->prev = cn;
		w->conns = cn;
		w->nconn++;
		sock->on_close.cb = on_conn_close;
		sock->on_close.data = cn;
		h2o_accept(&w->accept_ctx, sock);
	}
}

static int open_listener(const struct http_conf *c, struct err *e)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char port[16];
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", c->port);
	int gai = getaddrinfo(c->host[0] ? c->host : NULL, port, &hints, &res);
	if (gai != 0)
		return err_set(e, ERR_INVALID, "cannot resolve listen address '%s': %s", c->host,
			       gai_strerror(gai));
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 4096) != 0) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return err_set(e, ERR_IO, "cannot listen on %s:%d: %s", c->host, c->port, strerror(saved));
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * The write timeout h2o 2.2 lacks: a connection whose response has been waiting on the
 * client for longer than write_timeout_s is cut (both directions shut; h2o then sees the
 * error and closes it), so a client that stops reading cannot keep its buffers forever.
 */
static void sweep_writers(struct worker *w, int64_t now)
{
	int64_t limit = (int64_t)w->srv->conf->write_timeout_s * USEC_PER_SEC;
	for (struct conn *cn = w->conns; cn; cn = cn->next) {
		if (cn->sock->_cb.write == NULL) {
			cn->writing_since = 0;
		} else if (cn->writing_since == 0) {
			cn->writing_since = now;
		} else if (limit > 0 && now - cn->writing_since > limit) {
			shutdown(h2o_socket_get_fd(cn->sock), SHUT_RDWR);
			cn->writing_since = now;	/* once is enough */
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;
	struct err e = { 0 };
	current_worker = w;

	w->tctx = srv->app->thread_init ? srv->app->thread_init(srv->app->ctx, w->no, &e) : NULL;
	pthread_mutex_lock(&srv->ready_lock);
	if (srv->app->thread_init && w->tctx == NULL && !srv->failed) {
		srv->failed = 1;
		snprintf(srv->fail_msg, sizeof(srv->fail_msg), "%s", e.msg);
	}
	srv->ready++;
	pthread_cond_broadcast(&srv->ready_cond);
	pthread_mutex_unlock(&srv->ready_lock);
	if (srv->failed)
		goto out;

	w->loop = h2o_evloop_create();
	h2o_context_init(&w->ctx, w->loop, &srv->globalconf);
	w->accept_ctx.ctx = &w->ctx;
	w->accept_ctx.hosts = srv->globalconf.hosts;
	w->listener = h2o_evloop_socket_create(w->loop, w->fd, H2O_SOCKET_FLAG_DONT_READ);
	w->listener->data = w;
	w->accepting = 1;
	h2o_socket_read_start(w->listener, on_accept);

	int64_t last_sweep = 0;
	while (!*srv->stop) {
		h2o_evloop_run(w->loop, 100);
		if (srv->app->tick)
			srv->app->tick(w->tctx);
		int64_t now = time_mono_us();
		if (now - last_sweep >= USEC_PER_SEC) {
			last_sweep = now;
			sweep_writers(w, now);
		}
	}

	/* Graceful: no new connections; idle keep-alive ones are closed by h2o, busy ones finish. */
	h2o_socket_read_stop(w->listener);
	h2o_socket_close(w->listener);
	w->listener = NULL;
	h2o_context_request_shutdown(&w->ctx);
	int64_t deadline = time_mono_us() + 10 * USEC_PER_SEC;
	while (w->nconn > 0 && time_mono_us() < deadline) {
		h2o_evloop_run(w->loop, 50);
		/*
		 * h2o 2.2 tells keep-alive connections to close only when they finish a request;
		 * an idle one would wait for its timeout. Closing the read side of every
		 * connection that is not writing makes h2o see the end and close it itself;
		 * a response still being written is left to finish.
		 */
		for (struct conn *cn = w->conns; cn; cn = cn->next)
			if (cn->sock->_cb.write == NULL)
				shutdown(h2o_socket_get_fd(cn->sock), SHUT_RD);
	}
	if (srv->app->tick)
		srv->app->tick(w->tctx);
	/* The context and its evloop are left to process exit: h2o 2.2 asserts when either is
	 * disposed while its internal timers are still linked. */
out:
	if (srv->app->thread_fini)
		srv->app->thread_fini(w->tctx);
	return NULL;
}

int http_serve(const struct http_conf *conf, const struct http_app *app, volatile sig_atomic_t *stop,
	       struct err *e)
{
	struct server srv;
	int n = conf->threads > 0 ? conf->threads : 1;
	int rc = 0;

	memset(&srv, 0, sizeof(srv));
	srv.conf = conf;
	srv.app = app;
	srv.stop = stop;
	srv.max_conn_per_worker = conf->max_connections / n > 0 ? conf->max_connections / n : 1;
	pthread_mutex_init(&srv.ready_lock, NULL);
	pthread_cond_init(&srv.ready_cond, NULL);

	h2o_config_init(&srv.globalconf);
	srv.globalconf.server_name = h2o_iovec_init(H2O_STRLIT("cairn"));
	srv.globalconf.max_request_entity_size = conf->max_body_bytes;
	srv.globalconf.http1.req_timeout = (uint64_t)conf->request_timeout_s * 1000;
	srv.globalconf.http2.idle_timeout = (uint64_t)conf->idle_timeout_s * 1000;
	h2o_hostconf_t *host = h2o_config_register_host(&srv.globalconf, h2o_iovec_init(H2O_STRLIT("default")),
							65535);
	h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
	struct app_handler *h = (struct app_handler *)h2o_create_handler(path, sizeof(*h));
	h->super.on_req = on_req;
	h->srv = &srv;

	srv.workers = xcalloc((size_t)n, sizeof(struct worker));
	for (int i = 0; i < n; i++) {
		int fd = open_listener(conf, e);
		if (fd < 0) {
			for (int j = 0; j < i; j++)
				close(srv.workers[j].fd);
			rc = fd;
			goto out;
		}
		srv.workers[i].fd = fd;
		srv.workers[i].srv = &srv;
		srv.workers[i].no = i;
	}
	for (int i = 0; i < n; i++)
		pthread_create(&srv.workers[i].thread, NULL, worker_main, &srv.workers[i]);
	pthread_mutex_lock(&srv.ready_lock);
	while (srv.ready < n)
		pthread_cond_wait(&srv.ready_cond, &srv.ready_lock);
	pthread_mutex_unlock(&srv.ready_lock);
	if (srv.failed) {
		*stop = 1;
		rc = err_set(e, ERR_INTERNAL, "%s", srv.fail_msg);
	} else {
		log_info("listening on http://%s:%d (%d thread%s)", conf->host, conf->port, n,
			 n == 1 ? "" : "s");
		fflush(stderr);
	}
	for (int i = 0; i < n; i++)
		pthread_join(srv.workers[i].thread, NULL);
	if (!srv.failed)
		log_info("stopped");
out:
	free(srv.workers);
	h2o_config_dispose(&srv.globalconf);
	return rc;
}
