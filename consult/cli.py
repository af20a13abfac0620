"""flask consult ...: create organisations and people, load the demo, back up the database."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.engine import make_url

from consult import audit
from consult.auth.services import hash_password, user_by_email
from consult.demo import database_is_empty, load_demo
from consult.extensions import db
from consult.models import Organisation, OrganisationKind, Role, User

consult_cli = AppGroup("consult", help="Manage Consult.")


@consult_cli.command("create-org")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in OrganisationKind]),
    default="other",
    show_default=True,
    help="What kind of organisation it is.",
)
@click.option("--website", default=None, help="The organisation's website (http or https).")
def create_org(name: str, kind: str, website: str | None) -> None:
    """Create an organisation."""
    name = name.strip()
    if not name or len(name) > 200:
        raise click.BadParameter("must be 1 to 200 characters", param_hint="NAME")
    if website and not website.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://", param_hint="--website")
    if db.session.scalar(select(Organisation).where(Organisation.name == name)):
        raise click.ClickException(f"An organisation called {name!r} already exists.")
    org = Organisation(name=name, kind=OrganisationKind(kind), website=website)
    db.session.add(org)
    db.session.flush()
    audit.record(
        None,
        "organisation.create",
        org,
        after=audit.snapshot(org, "name", "kind", "website", "active"),
    )
    db.session.commit()
    click.echo(f"Created organisation {org.id}: {org.name}")


@consult_cli.command("create-user")
@click.option("--email", required=True, help="Their email address (they sign in with it).")
@click.option("--name", required=True, help="Their full name.")
@click.option(
    "--organisation", "organisation_name", required=True, help="The organisation's exact name."
)
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default="member", show_default=True
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(
    email: str, name: str, organisation_name: str, role: str, password_stdin: bool
) -> None:
    """Create a person who can sign in at once (the password is prompted for, or read from stdin)."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise click.BadParameter("is not an email address", param_hint="--email")
    if not name.strip() or len(name) > 200:
        raise click.BadParameter("must be 1 to 200 characters", param_hint="--name")
    org = db.session.scalar(select(Organisation).where(Organisation.name == organisation_name))
    if org is None:
        raise click.ClickException(f"There is no organisation called {organisation_name!r}.")
    if user_by_email(email) is not None:
        raise click.ClickException(f"A person with the email address {email} already exists.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise click.ClickException("The password must be 10 characters or more.")
    user = User(
        email=email,
        name=name.strip(),
        organisation=org,
        role=Role(role),
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        None,
        "user.create",
        user,
        after=audit.snapshot(user, "email", "name", "organisation_id", "role", "active"),
    )
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email} in {org.name}")


@consult_cli.command("seed-demo")
def seed_demo() -> None:
    """Load the demo consultation, organisations and people into an empty database."""
    if not database_is_empty():
        click.echo("The database already has organisations: the demo was not loaded.")
        return
    data = load_demo()
    db.session.commit()
    click.echo("Loaded the demo: the Blueprint Coalition's manifesto, first draft.")
    click.echo(f"Every demo person's password is: {data['password']}")
    for org in data["organisations"]:
        for person in org["people"]:
            if person["role"] != "member" or person["email"].startswith("amira"):
                click.echo(f"  {person['role']:<12} {person['email']:<40} {org['name']}")
    click.echo("  (every other person in the demo organisations is a member)")


@consult_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(path: Path) -> None:
    """Back up the database to PATH: SQLite's online backup, or pg_dump for PostgreSQL."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if path.exists():
        raise click.ClickException(f"{path} already exists; choose a new file name.")
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(url.database)
        target = sqlite3.connect(path)
        try:
            with target:
                source.backup(target)
        finally:
            source.close()
            target.close()
    elif url.get_backend_name() == "postgresql":
        if shutil.which("pg_dump") is None:
            raise click.ClickException(
                "pg_dump is not installed (apt-get install postgresql-client)."
            )
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        completed = subprocess.run(
            ["pg_dump", "--format=custom", f"--file={path}", f"--dbname={plain}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise click.ClickException(f"pg_dump failed: {completed.stderr.strip()}")
    else:
        raise click.ClickException(f"Backups of {url.get_backend_name()} are not supported.")
    click.echo(f"Backed up the database to {path}")


@consult_cli.command("prune-live-events")
@click.option(
    "--hours",
    type=click.FloatRange(min=0),
    default=None,
    help="Keep the events of the last this many hours (default: LIVE_EVENT_RETENTION_HOURS).",
)
def prune_live_events(hours: float | None) -> None:
    """Delete old live events (run it from cron); pages older than them reload."""
    from datetime import timedelta

    from consult.live.services import prune
    from consult.models import utcnow

    if hours is None:
        hours = float(current_app.config["LIVE_EVENT_RETENTION_HOURS"])
    deleted = prune(older_than=utcnow() - timedelta(hours=hours))
    db.session.commit()
    click.echo(f"Deleted {deleted} live events older than {hours:g} hours.")


def register(app: Flask) -> None:
    app.cli.add_command(consult_cli)
