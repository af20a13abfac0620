"""Helpers for the live-update tests: a tiny SSE reader, free ports, a private redis-server,
and what a test needs to act as a signed-in person against server processes of its own
(a session cookie and CSRF token, posting the comment form)."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Flask, session
from flask_wtf.csrf import generate_csrf

from tests.helpers import signed_in_session, unavailable


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


def signed_in(app: Flask, user) -> tuple[str, str]:
    """The session cookie of `user` as signing in would have set it, and a CSRF token for it
    (both signed with the SECRET_KEY the server processes share)."""
    # A fresh application context: generate_csrf() caches the token in `g`.
    with app.app_context(), app.test_request_context():
        session.update(signed_in_session(user))
        token = generate_csrf()
        value = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    return f"{app.config['SESSION_COOKIE_NAME']}={value}", token


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


def post_comment(port: int, ask_id: int, cookie: str, token: str, body: str) -> int:
    """POST the ask's comment form to one server; returns the new comment's id."""
    return posted_comment_id(post_comment_form(port, ask_id, cookie, token, body))


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
