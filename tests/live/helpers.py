"""Helpers for the tests that run real servers (live updates, several processes, outages): a
tiny SSE reader, free ports, Consult under gunicorn, signing in and posting over HTTP, and a
redis-server and a PostgreSQL server of a test's own, which the test may stop."""

from __future__ import annotations

import glob
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, session
from flask_wtf.csrf import generate_csrf

from tests.helpers import REDIS_URL, signed_in_session, unavailable

ROOT = Path(__file__).resolve().parents[2]


def cookie_for(app: Flask, user) -> dict[str, str]:
    """The Cookie header of `user` signed in on `app` (for requests made over a socket)."""
    value = app.session_interface.get_signing_serializer(app).dumps(signed_in_session(user))
    return {"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={value}"}


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.02) -> bool:
    """Poll until `predicate()` is true or `timeout` seconds pass; returns the last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Wait until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.pid} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass
class Event:
    id: int | None
    name: str
    data: dict


def parse_events(text: str) -> list[Event]:
    """The complete events in an SSE text (comments and retry lines skipped)."""
    events = []
    for block in text.split("\n\n")[:-1]:
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line.startswith(":") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key] = value[1:] if value.startswith(" ") else value
        if "event" in fields:
            events.append(
                Event(
                    int(fields["id"]) if "id" in fields else None,
                    fields["event"],
                    json.loads(fields["data"]),
                )
            )
    return events


class StreamReader:
    """Reads an event stream chunk by chunk from an iterator of bytes, keeping the text."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = iter(chunks)
        self.text = ""
        self.ended = False

    def read_until(self, predicate: Callable[[str], bool], timeout: float) -> str:
        """Read until predicate(text so far) holds; fail after `timeout` seconds.

        Each chunk must come within the stream's heartbeat interval, which bounds a read."""
        deadline = time.monotonic() + timeout
        while not predicate(self.text):
            if self.ended:
                raise AssertionError(f"the stream ended first:\n{self.text}")
            if time.monotonic() > deadline:
                raise AssertionError(f"not seen within {timeout} s:\n{self.text}")
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self.ended = True
                continue
            self.text += chunk.decode() if isinstance(chunk, bytes) else chunk
        return self.text

    def read_to_end(self, timeout: float) -> str:
        """Read until the stream ends by itself; fail after `timeout` seconds."""
        return self.read_until(lambda _: self.ended, timeout)

    @property
    def events(self) -> list[Event]:
        return parse_events(self.text)


class HTTPStream:
    """An SSE request over a real socket; read1() is bounded by the socket timeout."""

    def __init__(
        self,
        port: int,
        path: str,
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
        answer_timeout: float = 30.0,
    ) -> None:
        # A server's first answer may be slow on a busy machine (a worker still starting):
        # wait up to `answer_timeout` for the headers, then bound each read by `timeout`.
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=answer_timeout)
        try:
            self.connection.request(
                "GET", path, headers={"Accept": "text/event-stream", **(headers or {})}
            )
            sock = self.connection.sock
            self.response = self.connection.getresponse()
            if sock is not None:
                sock.settimeout(timeout)
        except BaseException:
            self.connection.close()  # no socket left for the garbage collector to warn about
            raise
        self.reader = StreamReader(self._chunks())

    def _chunks(self) -> Iterator[bytes]:
        while True:
            chunk = self.response.read1(65536)
            if not chunk:
                return
            yield chunk

    def close(self) -> None:
        """Close the socket (the response holds it open too)."""
        self.response.close()
        self.connection.close()


class RedisServer:
    """A redis-server of the test's own on a free port, which the test may kill (and start
    again on the same port)."""

    def __init__(self, tmp_path) -> None:
        self.executable = shutil.which("redis-server")
        if self.executable is None:
            unavailable("redis-server is not installed")
        self.directory = str(tmp_path)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(self.port, 10, self.proc)
        except Exception:
            self.kill()
            raise

    def kill(self) -> None:
        """Kill this redis-server by its PID (SIGKILL: no goodbye to its clients)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(timeout=10)


class PostgresServer:
    """A PostgreSQL server of the test's own (never the shared one): Debian's binaries
    (/usr/lib/postgresql/<version>/bin), a cluster made by initdb in a temporary folder, on a
    free port of 127.0.0.1 (no Unix socket), trust authentication for `postgres`. The test
    may stop it (a fast shutdown, as `pg_ctl stop -m fast`) and start it again on the same
    port. initdb and postgres refuse to run as root: as root they run as the `postgres`
    user. remove() stops it and deletes the folder.

    When the binaries are not installed the test skips, or under CI fails (`unavailable`),
    as when the shared PostgreSQL does not answer.
    """

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version_key)
        postgres = found[-1] if found else shutil.which("postgres")
        if postgres is None:
            unavailable(
                "PostgreSQL's server programs (initdb, postgres) are not installed "
                "(apt-get install postgresql)"
            )
        self.bin = Path(str(postgres)).parent
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                unavailable("running as root, and there is no postgres user to run PostgreSQL")
            self.user = "postgres"
        self.directory = Path(tempfile.mkdtemp(prefix="consult-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        try:
            if self.user is not None:
                shutil.chown(self.directory, self.user)
            subprocess.run(
                [
                    str(self.bin / "initdb"),
                    "--pgdata",
                    str(self.data),
                    "--username=postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                    "--no-instructions",
                ],
                user=self.user,
                check=True,
                capture_output=True,
                timeout=60,
            )
            self.start()
        except BaseException:
            self.remove()
            raise

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy's URL (psycopg 3) for a database of this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create a database; returns its SQLAlchemy URL."""
        import psycopg

        dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def start(self, timeout: float = 30) -> None:
        """Start the server and wait until it accepts connections."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    str(self.bin / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "unix_socket_directories=",
                    "-c",
                    "fsync=off",  # a throwaway cluster
                    "-c",
                    "max_connections=50",
                ],
                user=self.user,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if not wait_until(self.answers, timeout, interval=0.1):
            self.remove()
            raise TimeoutError(f"PostgreSQL did not start:\n{self.log.read_text()[-2000:]}")

    def answers(self) -> bool:
        """Whether the server accepts a connection now."""
        import psycopg

        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"postgres exited:\n{self.log.read_text()[-2000:]}")
        dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        try:
            with psycopg.connect(dsn, connect_timeout=2):
                return True
        except psycopg.Error:
            return False

    def stop(self, timeout: float = 30) -> None:
        """Fast shutdown (SIGINT to the postmaster, as `pg_ctl stop -m fast`): open
        transactions are rolled back and clients disconnected; returns once it has exited."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        self.proc = None

    def remove(self) -> None:
        """Stop the server (if it runs) and delete its folder."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def _version_key(path: str) -> tuple[int, ...]:
    """/usr/lib/postgresql/15/bin/postgres -> (15,): the newest version sorts last."""
    version = Path(path).parent.parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def stop(*procs: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate processes we started, all at once (then kill any that lingers)."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(extra)
    return env


def signed_in(app: Flask, user) -> tuple[str, str]:
    """The session cookie of `user` as signing in would have set it, and a CSRF token for it
    (both signed with the SECRET_KEY the server processes share)."""
    # A fresh application context: generate_csrf() caches the token in `g`.
    with app.app_context(), app.test_request_context():
        session.update(signed_in_session(user))
        token = generate_csrf()
        value = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    return f"{app.config['SESSION_COOKIE_NAME']}={value}", token


# Each gunicorn configuration's settings for its address and its number of workers.
POOL_SETTINGS = {
    "pages": ("GUNICORN_BIND", "WEB_CONCURRENCY"),
    "streams": ("GUNICORN_STREAMS_BIND", "GUNICORN_STREAMS_WORKERS"),
}


def start_server(
    port: int,
    database_url: str,
    prefix: str,
    secret_key: str,
    log: Path,
    *,
    redis: bool = True,
    workers: int = 1,
    env: dict[str, str] | None = None,
    pool: str = "streams",
) -> subprocess.Popen:
    """Consult under one of production's gunicorn configurations: by default the streams
    pool's (gevent workers; run alone, it serves pages too), or pool="pages" (sync workers);
    with Redis or (redis=False) with none; `env` adds or overrides environment variables."""
    bind, workers_setting = POOL_SETTINGS[pool]
    broker = {"REDIS_URL": REDIS_URL} if redis else {"LIVE_POLL_SECONDS": "0.2"}
    settings = {
        **broker,
        "DATABASE_URL": database_url,
        "LIVE_CHANNEL_PREFIX": prefix,
        "SECRET_KEY": secret_key,
        "CONSULT_ENV": "development",
        bind: f"127.0.0.1:{port}",
        workers_setting: str(workers),
        "LIVE_HEARTBEAT_SECONDS": "0.5",
        "LIVE_STREAM_SECONDS": "30",
        # Rate limits live in the shared Redis, where other test runs' people have our ids.
        "RATELIMIT_ENABLED": "false",
    }
    environment = subprocess_env(**{**settings, **(env or {})})
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", f"python:consult.gunicorn_{pool}", "wsgi:app"],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def worker_pids(master: subprocess.Popen) -> set[int]:
    """The process ids of a gunicorn master's workers (its child processes), from /proc."""
    children: set[int] = set()
    for task in glob.glob(f"/proc/{master.pid}/task/*/children"):
        try:
            children.update(int(pid) for pid in Path(task).read_text().split())
        except OSError:  # the thread ended meanwhile
            continue
    return children


def send_comment(
    port: int, ask_id: int, cookie: str, token: str, body: str, timeout: float = 30
) -> tuple[int, dict[str, str], str]:
    """POST the ask's comment form to a server; returns the status, the headers and the
    page."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        form = urlencode(
            {
                "csrf_token": token,
                "body": body,
                "paragraph": "",
                "placement": "page",
                "submission_key": uuid.uuid4().hex,
            }
        )
        connection.request(
            "POST",
            f"/asks/{ask_id}/comments",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        response = connection.getresponse()
        page = response.read().decode(errors="replace")
        return response.status, dict(response.getheaders()), page
    finally:
        connection.close()


def comment_id(location: str | None) -> int:
    """The new comment's id, from the Location a posted comment redirects to."""
    found = re.search(r"#comment-(\d+)$", location or "")
    assert found, location
    return int(found.group(1))


def post_comment(port: int, ask_id: int, cookie: str, token: str, body: str) -> int:
    """POST the ask's comment form to one server; returns the new comment's id."""
    status, headers, page = send_comment(port, ask_id, cookie, token, body)
    assert status == 303, page[:2000]
    return comment_id(headers.get("Location"))


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    text: str


def post_form(
    port: int,
    path: str,
    cookie: str,
    fields: dict[str, str],
    headers: dict[str, str] | None = None,
) -> Answer:
    """POST a form to 127.0.0.1:port, as a browser without htmx would."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            path,
            body=urlencode(fields),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                **(headers or {}),
            },
        )
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read().decode(errors="replace"))
    finally:
        connection.close()


def post_comment_form(port: int, ask_id: int, cookie: str, token: str, body: str) -> Answer:
    """POST the ask's comment form; the answer is a redirect to the new comment."""
    return post_form(
        port,
        f"/asks/{ask_id}/comments",
        cookie,
        {
            "csrf_token": token,
            "body": body,
            "paragraph": "",
            "placement": "page",
            "submission_key": uuid.uuid4().hex,
        },
    )


def posted_comment_id(answer: Answer) -> int:
    """The id of the comment a successful post of the comment form made."""
    assert answer.status == 303, answer.text[:2000]
    return int(re.search(r"#comment-(\d+)$", answer.headers["Location"]).group(1))
