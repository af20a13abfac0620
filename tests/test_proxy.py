"""The client's address behind a reverse proxy: TRUSTED_PROXY_COUNT and X-Forwarded-For."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from consult.extensions import db
from consult.models import AuditEvent
from tests import factories

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

PROXY = "10.0.0.2"  # the address every request arrives from: the proxy's


@pytest.fixture
def trusted_proxies() -> int:
    return 1


@pytest.fixture
def app_config(app_config: dict, trusted_proxies: int) -> dict:
    app_config["TRUSTED_PROXY_COUNT"] = trusted_proxies
    return app_config


def post_sign_in(client: FlaskClient, email: str, password: str, forwarded_for: str):
    """Post the sign-in form through the proxy, on behalf of forwarded_for."""
    return client.post(
        "/sign-in",
        data={"email": email, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": PROXY},
    )


def test_forwarded_addresses_get_their_own_sign_in_buckets(app):
    app.config["SIGN_IN_ADDRESS_LIMIT"] = "2 per 5 minutes"
    factories.user(email="ada@example.org")
    db.session.commit()
    attacker, neighbour = app.test_client(), app.test_client()

    for n in range(2):  # a different account each time: only the per-address limit counts
        response = post_sign_in(attacker, f"guess{n}@example.org", "wrong", "203.0.113.7")
        assert response.status_code == 422
    assert post_sign_in(attacker, "ada@example.org", "wrong", "203.0.113.7").status_code == 429

    # Someone else behind the same proxy is not locked out.
    response = post_sign_in(neighbour, "ada@example.org", factories.PASSWORD, "198.51.100.4")
    assert response.status_code == 303


def test_the_audit_log_records_the_forwarded_address(app, client):
    user = factories.user(email="ada@example.org")
    db.session.commit()

    response = post_sign_in(client, "ada@example.org", factories.PASSWORD, "203.0.113.7")

    assert response.status_code == 303
    event = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "user.sign_in")
    ).one()
    assert (event.actor_id, event.ip_address) == (user.id, "203.0.113.7")


def test_only_the_trusted_hop_is_believed(app, client):
    """With one proxy, a client's own X-Forwarded-For entries (before the proxy's) are ignored."""
    factories.user(email="ada@example.org")
    db.session.commit()

    post_sign_in(client, "ada@example.org", factories.PASSWORD, "192.0.2.99, 203.0.113.7")

    event = db.session.scalars(db.select(AuditEvent)).one()
    assert event.ip_address == "203.0.113.7"


@pytest.mark.parametrize("trusted_proxies", [0])
def test_a_forged_header_is_ignored_without_a_trusted_proxy(app):
    app.config["SIGN_IN_ADDRESS_LIMIT"] = "2 per 5 minutes"
    factories.user(email="ada@example.org")
    db.session.commit()
    client = app.test_client()

    # Changing X-Forwarded-For on each attempt does not buy a fresh bucket...
    for n in range(2):
        response = post_sign_in(client, f"guess{n}@example.org", "wrong", f"198.51.100.{n}")
        assert response.status_code == 422
    assert post_sign_in(client, "ada@example.org", "wrong", "198.51.100.9").status_code == 429

    # ...and the audit log records the address the request really came from.
    # (The audit log is append-only: only the events from here on are read.)
    seen = db.session.scalar(db.select(db.func.max(AuditEvent.id))) or 0
    db.session.commit()
    other = app.test_client()
    other.post(
        "/sign-in",
        data={"email": "ada@example.org", "password": factories.PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.7"},
        environ_base={"REMOTE_ADDR": "192.0.2.1"},
    )
    event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.id > seen)).one()
    assert event.ip_address == "192.0.2.1"


def test_forwarded_addresses_get_their_own_password_reset_buckets(app, outbox):
    app.config["PASSWORD_RESET_ADDRESS_LIMIT"] = "1 per 15 minutes"
    factories.user(email="ada@example.org")
    db.session.commit()

    def request_reset(forwarded_for: str):
        return app.test_client().post(
            "/password-reset",
            data={"email": "ada@example.org"},
            headers={"X-Forwarded-For": forwarded_for},
            environ_base={"REMOTE_ADDR": PROXY},
        )

    assert request_reset("203.0.113.7").status_code == 303
    assert request_reset("203.0.113.7").status_code == 429
    assert request_reset("198.51.100.4").status_code == 303
    assert len(outbox()) == 2
