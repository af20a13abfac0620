"""The ask page decides the viewer's rights once (permissions.CommentRights) and then checks
each comment with attribute comparisons: the answers are the single-comment functions' own,
for every viewer, comment state, author, reply and consultation state. Its links built from
one url_for per endpoint are url_for's own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import url_for
from flask_login import AnonymousUserMixin

from consult import permissions
from consult.comments import rules, threads
from consult.comments.rules import Filters
from consult.extensions import db
from consult.models import CommentState, utcnow
from consult.text import paragraphs
from tests.helpers import comment

pytestmark = pytest.mark.database

VIEWERS = ("anonymous", "observer", "member", "colleague", "other_member", "secretariat")


def _comments(people, ask):
    """Comments by several people in every state, top-level and replies."""
    made = []
    for author in (people.member, people.other_member, people.secretariat):
        top = comment(author, ask, body=f"By {author.name}")
        made += [top, comment(people.colleague, ask, body="A reply", parent=top)]
    made[0].state = CommentState.HIDDEN
    made[0].hidden_reason = "Off topic"
    made[2].state = CommentState.WITHDRAWN
    made[4].resolved_at, made[4].resolution = utcnow(), "Done"
    db.session.flush()
    return made


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
def test_rights_agree_with_the_single_comment_rules(app, people, ask, closed):
    with app.test_request_context():
        made = _comments(people, ask)
        if closed:
            ask.consultation.closes_at = utcnow() - timedelta(hours=1)
            db.session.flush()
        for role in VIEWERS:
            viewer = people.get(role) or AnonymousUserMixin()
            rights = permissions.CommentRights.of(viewer, ask)
            for c in made:
                context = (role, c.id, c.state, closed)
                assert rights.can_edit(c) == permissions.can_edit_comment(viewer, c), context
                assert rights.can_resolve(c) == permissions.can_resolve_comment(viewer, c), context
                assert rights.can_report(c) == permissions.can_report_comment(viewer, c), context
                assert rights.can_record_outcome(c) == permissions.can_record_comment_outcome(
                    viewer, c
                ), context
                assert rights.moderates == permissions.can_moderate(viewer), context


def test_the_discussion_controls_follow_the_rules(app, people, ask):
    with app.test_request_context():
        made = _comments(people, ask)
        version = ask.current_version
        found = paragraphs(version.body)
        for role in VIEWERS:
            viewer = people.get(role) or AnonymousUserMixin()
            d = threads.Discussion.of(ask, version, found, viewer, Filters())
            for c in made:
                may = d.actions(c) or threads.Actions()
                visible = c.state == CommentState.VISIBLE
                assert may.reply == (d.can_comment and visible)
                assert may.edit == permissions.can_edit_comment(viewer, c)
                assert may.moderate == (permissions.can_moderate(viewer) and visible)
                assert may.resolve == permissions.can_resolve_comment(viewer, c)
                assert may.report == permissions.can_report_comment(viewer, c)
                assert may.record_outcome == permissions.can_record_comment_outcome(viewer, c)
                assert d.can_see_body(c) == rules.can_see_body(viewer, c)


def test_links_built_once_are_url_for_s_own(app, people, ask):
    with app.test_request_context():
        version = ask.current_version
        found = paragraphs(version.body)
        d = threads.Discussion.of(ask, version, found, people.member, Filters())
        for comment_id in (1, 42, 123456789):
            for endpoint in ("comments.new_reply", "comments.edit", "dispositions.comment"):
                assert d.comment_url(endpoint, comment_id) == url_for(
                    endpoint, comment_id=comment_id
                )
        for p in found:
            assert d.paragraph_url("page", p.anchor) == d.page_url(paragraph=p.anchor)
            assert d.paragraph_url("comment_on", p.anchor) == d.page_url(comment_on=p.anchor)
            assert d.paragraph_url("new", p.anchor) == url_for(
                "comments.new", ask_id=ask.id, paragraph=p.anchor
            )
            assert d.paragraph_url("threads", p.anchor) == url_for(
                "comments.paragraph_threads",
                ask_id=ask.id,
                anchor=p.anchor,
                version=version.number,
            )
