"""Static files' URLs carry a hash of their content (consult/assets.py), so a reverse proxy can
let browsers keep them for a year: a changed file has a new URL."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from flask import url_for

from tests.html import select

STATIC = Path(__file__).resolve().parents[1] / "static"


def sha256_12(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_a_static_url_names_the_hash_of_the_files_content(app):
    with app.test_request_context():
        url = url_for("static", filename="css/consult.css")
    assert url == f"/static/css/consult.css?v={sha256_12(STATIC / 'css/consult.css')}"


def test_every_stylesheet_and_script_of_a_page_is_linked_by_its_hash(client):
    page = client.get("/sign-in")
    links = [e["href"] for e in select(page, "link[rel=stylesheet], link[rel=icon]")]
    links += [e["src"] for e in select(page, "script[src]")]
    assert len(links) >= 4
    for link in links:
        parts = urlsplit(link)
        assert parts.path.startswith("/static/"), link
        assert parse_qs(parts.query) == {"v": [sha256_12(STATIC / parts.path[8:])]}, link
        served = client.get(link)  # the app serves it too (without a proxy in front)
        assert served.status_code == 200
        assert served.data == (STATIC / parts.path[8:]).read_bytes()
        served.close()


def test_a_changed_file_gets_a_new_url_and_a_missing_one_no_hash(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    style = tmp_path / "site.css"
    style.write_text("body { color: black; }")
    with app.test_request_context():
        before = url_for("static", filename="site.css")
        assert url_for("static", filename="site.css") == before  # kept while unchanged

        stat = style.stat()
        style.write_text("body { color: navy; }")
        # Even a change within the same tick of the clock is seen (the size differs).
        os.utime(style, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        after = url_for("static", filename="site.css")

        first = hashlib.sha256(b"body { color: black; }").hexdigest()[:12]
        assert before == f"/static/site.css?v={first}"
        assert after == f"/static/site.css?v={sha256_12(style)}"
        assert after != before

        assert url_for("static", filename="missing.css") == "/static/missing.css"
        assert url_for("static", filename="../secret.txt") == "/static/../secret.txt"
