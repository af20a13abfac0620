"""flask consult ...: create organisations and people, load the demo, back up and restore the
database, export and import a consultation's JSON archive, render comments' HTML again."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.engine import make_url

from consult.admin import services as admin_services
from consult.auth import services as accounts
from consult.demo import database_is_empty, load_demo
from consult.extensions import db
from consult.models import OrganisationKind, Role

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
    """Create an organisation (the same checks and audit entry as the web page)."""
    try:
        org = admin_services.create_organisation(actor=None, name=name, kind=kind, website=website)
        db.session.commit()
    except admin_services.AdminError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(f"Created organisation {org.id}: {org.name}")


@consult_cli.command("create-user")
@click.option("--email", required=True, help="Their email address (they sign in with it).")
@click.option("--name", required=True, help="Their full name.")
@click.option("--organisation", "organisation_name", required=True, help="The organisation's name.")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default="member", show_default=True
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(
    email: str, name: str, organisation_name: str, role: str, password_stdin: bool
) -> None:
    """Create a person who can sign in at once (the password is prompted for, or read from stdin)."""
    # Checked again by the service; checked here too so as not to ask for a password in vain.
    if not accounts.is_email_address(email.strip().lower()):
        raise click.ClickException(accounts.EMAIL_FORMAT)
    org = admin_services.organisation_by_name(organisation_name)
    if org is None:
        raise click.ClickException(f"There is no organisation called {organisation_name!r}.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(
            actor=None,
            email=email,
            name=name,
            organisation=org,
            role=Role(role),
            password=password,
        )
        db.session.commit()
    except accounts.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
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
        if not url.database or url.database == ":memory:":
            raise click.ClickException("An in-memory SQLite database cannot be backed up.")
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


def _has_tables() -> bool:
    from sqlalchemy import inspect

    return bool(inspect(db.engine).get_table_names())


@consult_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def restore(path: Path) -> None:
    """Restore a backup made by `flask consult backup` into the configured database, which
    must be new and empty (no tables): a SQLite file, or a PostgreSQL database (pg_restore)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if _has_tables():
        raise click.ClickException(
            "The database already has tables: restore only into a new, empty database "
            "(set DATABASE_URL to it), then point Consult at it."
        )
    db.engine.dispose()  # nothing of ours holds the database while it is written
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise click.ClickException("Restore into a SQLite file, not an in-memory database.")
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            try:
                checked = source.execute("PRAGMA integrity_check").fetchone()
            except sqlite3.DatabaseError as error:
                raise click.ClickException(f"{path} is not a SQLite backup: {error}") from None
            if checked != ("ok",):
                raise click.ClickException(f"{path} is damaged: {checked[0]}")
            target = sqlite3.connect(url.database)
            try:
                with target:
                    source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
    elif url.get_backend_name() == "postgresql":
        if shutil.which("pg_restore") is None:
            raise click.ClickException(
                "pg_restore is not installed (apt-get install postgresql-client)."
            )
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        completed = subprocess.run(
            [
                "pg_restore",
                "--single-transaction",
                "--exit-on-error",
                "--no-owner",
                f"--dbname={plain}",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise click.ClickException(f"pg_restore failed: {completed.stderr.strip()}")
    else:
        raise click.ClickException(f"Restoring {url.get_backend_name()} is not supported.")
    click.echo(f"Restored {path} into the database.")


@consult_cli.command("prune-live-events")
@click.option(
    "--hours",
    type=click.FloatRange(min=0),
    default=None,
    help="Keep the events of the last this many hours (default: LIVE_EVENT_RETENTION_HOURS).",
)
def prune_live_events(hours: float | None) -> None:
    """Delete live events older than the retention; run it from cron every hour.

    Deletes in batches of 5,000, oldest first, each batch its own transaction, so streams and
    posts are never held up for long however many there are. A page that had not yet seen
    the deleted events reloads.
    """
    from datetime import timedelta

    from consult.live.services import PRUNE_BATCH, prune
    from consult.models import utcnow

    if hours is None:
        hours = float(current_app.config["LIVE_EVENT_RETENTION_HOURS"])
    cutoff = utcnow() - timedelta(hours=hours)
    deleted = 0
    while batch := prune(older_than=cutoff, limit=PRUNE_BATCH):
        db.session.commit()
        deleted += batch
    db.session.commit()
    click.echo(f"Deleted {deleted} live events older than {hours:g} hours.")


@consult_cli.command("send-reminders")
@click.option(
    "--days",
    type=click.FloatRange(min=0),
    default=None,
    help="Remind about consultations closing within this many days "
    "(default: REMINDER_DAYS_BEFORE_CLOSE).",
)
def send_reminders(days: float | None) -> None:
    """Email the delegates of organisations that have not given a position (run it from cron)."""
    from consult.models import utcnow
    from consult.positions.reminders import send_reminders as send

    if days is None:
        days = float(current_app.config["REMINDER_DAYS_BEFORE_CLOSE"])
    run = send(now=utcnow(), days_before=days)
    db.session.commit()
    click.echo(f"Sent {run.sent} reminder email{'' if run.sent == 1 else 's'}.")
    for title, organisation in run.without_delegate:
        click.echo(f"No delegate to remind: {organisation} ({title})")


@consult_cli.command("send-mail")
def send_mail() -> None:
    """Send the queued emails that are due, retries included (run it from cron)."""
    from consult.mail import drain

    run = drain()
    click.echo(
        f"Sent {run.sent} email{'' if run.sent == 1 else 's'}; "
        f"{run.retrying} to retry later; {run.failed} given up."
    )


@consult_cli.command("send-digests")
def send_digests() -> None:
    """Email each person their daily digest of what is new on the asks they follow (run it
    from cron once a day; running it twice sends nothing twice)."""
    from consult.mail import wait_for_sent_mail
    from consult.notifications.services import send_digests as send

    run = send()
    db.session.commit()
    wait_for_sent_mail()
    click.echo(f"Sent {run.emails} digest{'' if run.emails == 1 else 's'} ({run.items} items).")


@consult_cli.command("export-archive")
@click.argument("consultation_id", type=int)
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def export_archive(consultation_id: int, path: Path | None) -> None:
    """Write consultation CONSULTATION_ID's JSON archive to FILE (or standard output)."""
    from consult.archive.export import archive, dumps
    from consult.models import Consultation

    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise click.ClickException(f"There is no consultation {consultation_id}.")
    text = dumps(archive(consultation))
    if path is None:
        click.echo(text, nl=False)
        return
    if path.exists():
        raise click.ClickException(f"{path} already exists; choose a new file name.")
    path.write_text(text, encoding="utf-8")
    click.echo(f"Wrote the archive of {consultation.title!r} to {path}", err=True)


@consult_cli.command("import-archive")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def import_archive(path: Path) -> None:
    """Load a consultation's JSON archive from FILE into an empty database. Its people can
    not sign in: they have no passwords and placeholder email addresses."""
    from consult.archive.load import ArchiveError
    from consult.archive.load import import_archive as load_archive

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"{path} is not a JSON file: {error}") from None
    try:
        consultation = load_archive(data)
        db.session.commit()
    except ArchiveError as error:
        db.session.rollback()
        raise click.ClickException(f"The archive was not loaded. {error}") from None
    click.echo(f"Loaded the archive: consultation {consultation.id}, {consultation.title!r}.")


@consult_cli.command("render-comments")
@click.option(
    "--all",
    "every",
    is_flag=True,
    help="Render every comment again, not only those an earlier renderer stored.",
)
def render_comments(every: bool) -> None:
    """Render again the stored HTML of comments an earlier version of the renderer made.

    Run it after an upgrade that changes how comments' Markdown is rendered (the renderer's
    version, COMMENT_RENDERER_VERSION, goes up). Works in batches of 500, by id, each batch
    its own transaction; safe to run again, and while people are commenting.
    """
    from consult.comments.services import render_stored_html
    from consult.text import COMMENT_RENDERER_VERSION

    after = rendered = 0
    while ids := render_stored_html(after=after, every=every):
        db.session.commit()
        after, rendered = ids[-1], rendered + len(ids)
        click.echo(f"Rendered {rendered} comment{'' if rendered == 1 else 's'} so far.")
    db.session.commit()
    click.echo(
        f"Rendered {rendered} comment{'' if rendered == 1 else 's'} again "
        f"(renderer version {COMMENT_RENDERER_VERSION})."
    )


def register(app: Flask) -> None:
    app.cli.add_command(consult_cli)
