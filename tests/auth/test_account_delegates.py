"""The account page tells a member who sets their organisation's positions."""

from __future__ import annotations

from consult.auth import services as accounts
from consult.models import Role
from tests import factories
from tests.helpers import login_as
from tests.html import select, text_of


def test_a_delegate_is_told_they_set_the_positions(client, people):
    accounts.set_delegate(actor=people.secretariat, user=people.member, delegate=True)
    page = login_as(client, people.member).get("/account")
    assert text_of(page, "#delegates") == (
        "You are a delegate for Home Organisation: you can set its positions."
    )


def test_a_delegate_sees_the_other_delegates(client, people):
    alternate = factories.user(Role.MEMBER, people.member.organisation, name="Alex Alternate")
    accounts.set_delegate(actor=people.secretariat, user=people.member, delegate=True)
    accounts.set_delegate(actor=people.secretariat, user=alternate, delegate=True)
    page = login_as(client, people.member).get("/account")
    assert text_of(page, "#delegates") == (
        "You are a delegate for Home Organisation: you can set its positions. "
        "Its other delegates: Alex Alternate."
    )


def test_a_member_sees_their_organisations_delegates(client, people):
    alternate = factories.user(Role.MEMBER, people.member.organisation, name="Alex Alternate")
    gone = factories.user(Role.MEMBER, people.member.organisation, name="Gone Away")
    for delegate in (alternate, gone):
        accounts.set_delegate(actor=people.secretariat, user=delegate, delegate=True)
    accounts.set_user_active(actor=people.secretariat, user=gone, active=False)
    # Another organisation's delegate is not theirs.
    accounts.set_delegate(actor=people.secretariat, user=people.other_member, delegate=True)
    page = login_as(client, people.member).get("/account")
    assert text_of(page, "#delegates") == (
        "Your organisation’s delegates: Alex Alternate. They set Home Organisation’s positions."
    )


def test_a_member_is_told_when_there_are_no_delegates(client, people):
    page = login_as(client, people.member).get("/account")
    assert text_of(page, "#delegates").startswith(
        "Your organisation has no delegates yet. The secretariat names"
    )


def test_observers_and_the_secretariat_are_not_told_about_delegates(client, people):
    for person in (people.observer, people.secretariat):
        page = login_as(client, person).get("/account")
        assert page.status_code == 200
        assert select(page, "#delegates") == []
