"""Static files' URLs carry a hash of their content: `/static/css/consult.css?v=3f2a1b9c0d4e`.

Every `url_for("static", filename=...)` gets `v`, the first 12 hex digits of the file's
SHA-256, so a changed file has a new URL. A reverse proxy may then let browsers keep a
`?v=` URL for a year without asking again (deploy/nginx/consult.conf serves those with
`Cache-Control: public, max-age=31536000, immutable`, and the rest with `no-cache`).

A hash is computed once per file and kept while the file's size and modification time stay
the same (one stat per URL built). URLs of files that do not exist get no `v`.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from flask import Flask
from werkzeug.security import safe_join

HASH_LENGTH = 12  # hex digits: 48 bits, plenty to tell one release's file from another's


def content_hash(path: str) -> str:
    """The first HASH_LENGTH hex digits of the SHA-256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()[:HASH_LENGTH]


class StaticHashes:
    """The content hashes of one folder's files, by file name, kept while each file's size and
    modification time stay the same."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[tuple[int, int], str]] = {}

    def for_file(self, folder: str, filename: str) -> str | None:
        """The hash of folder/filename, or None if there is no such file."""
        path = safe_join(folder, filename)
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        if not os.path.isfile(path):
            return None
        stamp = (stat.st_size, stat.st_mtime_ns)
        known = self._known.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        digest = content_hash(path)
        self._known[path] = (stamp, digest)
        return digest


def register(app: Flask) -> None:
    """Add `v=<content hash>` to every URL of the app's static files."""
    hashes = StaticHashes()

    @app.url_defaults
    def _hashed_static_url(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or "v" in values or app.static_folder is None:
            return
        filename = values.get("filename")
        if not isinstance(filename, str):
            return
        digest = hashes.for_file(app.static_folder, filename)
        if digest is not None:
            values["v"] = digest
