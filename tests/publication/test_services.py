"""The publication services without HTTP: offers, single-use links and decisions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consult.extensions import db
from consult.models import Backer, BackerState
from consult.publication import services
from tests.helpers import audit_count

pytestmark = pytest.mark.database


def offer(consultation, email: str = "Fran@Example.org") -> None:
    services.offer_backing(
        consultation=consultation,
        offer=services.Offer(
            organisation_name="Friends of the Park",
            contact_name="Fran Friend",
            email=email,
            website="",
        ),
    )


def test_an_unpublished_manifesto_cannot_be_backed(ready):
    with pytest.raises(services.PublicationError):
        offer(ready)
    assert db.session.scalar(select(Backer)) is None


def test_a_link_confirms_once(published):
    offer(published)
    backer = db.session.scalar(select(Backer))
    assert backer is not None and backer.email == "fran@example.org"
    stale = Backer(id=backer.id, token_hash=backer.token_hash)  # a second request's copy
    services.confirm_backer(backer=backer)
    assert backer.state == BackerState.CONFIRMED and backer.token_hash is None
    with pytest.raises(services.PublicationError):
        db.session.expunge(backer)
        services.confirm_backer(backer=stale)
    assert audit_count("backer.confirm") == 1


def test_decisions_need_a_confirmed_backer_and_a_reason_to_reject(people, published):
    offer(published)
    backer = db.session.scalar(select(Backer))
    assert backer is not None
    with pytest.raises(services.PublicationError):
        services.approve_backer(actor=people.secretariat, backer=backer)
    services.confirm_backer(backer=backer)
    with pytest.raises(services.PublicationError) as error:
        services.reject_backer(actor=people.secretariat, backer=backer, reason="  ")
    assert error.value.field == "reason"
    services.reject_backer(actor=people.secretariat, backer=backer, reason="Unknown group.")
    assert backer.state == BackerState.REJECTED and backer.decided_at is not None
    with pytest.raises(services.PublicationError):
        services.approve_backer(actor=people.secretariat, backer=backer)


@pytest.mark.parametrize(
    "value, ok",
    [
        ("https://example.org", True),
        ("http://example.org/path?q=1", True),
        ("javascript:alert(1)", False),
        ("data:text/html,hi", False),
        ("//example.org", False),
        ("https://", False),
        ("ftp://example.org", False),
        ("https://exa mple.org", False),
    ],
)
def test_web_addresses(value, ok):
    assert services.is_web_address(value) is ok
