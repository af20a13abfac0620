"""flask consult ... commands."""

from __future__ import annotations

import sqlite3
import threading
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from consult.admin import services as admin_services
from consult.auth import services as accounts
from consult.auth.services import PASSWORD_MIN_LENGTH
from consult.extensions import db
from consult.models import (
    Ask,
    AuditEvent,
    Consultation,
    DraftVersion,
    Organisation,
    Role,
    User,
)
from tests import factories
from tests.helpers import POSTGRES_ADMIN_URL, login_as, make_app, postgres_url

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def test_create_org(runner):
    result = runner.invoke(
        args=["consult", "create-org", "Eastmere City Council", "--kind", "local_authority"]
    )
    assert result.exit_code == 0, result.output
    org = db.session.scalar(
        select(Organisation).where(Organisation.name == "Eastmere City Council")
    )
    assert org is not None and org.kind == "local_authority"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.create"))


def test_create_org_refuses_duplicate_and_bad_input(runner):
    factories.organisation(name="Taken")
    db.session.commit()
    assert runner.invoke(args=["consult", "create-org", "Taken"]).exit_code != 0
    assert runner.invoke(args=["consult", "create-org", "X", "--kind", "bogus"]).exit_code != 0
    assert (
        runner.invoke(
            args=["consult", "create-org", "Y", "--website", "javascript:alert(1)"]
        ).exit_code
        != 0
    )
    assert runner.invoke(args=["consult", "create-org", "x" * 201]).exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def test_create_user_reads_password_from_stdin(runner, client):
    factories.organisation(name="Green Futures Alliance")
    db.session.commit()
    result = runner.invoke(
        args=[
            "consult",
            "create-user",
            "--email",
            "Lucy@Example.org",
            "--name",
            "Lucy Evans",
            "--organisation",
            "Green Futures Alliance",
            "--role",
            "secretariat",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "lucy@example.org"))
    assert user.role == Role.SECRETARIAT and user.password_hash.startswith("$argon2id$")


def test_create_user_refuses_bad_input(runner):
    factories.organisation(name="Org")
    factories.user(email="taken@example.org")
    db.session.commit()
    base = ["consult", "create-user", "--name", "N", "--organisation", "Org", "--password-stdin"]
    assert (
        runner.invoke(
            args=base + ["--email", "taken@example.org"], input="long enough pw\n"
        ).exit_code
        != 0
    )
    assert (
        runner.invoke(args=base + ["--email", "not-an-email"], input="long enough pw\n").exit_code
        != 0
    )
    assert runner.invoke(args=base + ["--email", "new@example.org"], input="short\n").exit_code != 0
    missing = [
        "consult",
        "create-user",
        "--name",
        "N",
        "--organisation",
        "Nope",
        "--email",
        "a@b.org",
        "--password-stdin",
    ]
    assert runner.invoke(args=missing, input="long enough pw\n").exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_seed_demo_loads_the_manifesto_once(runner):
    result = runner.invoke(args=["consult", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert "secretariat@blueprint.example" in result.output
    asks = db.session.scalars(
        select(Ask)
        .join(Consultation)
        .where(Consultation.published_at.is_(None))
        .order_by(Ask.sort_order)
    ).all()
    assert len(asks) == 9
    # Beside the open round, the earlier one is published.
    published = db.session.scalars(
        select(Consultation).where(Consultation.published_at.is_not(None))
    ).all()
    assert len(published) == 1 and len(published[0].asks) == 4
    assert asks[0].title == "Recognise the need for a place-based approach"
    assert any("£60bn over 10 years" in v.body for a in asks for v in a.versions)
    assert db.session.scalar(select(func.count()).select_from(Organisation)) >= 8
    versions = db.session.scalar(select(func.count()).select_from(DraftVersion))
    again = runner.invoke(args=["consult", "seed-demo"])
    assert again.exit_code == 0 and "not loaded" in again.output
    assert db.session.scalar(select(func.count()).select_from(DraftVersion)) == versions


def test_backup_copies_the_database(runner, app, tmp_path, backend):
    factories.organisation(name="Backed up")
    db.session.commit()
    target = tmp_path / "backup.db"
    result = runner.invoke(args=["consult", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    if backend == "sqlite":
        with sqlite3.connect(target) as conn:
            assert conn.execute("select name from organisation").fetchall() == [("Backed up",)]
        conn.close()
    else:
        assert target.read_bytes().startswith(b"PGDMP")
    assert runner.invoke(args=["consult", "backup", str(target)]).exit_code != 0


def test_create_org_refuses_a_name_differing_only_in_case(runner):
    """The same case-insensitive duplicate check as the web page, with its message."""
    factories.organisation(name="Green Futures Alliance")
    db.session.commit()
    result = runner.invoke(args=["consult", "create-org", "  green FUTURES alliance "])
    assert result.exit_code != 0
    assert admin_services.DUPLICATE_NAME in result.output
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def _create_user(runner, password: str, email: str = "new@example.org"):
    return runner.invoke(
        args=[
            "consult",
            "create-user",
            "--email",
            email,
            "--name",
            "New Person",
            "--organisation",
            "org",  # organisation names are matched ignoring case
            "--password-stdin",
        ],
        input=password + "\n",
    )


def test_create_user_has_the_web_forms_minimum_password_length(runner):
    factories.organisation(name="Org")
    db.session.commit()
    too_short = "p" * (accounts.PASSWORD_MIN_LENGTH - 1)
    result = _create_user(runner, too_short)
    assert result.exit_code != 0
    # Word for word what the web forms say about the same password.
    assert accounts.password_problem(too_short) in result.output
    assert f"Password must be {PASSWORD_MIN_LENGTH} characters or more" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    result = _create_user(runner, "p" * accounts.PASSWORD_MIN_LENGTH)
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_create_user_refuses_the_email_address_as_password_like_the_web(runner):
    factories.organisation(name="Org")
    db.session.commit()
    result = _create_user(runner, "New@Example.org")
    assert result.exit_code != 0
    assert "Password must not be the same as your email address" in result.output


def test_the_cli_records_the_same_audit_entries_as_the_web(runner, client):
    secretariat = factories.user(Role.SECRETARIAT, factories.organisation(name="Secretariat"))
    factories.organisation(name="Org")
    db.session.commit()
    login_as(client, secretariat)
    response = client.post(
        "/admin/organisations/new",
        data={"name": "From the web", "kind": "ngo", "website": "https://web.example"},
    )
    assert response.status_code == 303
    result = runner.invoke(
        args=[
            "consult",
            "create-org",
            "From the CLI",
            "--kind",
            "ngo",
            "--website",
            "https://cli.example",
        ]
    )
    assert result.exit_code == 0, result.output
    web, cli = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "organisation").order_by(AuditEvent.id)
    ).all()
    assert web.action == cli.action == "organisation.create"
    assert web.after.keys() == cli.after.keys()
    assert (web.actor_id, cli.actor_id) == (secretariat.id, None)

    # A person created at the command line: the service's entry, with the same fields as an
    # invitation from the web records.
    assert _create_user(runner, "a long enough password").exit_code == 0
    invited = accounts.invite(
        actor=secretariat,
        email="invited@example.org",
        name="Invited",
        organisation=db.session.scalar(select(Organisation).where(Organisation.name == "Org")),
        role=Role.MEMBER,
    )
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create"))
    [invitation] = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "user.invite", AuditEvent.object_id == invited.id
        )
    ).all()
    assert created.actor_id is None
    assert created.after.keys() == invitation.after.keys() == set(accounts.USER_FIELDS)


# Restore (issue 11): a backup taken while people write restores into a fresh database, whole
# and consistent.


@pytest.fixture
def fresh_database_url(backend, tmp_path):
    """The address of a new, empty database of the backend's kind (dropped afterwards)."""
    if backend != "postgres":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    name = f"consult_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(name)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _organisations_and_their_events() -> tuple[int, int]:
    created = select(func.count()).where(AuditEvent.action == "organisation.create")
    return (
        db.session.scalar(select(func.count()).select_from(Organisation)) or 0,
        db.session.scalar(created.select_from(AuditEvent)) or 0,
    )


def test_a_backup_taken_during_writes_restores_whole_into_a_fresh_database(
    app, runner, tmp_path, fresh_database_url
):
    written = 0
    stop = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        """Organisations one transaction at a time, each with its audit event."""
        nonlocal written
        with app.app_context():
            try:
                while not stop.is_set():
                    admin_services.create_organisation(
                        actor=None, name=f"Writer {written}", kind="other"
                    )
                    db.session.commit()
                    written += 1
            except BaseException as error:  # reported by the test below
                failures.append(error)

    def wait_for(count: int) -> None:
        for _ in range(6000):
            if written >= count or failures:
                return
            threading.Event().wait(0.01)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        wait_for(20)
        backup = tmp_path / "during-writes.backup"
        before_backup = written
        result = runner.invoke(args=["consult", "backup", str(backup)])
        assert result.exit_code == 0, result.output
        at_backup = written
        wait_for(at_backup + 20)  # and the writes go on after it
    finally:
        stop.set()
        writer.join()
    assert failures == []

    restored_app = make_app({**app.config, "SQLALCHEMY_DATABASE_URI": fresh_database_url})
    try:
        with restored_app.app_context():
            result = restored_app.test_cli_runner().invoke(args=["consult", "restore", str(backup)])
            assert result.exit_code == 0, result.output
            organisations, events = _organisations_and_their_events()
            # A snapshot of one moment: every organisation with its audit event, taken while
            # the writes went on (at least those before the backup, not those after).
            assert organisations == events
            assert 20 <= before_backup <= organisations <= at_backup < written
            # The audit log is append-only there too, and a second restore is refused.
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text("DELETE FROM audit_event"))
            db.session.rollback()
            again = restored_app.test_cli_runner().invoke(args=["consult", "restore", str(backup)])
            assert again.exit_code != 0 and "already has tables" in again.output
            assert _organisations_and_their_events() == (organisations, events)
    finally:
        with restored_app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_restore_refuses_what_is_not_a_backup(app, tmp_path, fresh_database_url, backend):
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("not a backup")
    restored_app = make_app({**app.config, "SQLALCHEMY_DATABASE_URI": fresh_database_url})
    try:
        with restored_app.app_context():
            result = restored_app.test_cli_runner().invoke(
                args=["consult", "restore", str(not_a_backup)]
            )
            assert result.exit_code != 0
            assert ("not a SQLite backup" if backend == "sqlite" else "pg_restore failed") in (
                result.output
            )
    finally:
        with restored_app.app_context():
            db.engine.dispose()
