"""Consult's comment POST against the least that such a POST does with the same stack.

    .venv/bin/python bench/post_floor.py [--rounds 6] [--seconds 5]

Issue 12 asks for a comment POST at 0.12 of a bare Flask page. This bench shows how much of
that gap is Consult's own: it serves, at once and with production's configuration for pages
(consult/gunicorn_pages.py, 2 sync workers each),

- the bare Flask page (bench/bare_app.py);
- the floor (bench/floor_app.py): a signed-in POST through the same libraries used the plain
  way: the session cookie, Flask-Login loading the person, Flask-WTF's form token and fields,
  one ORM row inserted and committed on SQLite, a fresh form rendered by Jinja;
- the floor with Consult's duties (bench/floor_app.py's POST /asks/<id>/notes): the same, plus
  the ask and its consultation loaded and checked, the Markdown rendered and cleaned by
  Consult's renderer, and a search index row, an audit event, a live event and the page
  cache's revision written by Core: about the least that Consult's POST could be;
- Consult's comment POST, as bench/throughput.py makes it (htmx, a new comment each time);

and runs wrk against each in turn (the order rotated every round), so all four meet the same
moments of the machine. Prints each round, then per server the median requests a second and
CPU milliseconds per request (the gunicorn workers'), and each one's ratio to the bare page.
The bench fails if any of Consult's POSTs made no comment, or if the floor's did not all
answer 200.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.live import free_port, stop_server, wait_for_port  # noqa: E402
from bench.paired import Side, in_turns, parse_turn_options, show_logs, turn_options  # noqa: E402
from bench.throughput import (  # noqa: E402
    POST_SCRIPT,
    Figures,
    check_posts,
    form_token,
    run_wrk,
    start_gunicorn,
    workers,
)

CONFIG = "python:consult.gunicorn_pages"


class Plain:
    """The bare page or the floor: an app of bench/ on a server of its own."""

    def __init__(self, name: str, app: str, folder: Path, env: dict[str, str]) -> None:
        self.name, self.app, self.env = name, app, env
        self.log = folder / f"{app}.log"
        self.port = free_port()
        self.runs: list[Figures] = []
        self.server: subprocess.Popen | None = None
        self.cookie, self.lua, self.path = "", None, "/"

    def start(self) -> None:
        self.server = start_gunicorn(self.app, self.port, self.env, CONFIG, [], self.log)

    def ready(self) -> None:
        assert self.server is not None
        wait_for_port(self.port, 30, self.server)
        time.sleep(1)  # the workers boot after the master binds
        self.pids = workers(self.server)

    def run(self, args) -> Figures:
        url = f"http://127.0.0.1:{self.port}{self.path}"
        figures = run_wrk(args, url, self.cookie, self.pids, self.lua)
        self.runs.append(figures)
        return figures


class Floor(Plain):
    """bench/floor_app.py on a database of its own, posting to `path`."""

    def __init__(self, name: str, key: str, folder: Path, env: dict[str, str], path: str) -> None:
        self.folder = folder / key
        self.folder.mkdir()
        super().__init__(
            name,
            "bench.floor_app:app",
            self.folder,
            {**env, "FLOOR_DATABASE": str(self.folder / "floor.db")},
        )
        self.path = path

    def start(self) -> None:
        # The database and its person, ask and draft, made before the workers start.
        subprocess.run(
            [sys.executable, "-c", "import bench.floor_app"], cwd=ROOT, env=self.env, check=True
        )
        super().start()

    def ready(self) -> None:
        super().ready()
        from bench.floor_app import TOKEN

        jar = urllib.request.HTTPCookieProcessor()
        opener = urllib.request.build_opener(jar)
        page = (
            opener.open(f"http://127.0.0.1:{self.port}/sign-in/{TOKEN}", timeout=30).read().decode()
        )
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in jar.cookiejar)
        self.lua = self.folder / "floor.lua"
        self.lua.write_text(
            f'TOKEN = "{urllib.parse.quote(form_token(page), safe="")}"\n'
            f'PATH = "{self.path}"\n' + POST_SCRIPT
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    turn_options(parser)
    args = parse_turn_options(parser)
    from tests import factories

    with tempfile.TemporaryDirectory(prefix="consult-floor-") as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "WEB_CONCURRENCY": "2",
            "PYTHONPATH": str(ROOT),
        }
        bare = Plain("bare Flask page", "bench.bare_app:app", folder, env)
        floor = Floor("floor: a plain signed-in POST", "floor", folder, env, "/notes")
        duties = Floor("floor with Consult's duties", "duties", folder, env, "/asks/1/notes")
        consult = Side("Consult's comment POST", ROOT, folder)
        servers = [bare, floor, duties, consult]
        try:
            for server in servers:
                server.start()
            bare.ready()
            floor.ready()
            duties.ready()
            consult.ready(factories.PASSWORD)
            in_turns(servers, args, "request")
        except BaseException:
            show_logs(servers)
            raise
        finally:
            for server in servers:
                if server.server is not None:
                    stop_server(server.server)
        print(
            f"\n{args.rounds} rounds of {args.seconds} s each, in turns, wrk -t{args.threads} "
            f"-c{args.connections}, gunicorn -c {CONFIG}, 2 sync workers each, SQLite"
        )
        rate = {s.name: statistics.median(f.requests_per_second for f in s.runs) for s in servers}
        cpu = {s.name: statistics.median(f.cpu_ms_per_request for f in s.runs) for s in servers}
        print(f"{'server':40} {'req/s':>8} {'ratio':>7} {'CPU ms':>7} {'CPU ratio':>9}")
        for server in servers:
            print(
                f"{server.name:40} {rate[server.name]:8.1f} "
                f"{rate[server.name] / rate[bare.name]:7.3f} {cpu[server.name]:7.2f} "
                f"{cpu[bare.name] / cpu[server.name]:9.3f}"
            )
        print(
            f"Consult's POST against the floor: {rate[consult.name] / rate[floor.name]:.2f} "
            f"times its POSTs a second, {cpu[consult.name] / cpu[floor.name]:.2f} times its CPU"
        )
        print(
            f"Consult's POST against the floor with its duties: "
            f"{rate[consult.name] / rate[duties.name]:.2f} times its POSTs a second, "
            f"{cpu[consult.name] / cpu[duties.name]:.2f} times its CPU"
        )
        ok = all(f.errors == 0 for f in floor.runs + duties.runs)
        if not ok:
            print("some of the floor's POSTs failed: its figures are not of a POST")
        print(f"{consult.name}: ", end="")
        ok = check_posts(consult.database_url, consult.ask_id, consult.posted) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
