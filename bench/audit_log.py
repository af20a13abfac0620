"""How the audit log pages hold up with a million events: median time, ratio to a bare Flask
page in the same run, and SQL statements for each page (issue 12).

    .venv/bin/python bench/audit_log.py [--events 1000000] [--runs 11] [--database-url URL]
                                        [--explain]

Fills a scratch database (a temporary SQLite file by default; with --database-url, a
PostgreSQL database whose tables the bench creates and drops) with 50 organisations, 500
people and `--events` audit events over three years, spread over the actions Consult records
(each on its own kind of object, sign-ins the most common), inserted in bounded batches. Then
gets each page below as the secretariat through the test client, beside a bare Flask page on
the same app: the first page, filtered pages (a common action, a rare action, an object type,
one person's events, sign-ins hidden, a date range), the 20th page (reached by following the
next link), a page from the middle of the log, and the pages of two people (their recent events):
a member, and one of the secretariat, who did a fifth of everything. With --explain, prints the plan of every
statement each page ran against audit_event (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's
EXPLAIN).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from sqlalchemy import event, insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consult import create_app  # noqa: E402
from consult.admin.sentences import described_actions  # noqa: E402
from consult.extensions import db  # noqa: E402
from consult.models import AuditEvent, Organisation, OrganisationKind, Role, User  # noqa: E402

BATCH = 10_000
PEOPLE = 500
ORGANISATIONS = 50
PER_PAGE = 50
YEARS = 3

# How often each action happens, relative to the others (any action not named: 1).
WEIGHTS = {
    "user.sign_in": 300,
    "user.sign_out": 120,
    "comment.create": 150,
    "comment.reply": 80,
    "comment.edit": 40,
    "draft.save": 50,
    "ask.update": 20,
    "position.set": 30,
    "amendment.propose": 15,
    "amendment.back": 20,
    "user.request_password_reset": 10,
    "version.publish": 10,
    "comment.report": 5,
    "email.retry": 3,
    "organisation.deactivate": 0.05,
    "user.erase": 0.05,
    "demo.load": 0.01,
}
COMMON_ACTION = "comment.create"
RARE_ACTION = "organisation.deactivate"


def fill(events: int, seed: int = 12) -> dict[str, Any]:
    """People, organisations and `events` audit events, oldest first, in batches."""
    generator = random.Random(seed)
    db.session.execute(
        insert(Organisation),
        [{"name": f"Organisation {n}", "kind": OrganisationKind.NGO} for n in range(ORGANISATIONS)],
    )
    org_ids = list(db.session.scalars(db.select(Organisation.id).order_by(Organisation.id)))
    db.session.execute(
        insert(User),
        [
            {
                "email": f"person{n}@org{n % ORGANISATIONS}.example",
                "name": f"Person {n}",
                "organisation_id": org_ids[n % ORGANISATIONS],
                "role": Role.SECRETARIAT if n < 5 else Role.MEMBER,
                "password_hash": "not-a-hash",  # accepted their invitation; never checked
            }
            for n in range(PEOPLE)
        ],
    )
    db.session.commit()
    user_ids = list(db.session.scalars(db.select(User.id).order_by(User.id)))
    secretariat = db.session.get(User, user_ids[0])
    assert secretariat is not None
    # A few people do most things (the secretariat, a handful of busy members).
    actor_weights = [50.0 if n < 5 else 1.0 / (1 + n % 50) for n in range(PEOPLE)]

    actions = described_actions()
    names = sorted(actions)
    weights = [WEIGHTS.get(name, 1.0) for name in names]
    end = datetime.now(UTC) - timedelta(minutes=5)
    start = end - timedelta(days=365 * YEARS)
    step = (end - start) / events
    started = time.perf_counter()
    done = 0
    while done < events:
        count = min(BATCH, events - done)
        chosen = generator.choices(names, weights, k=count)
        actors = generator.choices(user_ids, actor_weights, k=count)
        rows = []
        for offset, (action, actor) in enumerate(zip(chosen, actors, strict=True)):
            n = done + offset
            table = actions[action][0]
            if table == "user_account":
                object_id = actor if action.startswith("user.sign") else generator.choice(user_ids)
            elif table == "organisation":
                object_id = generator.choice(org_ids)
            else:
                object_id = generator.randint(1, 50_000)
            changed = action.endswith((".update", ".edit", ".set", ".change_role"))
            rows.append(
                {
                    "created_at": start + step * n,
                    "actor_id": None if action == "user.request_password_reset" else actor,
                    "action": action,
                    "object_type": table,
                    "object_id": object_id,
                    "before": {"name": f"Old {n % 97}"} if changed else None,
                    "after": {"name": f"New {n % 89}"} if changed else None,
                    "ip_address": f"198.51.100.{n % 250}",
                }
            )
        db.session.execute(insert(AuditEvent), rows)
        db.session.commit()
        done += count
        if done % 100_000 == 0 or done == events:
            print(
                f"  {done:>9,} events inserted, {time.perf_counter() - started:.0f} s",
                flush=True,
            )
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE audit_event")
            conn.exec_driver_sql("ANALYZE user_account")
    middle = start + (end - start) / 2
    return {
        "secretariat": secretariat,
        "busy_actor": f"person7@org{7 % ORGANISATIONS}.example",
        "person_id": user_ids[7],
        "busy_person_id": user_ids[1],
        "date_from": middle.date().isoformat(),
        "date_to": (middle + timedelta(days=30)).date().isoformat(),
        "events": events,
    }


class Statements:
    """The SQL statements run while a page is got (with their parameters, for EXPLAIN)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.seen.append((statement, parameters))


def median_ms(client, url: str, runs: int) -> tuple[float, int]:
    """The median time of a GET of url, and how many statements one GET ran."""
    response = client.get(url)  # warm the template cache
    assert response.status_code == 200, (url, response.status_code)
    statements = Statements()
    event.listen(db.engine, "before_cursor_execute", statements)
    try:
        client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", statements)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times) * 1000, len(statements.seen)


def explain(client, url: str) -> list[str]:
    """The plan of each statement against audit_event that a GET of url runs."""
    statements = Statements()
    event.listen(db.engine, "before_cursor_execute", statements)
    try:
        client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", statements)
    lines = []
    postgres = db.engine.dialect.name == "postgresql"
    with db.engine.connect() as conn:
        for statement, parameters in statements.seen:
            if "audit_event" not in statement:
                continue
            lines.append("  " + " ".join(statement.split())[:240])
            prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            result = conn.exec_driver_sql(prefix + statement, parameters)
            for row in result:
                lines.append("    " + (row[0] if postgres else f"{row[3]}"))
    return lines


def next_href(page: str) -> str | None:
    """The link to the next (older) page of events, if any."""
    found = re.search(
        r'class="govuk-pagination__next">\s*<a[^>]*href="([^"]+)"', page
    ) or re.search(r'<a[^>]*href="([^"]+)"[^>]*rel="next"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def page_at(client, position: int) -> str:
    """A URL of the page that starts about `position` events from the newest: the scheme is
    read from the first page's next link (a page number, or the event to go on from)."""
    first = client.get("/admin/audit").get_data(as_text=True)
    href = next_href(first)
    assert href, "the first page has no next link"
    parts = urlsplit(href)
    query = dict(parse_qsl(parts.query))
    if "page" in query:
        query["page"] = str(position // PER_PAGE + 1)
    else:
        newest = db.session.scalar(db.select(db.func.max(AuditEvent.id)))
        key = next(name for name in query if query[name].isdigit())
        query[key] = str(newest - position + 1)  # ids follow the times in this bench
    return f"{parts.path}?{urlencode(query)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument(
        "--database-url",
        default=None,
        help="a scratch database whose tables the bench creates and drops "
        "(default: a temporary SQLite file)",
    )
    parser.add_argument("--explain", action="store_true", help="print each page's plans")
    args = parser.parse_args()
    from tests.helpers import signed_in_session

    if not 0 < args.events <= 5_000_000 or not 0 < args.runs <= 101:
        parser.error("--events at most 5,000,000 and --runs at most 101")

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "MAIL_OUTBOX": str(Path(folder) / "outbox"),
                "RATELIMIT_ENABLED": False,
            }
        )
        app.add_url_rule("/__bench_bare", "bench_bare", lambda: "bare")
        backend = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
        print(f"database: {backend}, events: {args.events:,}, runs per page: {args.runs}")
        with app.app_context():
            db.create_all()
            try:
                facts = fill(args.events)
                client = app.test_client()
                with client.session_transaction() as session:
                    session.update(signed_in_session(facts["secretariat"]))
                later = "/admin/audit"
                for _ in range(19):
                    href = next_href(client.get(later).get_data(as_text=True))
                    assert href, "fewer than 20 pages"
                    later = href
                pages = [
                    ("first page", "/admin/audit"),
                    ("common action", f"/admin/audit?action={COMMON_ACTION}"),
                    ("rare action", f"/admin/audit?action={RARE_ACTION}"),
                    ("object type", "/admin/audit?object_type=organisation"),
                    ("one person", f"/admin/audit?actor={facts['busy_actor']}"),
                    ("sign-ins hidden", "/admin/audit?hide_sign_ins=y"),
                    (
                        "date range",
                        f"/admin/audit?date_from={facts['date_from']}&date_to={facts['date_to']}",
                    ),
                    ("20th page", later),
                    ("middle of the log", page_at(client, args.events // 2)),
                    ("person page", f"/admin/people/{facts['person_id']}"),
                    ("busy person page", f"/admin/people/{facts['busy_person_id']}"),
                ]
                bare_runs = max(args.runs, 51)
                bare_client = app.test_client()
                bare_client.get("/__bench_bare")
                bare_times = []
                for _ in range(bare_runs):
                    started = time.perf_counter()
                    bare_client.get("/__bench_bare")
                    bare_times.append(time.perf_counter() - started)
                bare = statistics.median(bare_times) * 1000
                print(f"bare Flask page: {bare:.2f} ms (median of {bare_runs})")
                print(f"{'page':<18} {'median ms':>10} {'x bare':>8} {'statements':>11}  url")
                for name, page_url in pages:
                    median, statements = median_ms(client, page_url, args.runs)
                    print(
                        f"{name:<18} {median:>10.1f} {median / bare:>8.0f} {statements:>11}  "
                        f"{page_url}",
                        flush=True,
                    )
                if args.explain:
                    for name, page_url in pages:
                        print(f"\n{name}: {page_url}")
                        print("\n".join(explain(client, page_url)))
            finally:
                db.session.remove()
                if args.database_url:
                    db.drop_all()  # a scratch database: the bench made these tables
                db.engine.dispose()


if __name__ == "__main__":
    main()
