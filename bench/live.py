"""Live updates under load: many open event streams on the production server configuration.

    python bench/live.py [--streams 1000] [--comments 20] [--seconds 60] [--workers 2]
                         [--redis-url URL] [--database-url URL]
                         [--post-via http|service] [--nginx [--busy-pages]]

What it does, all on 127.0.0.1 and bounded in time:

1. makes a temporary SQLite database (or uses --database-url, which must be empty; with
   --nginx, a temporary PostgreSQL database on --postgres-admin-url, dropped at the end), runs
   `flask db upgrade` and `flask consult seed-demo`;
2. starts a redis-server of its own on a free port (or uses --redis-url, with a channel prefix
   of this run's own), then gunicorn with consult/gunicorn_streams.py (gevent workers, which
   serve pages too when run alone) on a free port, REDIS_URL pointing at it; with --nginx,
   production's recipe: two app hosts sharing the database and Redis, each with its two pools
   (consult/gunicorn_pages.py, sync workers, and consult/gunicorn_streams.py, gevent workers;
   --workers each) behind Debian's nginx running deploy/nginx/consult.conf
   (deploy/local_nginx.py: a process of this run's own, not the system's service), and every
   request below goes through nginx (2,000 streams by default);
3. signs in one demo member through the sign-in form (CSRF token, session cookie);
4. opens --streams event streams on the demo's first ask, --wave at a time (raw asyncio HTTP,
   no extra dependencies), and times a few ordinary page requests while they are open;
5. posts --comments comments, one every --interval seconds, through the comment form
   (POST /asks/<id>/comments, signed in as a few other demo members, since comments are
   rate-limited per person), or with --post-via service from a separate process running the
   comment service against the same database and Redis; and records when each stream
   receives each `comment-added` (latency: from sending the post to receipt); with
   --busy-pages, wrk (`make bench-tools`) meanwhile loads the ask page as fast as it is served
   (2 threads, 32 connections, signed in), so that the events are delivered while the pages
   are saturated, and its figures are printed too;
6. prints streams connected, events delivered/expected, delivery latency p50/p99, the
   server's memory (RSS of the gunicorn master and workers) and requests refused;
7. stops the server (and its redis-server) by PID.

Every stream is opened by one demo member, so the caps on open streams per person and per
worker process (LIVE_STREAMS_PER_PERSON, LIVE_STREAMS_PER_PROCESS) are raised to --streams.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SETUP_SECONDS = 120  # at most, to start the servers and the publisher and sign in
DEMO_READER = "amira.khan@eastmere.example"
DEMO_AUTHOR = "gareth.lewis@northdale.example"
# Comments are rate-limited per person (10 a minute): the posts rotate between these members.
DEMO_AUTHORS = (
    "gareth.lewis@northdale.example",
    "priya.shah@northdale.example",
    "helen.marsh@westbrook.example",
    "daniel.reid@westbrook.example",
    "tom.hughes@eastmere.example",
    "jo.barnes@eastmere.example",
)


# The publisher: a second process posting comments through the service -------------------------


def publisher() -> None:
    """Post a comment per `post` line on stdin; print `posted <comment id> <t0>`."""
    sys.path.insert(0, str(ROOT))  # this checkout's consult, as the servers run it
    from sqlalchemy import select

    from consult import create_app
    from consult.comments.services import add_comment
    from consult.extensions import db
    from consult.models import Ask, User
    from consult.permissions import can_comment

    app = create_app()
    with app.app_context():
        author = db.session.scalar(select(User).where(User.email == DEMO_AUTHOR))
        ask = next(
            a for a in db.session.scalars(select(Ask).order_by(Ask.id)) if can_comment(author, a)
        )
        print(f"ready {ask.id}", flush=True)
        for line in sys.stdin:
            if not line.startswith("post"):
                continue
            started = time.monotonic()
            comment, _ = add_comment(
                author=author, ask=ask, body=f"Bench comment {line.split()[1]}."
            )
            db.session.commit()
            print(f"posted {comment.id} {started!r}", flush=True)


# A small HTTP/1.1 client on asyncio ----------------------------------------------------------


@dataclass
class HTTPResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def cookies(self) -> dict[str, str]:
        found = {}
        for key, value in self.headers:
            if key.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                name, _, val = pair.partition("=")
                found[name.strip()] = val.strip()
        return found


async def read_head(reader: asyncio.StreamReader) -> tuple[int, list[tuple[str, str]]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = []
    for line in lines[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers.append((key.strip(), value.strip()))
    return status, headers


async def request(
    port: int, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
) -> HTTPResponse:
    """One request on its own connection (Connection: close)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        if body:
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        status, response_headers = await read_head(reader)
        response = HTTPResponse(status, response_headers, b"")
        length = response.header("Content-Length")
        if response.header("Transfer-Encoding") == "chunked":
            response.body = b"".join([chunk async for chunk in read_chunks(reader)])
        elif length is not None:
            response.body = await reader.readexactly(int(length))
        else:
            response.body = await reader.read()
        return response
    finally:
        writer.close()


async def read_chunks(reader: asyncio.StreamReader):
    """Decode a chunked body as it arrives."""
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return
        data = await reader.readexactly(size + 2)
        yield data[:-2]


# The bench -----------------------------------------------------------------------------------


@dataclass
class Results:
    connected: int = 0
    refused: int = 0
    refused_reasons: dict[str, int] = field(default_factory=dict)
    received: dict[int, list[float]] = field(default_factory=dict)  # comment id -> receipt times

    def refuse(self, reason: str) -> None:
        self.refused += 1
        self.refused_reasons[reason] = self.refused_reasons.get(reason, 0) + 1


EVENT = re.compile(rb"event: comment-added\ndata: (\{[^\n]*\})")


class StreamProtocol(asyncio.Protocol):
    """One open stream's connection, parsed as its bytes arrive (HTTP head, chunked framing,
    SSE blocks) in data_received: no coroutine steps per chunk. This client shares the
    servers' CPUs, so the less each receipt costs it, the less it delays the receipts it
    times; a receipt is timed when its bytes reach this callback, as before when they reached
    the StreamReader-based loop this replaces."""

    def __init__(self, results: Results, connected: asyncio.Event, total: int) -> None:
        self.results = results
        self.connected = connected
        self.total = total
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.buffer = b""
        self.pending = b""  # SSE text not yet ended by a blank line
        self.head_read = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def _finish(self, refused: str | None = None) -> None:
        if refused is not None:
            self.results.refuse(refused)
        if not self.done.done():
            self.done.set_result(None)
        if self.transport is not None:
            self.transport.close()

    def head_late(self) -> None:
        if not self.head_read:
            self._finish("TimeoutError")

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self._finish(type(exc).__name__ if exc else "IncompleteReadError")

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buffer = self.buffer + data
        try:
            if not self.head_read:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    self.buffer = buffer
                    return
                status = int(buffer.split(b" ", 2)[1])
                if status != 200:
                    self.buffer = b""
                    self._finish(f"HTTP {status}")
                    return
                self.head_read = True
                buffer = buffer[end + 4 :]
            while True:
                line_end = buffer.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(buffer[:line_end].split(b";")[0], 16)
                if size == 0:
                    self._finish()
                    return
                start = line_end + 2
                if len(buffer) < start + size + 2:
                    break
                self._text(buffer[start : start + size], now)
                buffer = buffer[start + size + 2 :]
        except ValueError as error:
            self.buffer = b""
            self._finish(type(error).__name__)
            return
        self.buffer = buffer

    def _text(self, chunk: bytes, now: float) -> None:
        *blocks, self.pending = (self.pending + chunk).split(b"\n\n")
        for block in blocks:
            if block.endswith(b": connected"):
                self.results.connected += 1
                if self.results.connected == self.total:
                    self.connected.set()
            match = EVENT.search(block)
            if match:
                object_id = json.loads(match.group(1))["object_id"]
                self.results.received.setdefault(object_id, []).append(now)


async def subscriber(
    port: int, path: str, cookie: str, results: Results, connected: asyncio.Event, total: int
) -> None:
    """One open stream: count it connected, record when each comment-added arrives.
    Runs until the stream ends or the task is cancelled."""
    loop = asyncio.get_running_loop()
    try:
        transport, stream = await asyncio.wait_for(
            loop.create_connection(
                lambda: StreamProtocol(results, connected, total), "127.0.0.1", port
            ),
            10,
        )
    except (TimeoutError, OSError) as error:
        results.refuse(type(error).__name__)
        return
    try:
        transport.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
        )
        # The head within 20 s, as before; then as long as the stream lasts.
        head_timer = loop.call_later(20, stream.head_late)
        try:
            await stream.done
        finally:
            head_timer.cancel()
    finally:
        transport.close()


def csrf_token(body: bytes) -> str:
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body) or re.search(
        rb'value="([^"]+)"[^>]*name="csrf_token"', body
    )
    if token is None:
        raise RuntimeError("no CSRF token on the page")
    return token.group(1).decode()


@dataclass
class Author:
    cookie: str
    token: str


async def post_comment(port: int, ask_id: int, author: Author, body: str) -> tuple[int | None, int]:
    """POST the ask's comment form, as the page does without htmx; returns the new
    comment's id (from the redirect) and the status."""
    form = urlencode(
        {
            "csrf_token": author.token,
            "body": body,
            "paragraph": "",
            "placement": "page",
            "submission_key": uuid.uuid4().hex,
        }
    )
    response = await request(
        port,
        "POST",
        f"/asks/{ask_id}/comments",
        body=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": author.cookie},
    )
    match = re.search(r"#comment-(\d+)$", response.header("Location") or "")
    return (int(match.group(1)) if match else None), response.status


async def sign_in(port: int, email: str, password: str) -> str:
    """Sign in through the form; returns the Cookie header value."""
    page = await request(port, "GET", "/sign-in")
    cookies = page.cookies()
    form = urlencode({"csrf_token": csrf_token(page.body), "email": email, "password": password})
    response = await request(
        port,
        "POST",
        "/sign-in",
        body=form.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        },
    )
    if response.status not in (302, 303):
        raise RuntimeError(f"sign-in failed: HTTP {response.status}")
    cookies.update(response.cookies())
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def server_rss_kib(master_pid: int) -> tuple[int, int]:
    """Resident memory (KiB) of the gunicorn master and its workers, and their count."""
    total, count = 0, 0
    for pid in process_tree(master_pid):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total += int(match.group(1)) if match else 0
        count += 1
    return total, count


def server_cpu_seconds(master_pid: int) -> float:
    """CPU time (user + system) used so far by the gunicorn master and its workers."""
    ticks = 0
    for pid in process_tree(master_pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def servers_rss_kib(servers: list[subprocess.Popen]) -> tuple[int, int]:
    """Resident memory (KiB) of every server's processes, and their count."""
    found = [server_rss_kib(server.pid) for server in servers]
    return sum(kib for kib, _ in found), sum(count for _, count in found)


def servers_cpu_seconds(servers: list[subprocess.Popen]) -> float:
    return sum(server_cpu_seconds(server.pid) for server in servers)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def run(
    args,
    port: int,
    servers: list[subprocess.Popen],
    env: dict[str, str],
    nginx: subprocess.Popen | None = None,
) -> dict:
    deadline = time.monotonic() + args.seconds + SETUP_SECONDS
    out: dict = {}

    def remaining() -> float:
        return max(0.0, deadline - time.monotonic())

    pub = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).resolve()),
        "--publisher",
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        # Workers and the publisher load the app first: slow on a busy machine.
        line = (await asyncio.wait_for(pub.stdout.readline(), SETUP_SECONDS)).decode().split()
        ask_id = int(line[1])
        cookie = await asyncio.wait_for(sign_in(port, DEMO_READER, args.password), SETUP_SECONDS)
        deadline = time.monotonic() + args.seconds  # the measured part starts here
        path = f"/asks/{ask_id}/events"

        results = Results()
        all_connected = asyncio.Event()
        started = time.monotonic()
        tasks = []
        # Pages open in waves of --wave, each wave answered before the next, as pages open
        # over time (all at once, every stream's first database queries queue for the
        # workers' few connections, and the last wait longer than a browser would).
        opened = 0
        while opened < args.streams and remaining() > 15:
            wave = min(args.wave, args.streams - opened)
            for _ in range(wave):
                tasks.append(
                    asyncio.create_task(
                        subscriber(port, path, cookie, results, all_connected, args.streams)
                    )
                )
            opened += wave
            wave_ends = time.monotonic() + 20
            while results.connected + results.refused < opened and time.monotonic() < wave_ends:
                await asyncio.sleep(0.02)
        out["connect_seconds"] = time.monotonic() - started
        out["rss_idle"] = servers_rss_kib(servers)
        print(
            f"{results.connected} of {args.streams} streams connected in "
            f"{out['connect_seconds']:.1f} s",
            file=sys.stderr,
        )

        # Ordinary requests while the streams are open (after a few to compile templates).
        for _ in range(4):
            await asyncio.wait_for(
                request(port, "GET", f"/asks/{ask_id}", headers={"Cookie": cookie}), 30
            )
        page_times = []
        for _ in range(20):
            t0 = time.monotonic()
            page = await asyncio.wait_for(
                request(port, "GET", f"/asks/{ask_id}", headers={"Cookie": cookie}), 10
            )
            if page.status != 200:
                results.refuse(f"page HTTP {page.status}")
            page_times.append(time.monotonic() - t0)
        out["page_ms"] = (statistics.median(page_times) * 1000, max(page_times) * 1000)

        authors: list[Author] = []
        if args.post_via == "http":
            for email in DEMO_AUTHORS[: max(1, min(len(DEMO_AUTHORS), -(-args.comments // 8)))]:
                author_cookie = await asyncio.wait_for(sign_in(port, email, args.password), 30)
                form_page = await asyncio.wait_for(
                    request(
                        port,
                        "GET",
                        f"/asks/{ask_id}/comments/new",
                        headers={"Cookie": author_cookie},
                    ),
                    30,
                )
                # The form's token is kept in the session, which the form page may have
                # changed (the token is made afresh after sign-in): keep its cookie too.
                cookies = dict(pair.split("=", 1) for pair in author_cookie.split("; "))
                cookies.update(form_page.cookies())
                author_cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
                authors.append(Author(author_cookie, csrf_token(form_page.body)))

        busy = None
        if args.busy_pages:
            busy = await start_busy_pages(args, port, f"/asks/{ask_id}", cookie)
        posted: dict[int, float] = {}
        post_seconds: list[float] = []  # each post's round trip (HTTP only)
        cpu_before = servers_cpu_seconds(servers)
        client_before = resource.getrusage(resource.RUSAGE_SELF)
        nginx_cpu_before = server_cpu_seconds(nginx.pid) if nginx else 0.0
        for n in range(args.comments):
            if remaining() < 5:
                break
            if args.post_via == "http":
                started_post = time.monotonic()
                comment_id, status = await asyncio.wait_for(
                    post_comment(
                        port, ask_id, authors[n % len(authors)], f"Bench comment {n + 1}."
                    ),
                    10,
                )
                post_seconds.append(time.monotonic() - started_post)
                if comment_id is None:
                    results.refuse(f"post HTTP {status}")
                else:
                    posted[comment_id] = started_post
            else:
                pub.stdin.write(f"post {n + 1}\n".encode())
                await pub.stdin.drain()
                reply = (await asyncio.wait_for(pub.stdout.readline(), 10)).decode().split()
                posted[int(reply[1])] = float(reply[2])
            await asyncio.sleep(args.interval)
        # Let the last deliveries arrive.
        expected = len(posted) * results.connected
        wait_until = time.monotonic() + min(5, remaining())
        while time.monotonic() < wait_until:
            if sum(len(results.received.get(c, [])) for c in posted) >= expected:
                break
            await asyncio.sleep(0.05)
        out["rss_busy"] = servers_rss_kib(servers)
        out["cpu_posting"] = servers_cpu_seconds(servers) - cpu_before
        client_after = resource.getrusage(resource.RUSAGE_SELF)
        out["client_cpu_posting"] = (client_after.ru_utime - client_before.ru_utime) + (
            client_after.ru_stime - client_before.ru_stime
        )
        if nginx:
            out["nginx_cpu_posting"] = server_cpu_seconds(nginx.pid) - nginx_cpu_before
            out["nginx_rss"] = server_rss_kib(nginx.pid)
        if busy is not None:
            out["busy_pages"] = await busy_pages_figures(busy)
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=5)

        latencies = [(t - posted[c]) * 1000 for c in posted for t in results.received.get(c, [])]
        out.update(results=results, posted=posted, latencies=latencies, expected=expected)
        out["post_seconds"] = post_seconds
        # Per comment: when the first stream had it, and how long until the last one did
        # (the post's own path against the fan-out to every stream and this client's reading).
        out["first_and_spread"] = [
            ((min(times) - posted[c]) * 1000, (max(times) - min(times)) * 1000)
            for c in posted
            if (times := results.received.get(c))
        ]
        return out
    finally:
        if pub.returncode is None:
            pub.stdin.close()
            try:
                await asyncio.wait_for(pub.wait(), 5)
            except TimeoutError:
                pub.kill()


async def start_busy_pages(args, port: int, path: str, cookie: str) -> asyncio.subprocess.Process:
    """wrk loading the ask page for as long as the comments are being posted (and a few
    seconds more): 2 threads, 32 connections, signed in."""
    sys.path.insert(0, str(ROOT))
    from bench.throughput import wrk_command

    seconds = math.ceil(args.comments * args.interval) + 5
    command = wrk_command(
        argparse.Namespace(wrk=args.wrk, threads=2, connections=32, seconds=seconds), cookie
    )
    busy = await asyncio.create_subprocess_exec(
        *command,
        f"http://127.0.0.1:{port}{path}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await asyncio.sleep(2)  # the pages are saturated before the first comment
    return busy


async def busy_pages_figures(busy: asyncio.subprocess.Process):
    """What wrk measured of the ask page while the comments were delivered."""
    from bench.throughput import wrk_figures

    out, err = await asyncio.wait_for(busy.communicate(), 120)
    if busy.returncode != 0:
        raise RuntimeError(f"wrk failed: {err.decode()}")
    return wrk_figures(out.decode())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"the server did not listen on 127.0.0.1:{port}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=20)
    parser.add_argument(
        "--interval",
        type=float,
        default=None,
        help="seconds between comments (default 0.25, or 1 with --nginx: 2,000 streams take "
        "about half a second of this machine's two CPUs to deliver one comment to)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="cap on the measured part (default 60, or 120 with --nginx)",
    )
    parser.add_argument(
        "--wave", type=int, default=100, help="streams opened at once (then wait for them)"
    )
    parser.add_argument("--streams", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn gevent workers (of each host)"
    )
    parser.add_argument(
        "--nginx",
        action="store_true",
        help="two app hosts (gunicorn masters) sharing PostgreSQL and Redis, behind nginx "
        "with deploy/nginx/consult.conf; 2,000 streams unless --streams says otherwise",
    )
    parser.add_argument(
        "--postgres-admin-url",
        default=POSTGRES_ADMIN_URL,
        help="with --nginx and no --database-url: where to create (and drop) a temporary database",
    )
    parser.add_argument(
        "--redis-url",
        default=None,
        help="an existing Redis (default: a redis-server of this run's own, "
        "on a free port, so rate limits and channels are not shared)",
    )
    parser.add_argument(
        "--database-url", default=None, help="an EMPTY database (default: temporary SQLite)"
    )
    parser.add_argument("--password", default="blueprint-demo-2026", help="the demo's password")
    parser.add_argument(
        "--post-via",
        choices=("http", "service"),
        default="http",
        help="post through the comment form (default), or through the comment "
        "service in a separate process",
    )
    parser.add_argument(
        "--busy-pages",
        action="store_true",
        help="while the comments are posted, load the ask page with wrk (2 threads, 32 "
        "connections) as fast as it is served, and print wrk's figures",
    )
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk", help=argparse.SUPPRESS)
    parser.add_argument("--publisher", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.busy_pages and shutil.which(args.wrk) is None:
        parser.error("--busy-pages needs wrk: run `make bench-tools`")
    if args.publisher:
        publisher()
        return 0
    if args.streams is None:
        args.streams = 2000 if args.nginx else 1000
    if args.seconds is None:
        args.seconds = 120 if args.nginx else 60
    if args.interval is None:
        args.interval = 1.0 if args.nginx else 0.25

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, args.streams * 2 + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    with tempfile.TemporaryDirectory(prefix="consult-bench-live-") as tmp:
        redis_proc = None
        if args.redis_url is None:
            executable = shutil.which("redis-server")
            if executable is None:
                parser.error("redis-server is not installed: pass --redis-url")
            redis_port = free_port()
            redis_proc = subprocess.Popen(
                [
                    executable,
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    tmp,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            args.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        database = None
        try:
            if redis_proc is not None:
                wait_for_port(redis_port, 10, redis_proc)
            if args.nginx and args.database_url is None:
                database = create_database(args.postgres_admin_url)
                args.database_url = database[1]
            out = bench(args, tmp, wanted, hard)
        finally:
            if redis_proc is not None:
                stop_server(redis_proc)
            if database is not None:
                drop_database(args.postgres_admin_url, database[0])
    report(args, out)
    results = out["results"]
    return (
        0
        if (
            results.connected == args.streams
            and len(out["latencies"]) == out["expected"]
            and not results.refused
        )
        else 1
    )


def create_database(admin_url: str) -> tuple[str, str]:
    """A new, empty PostgreSQL database: its name and its URL."""
    import psycopg

    name = f"consult_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return name, f"{base}/{name}"


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench(args, tmp: str, wanted: int, hard: int) -> dict:
    """Prepare the database, start the server (two hosts and nginx, with --nginx), run the
    measurements, stop the server."""
    database_url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    ports = [free_port() for _ in range(2 if args.nginx else 1)]  # streams (and pages alone)
    pages_ports = [free_port() for _ in ports] if args.nginx else []
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "FLASK_APP": "wsgi:app",
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        "LIVE_CHANNEL_PREFIX": f"consult-bench-{uuid.uuid4().hex[:8]}:",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "CONSULT_ENV": "development",
        "MAIL_OUTBOX": f"{tmp}/outbox",
        "LIVE_STREAM_SECONDS": str(max(300, int(args.seconds) + 60)),
        # One person holds every stream here.
        "LIVE_STREAMS_PER_PERSON": str(args.streams),
        "LIVE_STREAMS_PER_PROCESS": str(args.streams),
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_STREAMS_WORKERS": str(args.workers),
    }
    if args.nginx:
        env["TRUSTED_PROXY_COUNT"] = "1"  # as deploy/consult.env.example
    flask = [sys.executable, "-m", "flask"]
    subprocess.run(
        flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120
    )
    subprocess.run(
        flask + ["consult", "seed-demo"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )

    def raise_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    servers: list[subprocess.Popen] = []
    listening: list[tuple[int, subprocess.Popen]] = []  # each server's port
    logs: list[Path] = []
    nginx = None
    nginx_folder = Path(tmp) / "nginx"
    try:
        for n, port in enumerate(ports):
            # With nginx, each host's two pools; alone, the streams pool serves pages too.
            pools = {"streams": port}
            if args.nginx:
                pools["pages"] = pages_ports[n]
            for pool, pool_port in pools.items():
                logs.append(Path(tmp) / f"gunicorn-{n + 1}-{pool}.log")
                with logs[-1].open("wb") as log:
                    servers.append(
                        subprocess.Popen(
                            [
                                sys.executable,
                                "-m",
                                "gunicorn",
                                "-c",
                                f"python:consult.gunicorn_{pool}",
                                "wsgi:app",
                            ],
                            cwd=ROOT,
                            env={
                                **env,
                                "GUNICORN_BIND": f"127.0.0.1:{pool_port}",
                                "GUNICORN_STREAMS_BIND": f"127.0.0.1:{pool_port}",
                            },
                            stdout=log,
                            stderr=subprocess.STDOUT,
                            preexec_fn=raise_limit,
                        )
                    )
                listening.append((pool_port, servers[-1]))
        front = ports[0]
        if args.nginx:
            sys.path.insert(0, str(ROOT))
            from deploy import local_nginx

            front = free_port()
            conf = local_nginx.prepare(
                nginx_folder,
                local_nginx.site_values(
                    f"127.0.0.1:{front}",
                    [
                        (f"127.0.0.1:{pages}", f"127.0.0.1:{streams}")
                        for pages, streams in zip(pages_ports, ports, strict=True)
                    ],
                ),
                worker_processes="auto",
                worker_connections=args.streams * 2 + 1024,
                access_log=False,
            )
            nginx = local_nginx.start(nginx_folder, conf)
            wait_for_port(front, 10, nginx)
        for port, server in listening:
            wait_for_port(port, 30, server)
        return asyncio.run(
            asyncio.wait_for(
                run(args, front, servers, env, nginx), args.seconds + 2 * SETUP_SECONDS + 60
            )
        )
    except BaseException:
        for log_path in logs:
            sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
        if (nginx_folder / "error.log").exists():
            sys.stderr.write((nginx_folder / "error.log").read_text(errors="replace")[-4000:])
        raise
    finally:
        if nginx is not None:
            stop_server(nginx)
        for server in servers:
            stop_server(server)


def report(args, out: dict) -> None:
    results: Results = out["results"]
    latencies = out["latencies"]
    delivered = len(latencies)
    database = "PostgreSQL" if args.database_url else "SQLite"
    if args.nginx:
        print(
            f"server: 2 hosts, each with gunicorn -c python:consult.gunicorn_pages "
            f"({args.workers} sync workers) and -c python:consult.gunicorn_streams "
            f"({args.workers} gevent workers), {database}, Redis {args.redis_url}"
        )
        print(
            "through nginx: deploy/nginx/consult.conf in front of both hosts (streams, pages "
            "and posts all go through it, each to its pool)"
        )
    else:
        print(
            f"server: gunicorn -c python:consult.gunicorn_streams wsgi:app "
            f"({args.workers} gevent workers, serving pages too), {database}, "
            f"Redis {args.redis_url}"
        )
    print(
        f"streams connected:  {results.connected} of {args.streams} "
        f"(in {out['connect_seconds']:.1f} s)"
    )
    how = "POST /asks/<id>/comments" if args.post_via == "http" else "the comment service"
    print(f"comments posted:    {len(out['posted'])} (one every {args.interval} s, via {how})")
    print(f"events delivered:   {delivered} of {out['expected']} expected")
    if latencies:
        print(
            f"delivery latency:   p50 {percentile(latencies, 0.5):.1f} ms, "
            f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms "
            "(from sending the post to receipt, on each stream)"
        )
    if out.get("first_and_spread"):
        firsts = [first for first, _ in out["first_and_spread"]]
        spreads = [spread for _, spread in out["first_and_spread"]]
        print(
            f"per comment:        first stream after median {statistics.median(firsts):.1f} ms, "
            f"then the last one {statistics.median(spreads):.1f} ms later (median; "
            f"max {max(spreads):.1f} ms)"
        )
    if out.get("post_seconds"):
        posts = out["post_seconds"]
        print(
            f"the posts:          median {statistics.median(posts) * 1000:.1f} ms, "
            f"max {max(posts) * 1000:.1f} ms (the POST's round trip)"
        )
    print(
        f"ordinary page while streams open: median {out['page_ms'][0]:.1f} ms, "
        f"max {out['page_ms'][1]:.1f} ms (20 GETs of the ask page)"
    )
    for label, key in (
        ("server memory, streams open, idle", "rss_idle"),
        ("server memory, after the comments", "rss_busy"),
    ):
        kib, count = out[key]
        print(f"{label}: {kib / 1024:.0f} MiB RSS (master + workers, {count} processes)")
    if delivered:
        print(
            f"server CPU while posting: {out['cpu_posting']:.2f} s "
            f"({out['cpu_posting'] / delivered * 1e6:.0f} µs per event delivered, posts "
            f"included; {os.cpu_count()} CPUs shared with this client)"
        )
    print(f"this client's CPU while posting: {out['client_cpu_posting']:.2f} s")
    if "nginx_cpu_posting" in out:
        kib, count = out["nginx_rss"]
        print(
            f"nginx: CPU while posting {out['nginx_cpu_posting']:.2f} s, "
            f"{kib / 1024:.0f} MiB RSS ({count} processes)"
        )
    if "busy_pages" in out:
        busy = out["busy_pages"]
        print(
            f"the ask page under wrk meanwhile (2 threads, 32 connections): "
            f"{busy.requests_per_second:.1f} req/s, p50 {busy.p50_ms:.1f} ms, "
            f"p99 {busy.p99_ms:.1f} ms, {busy.errors} errors"
        )
    reasons = ", ".join(f"{k}: {v}" for k, v in results.refused_reasons.items()) or "none"
    print(f"requests refused:   {results.refused} ({reasons})")


if __name__ == "__main__":
    sys.exit(main())
