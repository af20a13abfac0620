"""How long `flask consult prune-live-events` takes on a large live_event table, and the plans
of the statements it runs (issue 12).

    .venv/bin/python bench/live_retention.py [--events 1000000] [--old 0.5] [--database-url URL]

Fills a scratch database (a temporary SQLite file by default; with --database-url, a
PostgreSQL database whose tables the bench creates and drops) with `--events` live events of
one ask, one a minute or so, the oldest `--old` of them older than the retention, in bounded
batches. Then runs the command as cron would, and prints how many it deleted, how long it
took, how many statements it ran, the longest batch, and the plan of each kind of statement
(SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consult import create_app  # noqa: E402
from consult.extensions import db  # noqa: E402
from consult.models import LiveEvent, utcnow  # noqa: E402

BATCH = 20_000
RETENTION_HOURS = 48


def fill(events: int, old: float) -> None:
    """`events` live events, oldest first; the first `old` share older than the retention."""
    from tests import factories

    ask = factories.ask(factories.consultation())
    db.session.commit()
    now = utcnow()
    cutoff = now - timedelta(hours=RETENTION_HOURS)
    old_count = int(events * old)
    done = 0
    while done < events:
        rows = []
        for n in range(done, min(done + BATCH, events)):
            if n < old_count:  # spread over the week before the cutoff
                made = cutoff - timedelta(days=7) * (old_count - n) / old_count
            else:  # spread over the retention
                made = cutoff + timedelta(hours=RETENTION_HOURS) * (n - old_count + 1) / (
                    events - old_count + 1
                )
            rows.append(
                {"ask_id": ask.id, "name": "comment-added", "object_id": n, "created_at": made}
            )
        db.session.execute(insert(LiveEvent), rows)
        db.session.commit()
        done += len(rows)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE live_event")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--old", type=float, default=0.5)
    parser.add_argument(
        "--database-url",
        default=None,
        help="a scratch database whose tables the bench creates and drops "
        "(default: a temporary SQLite file)",
    )
    args = parser.parse_args()
    if not 0 < args.events <= 5_000_000 or not 0 <= args.old <= 1:
        parser.error("--events at most 5,000,000; --old between 0 and 1")

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "MAIL_OUTBOX": str(Path(folder) / "outbox"),
                "LIVE_EVENT_RETENTION_HOURS": RETENTION_HOURS,
            }
        )
        backend = url.split(":")[0]
        print(
            f"database: {backend}, live events: {args.events:,}, older than the retention: "
            f"{int(args.events * args.old):,}"
        )
        with app.app_context():
            db.create_all()
            try:
                started = time.perf_counter()
                fill(args.events, args.old)
                print(f"filled in {time.perf_counter() - started:.0f} s")
                seen: list[tuple[str, Any]] = []
                batch_times: list[float] = []
                last = [time.perf_counter()]

                def statement(conn, cursor, text, parameters, context, executemany) -> None:
                    seen.append((text, parameters))

                def commit(conn) -> None:
                    now = time.perf_counter()
                    batch_times.append(now - last[0])
                    last[0] = now

                event.listen(db.engine, "before_cursor_execute", statement)
                event.listen(db.engine, "commit", commit)
                started = last[0] = time.perf_counter()
                result = app.test_cli_runner().invoke(args=["consult", "prune-live-events"])
                took = time.perf_counter() - started
                event.remove(db.engine, "before_cursor_execute", statement)
                event.remove(db.engine, "commit", commit)
                assert result.exit_code == 0, result.output
                left = db.session.scalar(select(func.count()).select_from(LiveEvent))
                print(result.output.strip())
                print(
                    f"took {took:.2f} s in {len(batch_times)} transactions, the longest "
                    f"{max(batch_times) * 1000:.0f} ms; {len(seen)} statements; {left:,} left"
                )
                kinds: dict[str, tuple[str, Any]] = {}
                for text, parameters in seen:
                    kinds.setdefault(" ".join(text.split())[:60], (text, parameters))
                postgres = db.engine.dialect.name == "postgresql"
                with db.engine.connect() as conn:
                    for text, parameters in kinds.values():
                        if "live_event" not in text:
                            continue
                        print("  " + " ".join(text.split()))
                        prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
                        for row in conn.exec_driver_sql(prefix + text, parameters):
                            print("    " + (row[0] if postgres else f"{row[3]}"))
            finally:
                db.session.remove()
                if args.database_url:
                    db.drop_all()  # a scratch database: the bench made these tables
                db.engine.dispose()


if __name__ == "__main__":
    main()
