"""After the consultation closes, comments are read-only, and the refusal says when it closed
(not that the person's account lacks permission)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult.extensions import db
from consult.filters import format_datetime
from consult.models import utcnow
from tests.helpers import comment, comments_snapshot, login_as
from tests.html import select, text_of

CLOSED_AGO = timedelta(hours=3)


def closed_message(when) -> str:
    return (
        f"The consultation closed on {format_datetime(when)}. "
        "Comments can no longer be added or changed."
    )


@pytest.fixture
def closed(ask, people):
    """The member's comment and the colleague's, then the consultation closed early."""
    own = comment(people.member, ask, "Mine.")
    other = comment(people.colleague, ask, "A colleague's.")
    when = utcnow() - CLOSED_AGO
    ask.consultation.closed_at = when
    db.session.commit()
    return {"own": own.id, "other": other.id, "when": when}


def requests(ask, closed):
    own, other = closed["own"], closed["other"]
    return {
        "comment": (f"/asks/{ask.id}/comments", {"body": "Too late."}),
        "comment form": (f"/asks/{ask.id}/comments/new", None),
        "reply": (f"/comments/{other}/replies", {"body": "Too late."}),
        "edit": (f"/comments/{own}/edit", {"body": "Changed."}),
        "withdraw": (f"/comments/{own}/withdraw", {}),
    }


@pytest.mark.parametrize("action", ["comment", "comment form", "reply", "edit", "withdraw"])
def test_a_member_is_told_the_consultation_closed_and_nothing_changes(
    client, people, ask, closed, action
):
    login_as(client, people.member)
    url, data = requests(ask, closed)[action]
    before = comments_snapshot()
    response = client.get(url) if data is None else client.post(url, data=data)
    assert response.status_code == 403
    assert text_of(response, "main h1 + p") == closed_message(closed["when"])
    assert "Your account does not have permission" not in text_of(response, "main")
    assert comments_snapshot() == before


def test_for_htmx_the_message_goes_into_the_message_region(client, people, ask, closed):
    login_as(client, people.member)
    url, data = requests(ask, closed)["reply"]
    response = client.post(url, data=data, headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#messages"
    assert text_of(response, ".govuk-error-summary__body") == closed_message(closed["when"])


def test_someone_else_editing_still_gets_the_standard_refusal(client, people, ask, closed):
    login_as(client, people.colleague)
    url, data = requests(ask, closed)["edit"]
    response = client.post(url, data=data)
    assert response.status_code == 403
    assert "Your account does not have permission" in text_of(response, "main")


def test_an_observer_gets_the_standard_refusal(client, people, ask, closed):
    login_as(client, people.observer)
    response = client.post(f"/asks/{ask.id}/comments", data={"body": "Too late."})
    assert response.status_code == 403
    assert "Your account does not have permission" in text_of(response, "main")


def test_the_ask_page_says_when_comments_closed(client, people, ask, closed):
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}")
    assert text_of(page, "#comments-closed") == closed_message(closed["when"])
    assert not select(page, "#comment-form-heading")


def test_while_open_the_ask_page_has_the_comment_form(client, people, ask):
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}")
    assert select(page, "#comment-form-heading") and not select(page, "#comments-closed")
