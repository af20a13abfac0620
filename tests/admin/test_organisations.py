"""Organisations: list, add, edit, deactivate and reactivate (as the secretariat)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consult.admin import services
from consult.extensions import db
from consult.models import Organisation, Role, User
from tests import factories
from tests.helpers import audit_count, audit_events, is_sign_in_redirect, login_as
from tests.html import assert_no_active_html, select_one, text_of, texts
from tests.html import select as css_select


def organisation_count() -> int:
    return db.session.scalar(select(func.count(Organisation.id)))


def by_name(name: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.name == name))


# List ------------------------------------------------------------------------------------


def test_list_shows_name_kind_people_and_status(client, cast):
    factories.user(Role.MEMBER, cast.member_org, password=None)  # invited people count too
    cast.other_org.active = False
    page = login_as(client, cast.secretariat).get("/admin/organisations").get_data(as_text=True)
    cells = texts(page, f"#organisation-{cast.member_org.id} td")
    assert "Green Councils Network" in cells[0]
    assert "Local authority" in cells
    assert "3" in cells  # member, observer, invited person
    assert "Active" in cells
    other = text_of(page, f"#organisation-{cast.other_org.id}")
    assert "Research" in other and "Deactivated" in other
    assert css_select(page, 'a[href="/admin/organisations/new"]')
    assert "Add an organisation" in page


@pytest.mark.parametrize(
    "status, shown, hidden",
    [
        ("active", "Green Councils Network", "Climate Research Institute"),
        ("deactivated", "Climate Research Institute", "Green Councils Network"),
    ],
)
def test_list_filters_by_status(client, cast, status, shown, hidden):
    cast.other_org.active = False
    page = login_as(client, cast.secretariat).get(f"/admin/organisations?status={status}")
    text = page.get_data(as_text=True)
    assert shown in text
    assert hidden not in text


def test_list_shows_all_by_default(client, cast):
    cast.other_org.active = False
    text = login_as(client, cast.secretariat).get("/admin/organisations").get_data(as_text=True)
    assert "Green Councils Network" in text and "Climate Research Institute" in text


def test_list_empty_state(client, cast):
    page = login_as(client, cast.secretariat).get("/admin/organisations?status=deactivated")
    assert page.status_code == 200
    assert "There are no deactivated organisations." in page.get_data(as_text=True)


def test_list_refuses_an_unknown_filter_value(client, cast):
    page = login_as(client, cast.secretariat).get("/admin/organisations?status=<b>bogus</b>")
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "Select which organisations to show from the list" in text
    assert not css_select(text, "main b")


@pytest.mark.database
def test_list_is_paginated_and_pages_keep_the_filter(client, cast):
    for n in range(30):
        factories.organisation(f"Bulk organisation {n:02d}")
    cast.other_org.active = False
    login_as(client, cast.secretariat)
    first = client.get("/admin/organisations?status=active").get_data(as_text=True)
    assert len(css_select(first, "tr[id^=organisation-]")) == 25  # 32 active organisations
    assert "Showing 1 to 25 of 32 organisations" in first
    assert css_select(first, 'a[href="/admin/organisations?status=active&page=2"]')
    second = client.get("/admin/organisations?status=active&page=2").get_data(as_text=True)
    assert len(css_select(second, "tr[id^=organisation-]")) == 7
    assert "Climate Research Institute" not in second
    assert css_select(second, 'a[href="/admin/organisations?status=active&page=1"]')
    assert client.get("/admin/organisations?page=9").status_code == 404


# Add -------------------------------------------------------------------------------------


def test_add_an_organisation(client, cast):
    login_as(client, cast.secretariat)
    form = client.get("/admin/organisations/new").get_data(as_text=True)
    assert "Add an organisation" in form and "Local authority" in form
    response = client.post(
        "/admin/organisations/new",
        data={
            "name": "  Friends of the Fens  ",
            "kind": "ngo",
            "website": "https://fens.example/about",
        },
    )
    assert response.status_code == 303
    organisation = by_name("Friends of the Fens")
    assert organisation is not None
    assert organisation.kind == "ngo" and organisation.active
    assert organisation.website == "https://fens.example/about"
    assert response.headers["Location"] == f"/admin/organisations/{organisation.id}"
    [event] = audit_events("organisation.create")
    assert event.actor_id == cast.secretariat.id
    assert event.object_type == "organisation" and event.object_id == organisation.id
    assert event.before is None
    assert event.after == {
        "name": "Friends of the Fens",
        "kind": "ngo",
        "website": "https://fens.example/about",
        "active": True,
    }
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Friends of the Fens added" in page


def test_add_without_a_website(client, cast):
    response = login_as(client, cast.secretariat).post(
        "/admin/organisations/new", data={"name": "No Web Ltd", "kind": "other", "website": ""}
    )
    assert response.status_code == 303
    assert by_name("No Web Ltd").website is None


def test_names_and_websites_at_their_limits_are_accepted(client, cast):
    name = "N" * 200
    website = "https://example.org/" + "a" * (500 - len("https://example.org/"))
    response = login_as(client, cast.secretariat).post(
        "/admin/organisations/new", data={"name": name, "kind": "research", "website": website}
    )
    assert response.status_code == 303
    assert by_name(name).website == website


@pytest.mark.database
@pytest.mark.parametrize(
    "name", ["Green Councils Network", "green councils network", "  GREEN COUNCILS NETWORK "]
)
def test_add_refuses_a_name_already_taken(client, cast, name):
    before = organisation_count()
    response = login_as(client, cast.secretariat).post(
        "/admin/organisations/new", data={"name": name, "kind": "ngo"}
    )
    assert response.status_code == 422
    assert "An organisation with this name already exists" in response.get_data(as_text=True)
    assert organisation_count() == before
    assert audit_count() == 0


@pytest.mark.database
def test_add_turns_the_database_unique_constraint_into_the_same_error(client, cast, monkeypatch):
    """Two people adding the same name at once: the check passes, the constraint catches it."""
    monkeypatch.setattr(services, "organisation_name_taken", lambda *a, **k: False)
    before = organisation_count()
    response = login_as(client, cast.secretariat).post(
        "/admin/organisations/new", data={"name": "Green Councils Network", "kind": "ngo"}
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "An organisation with this name already exists" in text
    assert "Coalition secretariat" in text  # still signed in after the rollback
    assert organisation_count() == before
    assert audit_count() == 0


BAD_ORGANISATIONS = [
    ({"name": "", "kind": "ngo"}, "Enter the organisation&#39;s name"),
    ({"name": "   ", "kind": "ngo"}, "Enter the organisation&#39;s name"),
    ({"name": "x" * 201, "kind": "ngo"}, "Name must be 200 characters or fewer"),
    (
        {"name": "<script>alert(1)</script>", "kind": "ngo"},
        "Name must not include the characters &lt; or &gt;",
    ),
    ({"name": "Bad\x01Name", "kind": "ngo"}, "Name must not include control characters"),
    ({"name": "Fine Name"}, "Select the kind of organisation"),
    ({"name": "Fine Name", "kind": "bogus"}, "Select the kind of organisation"),
    ({"name": "Fine Name", "kind": "1"}, "Select the kind of organisation"),
    (
        {"name": "Fine Name", "kind": "ngo", "website": "javascript:alert(1)"},
        "Enter a website address starting with https:// or http://",
    ),
    (
        {"name": "Fine Name", "kind": "ngo", "website": "ftp://files.example"},
        "Enter a website address starting with https:// or http://",
    ),
    (
        {"name": "Fine Name", "kind": "ngo", "website": "www.example.org"},
        "Enter a website address starting with https:// or http://",
    ),
    (
        {"name": "Fine Name", "kind": "ngo", "website": 'https://x.example/"><script>'},
        "Enter a website address starting with https:// or http://",
    ),
    (
        {"name": "Fine Name", "kind": "ngo", "website": "https://example.org/" + "a" * 481},
        "Website must be 500 characters or fewer",
    ),
]


@pytest.mark.parametrize("data, message", BAD_ORGANISATIONS)
def test_add_refuses_bad_input(client, cast, data, message):
    before = organisation_count()
    response = login_as(client, cast.secretariat).post("/admin/organisations/new", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in text
    assert message in text
    assert text_of(text, "title").startswith("Error: ")
    assert_no_active_html(text)
    assert organisation_count() == before
    assert audit_count() == 0


# View ------------------------------------------------------------------------------------


def test_organisation_page_shows_details_people_and_actions(client, cast):
    cast.member_org.website = "https://councils.example"
    invited = factories.user(Role.MEMBER, cast.member_org, name="Ivy Invited", password=None)
    gone = factories.user(Role.MEMBER, cast.member_org, name="Gus Gone", active=False)
    page = (
        login_as(client, cast.secretariat)
        .get(f"/admin/organisations/{cast.member_org.id}")
        .get_data(as_text=True)
    )
    assert text_of(page, "h1") == "Green Councils Network"
    assert "Local authority" in page and css_select(page, 'a[href="https://councils.example"]')

    def row(user):
        return text_of(page, f"#person-{user.id}")

    assert "mina@councils.example" in row(cast.member) and "Member" in row(cast.member)
    assert "Active" in row(cast.member)
    assert "Observer" in row(cast.observer)
    assert "Invited" in row(invited)
    assert "Deactivated" in row(gone)
    org_id = cast.member_org.id
    assert css_select(page, f'a[href="/admin/organisations/{org_id}/edit"]')
    assert css_select(page, f'a[href="/admin/organisations/{org_id}/deactivate"]')
    assert css_select(page, f'a[href="/admin/people/invite?organisation_id={org_id}"]')


def test_organisation_page_of_a_deactivated_organisation_offers_reactivation(client, cast):
    cast.other_org.active = False
    page = (
        login_as(client, cast.secretariat)
        .get(f"/admin/organisations/{cast.other_org.id}")
        .get_data(as_text=True)
    )
    assert css_select(page, f'form[action="/admin/organisations/{cast.other_org.id}/reactivate"]')
    assert not css_select(page, f'a[href="/admin/organisations/{cast.other_org.id}/deactivate"]')
    assert "/admin/people/invite?organisation_id" not in page


def test_own_organisation_page_does_not_offer_deactivation(client, cast):
    page = (
        login_as(client, cast.secretariat)
        .get(f"/admin/organisations/{cast.secretariat_org.id}")
        .get_data(as_text=True)
    )
    assert f"/admin/organisations/{cast.secretariat_org.id}/deactivate" not in page


def test_organisation_page_empty_state(client, cast):
    empty = factories.organisation("Empty Collective")
    page = login_as(client, cast.secretariat).get(f"/admin/organisations/{empty.id}")
    assert "No one from this organisation has been invited yet." in page.get_data(as_text=True)


def test_a_stored_unsafe_website_is_not_made_a_link(client, cast):
    cast.member_org.website = "javascript:alert(1)"
    page = (
        login_as(client, cast.secretariat)
        .get(f"/admin/organisations/{cast.member_org.id}")
        .get_data(as_text=True)
    )
    assert_no_active_html(page)
    assert "javascript:alert(1)" in text_of(page, "main")


# Edit ------------------------------------------------------------------------------------


def test_edit_form_is_filled_in(client, cast):
    cast.member_org.website = "https://councils.example"
    page = (
        login_as(client, cast.secretariat)
        .get(f"/admin/organisations/{cast.member_org.id}/edit")
        .get_data(as_text=True)
    )
    assert select_one(page, "input#name")["value"] == "Green Councils Network"
    assert select_one(page, "input#website")["value"] == "https://councils.example"
    assert select_one(page, 'input[name="kind"][checked]')["value"] == "local_authority"


def test_edit_records_only_what_changed(client, cast):
    org = cast.member_org
    response = login_as(client, cast.secretariat).post(
        f"/admin/organisations/{org.id}/edit",
        data={
            "name": "Green Councils Alliance",
            "kind": "local_authority",
            "website": "https://alliance.example",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/organisations/{org.id}"
    db.session.expire_all()
    assert org.name == "Green Councils Alliance" and org.website == "https://alliance.example"
    [event] = audit_events("organisation.update")
    assert event.actor_id == cast.secretariat.id and event.object_id == org.id
    assert event.before == {"name": "Green Councils Network", "website": None}
    assert event.after == {"name": "Green Councils Alliance", "website": "https://alliance.example"}
    assert "Organisation details saved" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_edit_without_changes_records_nothing(client, cast):
    response = login_as(client, cast.secretariat).post(
        f"/admin/organisations/{cast.member_org.id}/edit",
        data={"name": "Green Councils Network", "kind": "local_authority", "website": ""},
    )
    assert response.status_code == 303
    assert audit_count() == 0
    assert "Nothing was changed" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_edit_may_change_only_the_case_of_the_name(client, cast):
    response = login_as(client, cast.secretariat).post(
        f"/admin/organisations/{cast.member_org.id}/edit",
        data={"name": "GREEN Councils Network", "kind": "local_authority"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert cast.member_org.name == "GREEN Councils Network"


def test_edit_refuses_another_organisations_name(client, cast):
    response = login_as(client, cast.secretariat).post(
        f"/admin/organisations/{cast.member_org.id}/edit",
        data={"name": "climate research institute", "kind": "local_authority"},
    )
    assert response.status_code == 422
    assert "An organisation with this name already exists" in response.get_data(as_text=True)
    db.session.expire_all()
    assert cast.member_org.name == "Green Councils Network"
    assert audit_count() == 0


@pytest.mark.database
def test_edit_turns_the_unique_constraint_into_a_form_error(client, cast, monkeypatch):
    monkeypatch.setattr(services, "organisation_name_taken", lambda *a, **k: False)
    response = login_as(client, cast.secretariat).post(
        f"/admin/organisations/{cast.member_org.id}/edit",
        data={"name": "Climate Research Institute", "kind": "local_authority"},
    )
    assert response.status_code == 422
    assert "An organisation with this name already exists" in response.get_data(as_text=True)
    db.session.expire_all()
    assert cast.member_org.name == "Green Councils Network"
    assert audit_count() == 0


@pytest.mark.parametrize("data, message", BAD_ORGANISATIONS)
def test_edit_refuses_bad_input(client, cast, data, message):
    org = cast.member_org
    response = login_as(client, cast.secretariat).post(
        f"/admin/organisations/{org.id}/edit", data=data
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert (org.name, org.kind, org.website) == ("Green Councils Network", "local_authority", None)
    assert audit_count() == 0


# Deactivate and reactivate ------------------------------------------------------------------


def test_deactivation_is_confirmed_first(client, cast):
    factories.user(Role.MEMBER, cast.member_org, active=False)  # already deactivated: not counted
    page = login_as(client, cast.secretariat).get(
        f"/admin/organisations/{cast.member_org.id}/deactivate"
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Are you sure you want to deactivate this organisation?" in text
    assert "Its 2 people will be signed out and will not be able to sign in" in text
    assert css_select(text, f'form[action="/admin/organisations/{cast.member_org.id}/deactivate"]')
    db.session.expire_all()
    assert cast.member_org.active
    assert audit_count() == 0


def test_deactivation_confirmation_for_one_person(client, cast):
    page = login_as(client, cast.secretariat).get(
        f"/admin/organisations/{cast.other_org.id}/deactivate"
    )
    assert "Its 1 person will be signed out" in page.get_data(as_text=True)


def test_deactivate_signs_everyone_out_and_reactivation_does_not_revive_old_sessions(
    app, client, cast
):
    # A secretariat person in the organisation, so that their session can be seen working.
    colleague = factories.user(Role.SECRETARIAT, cast.member_org, name="Col League")
    their_client = login_as(app.test_client(), colleague)
    assert their_client.get("/admin/people").status_code == 200
    tokens = {u.id: u.session_token for u in (colleague, cast.member, cast.observer)}

    response = login_as(client, cast.secretariat).post(
        f"/admin/organisations/{cast.member_org.id}/deactivate"
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert not cast.member_org.active
    for person in (colleague, cast.member, cast.observer):
        assert person.session_token != tokens[person.id]
        assert not person.is_active
    [event] = audit_events("organisation.deactivate")
    assert event.actor_id == cast.secretariat.id and event.object_id == cast.member_org.id
    assert event.before == {"active": True} and event.after == {"active": False}
    assert is_sign_in_redirect(their_client.get("/admin/people"))
    assert "Green Councils Network deactivated" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)

    response = client.post(f"/admin/organisations/{cast.member_org.id}/reactivate")
    assert response.status_code == 303
    db.session.expire_all()
    assert cast.member_org.active and cast.member.is_active
    [event] = audit_events("organisation.reactivate")
    assert event.before == {"active": False} and event.after == {"active": True}
    assert is_sign_in_redirect(their_client.get("/admin/people"))  # must sign in again
    assert "Green Councils Network reactivated" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)


def test_cannot_deactivate_own_organisation(client, cast):
    login_as(client, cast.secretariat)
    page = client.get(f"/admin/organisations/{cast.secretariat_org.id}/deactivate")
    text = page.get_data(as_text=True)
    assert "You cannot deactivate your own organisation." in text
    assert not css_select(
        text, f'form[action="/admin/organisations/{cast.secretariat_org.id}/deactivate"]'
    )
    token = cast.secretariat.session_token
    response = client.post(f"/admin/organisations/{cast.secretariat_org.id}/deactivate")
    assert response.status_code == 303
    db.session.expire_all()
    assert cast.secretariat_org.active
    assert cast.secretariat.session_token == token
    assert audit_count() == 0
    followed = client.get(response.headers["Location"])
    assert followed.status_code == 200  # still signed in
    assert "You cannot deactivate your own organisation." in followed.get_data(as_text=True)


def test_deactivating_twice_records_once(client, cast):
    login_as(client, cast.secretariat)
    url = f"/admin/organisations/{cast.other_org.id}/deactivate"
    client.post(url)
    response = client.post(url)
    assert response.status_code == 303
    assert audit_count("organisation.deactivate") == 1
    assert "This organisation is already deactivated." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert "This organisation is already deactivated." in page
    assert not css_select(page, f'form[action="{url}"]')


def test_reactivating_an_active_organisation_is_refused(client, cast):
    response = login_as(client, cast.secretariat).post(
        f"/admin/organisations/{cast.other_org.id}/reactivate"
    )
    assert response.status_code == 303
    assert audit_count() == 0
    assert "This organisation is already active." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)


def test_get_is_not_allowed_on_reactivate(client, cast):
    cast.other_org.active = False
    response = login_as(client, cast.secretariat).get(
        f"/admin/organisations/{cast.other_org.id}/reactivate"
    )
    assert response.status_code == 405
    db.session.expire_all()
    assert not cast.other_org.active


def test_people_of_a_deactivated_organisation_cannot_sign_in(client, cast):
    from consult.auth.services import authenticate

    login_as(client, cast.secretariat).post(f"/admin/organisations/{cast.other_org.id}/deactivate")
    db.session.expire_all()
    assert authenticate("rae@research.example", factories.PASSWORD) is None
    assert db.session.get(User, cast.other_member.id).active  # their own account is untouched
