"""The trigram index is filled in the background; search is complete before and after."""
import sqlite3
import time


def test_background_indexing_catches_up_and_search_finds_both_ways(cairn):
    values = [f"node{i}.indexme.example" for i in range(3000)]
    cairn.import_text("\n".join(values) + "\n", "--feed", "idx", name="idx.txt")
    key = cairn.key("pro")
    # Imports leave the index to the server: nothing indexed yet.
    with sqlite3.connect(cairn.db) as db:
        assert db.execute("SELECT v FROM meta WHERE k = 'fts_rid'").fetchone()[0] == 0
    cairn.start()
    # Found at once (the unindexed tail is scanned)...
    r = cairn.get("/api/v1/iocs/search?q=node2999.indexme", key).json()["data"]
    assert [m["value"] for m in r["matches"]] == ["node2999.indexme.example"]
    # ...and the background thread indexes every record within seconds.
    deadline = time.time() + 30
    while True:
        with sqlite3.connect(cairn.db, timeout=10) as db:
            mark = db.execute("SELECT v FROM meta WHERE k = 'fts_rid'").fetchone()[0]
            top = db.execute("SELECT max(rid) FROM iocs").fetchone()[0]
        if mark == top:
            break
        assert time.time() < deadline, f"index stuck at {mark} of {top}"
        time.sleep(0.2)
    r = cairn.get("/api/v1/iocs/search?q=node1234.indexme", key).json()["data"]
    assert [m["value"] for m in r["matches"]] == ["node1234.indexme.example"]
    assert r["match_type"] == "trigram"
    # New records after the catch-up are found too.
    cairn.post("/api/v1/iocs", cairn.key("admin"), json={"value": "fresh.indexme.example"})
    r = cairn.get("/api/v1/iocs/search?q=fresh.indexme", key).json()["data"]
    assert [m["value"] for m in r["matches"]] == ["fresh.indexme.example"]
