"""Helpers for the deployment tests: the files in deploy/, filled in as an operator would
(deploy/render.py), for processes of the test's own."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from deploy.render import fill

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ENV_EXAMPLE = DEPLOY / "consult.env.example"
UNIT = DEPLOY / "systemd" / "consult@.service"
# The unit's instances: the app host's two pools of gunicorn workers.
POOLS = ("pages", "streams")
CRON = DEPLOY / "cron" / "consult"
# Where the systemd unit and deploy/run-flask read the app's environment.
ENV_FILE = "/etc/consult/consult.env"


def parse_env(text: str) -> dict[str, str]:
    """An environment file's settings (KEY=value lines; a value may be in double quotes)."""
    settings = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=value: {line!r}"
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        settings[key.strip()] = value
    return settings


def host_settings(
    *,
    secret_key: str,
    public_url: str,
    database_url: str,
    redis_url: str,
    bind: str,
    streams_bind: str,
) -> dict[str, str]:
    """deploy/consult.env.example filled in for an app host of the test's own (nginx on this
    machine; no mail server, so emails go to the outbox folder)."""
    return parse_env(
        fill(
            ENV_EXAMPLE.read_text(),
            {
                "SECRET_KEY": secret_key,
                "PUBLIC_URL": public_url,
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "GUNICORN_BIND": bind,
                "GUNICORN_STREAMS_BIND": streams_bind,
                "NGINX_ADDRESS": "127.0.0.1",
                "MAIL_SERVER": "",
                "MAIL_USERNAME": "",
                "MAIL_PASSWORD": "",
                "MAIL_FROM": "consult@example.org",
            },
        )
    )


def write_env_file(path: Path, settings: dict[str, str]) -> Path:
    """Write settings as an environment file that both systemd and sh read alike."""
    path.write_text("".join(f'{key}="{value}"\n' for key, value in settings.items()))
    return path


def unit_fields(pool: str) -> dict[str, str]:
    """The [Service] settings of deploy/systemd/consult@.service for this checkout, as the
    instance consult@<pool> (the last value of a setting given twice)."""
    assert pool in POOLS, pool
    fields = {}
    for line in fill(UNIT.read_text(), {"CONSULT_ROOT": str(ROOT)}).splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            fields[key.strip()] = value.strip().replace("%i", pool)
    return fields


def unit_command(pool: str) -> list[str]:
    """The ExecStart of the unit's instance consult@<pool>, with the gunicorn of the Python
    that runs the tests."""
    command = shlex.split(unit_fields(pool)["ExecStart"])
    assert command[0] == str(ROOT / ".venv" / "bin" / "gunicorn"), command
    return [sys.executable, "-m", "gunicorn", *command[1:]]
