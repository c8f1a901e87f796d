"""The first thing a user does: import a list, make a key, ask for it over HTTP."""
from conftest import error_of


def test_import_then_list(cairn):
    out = cairn.import_text("203.0.113.7\nevil[.]example\n# a comment\n", "--feed", "smoke").stdout
    assert "read 2, new 2, updated 0, rejected 0, skipped 1" in out
    key = cairn.key("pro")
    cairn.start()
    r = cairn.get("/api/v1/iocs?type=ipv4&limit=100", key)
    assert r.status_code == 200
    body = r.json()
    assert [i["value"] for i in body["data"]] == ["203.0.113.7"]
    assert body["meta"]["total"] == 1
    assert body["data"][0]["source"]["feed_name"] == "smoke"
    error_of(cairn.get("/api/v1/iocs"), 401, "missing_api_key")
