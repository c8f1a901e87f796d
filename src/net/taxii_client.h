/*
 * taxii_client.h — a TAXII 2.1 client for feed pulls and `cairn sync`, following the client
 * lines of TAXII.md:
 *   - `Accept: application/taxii+json;version=2.1` on every request, `User-Agent: cairn/…`;
 *   - answers must be 2xx with a taxii+json media type (any parameter order), else the
 *     error body is shown;
 *   - paging: continue while `more`; with a non-empty `next`, resend the filters plus
 *     `next`; without one, use added_after = the page's X-TAXII-Date-Added-Last; stop
 *     when `next` repeats or added_after does not advance; pages per run are capped; an
 *     empty page after `more: true` is normal;
 *   - the cursor is the last non-empty page's X-TAXII-Date-Added-Last, handed back only
 *     after the page was delivered (the callback returned 0); never a STIX time stamp;
 *   - missing `objects` means empty, missing `more` means false; versions already seen
 *     in the run, by (id, modified), are left out.
 * Retries of 429 and 5xx honouring Retry-After come from http_client.
 */
#ifndef CAIRN_NET_TAXII_CLIENT_H
#define CAIRN_NET_TAXII_CLIENT_H

#include <jansson.h>

#include "net/http_client.h"

#define TAXII_MEDIA "application/taxii+json;version=2.1"

struct taxii_poll {
	const char *collection_url;	/* …/collections/{id}/ (with or without the slash) */
	const char *added_after;	/* the saved cursor, or NULL for everything */
	int64_t limit;			/* objects per page asked; 0 = the server's choice */
	int max_pages;			/* per run; 0 = 10,000 */
	const char *match_type;		/* match[type], or NULL */
};

struct taxii_poll_result {
	int64_t pages, objects, duplicates;
	char cursor[64];		/* the cursor after the last delivered page ("" = unchanged) */
	bool capped;			/* stopped at max_pages with more to read */
};

/* One page, as the callback sees it. */
struct taxii_page {
	json_t *objects;		/* the page's objects, duplicates removed (may be empty) */
	const char *date_added_last;	/* its X-TAXII-Date-Added-Last, or "" */
	const char *body;		/* the envelope as received, for the objects' exact text */
	size_t body_len;
};

/*
 * Called once per page. A non-zero return stops the poll and is returned; the cursor
 * then stays at the previous page.
 */
typedef int (*taxii_page_cb)(void *ctx, const struct taxii_page *page);

int taxii_poll(struct http_client *hc, const struct taxii_poll *p, taxii_page_cb cb, void *ctx,
	       struct taxii_poll_result *res, struct err *e) CAIRN_MUST_USE;

/*
 * Finds a collection's URL from a discovery URL or an API root URL and a collection id,
 * alias or title (out gets …/collections/{id}/). A URL that already names a collection
 * (…/collections/{id}/) is returned as it is.
 */
int taxii_collection_url(struct http_client *hc, const char *url, const char *collection,
			 struct buf *out, struct err *e) CAIRN_MUST_USE;

/* Whether a Content-Type is TAXII 2.1's (any parameter order, spaces, charset). */
bool taxii_media_ok(const char *content_type);

#endif
