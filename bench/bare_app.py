"""A bare Flask page: the baseline the benches compare Consult with on the same server.

    gunicorn -c python:consult.gunicorn_pages bench.bare_app:app

One route that returns a short string: no template, no database, no session. What it costs
is what any Flask request costs on this machine at this moment under the same gunicorn
configuration, so a ratio to it survives a noisy, shared machine where absolute times drift.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def page() -> str:
    return "A bare Flask page."
