"""Accepting an invitation: the page, the form, expired and reused links."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from consult.auth import services
from consult.extensions import db
from consult.models import AccountToken, Role, TokenPurpose, User, utcnow
from tests import factories
from tests.helpers import audit_events, is_signed_in
from tests.html import assert_no_active_html, text_of
from tests.html import select as css_select
from tests.smtp import link_from

EXPIRED = (
    "This invitation link has expired or has already been used. "
    "Ask the secretariat to send a new one."
)
PASSWORD = "a long enough password"


@pytest.fixture
def invitation(app, outbox):
    """Invite Grace to the Fens Trust as the secretariat would; return (user, link path)."""
    secretariat = factories.user(Role.SECRETARIAT, name="Sam Secretary")
    org = factories.organisation("Fens Trust")
    user = services.invite(
        actor=secretariat,
        email="Grace@Example.org",
        name="Grace Hopper",
        organisation=org,
        role=Role.MEMBER,
    )
    db.session.commit()
    [message] = outbox()
    return user, urlsplit(link_from(message)).path


def form(name="Grace Hopper", password=PASSWORD, confirm=None):
    return {
        "name": name,
        "password": password,
        "confirm_password": password if confirm is None else confirm,
    }


def test_invitation_page(client, invitation):
    user, path = invitation
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text_of(html, "title") == "Create your account – Consult"
    assert len(css_select(html, "h1")) == 1
    assert "Fens Trust" in html and "grace@example.org" in html
    assert css_select(html, '[value="Grace Hopper"]')  # the name is prefilled


def test_accepting_signs_in(app, client, invitation):
    user, path = invitation
    response = client.post(path, data=form(name="  Grace Brewster Hopper  "))

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    account = client.get("/account").get_data(as_text=True)
    assert "Grace Brewster Hopper" in account
    assert "Your account is ready" in account
    db.session.refresh(user)
    assert user.name == "Grace Brewster Hopper"
    assert user.has_accepted_invitation and user.last_login_at is not None
    assert services.authenticate("grace@example.org", PASSWORD) is user
    [event] = audit_events("user.accept_invitation")
    assert event.actor_id == user.id
    assert event.before == {"name": "Grace Hopper"}
    assert event.after == {"name": "Grace Brewster Hopper"}
    assert len(audit_events("user.sign_in")) == 1
    token = db.session.scalar(select(AccountToken).where(AccountToken.user_id == user.id))
    assert token.used_at is not None


def test_a_used_link_cannot_be_used_again(app, client, invitation):
    user, path = invitation
    assert client.post(path, data=form()).status_code == 303
    db.session.refresh(user)
    hash_after_first, token_after_first = user.password_hash, user.session_token

    second = app.test_client()
    reuse = form("Someone Else", "another password!")
    for response in (second.get(path), second.post(path, data=reuse)):
        assert response.status_code == 404
        assert EXPIRED in response.get_data(as_text=True)

    db.session.refresh(user)
    assert (user.name, user.password_hash, user.session_token) == (
        "Grace Hopper",
        hash_after_first,
        token_after_first,
    )
    assert not is_signed_in(second)
    assert len(audit_events("user.accept_invitation")) == 1


def test_expired_link(app, client, invitation):
    user, path = invitation
    token = db.session.scalar(select(AccountToken).where(AccountToken.user_id == user.id))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    for response in (client.get(path), client.post(path, data=form())):
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert EXPIRED in html
        assert len(css_select(html, "h1")) == 1
    db.session.refresh(user)
    assert not user.has_accepted_invitation
    assert audit_events("user.accept_invitation") == []


@pytest.mark.parametrize("path", ["/invitations/nonsense", "/invitations/" + "x" * 43])
def test_unknown_link(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert EXPIRED in response.get_data(as_text=True)


def test_a_password_reset_link_is_not_an_invitation(app, client, outbox):
    factories.user(email="ada@example.org")
    db.session.commit()
    services.request_password_reset("ada@example.org")
    db.session.commit()
    raw = urlsplit(link_from(outbox()[-1])).path.rsplit("/", 1)[1]
    assert client.get(f"/password-reset/{raw}").status_code == 200
    assert client.get(f"/invitations/{raw}").status_code == 404


def test_resending_invalidates_the_earlier_link(app, client, invitation, outbox):
    user, old_path = invitation
    secretariat = db.session.scalar(select(User).where(User.role == Role.SECRETARIAT))
    services.resend_invitation(actor=secretariat, user=user)
    db.session.commit()
    new_path = urlsplit(link_from(outbox()[-1])).path
    assert new_path != old_path
    assert client.get(old_path).status_code == 404
    assert client.get(new_path).status_code == 200


def test_link_for_a_deactivated_person_does_not_work(app, client, invitation):
    user, path = invitation
    secretariat = db.session.scalar(select(User).where(User.role == Role.SECRETARIAT))
    services.set_user_active(actor=secretariat, user=user, active=False)
    db.session.commit()
    assert client.get(path).status_code == 404
    assert client.post(path, data=form()).status_code == 404
    db.session.refresh(user)
    assert not user.has_accepted_invitation


def test_link_for_a_deactivated_organisation_does_not_work(app, client, invitation):
    user, path = invitation
    user.organisation.active = False
    db.session.commit()
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Enter your full name"),
        ({}, "Enter a new password"),
        (form(name=""), "Enter your full name"),
        (form(name="   "), "Enter your full name"),
        (form(name="x" * 201), "Full name must be 200 characters or fewer"),
        (
            form(name="Grace\r\nBcc: victim@example.org"),
            "Full name must not include control characters",
        ),
        (form(name="Grace\tHopper"), "Full name must not include control characters"),
        (form(password="too short"), "Password must be 10 characters or more"),
        (form(password="x" * 201), "Password must be 200 characters or fewer"),
        (form(password="grace@example.org"), "Password must not be the same as your email address"),
        (form(confirm="something else"), "Passwords do not match"),
        (form(confirm=""), "Confirm your new password"),
    ],
)
def test_bad_input_changes_nothing(app, client, invitation, data, message):
    user, path = invitation
    response = client.post(path, data=data)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert css_select(html, ".govuk-error-summary")
    assert text_of(html, "title") == "Error: Create your account – Consult"
    db.session.refresh(user)
    assert user.name == "Grace Hopper" and not user.has_accepted_invitation
    assert not is_signed_in(client)
    # The link still works afterwards.
    assert client.get(path).status_code == 200


def test_name_field_comes_first_in_the_error_summary(client, invitation):
    _, path = invitation
    html = client.post(path, data={}).get_data(as_text=True)
    links = [a["href"] for a in css_select(html, ".govuk-error-summary a")]
    assert links.index("#name") < links.index("#password")


def test_html_in_the_name_is_stored_as_typed_and_shown_escaped(app, client, invitation):
    user, path = invitation
    payload = '<script>alert("owned")</script><b hx-get="/x">Grace</b>'
    assert client.post(path, data=form(name=payload)).status_code == 303
    db.session.refresh(user)
    assert user.name == payload
    html = client.get("/account").get_data(as_text=True)
    assert payload not in html
    assert_no_active_html(html, payload_words=("owned", "/x"))
    assert not css_select(html, "main b")
    assert payload in text_of(html, "main")  # shown as typed, as text


# Services, without HTTP ----------------------------------------------------------------------


def test_accept_invitation_service_refuses_a_second_use(app, invitation):
    user, path = invitation
    raw = path.rsplit("/", 1)[1]
    token = services.find_token(raw, TokenPurpose.INVITATION)
    services.accept_invitation(token=token, name="Grace", password=PASSWORD)
    # A second request that found the token before the first one used it:
    with pytest.raises(services.AccountError):
        services.accept_invitation(token=token, name="Mallory", password="another password")
    assert user.name == "Grace"
    assert services.find_token(raw, TokenPurpose.INVITATION) is None


def test_a_name_with_a_line_break_is_refused_by_every_service(app, invitation):
    """Names go into emails' subjects: a line break would try to add a header."""
    user, path = invitation
    token = services.find_token(path.rsplit("/", 1)[1], TokenPurpose.INVITATION)
    with pytest.raises(services.AccountError, match="Full name must not include control"):
        services.accept_invitation(token=token, name="Grace\nBcc: x@example.org", password=PASSWORD)
    org = factories.organisation()
    for name in ("Ada\r\nBcc: x@example.org", "Ada\x00"):
        with pytest.raises(services.AccountError, match="Full name must not include control"):
            services.create_user(
                actor=None,
                email="ada@example.org",
                name=name,
                organisation=org,
                role=Role.MEMBER,
                password=PASSWORD,
            )
        with pytest.raises(services.AccountError, match="Full name must not include control"):
            services.invite(
                actor=None, email="ada@example.org", name=name, organisation=org, role=Role.MEMBER
            )
    db.session.refresh(user)
    assert user.name == "Grace Hopper" and not user.has_accepted_invitation


def test_find_token(app, invitation):
    user, path = invitation
    raw = path.rsplit("/", 1)[1]
    assert services.find_token(raw, TokenPurpose.INVITATION).user is user
    assert services.find_token(raw, TokenPurpose.PASSWORD_RESET) is None
    assert services.find_token(raw + "x", TokenPurpose.INVITATION) is None
