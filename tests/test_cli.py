"""flask consult ... commands."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select

from consult.extensions import db
from consult.models import Ask, AuditEvent, DraftVersion, Organisation, Role, User
from tests import factories

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
    asks = db.session.scalars(select(Ask).order_by(Ask.position)).all()
    assert len(asks) == 9
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
