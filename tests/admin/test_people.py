"""People: list, invite, resend, change role, deactivate and reactivate (as the secretariat)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from consult.auth import services as accounts
from consult.extensions import db
from consult.models import AccountToken, Role, TokenPurpose, User
from tests import factories
from tests.helpers import audit_count, audit_events, is_sign_in_redirect, login_as
from tests.html import assert_no_active_html, select_one, text_of
from tests.html import select as css_select
from tests.smtp import body_of

INVITATION_LINK = re.compile(r"https?://[^\s]+/invitations/([A-Za-z0-9_\-]+)")


def people_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def invitation_tokens(message) -> list[str]:
    return INVITATION_LINK.findall(body_of(message))


def row(page: str, user: User) -> str:
    """The text of the person's row."""
    return text_of(page, f"#person-{user.id}")


# List ------------------------------------------------------------------------------------


def test_people_list_shows_each_person(client, cast):
    invited = factories.user(Role.OBSERVER, cast.other_org, name="Ivy Invited", password=None)
    gone = factories.user(Role.MEMBER, cast.member_org, name="Gus Gone", active=False)
    page = login_as(client, cast.secretariat).get("/admin/people").get_data(as_text=True)
    member = row(page, cast.member)
    assert "Mina Member" in member and "mina@councils.example" in member
    assert "Green Councils Network" in member and "Member" in member and "Active" in member
    assert "Invited" in row(page, invited) and "Observer" in row(page, invited)
    assert "Deactivated" in row(page, gone)
    assert "Secretariat" in row(page, cast.secretariat)
    assert css_select(page, 'a[href="/admin/people/invite"]') and "Invite a person" in page


@pytest.mark.parametrize(
    "query, shown, hidden",
    [
        ("role=observer", ["Oli Observer"], ["Mina Member", "Sam Secretary", "Rae Researcher"]),
        ("role=secretariat", ["Sam Secretary"], ["Mina Member", "Oli Observer"]),
        ("status=invited", ["Ivy Invited"], ["Mina Member", "Gus Gone"]),
        ("status=deactivated", ["Gus Gone"], ["Mina Member", "Ivy Invited"]),
        ("status=active", ["Mina Member", "Rae Researcher"], ["Ivy Invited", "Gus Gone"]),
        (
            "role=member&status=active",
            ["Mina Member", "Rae Researcher"],
            ["Oli Observer", "Gus Gone", "Ivy Invited"],
        ),
    ],
)
def test_people_list_filters(client, cast, query, shown, hidden):
    factories.user(Role.MEMBER, cast.other_org, name="Ivy Invited", password=None)
    factories.user(Role.MEMBER, cast.member_org, name="Gus Gone", active=False)
    page = login_as(client, cast.secretariat).get(f"/admin/people?{query}")
    text = text_of(page.get_data(as_text=True), "main")  # the header names who is signed in
    assert page.status_code == 200
    for name in shown:
        assert name in text
    for name in hidden:
        assert name not in text


def test_people_list_filters_by_organisation(client, cast):
    page = login_as(client, cast.secretariat).get(
        f"/admin/people?organisation_id={cast.member_org.id}"
    )
    text = page.get_data(as_text=True)
    table = text_of(text, "main table tbody")
    assert "Mina Member" in table and "Oli Observer" in table
    assert "Rae Researcher" not in table and "Sam Secretary" not in table
    selected = select_one(text, 'select[name="organisation_id"] option[selected]')
    assert selected["value"] == str(cast.member_org.id)


def test_people_list_empty_state_for_filters(client, cast):
    page = login_as(client, cast.secretariat).get("/admin/people?status=invited")
    assert "No one matches these filters." in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "query, message",
    [
        ("organisation_id=abc", "Select an organisation from the list"),
        ("organisation_id=999999", "Select an organisation from the list"),
        ("role=emperor", "Select a role from the list"),
        ("status=<script>alert(1)</script>", "Select a status from the list"),
    ],
)
def test_people_list_refuses_bad_filters(client, cast, query, message):
    page = login_as(client, cast.secretariat).get(f"/admin/people?{query}")
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert message in text
    assert_no_active_html(text)
    assert "Mina Member" not in text


@pytest.mark.database
def test_people_list_is_paginated_and_pages_keep_the_filters(client, cast):
    for n in range(30):
        factories.user(Role.OBSERVER, cast.other_org, name=f"Bulk person {n:02d}")
    login_as(client, cast.secretariat)
    url = f"/admin/people?organisation_id={cast.other_org.id}&role=observer&status=active"
    first = client.get(url).get_data(as_text=True)
    assert len(css_select(first, "tr[id^=person-]")) == 25
    assert "Showing 1 to 25 of 30 people" in first
    second_href = (
        f"/admin/people?organisation_id={cast.other_org.id}&role=observer&status=active&page=2"
    )
    assert css_select(first, f'a[href="{second_href}"]')
    second = client.get(second_href).get_data(as_text=True)
    assert len(css_select(second, "tr[id^=person-]")) == 5
    assert "Rae Researcher" not in second  # still filtered to observers


# Invite ----------------------------------------------------------------------------------


def invite_data(cast, **changes) -> dict:
    data = {
        "email": "Nia.New@Councils.example",
        "name": "Nia New",
        "organisation_id": str(cast.member_org.id),
        "role": "member",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_invite_form_offers_active_organisations_and_preselects(client, cast):
    cast.other_org.active = False
    page = (
        login_as(client, cast.secretariat)
        .get(f"/admin/people/invite?organisation_id={cast.member_org.id}")
        .get_data(as_text=True)
    )
    selected = select_one(page, 'select[name="organisation_id"] option[selected]')
    assert selected["value"] == str(cast.member_org.id)
    assert "Climate Research Institute" not in page
    assert select_one(page, 'input[name="role"][checked]')["value"] == "member"
    for role in ("Member", "Observer", "Secretariat"):
        assert role in page


@pytest.mark.parametrize("organisation_id", ["abc", "999999", ""])
def test_invite_form_ignores_a_bad_preselection(client, cast, organisation_id):
    page = login_as(client, cast.secretariat).get(
        f"/admin/people/invite?organisation_id={organisation_id}"
    )
    assert page.status_code == 200
    assert not css_select(
        page, 'select[name="organisation_id"] option[selected][value]:not([value=""])'
    )


def test_invite_creates_the_person_and_sends_one_email(client, cast, outbox):
    response = login_as(client, cast.secretariat).post(
        "/admin/people/invite", data=invite_data(cast, role="observer")
    )
    assert response.status_code == 303
    person = accounts.user_by_email("nia.new@councils.example")
    assert person is not None
    assert response.headers["Location"] == f"/admin/people/{person.id}"
    assert person.name == "Nia New" and person.role == "observer"
    assert person.organisation_id == cast.member_org.id
    assert person.password_hash is None and not person.is_active
    [message] = outbox()
    assert message["To"] == "nia.new@councils.example"
    [token] = invitation_tokens(message)
    assert accounts.find_token(token, TokenPurpose.INVITATION).user_id == person.id
    [event] = audit_events("user.invite")
    assert event.actor_id == cast.secretariat.id and event.object_id == person.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Invitation sent to nia.new@councils.example" in page
    assert "Invited" in page


@pytest.mark.database
def test_invite_refuses_an_email_already_in_use(client, cast, outbox):
    before = people_count()
    response = login_as(client, cast.secretariat).post(
        "/admin/people/invite", data=invite_data(cast, email=" MINA@councils.example ")
    )
    assert response.status_code == 422
    assert "A person with this email address already has an account." in response.get_data(
        as_text=True
    )
    assert people_count() == before
    assert outbox() == []
    assert audit_count() == 0


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"email": ""}, "Enter their email address"),
        ({"email": "not-an-email"}, "Enter an email address in the correct format"),
        ({"email": "<script>@x.example"}, "Enter an email address in the correct format"),
        ({"email": "a" * 243 + "@example.org"}, "Email address must be 254 characters or fewer"),
        ({"name": ""}, "Enter their full name"),
        ({"name": "x" * 201}, "Full name must be 200 characters or fewer"),
        (
            {"name": "<script>alert(1)</script>"},
            "Full name must not include the characters &lt; or",
        ),
        ({"organisation_id": None}, "Select an organisation"),
        ({"organisation_id": ""}, "Select an organisation"),
        ({"organisation_id": "abc"}, "Select an organisation"),
        ({"organisation_id": "999999"}, "Select an organisation"),
        ({"role": "emperor"}, "Select a role"),
        ({"role": None}, "Select a role"),
    ],
)
def test_invite_refuses_bad_input(client, cast, outbox, changes, message):
    before = people_count()
    response = login_as(client, cast.secretariat).post(
        "/admin/people/invite", data=invite_data(cast, **changes)
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in text and message in text
    assert_no_active_html(text)
    assert people_count() == before
    assert outbox() == []
    assert audit_count() == 0


def test_invite_refuses_a_deactivated_organisation(client, cast, outbox):
    cast.other_org.active = False
    response = login_as(client, cast.secretariat).post(
        "/admin/people/invite", data=invite_data(cast, organisation_id=str(cast.other_org.id))
    )
    assert response.status_code == 422
    assert "Select an organisation" in response.get_data(as_text=True)
    assert accounts.user_by_email("nia.new@councils.example") is None
    assert outbox() == []


def test_invite_shows_the_service_refusal_as_a_form_error(client, cast, outbox, monkeypatch):
    """AccountError from auth.services.invite is shown as a form error, with 422."""

    def refuse(**kwargs):
        raise accounts.AccountError("You cannot invite people to a deactivated organisation.")

    monkeypatch.setattr(accounts, "invite", refuse)
    response = login_as(client, cast.secretariat).post(
        "/admin/people/invite", data=invite_data(cast)
    )
    assert response.status_code == 422
    assert "You cannot invite people to a deactivated organisation." in response.get_data(
        as_text=True
    )


# A person's page -------------------------------------------------------------------------


def test_person_page_shows_the_account_and_recent_events(client, cast):
    login_as(client, cast.secretariat).post(
        f"/admin/people/{cast.member.id}/role", data={"role": "observer"}
    )
    page = client.get(f"/admin/people/{cast.member.id}").get_data(as_text=True)
    assert text_of(page, "h1") == "Mina Member"
    assert "mina@councils.example" in page and "Green Councils Network" in page
    assert "Observer" in page and "Active" in page
    assert "Never" in page  # last signed in
    assert "user.change_role" in page
    assert css_select(page, f'a[href="/admin/people/{cast.member.id}/role"]')
    assert css_select(page, f'a[href="/admin/people/{cast.member.id}/deactivate"]')
    assert "resend-invitation" not in page
    assert css_select(page, 'a[href="/admin/audit?actor=mina@councils.example"]')


def test_person_page_for_an_invited_person_offers_to_resend(client, cast):
    invited = factories.user(Role.MEMBER, cast.member_org, name="Ivy Invited", password=None)
    page = (
        login_as(client, cast.secretariat).get(f"/admin/people/{invited.id}").get_data(as_text=True)
    )
    assert css_select(page, f'form[action="/admin/people/{invited.id}/resend-invitation"]')
    assert "Not yet" in page


def test_own_page_does_not_offer_deactivation(client, cast):
    page = login_as(client, cast.secretariat).get(f"/admin/people/{cast.secretariat.id}")
    assert f"/admin/people/{cast.secretariat.id}/deactivate" not in page.get_data(as_text=True)


# Resend ----------------------------------------------------------------------------------


def test_resend_makes_the_old_link_unusable(client, cast, outbox):
    login_as(client, cast.secretariat).post("/admin/people/invite", data=invite_data(cast))
    person = accounts.user_by_email("nia.new@councils.example")
    [old] = invitation_tokens(outbox()[0])
    response = client.post(f"/admin/people/{person.id}/resend-invitation")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/people/{person.id}"
    messages = outbox()
    assert len(messages) == 2
    [new] = invitation_tokens(messages[1])
    assert new != old
    assert accounts.find_token(old, TokenPurpose.INVITATION) is None
    assert accounts.find_token(new, TokenPurpose.INVITATION).user_id == person.id
    assert audit_count("user.resend_invitation") == 1
    assert "A new invitation was sent to nia.new@councils.example" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)


def test_resend_is_refused_once_accepted(client, cast, outbox):
    response = login_as(client, cast.secretariat).post(
        f"/admin/people/{cast.member.id}/resend-invitation"
    )
    assert response.status_code == 303
    assert outbox() == []
    assert audit_count() == 0
    assert db.session.scalar(select(func.count(AccountToken.id))) == 0
    assert "This person has already accepted their invitation." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)


# Change role -----------------------------------------------------------------------------


def test_change_role_form_shows_the_current_role(client, cast):
    page = login_as(client, cast.secretariat).get(f"/admin/people/{cast.observer.id}/role")
    assert select_one(page, 'input[name="role"][checked]')["value"] == "observer"


def test_change_role(app, client, cast):
    their_client = login_as(app.test_client(), cast.member)
    token = cast.member.session_token
    response = login_as(client, cast.secretariat).post(
        f"/admin/people/{cast.member.id}/role", data={"role": "secretariat"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert cast.member.role == "secretariat"
    assert cast.member.session_token != token  # signed out, so the new role applies at once
    [event] = audit_events("user.change_role")
    assert event.before == {"role": "member"} and event.after == {"role": "secretariat"}
    assert event.actor_id == cast.secretariat.id
    assert is_sign_in_redirect(their_client.get("/admin/people"))
    assert "Mina Member is now secretariat" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_change_role_to_the_same_role_changes_nothing(client, cast):
    token = cast.member.session_token
    response = login_as(client, cast.secretariat).post(
        f"/admin/people/{cast.member.id}/role", data={"role": "member"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert cast.member.session_token == token
    assert audit_count() == 0


def test_cannot_remove_own_secretariat_role(client, cast):
    response = login_as(client, cast.secretariat).post(
        f"/admin/people/{cast.secretariat.id}/role", data={"role": "member"}
    )
    assert response.status_code == 422
    assert "You cannot remove your own secretariat role." in response.get_data(as_text=True)
    db.session.expire_all()
    assert cast.secretariat.role == "secretariat"
    assert audit_count() == 0


@pytest.mark.parametrize(
    "data", [{}, {"role": ""}, {"role": "emperor"}, {"role": "<script>alert(1)</script>"}]
)
def test_change_role_refuses_bad_input(client, cast, data):
    response = login_as(client, cast.secretariat).post(
        f"/admin/people/{cast.member.id}/role", data=data
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Select a role" in text
    assert_no_active_html(text)
    db.session.expire_all()
    assert cast.member.role == "member"
    assert audit_count() == 0


# Deactivate and reactivate ------------------------------------------------------------------


def test_deactivation_is_confirmed_first(client, cast):
    page = login_as(client, cast.secretariat).get(f"/admin/people/{cast.member.id}/deactivate")
    text = page.get_data(as_text=True)
    assert "Are you sure you want to deactivate this person?" in text
    assert css_select(text, f'form[action="/admin/people/{cast.member.id}/deactivate"]')
    db.session.expire_all()
    assert cast.member.active


def test_deactivate_person_ends_their_session(app, client, cast):
    colleague = factories.user(Role.SECRETARIAT, cast.secretariat_org, name="Col League")
    their_client = login_as(app.test_client(), colleague)
    assert their_client.get("/admin/people").status_code == 200

    response = login_as(client, cast.secretariat).post(f"/admin/people/{colleague.id}/deactivate")
    assert response.status_code == 303
    db.session.expire_all()
    assert not colleague.active
    [event] = audit_events("user.deactivate")
    assert event.before == {"active": True} and event.after == {"active": False}
    assert event.actor_id == cast.secretariat.id and event.object_id == colleague.id
    assert is_sign_in_redirect(their_client.get("/admin/people"))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Col League deactivated and signed out" in page
    assert css_select(page, f'form[action="/admin/people/{colleague.id}/reactivate"]')

    response = client.post(f"/admin/people/{colleague.id}/reactivate")
    assert response.status_code == 303
    db.session.expire_all()
    assert colleague.active
    [event] = audit_events("user.reactivate")
    assert event.before == {"active": False} and event.after == {"active": True}
    assert is_sign_in_redirect(their_client.get("/admin/people"))  # the old cookie stays dead
    assert "Col League reactivated" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_cannot_deactivate_yourself(client, cast):
    login_as(client, cast.secretariat)
    page = client.get(f"/admin/people/{cast.secretariat.id}/deactivate").get_data(as_text=True)
    assert "You cannot deactivate your own account." in page
    assert not css_select(page, f'form[action="/admin/people/{cast.secretariat.id}/deactivate"]')
    response = client.post(f"/admin/people/{cast.secretariat.id}/deactivate")
    assert response.status_code == 303
    db.session.expire_all()
    assert cast.secretariat.active
    assert audit_count() == 0
    followed = client.get(response.headers["Location"])
    assert followed.status_code == 200  # still signed in
    assert "You cannot deactivate your own account." in followed.get_data(as_text=True)


def test_deactivating_twice_records_once(client, cast):
    login_as(client, cast.secretariat)
    client.post(f"/admin/people/{cast.member.id}/deactivate")
    response = client.post(f"/admin/people/{cast.member.id}/deactivate")
    assert audit_count("user.deactivate") == 1
    assert "This person is already deactivated." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)


def test_reactivating_an_active_person_is_refused(client, cast):
    response = login_as(client, cast.secretariat).post(f"/admin/people/{cast.member.id}/reactivate")
    assert response.status_code == 303
    assert audit_count() == 0
    assert "already active" in client.get(response.headers["Location"]).get_data(as_text=True)
