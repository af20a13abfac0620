"""The files in deploy/ as an operator installs them: placeholders filled in by
deploy/render.py, the nginx site accepted by nginx, the systemd unit by systemd, and every
scheduled command of the CLI run from the cron file as written.

(tests/deploy/test_nginx.py runs the site and the unit's command in front of two hosts.)"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from consult.cli import consult_cli
from deploy import local_nginx
from deploy.render import PlaceholderError, fill, main, placeholders
from tests.deploy.helpers import (
    CRON,
    DEPLOY,
    ENV_FILE,
    POOLS,
    ROOT,
    UNIT,
    host_settings,
    unit_fields,
    write_env_file,
)
from tests.helpers import REDIS_URL, unavailable

SITE_VALUES = {
    "LISTEN": "127.0.0.1:8080",
    "SERVER_NAME": "consult.example.org",
    "APP_HOST_1_PAGES": "10.0.0.11:8000",
    "APP_HOST_1_STREAMS": "10.0.0.11:8001",
    "APP_HOST_2_PAGES": "10.0.0.12:8000",
    "APP_HOST_2_STREAMS": "10.0.0.12:8001",
    "CONSULT_ROOT": str(ROOT),
}


def test_render_fills_every_placeholder_or_refuses(capsys):
    site = local_nginx.SITE.read_text()
    assert placeholders(site) == set(SITE_VALUES)
    # What the tests and the benches fill in on this machine: the same placeholders.
    local = local_nginx.site_values("127.0.0.1:8080", [("127.0.0.1:8000", "127.0.0.1:8001")])
    assert set(local) == set(SITE_VALUES)
    assert local["APP_HOST_2_STREAMS"] == "127.0.0.1:8001"  # one host, named twice
    filled = fill(site, SITE_VALUES)
    assert placeholders(filled) == set()
    assert "server 10.0.0.12:8000 max_fails=1" in filled
    assert "server 10.0.0.12:8001 max_fails=1" in filled

    with pytest.raises(PlaceholderError, match="no value for APP_HOST_2_STREAMS"):
        fill(site, {k: v for k, v in SITE_VALUES.items() if k != "APP_HOST_2_STREAMS"})
    with pytest.raises(PlaceholderError, match="no placeholder for APP_HOST_3"):
        fill(site, {**SITE_VALUES, "APP_HOST_3": "10.0.0.13:8000"})

    assert main([str(local_nginx.SITE), *(f"{k}={v}" for k, v in SITE_VALUES.items())]) == 0
    assert capsys.readouterr().out == filled
    assert main([str(local_nginx.SITE), "LISTEN=80"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "no value for" in captured.err


def test_nginx_accepts_the_site(tmp_path):
    if local_nginx.executable() is None:
        unavailable("nginx is not installed (make test installs it: apt-get install nginx)")
    conf = local_nginx.prepare(tmp_path, SITE_VALUES)
    local_nginx.check(tmp_path, conf)  # nginx -t; raises with nginx's words

    # The test's own main configuration is not what makes it pass: a broken site fails.
    (tmp_path / "consult.conf").write_text(
        (tmp_path / "consult.conf").read_text().replace("proxy_buffering off;", "proxy_buffering;")
    )
    with pytest.raises(RuntimeError, match="invalid number of arguments"):
        local_nginx.check(tmp_path, conf)


def test_systemd_accepts_the_unit(tmp_path):
    pages, streams = unit_fields("pages"), unit_fields("streams")
    assert pages["ExecStart"].endswith(" -c python:consult.gunicorn_pages wsgi:app")
    assert streams["ExecStart"].endswith(" -c python:consult.gunicorn_streams wsgi:app")
    assert pages["EnvironmentFile"] == ENV_FILE
    assert f'"${{CONSULT_ENV_FILE:-{ENV_FILE}}}"' in (DEPLOY / "run-flask").read_text()
    assert pages["User"] == "consult" and pages["Restart"] == "on-failure"
    assert pages["NoNewPrivileges"] == "true" and pages["ProtectSystem"] == "strict"

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # Checked where the unit points at a real checkout and virtual environment (systemd
    # looks for ExecStart's program): the checkout whose .venv runs these tests.
    venv = Path(sys.prefix)
    if venv.name != ".venv" or not (venv / "bin" / "gunicorn").exists():
        pytest.skip("these tests do not run from a checkout's .venv")
    (tmp_path / UNIT.name).write_text(fill(UNIT.read_text(), {"CONSULT_ROOT": str(venv.parent)}))
    # Each instance, loaded from the template beside it, as systemctl would.
    for pool in POOLS:
        completed = subprocess.run(
            [analyze, "verify", str(tmp_path / f"consult@{pool}.service")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert completed.returncode == 0, completed.stderr
        assert completed.stderr.strip() == "", completed.stderr


# One field of a crontab's schedule: *, */n, n, n-m or lists of them.
SCHEDULE_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")


def cron_lines() -> list[tuple[list[str], str, str]]:
    """(schedule, user, command) of each job in deploy/cron/consult."""
    jobs = []
    for line in CRON.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#") or re.match(r"^[A-Z]+=", line):
            continue
        *schedule, user, command = line.split(maxsplit=6)
        jobs.append((schedule, user, command))
    return jobs


# Depends on the database engine: also runs with --backend=postgres.
@pytest.mark.database
def test_every_scheduled_command_runs_from_the_cron_file(app, backend, database_url, tmp_path):
    """Each command whose help says to run it from cron has a line in deploy/cron/consult, and
    each line, run as cron would (through deploy/run-flask with the app's environment file),
    succeeds against the database."""
    scheduled = {name for name, command in consult_cli.commands.items() if "cron" in command.help}
    assert scheduled >= {"send-mail", "send-digests", "send-reminders", "prune-live-events"}
    jobs = cron_lines()
    for schedule, user, _ in jobs:
        assert len(schedule) == 5 and all(SCHEDULE_FIELD.match(f) for f in schedule), schedule
        assert user == "consult"
    named = {command.split()[-1] for _, _, command in jobs}
    assert named == scheduled

    settings = host_settings(
        secret_key=app.config["SECRET_KEY"],
        public_url="https://consult.example.org",
        database_url=database_url,
        redis_url=REDIS_URL if backend == "postgres" else "",
        bind="127.0.0.1:8000",
        streams_bind="127.0.0.1:8001",
    )
    settings["MAIL_OUTBOX"] = str(tmp_path / "outbox")
    env_file = write_env_file(tmp_path / "consult.env", settings)
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "CONSULT_ENV_FILE": str(env_file),
        "CONSULT_VENV": sys.prefix,
    }

    def run(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["/bin/sh", "-c", fill(command, {"CONSULT_ROOT": str(ROOT)})],
            env=environment,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(run, [command for _, _, command in jobs]))
    outputs = {}
    for (_, _, command), completed in zip(jobs, results, strict=True):
        assert completed.returncode == 0, f"{command}:\n{completed.stdout}{completed.stderr}"
        outputs[command.split()[-1]] = completed.stdout
    assert outputs["send-mail"].startswith("Sent 0 emails")
    assert outputs["prune-live-events"].startswith("Deleted 0 live events older than 48 hours")
    assert outputs["send-digests"].startswith("Sent 0 digests")
    assert outputs["send-reminders"].startswith("Sent 0 reminder emails")
