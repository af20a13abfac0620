"""Delegates: the secretariat names who sets each organisation's positions.

The service without HTTP, then the person, organisation and people pages, then the demo.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select as sql_select

from consult.auth import services as accounts
from consult.auth.services import AccountError
from consult.demo import load_demo
from consult.extensions import db
from consult.models import Organisation, Role
from tests import factories
from tests.helpers import audit_count, audit_events, database_rows, login_as
from tests.html import select, select_one, text_of

# Depends on the database engine (the check constraint on delegates): also runs on PostgreSQL.
pytestmark = pytest.mark.database

NOT_A_MEMBER = "Only members can be delegates. Observers and the secretariat cannot."


# The service --------------------------------------------------------------------------------


def test_set_delegate_names_a_member_and_records_it(cast):
    changed = accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    db.session.commit()
    assert changed is True
    db.session.expire_all()
    assert cast.member.is_delegate is True
    [event] = audit_events("user.delegate")
    assert event.actor_id == cast.secretariat.id and event.object_id == cast.member.id
    assert event.before == {"is_delegate": False} and event.after == {"is_delegate": True}


def test_set_delegate_does_not_commit(cast):
    accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    db.session.rollback()
    db.session.expire_all()
    assert cast.member.is_delegate is False
    assert audit_count() == 0


def test_set_delegate_twice_changes_nothing_the_second_time(cast):
    assert accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    assert not accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    assert audit_count("user.delegate") == 1
    # Stopping someone who is not a delegate changes nothing either.
    assert not accounts.set_delegate(actor=cast.secretariat, user=cast.other_member, delegate=False)
    assert audit_count() == 1


def test_stop_being_a_delegate_records_it(cast):
    accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    assert accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=False)
    db.session.commit()
    db.session.expire_all()
    assert cast.member.is_delegate is False
    [event] = audit_events("user.undelegate")
    assert event.before == {"is_delegate": True} and event.after == {"is_delegate": False}


def test_an_organisation_may_have_several_delegates(cast):
    colleague = factories.user(Role.MEMBER, cast.member_org, name="Ada Alternate")
    accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    accounts.set_delegate(actor=cast.secretariat, user=colleague, delegate=True)
    db.session.commit()
    assert [p.name for p in accounts.organisation_delegates(cast.member_org)] == [
        "Ada Alternate",
        "Mina Member",
    ]
    assert accounts.organisation_delegates(cast.other_org) == []


@pytest.mark.parametrize("who", ["observer", "secretariat"])
def test_only_members_can_be_delegates(cast, who):
    person = getattr(cast, who)
    with pytest.raises(AccountError, match=NOT_A_MEMBER):
        accounts.set_delegate(actor=cast.secretariat, user=person, delegate=True)
    assert person.is_delegate is False
    assert audit_count() == 0


def test_a_deactivated_person_cannot_be_named(cast):
    accounts.set_user_active(actor=cast.secretariat, user=cast.member, active=False)
    events = audit_count()
    with pytest.raises(AccountError, match="This person has been deactivated"):
        accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    assert cast.member.is_delegate is False
    assert audit_count() == events


def test_a_person_of_a_deactivated_organisation_cannot_be_named(cast):
    cast.member_org.active = False
    db.session.flush()
    with pytest.raises(AccountError, match="This person's organisation has been deactivated"):
        accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    assert cast.member.is_delegate is False
    assert audit_count() == 0


def test_a_deactivated_delegate_can_still_be_stopped(cast):
    accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    accounts.set_user_active(actor=cast.secretariat, user=cast.member, active=False)
    cast.member_org.active = False
    assert accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=False)
    assert cast.member.is_delegate is False


def test_organisation_delegates_leaves_out_deactivated_people_unless_asked(cast):
    accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    accounts.set_user_active(actor=cast.secretariat, user=cast.member, active=False)
    assert accounts.organisation_delegates(cast.member_org) == []
    assert accounts.organisation_delegates(cast.member_org, include_deactivated=True) == [
        cast.member
    ]


@pytest.mark.parametrize("role", [Role.OBSERVER, Role.SECRETARIAT])
def test_changing_a_delegates_role_stops_them_being_a_delegate(cast, role):
    """Only members may be delegates: without clearing it, the check constraint fails."""
    accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    assert accounts.change_role(actor=cast.secretariat, user=cast.member, role=role)
    db.session.commit()
    db.session.expire_all()
    assert cast.member.role == role and cast.member.is_delegate is False
    [event] = audit_events("user.change_role")
    assert event.before == {"role": "member", "is_delegate": True}
    assert event.after == {"role": role.value, "is_delegate": False}
    assert audit_count("user.undelegate") == 0  # one change, one event


def test_changing_a_non_delegates_role_records_only_the_role(cast):
    accounts.change_role(actor=cast.secretariat, user=cast.member, role=Role.OBSERVER)
    [event] = audit_events("user.change_role")
    assert event.before == {"role": "member"} and event.after == {"role": "observer"}


# The person page ----------------------------------------------------------------------------


def _delegate_form(page: str):
    return select_one(page, 'form[action$="/delegate"]')


def test_person_page_offers_to_name_a_member(client, cast):
    page = login_as(client, cast.secretariat).get(f"/admin/people/{cast.member.id}")
    html = page.get_data(as_text=True)
    form = _delegate_form(html)
    assert form["action"] == f"/admin/people/{cast.member.id}/delegate"
    assert form["method"] == "post"
    assert select_one(form, 'input[name="delegate"]')["value"] == "1"
    assert text_of(form, "button") == "Name as delegate"
    assert "Mina Member is not a delegate" in text_of(html, "#main-content")


def test_naming_a_delegate_from_the_person_page(client, cast):
    response = login_as(client, cast.secretariat).post(
        f"/admin/people/{cast.member.id}/delegate", data={"delegate": "1"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/people/{cast.member.id}")
    db.session.expire_all()
    assert cast.member.is_delegate is True
    assert audit_count("user.delegate") == 1
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Mina Member is now a delegate for Green Councils Network" in html
    form = _delegate_form(html)
    assert select_one(form, 'input[name="delegate"]')["value"] == "0"
    assert text_of(form, "button") == "Stop being a delegate"
    # Before removing, the page says what it means.
    assert "they can no longer set Green Councils Network’s positions" in text_of(
        html, "#main-content"
    )
    rows = {
        text_of(row, ".govuk-summary-list__key"): text_of(row, ".govuk-summary-list__value")
        for row in select(html, ".govuk-summary-list__row")
    }
    assert rows["Delegate"] == "Yes, for Green Councils Network"


def test_stopping_a_delegate_from_the_person_page(client, cast):
    accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    response = login_as(client, cast.secretariat).post(
        f"/admin/people/{cast.member.id}/delegate", data={"delegate": "0"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert cast.member.is_delegate is False
    assert audit_count("user.undelegate") == 1
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Mina Member is no longer a delegate for Green Councils Network" in html


def test_naming_twice_says_nothing_changed(client, cast):
    accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    response = login_as(client, cast.secretariat).post(
        f"/admin/people/{cast.member.id}/delegate", data={"delegate": "1"}
    )
    assert response.status_code == 303
    assert "Nothing was changed" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert audit_count("user.delegate") == 1


@pytest.mark.parametrize(
    "data", [{}, {"delegate": ""}, {"delegate": "yes"}, {"delegate": "2"}, {"delegate": "<b>"}]
)
def test_bad_input_is_refused_with_a_message(client, cast, data):
    login_as(client, cast.secretariat)
    before = database_rows()
    response = client.post(f"/admin/people/{cast.member.id}/delegate", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Choose whether to name this person as a delegate or stop them being one" in html
    assert "<b>" not in text_of(html, "#main-content")
    assert database_rows() == before


def test_naming_an_unknown_person_is_404(client, cast):
    response = login_as(client, cast.secretariat).post(
        "/admin/people/999999/delegate", data={"delegate": "1"}
    )
    assert response.status_code == 404


def test_naming_an_observer_is_refused_with_the_reason(client, cast):
    login_as(client, cast.secretariat)
    before = database_rows()
    response = client.post(f"/admin/people/{cast.observer.id}/delegate", data={"delegate": "1"})
    assert response.status_code == 303
    assert database_rows() == before
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert NOT_A_MEMBER in html


@pytest.mark.parametrize("who", ["observer", "secretariat"])
def test_person_page_offers_nothing_to_non_members(client, cast, who):
    person = getattr(cast, who)
    html = (
        login_as(client, cast.secretariat).get(f"/admin/people/{person.id}").get_data(as_text=True)
    )
    assert select(html, 'form[action$="/delegate"]') == []
    rows = {
        text_of(row, ".govuk-summary-list__key"): text_of(row, ".govuk-summary-list__value")
        for row in select(html, ".govuk-summary-list__row")
    }
    assert rows["Delegate"] == "No: only members can be delegates"


def test_person_page_explains_why_a_deactivated_member_cannot_be_named(client, cast):
    accounts.set_user_active(actor=cast.secretariat, user=cast.member, active=False)
    html = (
        login_as(client, cast.secretariat)
        .get(f"/admin/people/{cast.member.id}")
        .get_data(as_text=True)
    )
    assert select(html, 'form[action$="/delegate"]') == []
    assert "Reactivate them to name them as one" in text_of(html, "#main-content")


def test_person_page_explains_why_a_member_of_a_deactivated_organisation_cannot_be_named(
    client, cast
):
    cast.other_org.active = False
    html = (
        login_as(client, cast.secretariat)
        .get(f"/admin/people/{cast.other_member.id}")
        .get_data(as_text=True)
    )
    assert select(html, 'form[action$="/delegate"]') == []
    assert "Reactivate Climate Research Institute to name them as one" in text_of(
        html, "#main-content"
    )


# Organisation page and people list ----------------------------------------------------------


def test_organisation_page_without_delegates_says_how_to_name_one(client, cast):
    html = (
        login_as(client, cast.secretariat)
        .get(f"/admin/organisations/{cast.member_org.id}")
        .get_data(as_text=True)
    )
    summary = select_one(html, ".app-delegates")
    assert text_of(summary).startswith("No delegates yet. Name one from a person’s page")
    link = select_one(summary, "a")
    assert link["href"] == f"/admin/people?organisation_id={cast.member_org.id}&role=member"


def test_organisation_page_lists_its_delegates(client, cast):
    colleague = factories.user(Role.MEMBER, cast.member_org, name="Ada Alternate")
    accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    accounts.set_delegate(actor=cast.secretariat, user=colleague, delegate=True)
    accounts.set_user_active(actor=cast.secretariat, user=colleague, active=False)
    html = (
        login_as(client, cast.secretariat)
        .get(f"/admin/organisations/{cast.member_org.id}")
        .get_data(as_text=True)
    )
    items = select(html, "ul.app-delegates li")
    assert [text_of(item) for item in items] == ["Ada Alternate (deactivated)", "Mina Member"]
    assert select_one(items[1], "a")["href"] == f"/admin/people/{cast.member.id}"
    # The people table tags the delegates too.
    assert text_of(html, f"#person-{cast.member.id} .app-delegate-tag") == "Delegate"
    assert select(html, f"#person-{cast.observer.id} .app-delegate-tag") == []


def test_people_list_tags_delegates(client, cast):
    accounts.set_delegate(actor=cast.secretariat, user=cast.other_member, delegate=True)
    html = login_as(client, cast.secretariat).get("/admin/people").get_data(as_text=True)
    assert text_of(html, f"#person-{cast.other_member.id} .app-delegate-tag") == "Delegate"
    for person in (cast.member, cast.observer, cast.secretariat):
        assert select(html, f"#person-{person.id} .app-delegate-tag") == []


# The demo ----------------------------------------------------------------------------------


def test_the_demo_names_one_delegate_per_member_organisation(app):
    load_demo()
    db.session.commit()
    amira = accounts.user_by_email("amira.khan@eastmere.example")
    assert amira is not None and amira.is_delegate
    assert accounts.organisation_delegates(amira.organisation) == [amira]
    organisations = list(db.session.scalars(sql_select(Organisation)))
    assert len(organisations) > 2
    for organisation in organisations:
        has_members = any(p.role == Role.MEMBER for p in organisation.users)
        delegates = accounts.organisation_delegates(organisation)
        assert len(delegates) == (1 if has_members else 0), organisation.name


def test_change_role_page_warns_that_a_delegate_stops_being_one(client, cast):
    accounts.set_delegate(actor=cast.secretariat, user=cast.member, delegate=True)
    login_as(client, cast.secretariat)
    page = client.get(f"/admin/people/{cast.member.id}/role")
    assert "with another role, they stop being one" in text_of(page, "#delegate-warning")
    response = client.post(f"/admin/people/{cast.member.id}/role", data={"role": "observer"})
    assert response.status_code == 303
    db.session.expire_all()
    assert cast.member.role == Role.OBSERVER and cast.member.is_delegate is False
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Mina Member is now observer and no longer a delegate" in html
    assert (
        select(client.get(f"/admin/people/{cast.other_member.id}/role"), "#delegate-warning") == []
    )
