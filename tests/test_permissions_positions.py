"""permissions.can_set_position and can_see_positions: each condition false in turn."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin

from consult import permissions
from consult.models import AskState, Participant, Role, User, utcnow
from tests import factories


@pytest.fixture
def setting(app):
    """A delegate of an organisation taking part in an open consultation, and an ask in
    review with a version: everything that allows setting a position."""
    org = factories.organisation("Taking Part")
    delegate = factories.user(Role.MEMBER, org, name="Dee Delegate", is_delegate=True)
    consultation = factories.consultation()
    consultation.participants.append(Participant(organisation=org))
    ask = factories.ask(consultation, state=AskState.IN_REVIEW)
    return delegate, ask


def test_a_delegate_may_set_a_position(setting):
    delegate, ask = setting
    assert permissions.can_set_position(delegate, ask) is True
    ask.state = AskState.DRAFTING
    assert permissions.can_set_position(delegate, ask) is True


# Each of these makes exactly one condition false.
REFUSALS: dict[str, Callable[[User, object], object]] = {
    "not a delegate": lambda user, ask: setattr(user, "is_delegate", False),
    "an observer": lambda user, ask: setattr(user, "role", Role.OBSERVER),
    "the secretariat": lambda user, ask: setattr(user, "role", Role.SECRETARIAT),
    "deactivated": lambda user, ask: setattr(user, "active", False),
    "organisation deactivated": lambda user, ask: setattr(user.organisation, "active", False),
    "organisation not taking part": lambda user, ask: ask.consultation.participants.clear(),
    "consultation upcoming": lambda user, ask: setattr(
        ask.consultation, "opens_at", utcnow() + timedelta(days=1)
    ),
    "consultation past its closing date": lambda user, ask: setattr(
        ask.consultation, "closes_at", utcnow() - timedelta(minutes=1)
    ),
    "consultation closed early": lambda user, ask: setattr(ask.consultation, "closed_at", utcnow()),
    "consultation published": lambda user, ask: setattr(ask.consultation, "published_at", utcnow()),
    "ask agreed": lambda user, ask: setattr(ask, "state", AskState.AGREED),
    "ask published": lambda user, ask: setattr(ask, "state", AskState.PUBLISHED),
    "ask without a version": lambda user, ask: ask.versions.clear(),
}


@pytest.mark.parametrize("change", list(REFUSALS), ids=list(REFUSALS))
def test_each_condition_false_in_turn_refuses(setting, change):
    """Changed in memory only: the rule is a pure function of the objects."""
    delegate, ask = setting
    assert permissions.can_set_position(delegate, ask) is True
    REFUSALS[change](delegate, ask)
    assert permissions.can_set_position(delegate, ask) is False


def test_anonymous_may_not_set_a_position(setting):
    _, ask = setting
    assert permissions.can_set_position(AnonymousUserMixin(), ask) is False
    assert permissions.can_set_position(None, ask) is False


def test_a_delegate_of_another_organisation_taking_part_elsewhere_is_refused(setting):
    _, ask = setting
    elsewhere = factories.user(Role.MEMBER, factories.organisation(), is_delegate=True)
    other = factories.consultation()
    other.participants.append(Participant(organisation=elsewhere.organisation))
    assert permissions.can_set_position(elsewhere, ask) is False


def test_a_colleague_who_is_not_a_delegate_is_refused(setting):
    delegate, ask = setting
    colleague = factories.user(Role.MEMBER, delegate.organisation)
    assert permissions.can_set_position(colleague, ask) is False


# Seeing positions: whoever may read the ask ----------------------------------------------


@pytest.mark.parametrize(
    "state, anonymous, observer, member, secretariat",
    [
        ("upcoming", False, False, False, True),
        ("open", False, True, True, True),
        ("closed", False, True, True, True),
        ("published", True, True, True, True),
    ],
)
def test_who_may_see_positions(app, state, anonymous, observer, member, secretariat):
    now = utcnow()
    consultation = factories.consultation(
        opens_in_days=1 if state == "upcoming" else -1,
        closes_in_days=14,
        closed_at=now if state == "closed" else None,
        published_at=now if state == "published" else None,
    )
    ask = factories.ask(consultation)
    people = {
        "anonymous": AnonymousUserMixin(),
        "observer": factories.user(Role.OBSERVER),
        "member": factories.user(Role.MEMBER),
        "secretariat": factories.user(Role.SECRETARIAT),
    }
    expected = {
        "anonymous": anonymous,
        "observer": observer,
        "member": member,
        "secretariat": secretariat,
    }
    for role, person in people.items():
        assert permissions.can_see_positions(person, ask) is expected[role], role
        assert permissions.can_see_positions(person, ask) == permissions.can_read_ask(person, ask)


def test_can_be_delegate_is_for_members_only(app):
    assert permissions.can_be_delegate(factories.user(Role.MEMBER)) is True
    assert permissions.can_be_delegate(factories.user(Role.OBSERVER)) is False
    assert permissions.can_be_delegate(factories.user(Role.SECRETARIAT)) is False
    assert permissions.can_be_delegate(AnonymousUserMixin()) is False
