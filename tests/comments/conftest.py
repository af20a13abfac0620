"""Fixtures for the comments tests: one person per role, an open ask, helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from consult.comments import services
from consult.extensions import db
from consult.models import Ask, AuditEvent, Comment, CommentReport, Role, User
from consult.text import paragraphs
from tests import factories
from tests.conftest import People as SharedPeople
from tests.html import assert_no_active_html, start_tags  # noqa: F401 (shared)

HTMX = {"HX-Request": "true"}

V1 = "The council should act.\n\nEvery party commits to net zero.\n\n- Homes\n- Transport"
V2 = "The council must act now.\n\nEvery party commits to net zero.\n\n- Homes\n- Transport"


@dataclass
class People(SharedPeople):
    """The shared people, and a colleague of the member (same organisation)."""

    colleague: User


@pytest.fixture
def people(people: SharedPeople) -> People:
    colleague = factories.user(Role.MEMBER, people.member.organisation, name="Colin Colleague")
    db.session.commit()
    return People(**vars(people), colleague=colleague)


@pytest.fixture
def ask(people) -> Ask:
    """An ask with two versions (the first paragraph changed) in an open consultation."""
    item = factories.ask(
        factories.consultation("Net zero by 2040"),
        title="Declare a climate emergency",
        versions=(V1, V2),
        author=people.secretariat,
    )
    db.session.commit()
    return item


def anchors(ask: Ask) -> list[str]:
    return [p.anchor for p in paragraphs(ask.current_version.body)]


def comment(author: User, ask: Ask, body: str = "A comment.", **fields) -> Comment:
    """A comment made through the service (flushed, not committed)."""
    made, _ = services.add_comment(author=author, ask=ask, body=body, **fields)
    return made


def snapshot() -> dict:
    """Everything the comments feature may change, as committed in the database."""
    db.session.rollback()
    db.session.expire_all()
    return {
        "comments": db.session.execute(
            select(
                Comment.id,
                Comment.body,
                Comment.state,
                Comment.edited_at,
                Comment.hidden_reason,
                Comment.resolved_at,
                Comment.resolution,
            ).order_by(Comment.id)
        ).all(),
        "reports": db.session.execute(
            select(CommentReport.id, CommentReport.handled_at).order_by(CommentReport.id)
        ).all(),
        "audit": db.session.scalar(select(func.count()).select_from(AuditEvent)),
    }


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def comment_ids(html: str) -> list[int]:
    """The ids of the comments in the HTML, in document order."""
    return [int(n) for n in re.findall(r'<li class="app-comment[^"]*" id="comment-(\d+)"', html)]
