#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "base/log.h"
#include "cli/cli.h"
#include "feeds/feeds.h"
#include "http/http.h"
#include "store/store.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static const char usage[] =
	"usage: cairn serve [--listen HOST:PORT] [--config FILE] [--threads N] [--db PATH]\n"
	"\n"
	"Serves the REST API until SIGTERM or SIGINT, then finishes the requests in flight.\n"
	"  --listen HOST:PORT   address to listen on (default 127.0.0.1:8080, or the config's)\n"
	"  --config FILE        YAML configuration (docs/configuration.md)\n"
	"  --threads N          worker threads (default: one per core)\n"
	"  --db PATH            database (default $CAIRN_DB, else ./cairn.db)\n";

/* "host:port", "[v6]:port" or ":port". */
static bool split_listen(const char *s, struct http_conf *h)
{
	const char *colon = strrchr(s, ':');
	if (colon == NULL)
		return false;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || colon[1] == '\0' || port < 0 || port > 65535)
		return false;
	size_t hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl >= sizeof(h->host))
		return false;
	memcpy(h->host, s, hl);
	h->host[hl] = '\0';
	h->port = (int)port;
	return true;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' }, { "config", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' }, { "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *listen = NULL, *config = NULL, *db = NULL;
	int threads = -1, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'c': config = optarg; break;
		case 'd': db = optarg; break;
		case 't': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 256) {
				cli_fail("serve", "--threads must be a number from 1 to 256");
				return 2;
			}
			threads = (int)n;
			break;
		}
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind < argc) {
		cli_fail("serve", "unexpected argument '%s'", argv[optind]);
		return 2;
	}
	struct config cfg;
	if (!cli_config(&cfg, config, "serve"))
		return 1;
	struct http_conf h;
	memset(&h, 0, sizeof(h));
	if (!split_listen(listen ? listen : cfg.listen, &h)) {
		cli_fail("serve", "listen address '%s' is not HOST:PORT", listen ? listen : cfg.listen);
		return 2;
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	h.threads = threads > 0 ? threads : cfg.threads > 0 ? cfg.threads : (ncpu > 0 ? (int)ncpu : 1);
	h.max_header_bytes = cfg.max_header_bytes;
	h.max_body_bytes = cfg.max_body_bytes;
	h.max_connections = cfg.max_connections;
	h.request_timeout_s = cfg.request_timeout_s;
	h.idle_timeout_s = cfg.idle_timeout_s;
	h.write_timeout_s = cfg.write_timeout_s;

	const char *path = cli_db_path(db);
	struct err e = { 0 };
	struct store *s;
	/* Open once here so migrations run before the workers start, and errors show early. */
	if (store_open(&s, path, &cfg, 0, &e) != 0) {
		cli_fail("serve", "%s", e.msg);
		return 1;
	}
	int changed;
	if (feeds_from_config(s, &cfg, &changed, &e) != 0) {
		store_close(s);
		cli_fail("serve", "%s", e.msg);
		return 1;
	}
	store_close(s);
	struct api *a = api_new(&cfg, path, &e);
	if (a == NULL) {
		cli_fail("serve", "%s", e.msg);
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	int rc = http_serve(&h, api_http_app(a), &stop_flag, &e);
	if (rc != 0)
		cli_fail("serve", "%s", e.msg);
	struct err fe = { 0 };
	if (api_flush(a, &fe) != 0)
		log_warn("saving usage at exit: %s", fe.msg);
	api_free(a);
	return rc ? 1 : 0;
}
