"""Throughput and latency of Consult's busiest pages, side by side with a bare Flask page.

    .venv/bin/python bench/throughput.py [--seconds 10] [--connections 32] [--runs 1] [--nginx]

Needs wrk (`make bench-tools` installs Debian's). In one run it:

- migrates a temporary SQLite database (or --database-url, an EMPTY one) and seeds three asks
  with 10, 200 and 10,000 comments (bench/ask_page.py's mix: paragraph and whole-ask comments,
  a third of them replies), one more ask to post comments to, and a member who signs in;
- starts two gunicorn masters with the same configuration (--config, by default production's
  for pages, consult/gunicorn_pages.py: 2 sync workers): Consult, and a bare Flask page
  (bench/bare_app.py); with --nginx, the production recipe: each behind an nginx of its own
  running deploy/nginx/consult.conf, Consult with its second pool for the live-update streams
  (consult/gunicorn_streams.py) as the site routes them, and every request goes through nginx;
- signs the member in through the form, then runs wrk (--threads, --connections, --seconds)
  against the bare page, the dashboard, the three ask pages, a comment POST made as htmx
  makes it (a fresh submission key each time), and the bare page again; each measured run
  follows --warmup seconds (2) of the same load, unmeasured, so that it measures the steady
  state: the workers have compiled that page's templates, and what is queued in front of
  its first requests is more of the same page, not what the previous page's run left;
- counts, in-process, the SQL statements each page runs;
- checks that every comment POST answered made a comment: a key used before is a form sent
  again, which makes none and costs less (until 30 November 2026 the two wrk threads, and
  every run, repeated each other's keys, so half the POSTs measured made no comment);
- measures the three ask pages again on a third server, the same app with PAGE_CACHE_SIZE=0
  ("rendered each time"): what a reading costs when something on the page has changed since
  the last (consult/page_cache.py keeps each page until then).

It prints, per page: requests a second and their ratio to the bare page's (the mean of its two
measurements); p50 and p99 latency; the workers' CPU milliseconds per request and its ratio
(less noisy than requests a second on a shared machine); the statements. Then the 10,000-
comment page's throughput as a share of the 10-comment page's, and the workers' memory after
the run against the bare workers'. With --runs N, each figure is the median of N runs. CPU is
the gunicorn workers' (nginx's is not counted).
Rate limits are off (RATELIMIT_ENABLED=false): the bench posts far faster than a person may.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.live import free_port, stop_server, wait_for_port  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
BARE = "bare Flask page"
GOALS = {
    "ask page, 200 comments (20 threads shown)": 0.10,
    "POST a comment (htmx)": 0.12,
}


@dataclass
class Figures:
    """One wrk run against one page."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers, and socket errors (timeouts included)
    cpu_ms_per_request: float


@dataclass
class Target:
    name: str
    path: str
    server: str  # "app", "uncached" (the app keeping no pages) or "bare"
    post: bool = False
    runs: list[Figures] = field(default_factory=list)
    statements: int | None = None


# Seeding ------------------------------------------------------------------------------------


def seed(database_url: str, folder: Path) -> dict:
    """Asks with 10, 200 and 10,000 comments, one to post to, and a member's sign-in."""
    from bench.ask_page import seed as seed_ask
    from consult import create_app
    from consult.extensions import db
    from consult.models import User
    from tests import factories

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench-seed",
            "MAIL_OUTBOX": str(folder / "outbox"),
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        asks = {}
        token = None
        for count in (10, 200, 10_000, 1):
            ask_id, reader_token = seed_ask(count)
            asks[count] = ask_id
            token = token or reader_token
        reader = db.session.scalars(db.select(User).where(User.session_token == token)).one()
        email = reader.email
        db.session.remove()
        db.engine.dispose()
    return {"asks": asks, "email": email, "password": factories.PASSWORD, "token": token}


def count_statements(database_url: str, folder: Path, token: str, targets: list[Target]) -> None:
    """The SQL statements of each of the app's pages, counted in-process through the test
    client with the member signed in (the second request of each: caches warm, the page
    kept where it is kept)."""
    for server, settings in (("app", {}), ("uncached", {"PAGE_CACHE_SIZE": 0})):
        _count_statements(
            database_url, folder, token, [t for t in targets if t.server == server], settings
        )


def _count_statements(
    database_url: str, folder: Path, token: str, targets: list[Target], settings: dict
) -> None:
    from sqlalchemy import event

    from consult import create_app
    from consult.auth.sessions import SEEN_AT, SIGNED_IN_AT
    from consult.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench-count",
            "MAIL_OUTBOX": str(folder / "outbox"),
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            **settings,
        }
    )
    client = app.test_client()
    with client.session_transaction() as session:
        now = int(time.time())
        session.update({"_user_id": token, "_fresh": True, SIGNED_IN_AT: now, SEEN_AT: now})
    statements = 0

    def counted(*_args, **_kwargs) -> None:
        nonlocal statements
        statements += 1

    with app.app_context():
        engine = db.engine
    for target in targets:
        for attempt in range(2):
            statements = 0
            event.listen(engine, "before_cursor_execute", counted)
            try:
                if target.post:
                    response = client.post(
                        target.path,
                        data={
                            "body": f"Counted comment {attempt}",
                            "paragraph": "",
                            "placement": "page",
                            "submission_key": secrets.token_hex(16),
                        },
                        headers={"HX-Request": "true"},
                    )
                else:
                    response = client.get(target.path)
            finally:
                event.remove(engine, "before_cursor_execute", counted)
            if response.status_code != 200:
                raise SystemExit(f"{target.name}: HTTP {response.status_code} in-process")
        target.statements = statements
    engine.dispose()


# Servers ------------------------------------------------------------------------------------


def start_gunicorn(
    app: str, port: int, env: dict, config: str, extra: list[str], log: Path, root: Path = ROOT
) -> subprocess.Popen:
    """gunicorn serving `app` from the code in `root` (this checkout by default)."""
    bind = f"127.0.0.1:{port}"
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", config, *extra, app],
            cwd=root,
            # Whichever of the two configurations: each reads its own.
            env={**env, "GUNICORN_BIND": bind, "GUNICORN_STREAMS_BIND": bind},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def start_nginx(folder: Path, front: int, pages: int, streams: int) -> subprocess.Popen:
    """deploy/nginx/consult.conf, filled in for one app host, listening on `front`."""
    from deploy import local_nginx

    conf = local_nginx.prepare(
        folder,
        local_nginx.site_values(
            f"127.0.0.1:{front}", [(f"127.0.0.1:{pages}", f"127.0.0.1:{streams}")]
        ),
        worker_processes="auto",
        access_log=False,
    )
    return local_nginx.start(folder, conf)


def workers(master: subprocess.Popen) -> list[int]:
    """The master's worker processes."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def rss_mib(pids: list[int]) -> float:
    """The workers' mean resident memory."""
    sizes = []
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return statistics.mean(sizes)


# Signing in and wrk ---------------------------------------------------------------------------

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def form_token(page: str) -> str:
    found = _TOKEN.search(page)
    if found is None:
        raise SystemExit("no form token on the page: is the member signed in?")
    return html.unescape(found.group(1))


def sign_in(port: int, email: str, password: str) -> tuple[str, str]:
    """Sign in through the form; returns the Cookie header and the session's form token."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    page = opener.open(f"{base}/sign-in", timeout=30).read().decode()
    data = urllib.parse.urlencode(
        {"csrf_token": form_token(page), "email": email, "password": password}
    ).encode()
    opener.open(f"{base}/sign-in", data=data, timeout=30).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    dashboard = opener.open(f"{base}/", timeout=30).read().decode()
    if "Sign out" not in dashboard:
        raise SystemExit("signing in failed: the dashboard has no Sign out")
    return cookie, form_token(dashboard)


def check_page(port: int, path: str, cookie: str) -> None:
    """The page answers 200 to the signed-in member (not a redirect to sign in)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        response = urllib.request.build_opener(NoRedirect).open(request, timeout=60)
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{path}: HTTP {error.code}, not the page") from None
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status}, not the page")


# Each request posts a new comment: its submission key (32 hex digits) is the wrk run's own
# (a random 8 given after "--", as every run counts from 1 again), the thread's (4) and the
# request's count (20). A key used before would be a form sent again, which makes nothing.
POST_SCRIPT = """
local counter = 0
thread_id = 0  -- a global: setup() sets each thread's (a local here would hide it)
local run = ""
local threads = {}
function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  run = args[1]
end
request = function()
  counter = counter + 1
  local key = string.format("%s%04x%020x", run, thread_id, counter)
  local body = "csrf_token=" .. TOKEN .. "&body=A+comment+from+the+bench%2C+number+" .. counter
    .. "&paragraph=&placement=page&submission_key=" .. key
  return wrk.format("POST", PATH, nil, body)
end
"""

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([a-z]+)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk_command(args, cookie: str, seconds: int | None = None) -> list[str]:
    """wrk's command line (without the URL) for --threads, --connections and --seconds (or
    `seconds`), as the signed-in member."""
    return [
        args.wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds or args.seconds}s",
        "--timeout",
        "60s",
        "--latency",
        "-H",
        f"Cookie: {cookie}",
    ]


def wrk_figures(out: str) -> Figures:
    """What wrk printed (with --latency); CPU is left at 0 for the caller to fill in."""
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)\s*$", out, re.MULTILINE))
    if set(percentiles) != {"50", "99"}:
        raise SystemExit(f"wrk printed no latency percentiles:\n{out}")
    requests = int(re.search(r"^\s+(\d+) requests in", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"^Requests/sec:\s+([0-9.]+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out)) + sum(
        int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)
    )
    return Figures(
        requests_per_second=rate,
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        requests=requests,
        errors=errors,
        cpu_ms_per_request=0.0,
    )


def run_wrk(
    args, url: str, cookie: str, pids: list[int], script: Path | None, seconds: int | None = None
) -> Figures:
    """One wrk run (of --seconds, or `seconds`) and the workers' CPU during it."""
    command = wrk_command(args, cookie, seconds)
    if script is not None:
        command += [
            "-s",
            str(script),
            "-H",
            "HX-Request: true",
            "-H",
            "Content-Type: application/x-www-form-urlencoded",
        ]
    command.append(url)
    if script is not None:
        command += ["--", secrets.token_hex(4)]  # the run's part of each submission key
    before = cpu_seconds(pids)
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=args.seconds + 120
    ).stdout
    used = cpu_seconds(pids) - before
    figures = wrk_figures(out)
    figures.cpu_ms_per_request = used * 1000 / max(figures.requests, 1)
    return figures


# The run ------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(args, targets: list[Target], memory: dict[str, list[float]]) -> bool:
    bare_runs = [f for t in targets if t.server == "bare" for f in t.runs]
    per_run_bare = [
        statistics.mean([t.runs[i].requests_per_second for t in targets if t.server == "bare"])
        for i in range(args.runs)
    ]
    per_run_bare_cpu = [
        statistics.mean([t.runs[i].cpu_ms_per_request for t in targets if t.server == "bare"])
        for i in range(args.runs)
    ]
    recipe = f"gunicorn -c {args.config} {' '.join(args.gunicorn_arg)}".strip()
    if args.nginx:
        recipe = (
            f"nginx (deploy/nginx/consult.conf) in front of {recipe} for pages and "
            "python:consult.gunicorn_streams for streams"
        )
    print(
        f"\n{args.runs} run(s) of {args.seconds} s each, wrk -t{args.threads} "
        f"-c{args.connections}, {recipe}, {args.workers} workers, {args.database}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    header = (
        f"{'page':<44}{'req/s':>9}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>10}"
        f"{'p99/p50':>8}{'CPU ms/req':>11}{'CPU ratio':>10}{'SQL':>5}{'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    ratios: dict[str, float] = {}
    rates: dict[str, float] = {}
    for target in targets:
        rate = median([f.requests_per_second for f in target.runs])
        ratio = median(
            [f.requests_per_second / b for f, b in zip(target.runs, per_run_bare, strict=True)]
        )
        cpu_ratio = median(
            [b / f.cpu_ms_per_request for f, b in zip(target.runs, per_run_bare_cpu, strict=True)]
        )
        p50 = median([f.p50_ms for f in target.runs])
        p99 = median([f.p99_ms for f in target.runs])
        ratios[target.name] = ratio
        rates[target.name] = rate
        print(
            f"{target.name:<44}{rate:>9.1f}{ratio:>8.3f}{p50:>9.1f}{p99:>10.1f}"
            f"{p99 / p50 if p50 else 0:>8.1f}"
            f"{median([f.cpu_ms_per_request for f in target.runs]):>11.2f}{cpu_ratio:>10.3f}"
            f"{target.statements if target.statements is not None else '':>5}"
            f"{sum(f.errors for f in target.runs):>7}"
        )
    ok = all(f.errors == 0 for t in targets for f in t.runs)
    print(f"\nbare page: {', '.join(f'{f.requests_per_second:.0f}' for f in bare_runs)} req/s")
    by_name = {t.name: t for t in targets}
    small, large = by_name.get("ask page, 10 comments"), by_name.get("ask page, 10,000 comments")
    middle = by_name.get("ask page, 200 comments (20 threads shown)")
    if small and large:
        share = rates[large.name] / rates[small.name]
        print(
            f"10,000 comments: {share:.0%} of the 10-comment page's throughput "
            f"(goal at least 80%), {large.statements} statements against {small.statements}"
        )
    small_each = by_name.get("ask page, 10 comments, rendered each time")
    large_each = by_name.get("ask page, 10,000 comments, rendered each time")
    if small_each and large_each:
        print(
            f"10,000 comments rendered each time: "
            f"{rates[large_each.name] / rates[small_each.name]:.0%} of the 10-comment page's "
            f"throughput, {large_each.statements} statements against {small_each.statements}"
        )
    if middle and large:
        # The same 20 threads shown: what the 10,000 comments behind them cost.
        print(
            f"10,000 comments: {rates[large.name] / rates[middle.name]:.0%} of the "
            "200-comment page's throughput (the same 20 threads shown)"
        )
    app_mib, bare_mib = median(memory["app"]), median(memory["bare"])
    print(
        f"worker memory after the run: {app_mib:.1f} MiB against {bare_mib:.1f} MiB bare, "
        f"{app_mib / bare_mib:.2f} times (goal at most 2.5)"
    )
    for name, goal in GOALS.items():
        if name in ratios:
            print(f"{name}: {ratios[name]:.3f} of bare Flask (goal at least {goal})")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run")
    parser.add_argument(
        "--warmup",
        type=int,
        default=2,
        help="seconds of the same load, unmeasured, before each measured run (0: none)",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--runs", type=int, default=1, help="figures are the median of runs")
    parser.add_argument(
        "--config",
        default="python:consult.gunicorn_pages",
        help="gunicorn's -c, for both servers (default: production's for pages; "
        "python:consult.gunicorn_streams is the gevent pool's, which serves pages too)",
    )
    parser.add_argument(
        "--nginx",
        action="store_true",
        help="the production recipe: each server behind nginx running deploy/nginx/"
        "consult.conf, Consult with its streams pool beside it",
    )
    parser.add_argument(
        "--gunicorn-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="more of gunicorn's options, for both servers (repeat: --gunicorn-arg=--keep-alive "
        "--gunicorn-arg=0)",
    )
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument(
        "--database-url", default=None, help="an EMPTY database (default: temporary SQLite)"
    )
    parser.add_argument(
        "--pages",
        nargs="+",
        default=None,
        help="only these pages (by the start of their names, e.g. dashboard 'ask page, 200')",
    )
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    args = parser.parse_args()
    if shutil.which(args.wrk) is None:
        parser.error("wrk is not installed: run `make bench-tools`")

    with tempfile.TemporaryDirectory(prefix="consult-bench-throughput-") as tmp:
        folder = Path(tmp)
        database_url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
        args.database = database_url.split(":", 1)[0]
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            "FLASK_APP": "wsgi:app",
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "CONSULT_ENV": "development",
            "MAIL_OUTBOX": str(folder / "outbox"),
            "RATELIMIT_ENABLED": "false",
            "WEB_CONCURRENCY": str(args.workers),
            "GUNICORN_STREAMS_WORKERS": str(args.workers),
        }
        if args.nginx:
            env["TRUSTED_PROXY_COUNT"] = "1"  # as deploy/consult.env.example
        subprocess.run(
            [sys.executable, "-m", "flask", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        seeded = seed(database_url, folder)
        asks = seeded["asks"]
        targets = [
            Target(BARE, "/", "bare"),
            Target("dashboard", "/", "app"),
            Target("ask page, 10 comments", f"/asks/{asks[10]}", "app"),
            Target("ask page, 200 comments (20 threads shown)", f"/asks/{asks[200]}", "app"),
            Target("ask page, 10,000 comments", f"/asks/{asks[10_000]}", "app"),
            Target("POST a comment (htmx)", f"/asks/{asks[1]}/comments", "app", post=True),
            Target("ask page, 10 comments, rendered each time", f"/asks/{asks[10]}", "uncached"),
            Target("ask page, 200 comments, rendered each time", f"/asks/{asks[200]}", "uncached"),
            Target(
                "ask page, 10,000 comments, rendered each time",
                f"/asks/{asks[10_000]}",
                "uncached",
            ),
            Target(BARE + " (again)", "/", "bare"),
        ]
        if args.pages:
            targets = [
                t
                for t in targets
                if t.server == "bare" or any(t.name.startswith(p) for p in args.pages)
            ]
        count_statements(database_url, folder, seeded["token"], targets)

        ports = {"app": free_port(), "bare": free_port(), "uncached": free_port()}
        fronts = dict(ports)  # where wrk sends its requests
        extra: dict[str, subprocess.Popen] = {}
        servers = {
            "app": start_gunicorn(
                "wsgi:app", ports["app"], env, args.config, args.gunicorn_arg, folder / "app.log"
            ),
            "bare": start_gunicorn(
                "bench.bare_app:app",
                ports["bare"],
                env,
                args.config,
                args.gunicorn_arg,
                folder / "bare.log",
            ),
            "uncached": start_gunicorn(
                "wsgi:app",
                ports["uncached"],
                {**env, "PAGE_CACHE_SIZE": "0"},
                args.config,
                args.gunicorn_arg,
                folder / "uncached.log",
            ),
        }
        memory: dict[str, list[float]] = {"app": [], "bare": []}
        try:
            if args.nginx:
                streams_port = free_port()
                extra["streams"] = start_gunicorn(
                    "wsgi:app",
                    streams_port,
                    env,
                    "python:consult.gunicorn_streams",
                    [],
                    folder / "streams.log",
                )
                for name in ("app", "bare", "uncached"):
                    fronts[name] = free_port()
                    extra[f"nginx for {name}"] = start_nginx(
                        folder / f"nginx-{name}",
                        fronts[name],
                        ports[name],
                        ports[name] if name == "bare" else streams_port,
                    )
                wait_for_port(streams_port, 30, extra["streams"])
                for name in ("app", "bare", "uncached"):
                    wait_for_port(fronts[name], 10, extra[f"nginx for {name}"])
            for name, port in ports.items():
                wait_for_port(port, 30, servers[name])
            time.sleep(1)  # the workers boot after the master binds
            pids = {name: workers(proc) for name, proc in servers.items()}
            cookie, token = sign_in(fronts["app"], seeded["email"], seeded["password"])
            script = folder / "post.lua"
            posted = 0  # comment POSTs answered (warm-up runs too)
            for target in targets:
                if target.server != "bare" and not target.post:
                    check_page(fronts[target.server], target.path, cookie)
            for run in range(args.runs):
                for target in targets:
                    lua = None
                    if target.post:
                        lua = script
                        lua.write_text(
                            f'TOKEN = "{urllib.parse.quote(token, safe="")}"\n'
                            f'PATH = "{target.path}"\n' + POST_SCRIPT
                        )
                    url = f"http://127.0.0.1:{fronts[target.server]}{target.path}"
                    if args.warmup:
                        warm = run_wrk(args, url, cookie, pids[target.server], lua, args.warmup)
                        posted += warm.requests if target.post else 0
                    figures = run_wrk(args, url, cookie, pids[target.server], lua)
                    posted += figures.requests if target.post else 0
                    target.runs.append(figures)
                    print(
                        f"run {run + 1}: {target.name}: {figures.requests_per_second:.1f} req/s, "
                        f"p50 {figures.p50_ms:.1f} ms, p99 {figures.p99_ms:.1f} ms, "
                        f"{figures.errors} errors",
                        flush=True,
                    )
                for name in memory:
                    memory[name].append(rss_mib(pids[name]))
        except BaseException:
            for log in folder.glob("*.log"):
                sys.stderr.write(f"--- {log.name}\n" + log.read_text(errors="replace")[-3000:])
            raise
        finally:
            for proc in [*extra.values(), *servers.values()]:
                stop_server(proc)
        ok = report(args, targets, memory)
        if any(t.post for t in targets):
            ok = check_posts(database_url, asks[1], posted) and ok
    return 0 if ok else 1


def check_posts(database_url: str, ask_id: int, posted: int) -> bool:
    """Whether every comment POST answered made a comment (none was a form sent again, which
    costs less): comments on the ask posted to, besides the one it was seeded with."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(
            text("SELECT count(*) FROM comment WHERE ask_id = :ask"), {"ask": ask_id}
        )
    engine.dispose()
    made = int(count or 0) - 1
    print(f"comment POSTs answered: {posted:,}; comments they made: {made:,}")
    if made < posted:
        print("some POSTs made no comment: the figures are not of posting a comment")
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
