"""Run deploy/nginx/consult.conf in an nginx of one's own, on this machine: for the tests
(tests/deploy/test_nginx.py) and `bench/live.py --nginx`.

Debian's nginx (`apt-get install nginx`) runs here as an ordinary process: its own main
configuration in a temporary folder (logs, temporary files and pid there too), a port above
1024, `daemon off`, stopped by its PID. The system's nginx service is never used.
The site file is filled in by deploy/render.py, exactly as an operator would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from deploy.render import fill

DEPLOY = Path(__file__).resolve().parent
SITE = DEPLOY / "nginx" / "consult.conf"
MIME_TYPES = Path("/etc/nginx/mime.types")  # Debian's, as its own nginx.conf includes it


def executable() -> str | None:
    """Where nginx is installed (Debian puts it in /usr/sbin, off an ordinary user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def main_conf(
    folder: Path,
    site: Path,
    *,
    worker_processes: int | str = 1,
    worker_connections: int = 1024,
    access_log: bool = True,
    extra_http: str = "",
) -> str:
    """An nginx.conf that keeps everything in `folder` and includes the filled-in site, as
    Debian's /etc/nginx/nginx.conf includes sites-enabled/."""
    # Run as root, nginx would start its workers as `nobody`, who cannot read a temporary
    # folder of root's: keep them as the user who started it.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    log = f"access_log {folder / 'access.log'};" if access_log else "access_log off;"
    return f"""{user}worker_processes {worker_processes};
worker_rlimit_nofile {worker_connections * 2 + 64};
error_log {folder / "error.log"} warn;
events {{
    worker_connections {worker_connections};
}}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    gzip on;
    {log}
{temp}
{extra_http}
    include {site};
}}
"""


def site_values(listen: str, hosts: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The site's placeholders for nginx on this machine: `listen` (address:port) and each
    app host's (pages, streams) addresses. The site names two hosts; one host given alone
    is named twice."""
    if len(hosts) == 1:
        hosts = [hosts[0], hosts[0]]
    assert len(hosts) == 2, "the site names two app hosts"
    values = {"LISTEN": listen, "SERVER_NAME": "127.0.0.1", "CONSULT_ROOT": str(DEPLOY.parent)}
    for n, (pages, streams) in enumerate(hosts, start=1):
        values[f"APP_HOST_{n}_PAGES"] = pages
        values[f"APP_HOST_{n}_STREAMS"] = streams
    return values


def prepare(
    folder: Path,
    values: Mapping[str, str],
    **options,
) -> Path:
    """Fill in the site with `values`, write it and a main configuration into `folder`;
    returns the main configuration's path."""
    folder.mkdir(parents=True, exist_ok=True)
    site = folder / "consult.conf"
    site.write_text(fill(SITE.read_text(), values))
    conf = folder / "nginx.conf"
    conf.write_text(main_conf(folder, site, **options))
    return conf


def command(folder: Path, conf: Path, *extra: str) -> list[str]:
    """nginx's command line for this folder's configuration (pid and error log there)."""
    nginx = executable()
    if nginx is None:
        raise FileNotFoundError("nginx is not installed: apt-get install -y nginx")
    return [
        nginx,
        "-c",
        str(conf),
        "-p",
        str(folder),
        "-e",
        str(folder / "error.log"),
        "-g",
        f"daemon off; pid {folder / 'nginx.pid'};",
        *extra,
    ]


def check(folder: Path, conf: Path) -> None:
    """`nginx -t`: raise with nginx's own words if the configuration is refused."""
    completed = subprocess.run(
        command(folder, conf, "-t", "-q"), capture_output=True, text=True, timeout=30
    )
    if completed.returncode != 0:
        raise RuntimeError(f"nginx refuses the configuration:\n{completed.stderr}")


def start(folder: Path, conf: Path, **popen) -> subprocess.Popen:
    """Start nginx in the foreground of a child process (stop it by its PID)."""
    check(folder, conf)
    return subprocess.Popen(
        command(folder, conf),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **popen,
    )
