"""consult.admin.services, without HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from consult.admin import personal_data, services
from consult.auth import services as accounts
from consult.extensions import db
from consult.models import AuditEvent, Organisation, OrganisationKind, Role
from tests import factories
from tests.helpers import audit_count, audit_events

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def test_create_organisation_records_the_event(cast):
    org = services.create_organisation(
        actor=cast.secretariat,
        name="  Peat Partnership ",
        kind="research",
        website=" https://peat.example ",
    )
    assert org.id is not None and org.name == "Peat Partnership"
    assert org.kind == OrganisationKind.RESEARCH and org.website == "https://peat.example"
    [event] = audit_events("organisation.create")
    assert event.actor_id == cast.secretariat.id and event.object_id == org.id
    assert event.ip_address is None  # no request
    assert event.after["name"] == "Peat Partnership" and event.after["active"] is True


def test_create_organisation_does_not_commit(cast):
    services.create_organisation(actor=cast.secretariat, name="Uncommitted", kind="ngo")
    db.session.rollback()
    assert services.organisation_name_taken("Uncommitted") is False
    assert audit_count() == 0


def test_create_organisation_refuses_a_taken_name(cast):
    with pytest.raises(services.AdminError, match="An organisation with this name already exists"):
        services.create_organisation(
            actor=cast.secretariat, name="GREEN councils network", kind="ngo"
        )
    assert audit_count() == 0


def test_the_database_refuses_a_duplicate_name_too(cast):
    db.session.add(Organisation(name="Green Councils Network", kind="ngo"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_create_organisation_refuses_an_unknown_kind(cast):
    with pytest.raises(ValueError):
        services.create_organisation(actor=cast.secretariat, name="Odd", kind="bogus")


def test_update_organisation(cast):
    changed = services.update_organisation(
        actor=cast.secretariat,
        organisation=cast.other_org,
        name="Climate Research Institute",
        kind="ngo",
        website="",
    )
    assert changed is True
    [event] = audit_events("organisation.update")
    assert event.before == {"kind": "research"} and event.after == {"kind": "ngo"}
    assert (
        services.update_organisation(
            actor=cast.secretariat,
            organisation=cast.other_org,
            name="Climate Research Institute",
            kind="ngo",
            website=None,
        )
        is False
    )
    assert audit_count("organisation.update") == 1


def test_update_organisation_refuses_another_organisations_name(cast):
    with pytest.raises(services.AdminError):
        services.update_organisation(
            actor=cast.secretariat,
            organisation=cast.other_org,
            name="Green Councils Network",
            kind="research",
            website=None,
        )
    assert cast.other_org.name == "Climate Research Institute"


def test_deactivate_organisation_rotates_every_session(cast):
    tokens = {cast.member.session_token, cast.observer.session_token}
    signed_out = services.set_organisation_active(
        actor=cast.secretariat, organisation=cast.member_org, active=False
    )
    assert signed_out == 2
    assert not cast.member_org.active
    assert not tokens & {cast.member.session_token, cast.observer.session_token}
    [event] = audit_events("organisation.deactivate")
    assert event.before == {"active": True} and event.after == {"active": False}


def test_deactivate_own_organisation_is_refused(cast):
    with pytest.raises(services.AdminError, match="your own organisation"):
        services.set_organisation_active(
            actor=cast.secretariat, organisation=cast.secretariat_org, active=False
        )
    assert cast.secretariat_org.active
    assert audit_count() == 0


def test_reactivating_an_active_organisation_is_refused(cast):
    with pytest.raises(services.AdminError, match="already active"):
        services.set_organisation_active(
            actor=cast.secretariat, organisation=cast.member_org, active=True
        )


def test_person_status(cast):
    invited = factories.user(Role.MEMBER, cast.member_org, password=None)
    gone = factories.user(Role.MEMBER, cast.member_org, active=False)
    invited_and_gone = factories.user(Role.MEMBER, cast.member_org, password=None, active=False)
    assert services.person_status(cast.member) == services.PersonStatus.ACTIVE
    assert services.person_status(invited) == services.PersonStatus.INVITED
    assert services.person_status(gone) == services.PersonStatus.DEACTIVATED
    assert services.person_status(invited_and_gone) == services.PersonStatus.DEACTIVATED


def test_people_statement_agrees_with_person_status(cast):
    factories.user(Role.MEMBER, cast.member_org, password=None)
    factories.user(Role.OBSERVER, cast.other_org, active=False)
    erased = factories.user(Role.MEMBER, cast.other_org)
    personal_data.erase(actor=cast.secretariat, person=erased)
    assert services.person_status(erased) == services.PersonStatus.ERASED
    for status in services.PersonStatus:
        people = db.session.scalars(services.people_statement(status=status)).all()
        assert people, status
        assert all(services.person_status(p) == status for p in people)
    observers = db.session.scalars(
        services.people_statement(role=Role.OBSERVER, organisation_id=cast.member_org.id)
    ).all()
    assert observers == [cast.observer]


def test_people_counts(cast):
    assert services.people_counts([cast.member_org.id, cast.other_org.id]) == {
        cast.member_org.id: 2,
        cast.other_org.id: 1,
    }
    assert services.people_counts([]) == {}


def test_audit_statement_uses_whole_uk_days(cast):
    def add(when):
        db.session.add(AuditEvent(action="x.y", object_type="thing", object_id=1, created_at=when))

    add(datetime(2026, 6, 30, 22, 59, tzinfo=UTC))  # 23:59 on 30 June, UK
    add(datetime(2026, 6, 30, 23, 0, tzinfo=UTC))  # 00:00 on 1 July, UK
    add(datetime(2026, 7, 1, 22, 59, tzinfo=UTC))  # 23:59 on 1 July, UK
    add(datetime(2026, 12, 31, 23, 59, tzinfo=UTC))  # winter: UK time is UTC
    db.session.flush()

    def count(**filters):
        return len(db.session.scalars(services.audit_statement(**filters)).all())

    assert count(date_from=date(2026, 7, 1), date_to=date(2026, 7, 1)) == 2
    assert count(date_to=date(2026, 6, 30)) == 1
    assert count(date_from=date(2026, 12, 31)) == 1
    assert count(date_from=date(2027, 1, 1)) == 0


def test_a_name_taken_at_the_same_moment_is_the_same_refusal(cast, monkeypatch):
    """The check said the name was free, then the unique index refused it (a race)."""
    monkeypatch.setattr(services, "organisation_name_taken", lambda *a, **k: False)
    with pytest.raises(services.AdminError, match=services.DUPLICATE_NAME) as refused:
        services.create_organisation(
            actor=cast.secretariat, name="GREEN councils network", kind="ngo"
        )
    assert refused.value.field == "name"
    db.session.rollback()
    assert audit_count() == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "Enter the organisation's name"),
        ({"name": "x" * 201}, "name", "Name must be 200 characters or fewer"),
        ({"name": "<b>Bold</b>"}, "name", "must not include the characters < or >"),
        ({"kind": "bogus"}, "kind", "Select the kind of organisation"),
        ({"website": "javascript:alert(1)"}, "website", "Enter a website address starting"),
    ],
)
def test_create_organisation_checks_what_the_form_checks(cast, changes, field, message):
    """The command line calls this service too, so it refuses what the web form refuses."""
    values = {"name": "Fine name", "kind": "ngo", "website": None, **changes}
    with pytest.raises(services.AdminError, match=message) as refused:
        services.create_organisation(actor=cast.secretariat, **values)
    assert refused.value.field == field
    assert audit_count() == 0


def test_change_role_to_the_same_role_changes_nothing(cast):
    session_token = cast.member.session_token
    assert not accounts.change_role(actor=cast.secretariat, user=cast.member, role=Role.MEMBER)
    assert cast.member.session_token == session_token
    assert audit_events("user.change_role") == []
    assert accounts.change_role(actor=cast.secretariat, user=cast.member, role=Role.OBSERVER)
    assert len(audit_events("user.change_role")) == 1


def test_a_person_already_deactivated_or_active_is_refused(cast):
    with pytest.raises(accounts.AccountError, match="This person's account is already active."):
        accounts.set_user_active(actor=cast.secretariat, user=cast.member, active=True)
    accounts.set_user_active(actor=cast.secretariat, user=cast.member, active=False)
    with pytest.raises(accounts.AccountError, match="This person is already deactivated."):
        accounts.set_user_active(actor=cast.secretariat, user=cast.member, active=False)
    assert [e.action for e in audit_events("user.deactivate")] == ["user.deactivate"]
    assert audit_events("user.reactivate") == []
