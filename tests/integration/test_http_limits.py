"""HTTP hygiene that needs its own server settings: the write timeout."""
import socket
import time

import pytest

CONFIG = """
access_log: ""
limits:
  write_timeout: 2
tiers:
  pro: {requests_per_minute: 100000}
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from conftest import Cairn
    c = Cairn(tmp_path_factory.mktemp("wt"), CONFIG)
    c.import_text("".join(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}\n" for i in range(6000)),
                  "--feed", "bulk", name="bulk.txt")
    c.pro = c.key("pro")
    c.start()
    yield c
    assert c.stop() == 0


def test_client_that_stops_reading_is_cut_and_others_are_served(srv):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", srv.port))
    s.sendall(f"GET /api/v1/iocs?limit=6000 HTTP/1.1\r\nHost: x\r\n"
              f"Authorization: Bearer {srv.pro}\r\n\r\n".encode())
    # The answer (about 5 MB) cannot fit in the socket buffers while we read nothing.
    time.sleep(0.5)
    # The server still answers everyone else meanwhile.
    assert srv.get("/api/v1/iocs?limit=1", srv.pro).status_code == 200
    time.sleep(4)  # past write_timeout (2 s) and the once-a-second sweep
    # Now drain: the connection must end (EOF or reset) well before the whole body arrived.
    s.settimeout(10)
    got = 0
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += len(b)
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    assert got < 4_000_000, f"the stalled response was sent whole ({got} bytes)"
    assert srv.get("/healthz").status_code == 200
