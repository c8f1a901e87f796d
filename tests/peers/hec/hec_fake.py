"""A Splunk HTTP Event Collector for cairn's tests: the answers of Splunk's HEC, as its
documentation gives them, written as a Python server because the real receivers cannot be had
here (docs/testing.md says why, and what this server does not do).

What it implements, as Splunk does:
- POST /services/collector/event (and /services/collector, /services/collector/event/1.0):
  `Authorization: Splunk <token>`; the body is JSON event objects one after the other, each
  with `event` and optionally time, host, source, sourcetype, index, fields.
- The answers: 200 {"text":"Success","code":0} (with "ackId" when the token acknowledges);
  401 code 2 "Token is required", 401 code 3 "Invalid authorization", 403 code 4 "Invalid
  token", 403 code 1 "Token disabled", 400 code 5 "No data", 400 code 6 "Invalid data format",
  400 code 7 "Incorrect index", 400 code 12 "Event field is required", 400 code 13 "Event field
  cannot be blank" (6, 7, 12 and 13 with "invalid-event-number"), 400 code 10 "Data channel is
  missing", 400 code 11 "Invalid data channel", 400 code 14 "ACK is disabled", 503 code 9
  "Server is busy", 413 for a body over max_content_length.
- A bad event in a batch: the events before it are indexed, it and those after it are not.
- Indexer acknowledgement: ackIds per channel from 0; POST /services/collector/ack with
  {"acks":[…]} answers {"acks":{"id":bool}}, and forgets an id once it answered true.

Test controls (not Splunk's): `busy` — answers to give before handling the next requests
(status, Retry-After); `refuse` — strings that make an event "Invalid data format" when its
text holds one (Splunk refuses an event for its content; cairn's documents are always valid
JSON, so a test names the one to refuse); `ack_after` — how many polls an ackId stays false;
`ack_never` — ackIds never become true.

Every event it indexes is written as one JSON line to `path`: the event object with the index,
sourcetype, host and source Splunk would give it.
"""
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class Token:
    def __init__(self, value, indexes=("main",), default_index="main", ack=False, disabled=False):
        self.value, self.indexes, self.default_index = value, set(indexes), default_index
        self.ack, self.disabled = ack, disabled


class HEC:
    def __init__(self, path, tokens, max_content_length=800 * 1024 * 1024):
        self.path = path
        self.tokens = {t.value: t for t in tokens}
        self.max_content_length = max_content_length
        self.busy = []            # [(status, retry_after or None)], consumed one per request
        self.refuse = set()
        self.ack_after = 1
        self.ack_never = False
        self.requests = 0         # event requests received
        self.busy_answered = 0
        self.ack_polls = 0
        self.lock = threading.Lock()
        self.channels = {}        # channel → {"next": int, "pending": {id: polls left}}
        self.out = open(path, "a", encoding="utf-8")
        hec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                hec.handle(self)

            def do_GET(self):
                if urlparse(self.path).path == "/services/collector/health":
                    return hec.answer(self, 200, {"text": "HEC is healthy", "code": 17})
                hec.answer(self, 404, {"text": "The requested URL was not found on this server.", "code": 404})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.out.close()

    # --- the protocol ---
    @staticmethod
    def answer(h, status, obj, headers=()):
        body = json.dumps(obj).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=UTF-8")
        h.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def handle(self, h):
        url = urlparse(h.path)
        n = int(h.headers.get("Content-Length") or 0)
        if n > self.max_content_length:
            h.rfile.read(n)
            return self.answer(h, 413, {"text": "Content-Length of %d too large (maximum is %d)"
                                        % (n, self.max_content_length), "code": 413})
        body = h.rfile.read(n)
        if url.path not in ("/services/collector", "/services/collector/event",
                            "/services/collector/event/1.0", "/services/collector/ack"):
            return self.answer(h, 404, {"text": "The requested URL was not found on this server.", "code": 404})
        with self.lock:
            if url.path != "/services/collector/ack":
                self.requests += 1
            if self.busy:
                status, retry_after = self.busy.pop(0)
                self.busy_answered += 1
                hdr = [("Retry-After", str(retry_after))] if retry_after is not None else []
                text = "Server is busy" if status == 503 else "Too Many Requests"
                return self.answer(h, status, {"text": text, "code": 9}, hdr)
        auth = h.headers.get("Authorization")
        if auth is None:
            return self.answer(h, 401, {"text": "Token is required", "code": 2})
        m = re.fullmatch(r"Splunk (\S+)", auth)
        if not m:
            return self.answer(h, 401, {"text": "Invalid authorization", "code": 3})
        token = self.tokens.get(m.group(1))
        if token is None:
            return self.answer(h, 403, {"text": "Invalid token", "code": 4})
        if token.disabled:
            return self.answer(h, 403, {"text": "Token disabled", "code": 1})
        channel = h.headers.get("X-Splunk-Request-Channel") or parse_qs(url.query).get("channel", [None])[0]
        if url.path == "/services/collector/ack":
            return self.ack(h, token, channel, body)
        if token.ack:
            if not channel:
                return self.answer(h, 400, {"text": "Data channel is missing", "code": 10})
            if not GUID.match(channel):
                return self.answer(h, 400, {"text": "Invalid data channel", "code": 11})
        return self.events(h, token, channel, body)

    def events(self, h, token, channel, body):
        text = body.decode("utf-8", errors="replace")
        dec = json.JSONDecoder()
        i, k, good, err = 0, 0, [], None
        while True:
            while i < len(text) and text[i] in " \t\r\n":
                i += 1
            if i == len(text):
                break
            try:
                ev, end = dec.raw_decode(text, i)
            except ValueError:
                err = (400, {"text": "Invalid data format", "code": 6, "invalid-event-number": k})
                break
            raw, i = text[i:end], end
            if not isinstance(ev, dict) or "event" not in ev:
                err = (400, {"text": "Event field is required", "code": 12, "invalid-event-number": k})
                break
            if ev["event"] in ("", None, {}):
                err = (400, {"text": "Event field cannot be blank", "code": 13, "invalid-event-number": k})
                break
            if any(s in raw for s in self.refuse):
                err = (400, {"text": "Invalid data format", "code": 6, "invalid-event-number": k})
                break
            t = ev.get("time")
            if t is not None:
                try:
                    float(t)
                except (TypeError, ValueError):
                    err = (400, {"text": "Invalid data format", "code": 6, "invalid-event-number": k})
                    break
            index = ev.get("index") or token.default_index
            if index not in token.indexes:
                err = (400, {"text": "Incorrect index", "code": 7, "invalid-event-number": k})
                break
            good.append(dict(ev, index=index, sourcetype=ev.get("sourcetype") or "httpevent",
                             source=ev.get("source") or "http:cairn", host=ev.get("host") or "127.0.0.1"))
            k += 1
        if not good and err is None:
            return self.answer(h, 400, {"text": "No data", "code": 5})
        with self.lock:
            # Splunk indexes the events before a bad one.
            for ev in good:
                self.out.write(json.dumps(ev) + "\n")
            self.out.flush()
            if err:
                return self.answer(h, *err)
            if not token.ack:
                return self.answer(h, 200, {"text": "Success", "code": 0})
            ch = self.channels.setdefault(channel, {"next": 0, "pending": {}})
            ack_id = ch["next"]
            ch["next"] += 1
            ch["pending"][ack_id] = self.ack_after
        return self.answer(h, 200, {"text": "Success", "code": 0, "ackId": ack_id})

    def ack(self, h, token, channel, body):
        if not token.ack:
            return self.answer(h, 400, {"text": "ACK is disabled", "code": 14})
        if not channel:
            return self.answer(h, 400, {"text": "Data channel is missing", "code": 10})
        try:
            ids = json.loads(body)["acks"]
            assert isinstance(ids, list) and all(isinstance(x, int) for x in ids)
        except (ValueError, KeyError, TypeError, AssertionError):
            return self.answer(h, 400, {"text": "Invalid data format", "code": 6})
        with self.lock:
            self.ack_polls += 1
            pending = self.channels.get(channel, {"pending": {}})["pending"]
            res = {}
            for x in ids:
                if x in pending and not self.ack_never:
                    if pending[x] <= 0:
                        del pending[x]
                        res[str(x)] = True
                        continue
                    pending[x] -= 1
                res[str(x)] = False
        return self.answer(h, 200, {"acks": res})

    # --- reading what was indexed ---
    def indexed(self):
        with self.lock:
            self.out.flush()
            with open(self.path, encoding="utf-8") as f:
                return [json.loads(l) for l in f if l.strip()]
