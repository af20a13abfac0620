"""How the ask page scales with its comments: SQL statements and median render time.

Seeds one ask with 10, 1,000 and 10,000 comments (a mix of paragraph and whole-ask comments,
a third of them replies) and renders the page as a member through the test client.

    .venv/bin/python bench/ask_page.py [--counts 10 1000 10000] [--runs 15] [--database-url URL]

Prints one row per count: the median wall time, and the median CPU time of this process (less
disturbed by other work on a shared machine; SQLite runs in the process too), with a bare
Flask page's median time from the same run and the ratio. The number of statements must not
grow with the comments.

The last columns are the same page with its discussion left out (the view is given no
discussion, as for an ask with no version yet): what the rest of the page costs (the layout,
the wording and its margins, positions, amendments, the visit), and the bare page's time as
a share of it: the best ratio to bare Flask that work on the discussion alone could reach.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from unittest import mock

from sqlalchemy import event, insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consult import create_app  # noqa: E402
from consult.asks import pages  # noqa: E402
from consult.extensions import db  # noqa: E402
from consult.models import Comment, Role, utcnow  # noqa: E402
from consult.text import paragraphs  # noqa: E402

WORDING = "\n\n".join(
    f"Paragraph {n} of the draft: councils need long-term funding to act on climate."
    for n in range(1, 7)
)


def seed(count: int):
    """An open consultation, one ask, three organisations and `count` comments on it."""
    from tests import factories

    org = factories.organisation(name=f"Org {uuid.uuid4().hex[:6]}")
    members = [factories.user(Role.MEMBER, factories.organisation()) for _ in range(5)]
    reader = factories.user(Role.MEMBER, org)
    ask = factories.ask(versions=(WORDING,))
    version = ask.current_version
    anchors = [p.anchor for p in paragraphs(version.body)]
    db.session.commit()
    now = utcnow()
    rows, top_ids = [], []
    for n in range(count):
        author = members[n % len(members)]
        body = f"Comment {n}: *we support* this, with [a source](https://example.org/{n})."
        rows.append(
            {
                "ask_id": ask.id,
                "version_id": version.id,
                "paragraph_anchor": anchors[n % len(anchors)] if n % 4 else None,
                "author_id": author.id,
                "organisation_id": author.organisation_id,
                "body": body,
                # A bulk insert bypasses the attribute events that render a comment's HTML.
                **Comment.rendered(body),
                "state": "visible",
                "created_at": now,
            }
        )
    # Two thirds top-level, then a third as replies to them.
    top = rows[: max(1, count * 2 // 3)]
    db.session.execute(insert(Comment), top)
    db.session.commit()
    top_ids = list(db.session.scalars(db.select(Comment.id).where(Comment.ask_id == ask.id)))
    replies = rows[len(top) :]
    for i, row in enumerate(replies):
        parent = db.session.get(Comment, top_ids[i % len(top_ids)])
        row.update(parent_id=parent.id, paragraph_anchor=parent.paragraph_anchor)
    if replies:
        db.session.execute(insert(Comment), replies)
    db.session.commit()
    return ask.id, reader.session_token


def measure(
    app, ask_id: int, token: str, runs: int, comments: int
) -> tuple[int, float, float, int]:
    """The page's statements, median wall time (ms), median CPU time of this process (ms:
    less disturbed by other work on a shared machine; SQLite runs in it too) and size."""
    from consult.auth.sessions import SEEN_AT, SIGNED_IN_AT

    client = app.test_client()
    with client.session_transaction() as session:
        # What signing in stores, times included: a session without them is not signed in,
        # and the page would be a redirect to the sign-in page.
        now = int(time.time())
        session.update({"_user_id": token, "_fresh": True, SIGNED_IN_AT: now, SEEN_AT: now})
    statements = 0

    def count(*_args, **_kwargs):
        nonlocal statements
        statements += 1

    response = client.get(f"/asks/{ask_id}")  # warm the template cache
    assert response.status_code == 200, response.status_code
    assert comments == 0 or b"<em>we support</em>" in response.data, "no comment on the page"
    size = len(response.data)
    times, cpu = [], []
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for _ in range(runs):
            statements = 0
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(f"/asks/{ask_id}")
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            assert response.status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return statements, statistics.median(times) * 1000, statistics.median(cpu) * 1000, size


def bare_page_ms(app, runs: int) -> float:
    """The median time of a bare Flask page (a string, no template, no database) served by
    the same app and test client: the baseline the ask page is compared with, as this
    machine is shared and absolute times drift."""
    client = app.test_client()
    client.get("/__bench_bare")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get("/__bench_bare")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10, 1000, 10000])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--database-url",
        default=None,
        help="a scratch database whose tables the bench creates and drops "
        "(default: a temporary SQLite file)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "MAIL_OUTBOX": str(Path(folder) / "outbox"),
                "RATELIMIT_ENABLED": False,
                "ARGON2_TIME_COST": 1,
                "ARGON2_MEMORY_COST": 1024,
            }
        )
        app.add_url_rule("/__bench_bare", "bench_bare", lambda: "bare")
        print(
            f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, runs per count: {args.runs}"
        )
        print(
            f"{'comments':>9} {'statements':>11} {'median ms':>10} {'cpu ms':>7} "
            f"{'bare ms':>8} {'ratio':>7} {'page KiB':>9} {'no discussion ms':>17} "
            f"{'bare/that':>10}"
        )
        with app.app_context():
            db.create_all()
            for count in args.counts:
                ask_id, token = seed(count)
                statements, median, cpu, size = measure(app, ask_id, token, args.runs, count)
                with mock.patch.object(pages, "discussion", lambda *_args, **_kwargs: None):
                    _, rest, _, _ = measure(app, ask_id, token, args.runs, 0)
                bare = bare_page_ms(app, args.runs)
                print(
                    f"{count:>9} {statements:>11} {median:>10.1f} {cpu:>7.1f} {bare:>8.2f} "
                    f"{median / bare:>7.0f} {size / 1024:>9.1f} {rest:>17.1f} "
                    f"{bare / rest:>10.3f}",
                    flush=True,
                )
            db.session.remove()
            if args.database_url:
                db.drop_all()  # a scratch database: the bench made these tables
            db.engine.dispose()


if __name__ == "__main__":
    main()
