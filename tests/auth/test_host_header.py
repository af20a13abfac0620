"""Issue 11's high finding: password-reset and invitation links followed the Host header, so
`POST /password-reset` with `Host: attacker.example` emailed a genuine reset link to the
attacker's site. Links in emails are now built on PUBLIC_URL only, and where TRUSTED_HOSTS
is set (production, from PUBLIC_URL), a request naming another host is refused."""

from __future__ import annotations

import pytest

from consult.auth import services as accounts
from consult.extensions import db
from consult.mail import absolute_url
from consult.models import Role
from tests import factories
from tests.smtp import link_from

pytestmark = pytest.mark.database

ATTACKER = "attacker.example"


@pytest.fixture
def app_config(app_config):
    # As in a deployment: no SERVER_NAME, links from PUBLIC_URL.
    return {**app_config, "SERVER_NAME": None, "PUBLIC_URL": "https://consult.example.org"}


def test_a_reset_link_ignores_a_forged_host(app, client, outbox):
    factories.user(email="ada@example.org")
    db.session.commit()
    response = client.post(
        "/password-reset", data={"email": "ada@example.org"}, headers={"Host": ATTACKER}
    )
    assert response.status_code == 303
    link = link_from(outbox()[-1])
    assert link.startswith("https://consult.example.org/password-reset/")
    assert ATTACKER not in outbox()[-1].as_string()


def test_an_invitation_link_ignores_a_forged_host(app, outbox, people):
    """An invitation made while serving a request that names the attacker's host."""
    with app.test_request_context("/admin/people/invite", base_url=f"http://{ATTACKER}"):
        accounts.invite(
            actor=people.secretariat,
            email="new.person@example.org",
            name="New Person",
            organisation=people.member.organisation,
            role=Role.MEMBER,
        )
        db.session.commit()
    link = link_from(outbox()[-1])
    assert link.startswith("https://consult.example.org/invitations/")
    assert ATTACKER not in outbox()[-1].as_string()


def test_links_made_in_a_request_and_from_the_command_line_agree(app):
    with app.test_request_context("/", base_url=f"http://{ATTACKER}"):
        in_request = absolute_url("auth.sign_in")
    with app.app_context():
        from_cli = absolute_url("auth.sign_in")
    assert in_request == from_cli == "https://consult.example.org/sign-in"


class TestTrustedHosts:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "TRUSTED_HOSTS": ["consult.example.org"]}

    def test_a_request_for_another_host_is_refused(self, client):
        refused = client.get("/sign-in", headers={"Host": ATTACKER})
        assert refused.status_code == 400
        assert "<title>" in refused.get_data(as_text=True)  # the friendly page, not a trace
        assert client.get("/sign-in", headers={"Host": "consult.example.org"}).status_code == 200

    def test_a_forged_host_cannot_ask_for_a_reset(self, client, outbox):
        factories.user(email="ada@example.org")
        db.session.commit()
        response = client.post(
            "/password-reset", data={"email": "ada@example.org"}, headers={"Host": ATTACKER}
        )
        assert response.status_code == 400
        assert outbox() == []
