"""The comment POST of this checkout against another revision's, measured in turns.

    .venv/bin/python bench/paired.py [--base HEAD~1] [--rounds 6] [--seconds 5]

On a shared machine, throughput moves by a fifth or more between runs minutes apart, so two
runs of bench/throughput.py cannot show a change smaller than that. This bench starts both
versions at once, each its own gunicorn (production's configuration for pages, 2 sync
workers) on its own temporary SQLite database with one ask and a member who signs in, and
runs wrk against each in turn (the order swapped every round), so both meet the same moments
of the machine. Each POST is a new comment, made as htmx makes it (bench/throughput.py's
script); the bench fails if any POST made none.

The other revision is checked out with `git worktree` into a temporary folder, and served with
this checkout's virtual environment. Prints each round, then per version the median requests
a second and CPU milliseconds per POST (the gunicorn workers'), and this checkout's ratio to
the other's.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.live import free_port, stop_server, wait_for_port  # noqa: E402
from bench.throughput import (  # noqa: E402
    POST_SCRIPT,
    Figures,
    check_posts,
    run_wrk,
    sign_in,
    start_gunicorn,
    workers,
)

# Seeds one ask with one comment and a member; prints the ask's id and the member's email.
SEED = """
import sys
from bench.ask_page import seed
from consult import create_app
from consult.extensions import db
from consult.models import User
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "bench-seed",
                  "MAIL_OUTBOX": sys.argv[2], "RATELIMIT_ENABLED": False})
with app.app_context():
    ask_id, token = seed(1)
    user = db.session.scalars(db.select(User).where(User.session_token == token)).one()
    print(ask_id, user.email)
"""


class Side:
    """One version: its code, its database and server, its runs."""

    def __init__(self, name: str, root: Path, folder: Path) -> None:
        self.name, self.root = name, root
        self.database_url = f"sqlite:///{folder / name}.db"
        self.log = folder / f"{name}.log"
        self.lua = folder / f"{name}.lua"
        self.outbox = str(folder / f"{name}-outbox")
        self.port = free_port()
        self.runs: list[Figures] = []
        self.posted = 0
        self.server: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "FLASK_APP": "wsgi:app",
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "CONSULT_ENV": "development",
            "MAIL_OUTBOX": self.outbox,
            "RATELIMIT_ENABLED": "false",
            "WEB_CONCURRENCY": "2",
            "PYTHONPATH": str(self.root),
        }

    def start(self) -> None:
        env = self.env()
        subprocess.run(
            [sys.executable, "-m", "flask", "db", "upgrade"],
            cwd=self.root,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        seeded = subprocess.run(
            [sys.executable, "-c", SEED, self.database_url, self.outbox],
            cwd=self.root,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout.split()
        self.ask_id, self.email = int(seeded[0]), seeded[1]
        self.server = start_gunicorn(
            "wsgi:app", self.port, env, "python:consult.gunicorn_pages", [], self.log, self.root
        )

    def ready(self, password: str) -> None:
        assert self.server is not None
        wait_for_port(self.port, 30, self.server)
        time.sleep(1)  # the workers boot after the master binds
        self.pids = workers(self.server)
        self.cookie, token = sign_in(self.port, self.email, password)
        self.path = f"/asks/{self.ask_id}/comments"
        self.lua.write_text(
            f'TOKEN = "{urllib.parse.quote(token, safe="")}"\nPATH = "{self.path}"\n' + POST_SCRIPT
        )

    def run(self, args) -> Figures:
        url = f"http://127.0.0.1:{self.port}{self.path}"
        figures = run_wrk(args, url, self.cookie, self.pids, self.lua)
        self.runs.append(figures)
        self.posted += figures.requests
        return figures


def turn_options(parser: argparse.ArgumentParser) -> None:
    """The options of a bench that runs wrk against its servers in turns."""
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=5, help="each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk")


def parse_turn_options(parser: argparse.ArgumentParser) -> argparse.Namespace:
    args = parser.parse_args()
    if shutil.which(args.wrk) is None:
        parser.error("wrk is not installed: run `make bench-tools`")
    return args


def in_turns(servers: list, args: argparse.Namespace, unit: str) -> None:
    """--rounds rounds of one wrk run against each server, the order rotated every round so
    that each meets the same moments of the machine; prints each run."""
    for round_number in range(args.rounds):
        shift = round_number % len(servers)
        for server in servers[shift:] + servers[:shift]:
            figures = server.run(args)
            print(
                f"round {round_number + 1}: {server.name}: "
                f"{figures.requests_per_second:.1f} req/s, "
                f"{figures.cpu_ms_per_request:.2f} CPU ms per {unit}, "
                f"{figures.errors} errors",
                flush=True,
            )


def show_logs(servers: list) -> None:
    """The end of each server's log, after something failed."""
    for server in servers:
        if server.log.exists():
            sys.stderr.write(f"--- {server.name}\n{server.log.read_text()[-3000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="HEAD~1", help="the revision to compare with")
    turn_options(parser)
    args = parse_turn_options(parser)
    revision = subprocess.run(
        ["git", "rev-parse", "--short", args.base],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if revision.returncode != 0:
        parser.error(f"{args.base} is not a revision of this repository")
    from tests import factories

    with tempfile.TemporaryDirectory(prefix="consult-paired-") as tmp:
        folder = Path(tmp)
        tree = folder / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), args.base],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        sides = [
            Side("this", ROOT, folder),
            Side(f"base {revision.stdout.strip()}", tree, folder),
        ]
        try:
            for side in sides:
                side.start()
            for side in sides:
                side.ready(factories.PASSWORD)
            in_turns(sides, args, "POST")
        except BaseException:
            show_logs(sides)
            raise
        finally:
            for side in sides:
                if side.server is not None:
                    stop_server(side.server)
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False
            )
        print(
            f"\n{args.rounds} rounds of {args.seconds} s each, in turns, wrk -t{args.threads} "
            f"-c{args.connections}, 2 sync workers each, SQLite"
        )
        rates, cpus = {}, {}
        for side in sides:
            rates[side.name] = statistics.median(f.requests_per_second for f in side.runs)
            cpus[side.name] = statistics.median(f.cpu_ms_per_request for f in side.runs)
            print(
                f"{side.name}: median {rates[side.name]:.1f} req/s, "
                f"{cpus[side.name]:.2f} CPU ms per POST"
            )
        this, base = sides
        print(
            f"this checkout against {base.name}: {rates[this.name] / rates[base.name]:.2f} "
            f"times the POSTs a second, {cpus[this.name] / cpus[base.name]:.2f} times the CPU"
        )
        ok = True
        for side in sides:
            print(f"{side.name}: ", end="")
            ok = check_posts(side.database_url, side.ask_id, side.posted) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
