"""Issue 11, reliability: a worker killed during 200 writes.

Consult runs under its production gunicorn configuration (two gevent workers) on a SQLite
database of this test's own. 200 comments are posted, a few at a time, by four people of
four organisations; midway, a worker is killed in the middle of a write transaction
(SIGKILL, while it holds SQLite's write lock: no clean-up of any kind), and the master
starts another. Afterwards SQLite's integrity checks pass and every write is all or
nothing: each comment has its ask, author, organisation and version, its search document,
its audit event and its live event, and nothing refers to a comment that is not there.
Every comment whose form was answered 303 is stored, with its text.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPException
from pathlib import Path

from consult.extensions import db
from consult.models import Role
from tests import factories
from tests.helpers import make_app
from tests.live.helpers import (
    comment_id,
    free_port,
    send_comment,
    signed_in,
    start_server,
    stop,
    wait_for_port,
    wait_until,
    worker_pids,
)

SECRET_KEY = "worker-killed-test-secret-key"
WORKERS = 2
POSTS = 200
THREADS = 8
KILL_AFTER = POSTS // 2  # answers received when a worker is killed


def _post(port: int, ask_id: int, author: tuple[str, str], n: int) -> tuple[int | None, int | None]:
    """Post comment n; returns the status (None: no answer) and the new comment's id."""
    try:
        status, headers, _ = send_comment(port, ask_id, *author, _body(n), timeout=30)
    except (OSError, HTTPException):  # the worker died with the request
        return None, None
    return status, comment_id(headers.get("Location")) if status == 303 else None


def _body(n: int) -> str:
    return f"Comment {n} of the load."


def _writing(database: Path, workers: set[int]) -> int | None:
    """The worker in the middle of a write transaction now, if any: the one holding SQLite's
    write lock, which in WAL mode is a POSIX lock on byte 120 of the -shm file (/proc/locks
    lines read "1: POSIX  ADVISORY  WRITE <pid> <major>:<minor>:<inode> 120 120")."""
    try:
        inode = os.stat(f"{database}-shm").st_ino
        locks = Path("/proc/locks").read_text()
    except OSError:
        return None
    for line in locks.splitlines():
        fields = line.split()
        if fields[1:4] == ["POSIX", "ADVISORY", "WRITE"] and fields[6:8] == ["120", "120"]:
            if fields[5].rsplit(":", 1)[-1] == str(inode) and int(fields[4]) in workers:
                return int(fields[4])
    return None


def _rows(connection: sqlite3.Connection, sql: str) -> list[tuple]:
    return connection.execute(sql).fetchall()


def test_a_worker_killed_during_200_writes_leaves_every_write_whole(tmp_path):
    path = tmp_path / "consult.sqlite3"
    database_url = f"sqlite:///{path}"
    app = make_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "ARGON2_TIME_COST": 1,  # the people's passwords are hashed quickly
            "ARGON2_MEMORY_COST": 1024,
        }
    )
    with app.app_context():
        db.create_all()
        ask = factories.ask(factories.consultation())
        authors = [factories.user(Role.MEMBER) for _ in range(4)]
        db.session.commit()
        ask_id = ask.id
        sessions = [signed_in(app, author) for author in authors]
        db.session.remove()
        db.engine.dispose()

    port = free_port()
    log: Path = tmp_path / "gunicorn.log"
    server = start_server(
        port, database_url, "unused:", SECRET_KEY, log, redis=False, workers=WORKERS
    )
    answers: dict[int, tuple[int | None, int | None]] = {}
    killed: list[tuple[int, int]] = []  # (worker, answers received by then)
    done = threading.Event()

    def kill_a_writer() -> None:
        """Midway, kill the worker that is in the middle of a write transaction."""
        if not wait_until(lambda: len(answers) >= KILL_AFTER or done.is_set(), 60):
            return
        workers = worker_pids(server)
        deadline = time.monotonic() + 10
        while not done.is_set() and time.monotonic() < deadline:
            writer = _writing(path, workers)
            if writer is not None:
                os.kill(writer, signal.SIGKILL)  # a worker this test's server started
                killed.append((writer, len(answers)))
                return
            time.sleep(0.0005)

    def post(n: int) -> None:
        author = sessions[n % len(sessions)]
        answers[n] = _post(port, ask_id, author, n)

    killer = threading.Thread(target=kill_a_writer, daemon=True)
    try:
        wait_for_port(port, 30, server)
        assert wait_until(lambda: len(worker_pids(server)) == WORKERS, 10)
        killer.start()
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(post, range(POSTS), timeout=120))
        done.set()
        killer.join(5)
        # A worker was killed while writing; the master replaced it, and Consult still serves.
        [(worker, _)] = killed
        assert wait_until(lambda: len(worker_pids(server)) == WORKERS, 30)
        assert worker not in worker_pids(server)
        assert _post(port, ask_id, sessions[0], POSTS)[0] == 303
    except BaseException:
        sys.stderr.write(log.read_text(errors="replace"))
        raise
    finally:
        done.set()
        stop(server)

    # Only the requests in flight on the killed worker could go unanswered.
    assert killed[0][1] < POSTS, killed
    statuses = [status for status, _ in answers.values()]
    assert set(statuses) <= {303, 503, None}, statuses
    assert statuses.count(None) <= THREADS, statuses
    assert statuses.count(303) >= POSTS // 2, statuses
    posted = {cid: _body(n) for n, (status, cid) in answers.items() if status == 303}

    connection = sqlite3.connect(path)
    try:
        assert _rows(connection, "PRAGMA integrity_check") == [("ok",)]
        assert _rows(connection, "PRAGMA foreign_key_check") == []
        # The full-text index agrees with the search documents (raises if not).
        connection.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
        comments = dict(_rows(connection, "SELECT id, body FROM comment"))
        # Every comment answered 303 is there, with its text; none is stored twice.
        assert {cid: comments.get(cid) for cid in posted} == posted
        bodies = list(comments.values())
        assert len(bodies) == len(set(bodies))
        assert set(bodies) <= {_body(n) for n in range(POSTS + 1)}
        # Every comment has what it refers to...
        for table, column in (
            ("ask", "ask_id"),
            ("user_account", "author_id"),
            ("organisation", "organisation_id"),
            ("draft_version", "version_id"),
        ):
            assert (
                _rows(
                    connection,
                    f"SELECT c.id FROM comment c LEFT JOIN {table} t ON t.id = c.{column} "
                    "WHERE t.id IS NULL",
                )
                == []
            ), table
        # ... and what was written with it, once; nothing refers to a comment not there.
        for what, sql in {
            "search document": "SELECT object_id FROM search_document WHERE kind = 'comment'",
            "audit event": "SELECT object_id FROM audit_event WHERE object_type = 'comment' "
            "AND action = 'comment.create'",
            "live event": "SELECT object_id FROM live_event WHERE name = 'comment-added'",
        }.items():
            ids = [row[0] for row in _rows(connection, sql)]
            assert sorted(ids) == sorted(comments), what
        orphans = _rows(
            connection,
            "SELECT 'audit', object_id FROM audit_event WHERE object_type = 'comment' "
            "AND object_id NOT IN (SELECT id FROM comment) "
            "UNION ALL SELECT 'search', object_id FROM search_document WHERE kind = 'comment' "
            "AND object_id NOT IN (SELECT id FROM comment) "
            "UNION ALL SELECT 'live', object_id FROM live_event WHERE name LIKE 'comment-%' "
            "AND object_id NOT IN (SELECT id FROM comment)",
        )
        assert orphans == []
    finally:
        connection.close()
