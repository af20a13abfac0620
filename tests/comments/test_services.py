"""The comment services, called directly: rules, audit events and live announcements."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consult.asks.services import publish_version
from consult.comments import services
from consult.comments.services import CommentError
from consult.extensions import db
from consult.models import AuditEvent, Comment, CommentReport, CommentState, LiveEvent
from tests.helpers import V2, anchors, audit_actions, comment

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def live_events() -> list[tuple[str, int]]:
    return [
        (e.name, e.object_id) for e in db.session.scalars(select(LiveEvent).order_by(LiveEvent.id))
    ]


def test_add_comment_on_a_paragraph_with_a_quote(people, ask):
    anchor = anchors(ask)[1]
    made, created = services.add_comment(
        author=people.member,
        ask=ask,
        body="  Good.\r\nYes.  ",
        paragraph_anchor=anchor,
        quote="  NET   zero ",
    )
    assert created
    assert made.version_id == ask.current_version.id and made.paragraph_anchor == anchor
    assert made.body == "Good.\nYes." and made.quote == "NET   zero"
    assert made.organisation_id == people.member.organisation_id
    assert audit_actions() == ["comment.create"]
    event = db.session.scalar(select(AuditEvent))
    assert event.object_id == made.id and event.after["paragraph_anchor"] == anchor
    assert live_events() == [("comment-added", made.id)]


def test_add_comment_on_the_whole_ask(people, ask):
    made = comment(people.member, ask, "On everything.")
    assert made.paragraph_anchor is None and made.quote is None and made.parent_id is None


@pytest.mark.parametrize(
    "fields, message, field",
    [
        ({"body": "   "}, "Enter your comment", "body"),
        ({"body": "x" * 5001}, "Comment must be 5,000 characters or fewer", "body"),
        ({"paragraph_anchor": "p-0000000000"}, "That paragraph has changed in a newer", "body"),
        ({"quote": "zero"}, "Choose a paragraph to quote from", "quote"),
    ],
)
def test_add_comment_refuses(people, ask, fields, message, field):
    """Each refusal says which form field it belongs to."""
    with pytest.raises(CommentError, match=message) as refused:
        services.add_comment(author=people.member, ask=ask, **{"body": "Fine.", **fields})
    assert refused.value.field == field
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0
    assert audit_actions() == [] and live_events() == []


def test_the_quote_must_come_from_the_paragraph(people, ask):
    anchor = anchors(ask)[1]
    with pytest.raises(
        CommentError, match="The quoted phrase must be words from the paragraph"
    ) as refused:
        services.add_comment(
            author=people.member, ask=ask, body="x", paragraph_anchor=anchor, quote="act now"
        )  # words of another paragraph
    assert refused.value.field == "quote"
    with pytest.raises(CommentError, match="300 characters or fewer") as refused:
        services.add_comment(
            author=people.member, ask=ask, body="x", paragraph_anchor=anchor, quote="zero " * 61
        )
    assert refused.value.field == "quote"


def test_an_earlier_versions_paragraph_is_refused(people, ask):
    """Comments go on the current version: a paragraph only v1 has is not there."""
    from consult.text import paragraphs

    v1_first = paragraphs(ask.versions[0].body)[0].anchor
    assert v1_first not in anchors(ask)
    with pytest.raises(CommentError, match="has changed in a newer version") as refused:
        services.add_comment(author=people.member, ask=ask, body="x", paragraph_anchor=v1_first)
    assert refused.value.field == "body"


def test_replies_take_their_parents_version_and_paragraph(people, ask):
    anchor = anchors(ask)[1]
    parent = comment(people.member, ask, paragraph_anchor=anchor, quote="net zero")
    reply, created = services.add_comment(
        author=people.other_member,
        ask=ask,
        body="Agreed.",
        parent=parent,
        paragraph_anchor=None,
        quote="ignored",
    )
    assert created and reply.parent_id == parent.id
    assert reply.paragraph_anchor == anchor and reply.version_id == parent.version_id
    assert reply.quote is None
    assert audit_actions() == ["comment.create", "comment.reply"]


def test_no_reply_to_a_withdrawn_or_hidden_comment_or_another_ask(people, ask):
    from tests import factories

    withdrawn = comment(people.member, ask)
    services.withdraw_comment(actor=people.member, comment=withdrawn)
    hidden = comment(people.member, ask)
    services.hide_comment(actor=people.secretariat, comment=hidden, reason="Rude")
    for parent in (withdrawn, hidden):
        with pytest.raises(CommentError, match="can no longer be replied to"):
            services.add_comment(author=people.other_member, ask=ask, body="x", parent=parent)
    other_ask = factories.ask(ask.consultation)
    with pytest.raises(CommentError, match="only reply to a comment on this ask"):
        services.add_comment(
            author=people.other_member, ask=other_ask, body="x", parent=comment(people.member, ask)
        )


def test_the_same_submission_key_makes_one_comment(people, ask):
    first, created = services.add_comment(
        author=people.member, ask=ask, body="Once.", submission_key="a" * 32
    )
    again, created_again = services.add_comment(
        author=people.member, ask=ask, body="Once.", submission_key="a" * 32
    )
    assert created and not created_again and again.id == first.id
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 1
    assert audit_actions() == ["comment.create"]
    # Another person's form may carry the same key: it is theirs alone.
    theirs, created = services.add_comment(
        author=people.other_member, ask=ask, body="Mine.", submission_key="a" * 32
    )
    assert created and theirs.id != first.id


def test_a_form_sent_again_finds_its_comment_after_its_paragraph_changed(people, ask):
    """Resent once a new version has changed its paragraph: the comment it made (no second
    one, no refusal); the same form with a new key is refused, as the paragraph has gone."""
    third = anchors(ask)[2]
    fields = {"author": people.member, "ask": ask, "body": "Once.", "paragraph_anchor": third}
    first, created = services.add_comment(**fields, submission_key="b" * 32)
    v3 = V2.replace("- Homes\n- Transport", "- Homes\n- Transport\n- Food")
    publish_version(actor=people.secretariat, ask=ask, body=v3, change_note="Food")
    again, created_again = services.add_comment(**fields, submission_key="b" * 32)
    assert created and not created_again and again.id == first.id
    with pytest.raises(CommentError, match="That paragraph has changed"):
        services.add_comment(**fields, submission_key="c" * 32)
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 1
    assert audit_actions() == ["comment.create", "version.publish"]


def test_a_comment_re_anchors_to_an_unchanged_paragraph_of_a_later_version(people, ask):
    """A comment on v2's second paragraph is on the same paragraph of v3 when it is unchanged,
    and on no paragraph of v3 when it changed."""
    second, third = anchors(ask)[1], anchors(ask)[2]
    on_second = comment(people.member, ask, paragraph_anchor=second)
    on_third = comment(people.member, ask, paragraph_anchor=third)
    v3 = V2.replace("- Homes\n- Transport", "- Homes\n- Transport\n- Food")
    publish_version(actor=people.secretariat, ask=ask, body=v3, change_note="Food")
    assert second in anchors(ask) and third not in anchors(ask)
    assert on_second.paragraph_anchor in anchors(ask)
    assert on_third.paragraph_anchor not in anchors(ask)
    # New comments go on v3, and may use the unchanged paragraph.
    later = comment(people.other_member, ask, paragraph_anchor=second)
    assert later.version.number == 3 and on_second.version.number == 2


def test_edit(people, ask):
    made = comment(people.member, ask, "Before.")
    assert services.edit_comment(actor=people.member, comment=made, body=" After. ")
    assert made.body == "After." and made.edited_at is not None
    assert not services.edit_comment(actor=people.member, comment=made, body="After.")
    assert audit_actions() == ["comment.create", "comment.edit"]
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.before == {"body": "Before."} and event.after == {"body": "After."}
    with pytest.raises(CommentError, match="Enter your comment"):
        services.edit_comment(actor=people.member, comment=made, body="")
    assert live_events()[-1] == ("comment-updated", made.id)


def test_withdraw(people, ask):
    made = comment(people.member, ask, "Gone soon.")
    services.withdraw_comment(actor=people.member, comment=made)
    assert made.state == CommentState.WITHDRAWN
    assert audit_actions()[-1] == "comment.withdraw"
    assert live_events()[-1] == ("comment-updated", made.id)


def test_hide_keeps_the_reason(people, ask):
    made = comment(people.member, ask)
    with pytest.raises(CommentError, match="Enter the reason"):
        services.hide_comment(actor=people.secretariat, comment=made, reason=" ")
    with pytest.raises(CommentError, match="500 characters or fewer"):
        services.hide_comment(actor=people.secretariat, comment=made, reason="x" * 501)
    services.hide_comment(actor=people.secretariat, comment=made, reason="Personal details")
    assert made.state == CommentState.HIDDEN and made.hidden_by_id == people.secretariat.id
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "comment.hide" and event.after["hidden_reason"] == "Personal details"
    with pytest.raises(CommentError, match="Only a visible comment"):
        services.hide_comment(actor=people.secretariat, comment=made, reason="Again")


def test_resolve(people, ask):
    made = comment(people.member, ask)
    with pytest.raises(CommentError, match="Enter the secretariat's response"):
        services.resolve_comment(actor=people.secretariat, comment=made, response="")
    services.resolve_comment(actor=people.secretariat, comment=made, response="Done in v3.")
    assert made.is_resolved and made.resolution == "Done in v3."
    with pytest.raises(CommentError, match="already resolved"):
        services.resolve_comment(actor=people.secretariat, comment=made, response="Again")
    assert audit_actions()[-1] == "comment.resolve"


def test_report_once_per_person_and_handle(people, ask):
    made = comment(people.member, ask)
    report = services.report_comment(actor=people.other_member, comment=made, reason=" Rude ")
    assert report.reason == "Rude" and report.handled_at is None
    with pytest.raises(CommentError, match="already reported"):
        services.report_comment(actor=people.other_member, comment=made, reason="Again")
    with pytest.raises(CommentError, match="Enter why"):
        services.report_comment(actor=people.colleague, comment=made, reason="")
    assert db.session.scalar(select(func.count()).select_from(CommentReport)) == 1
    assert services.handle_report(actor=people.secretariat, report=report)
    assert report.handled_at is not None
    assert not services.handle_report(actor=people.secretariat, report=report)
    assert audit_actions()[-2:] == ["comment.report", "comment.report_handle"]


def test_a_quote_with_curly_punctuation_matches_straight_wording(people, ask):
    """The wording says "UK's" and "2030-2040"; a Mac types "UK’s" and an en dash."""
    publish_version(
        ask=ask,
        actor=people.secretariat,
        body='The UK\'s share, 2030-2040, of "net zero".\n\nEvery party commits to net zero.',
        change_note="Share",
    )
    anchor = anchors(ask)[0]
    made, created = services.add_comment(
        author=people.member,
        ask=ask,
        body="Which share?",
        paragraph_anchor=anchor,
        quote="UK’s share,\u00a02030–2040, of “net zero”",
    )
    assert created and made.quote == "UK’s share,\u00a02030–2040, of “net zero”"


@pytest.mark.parametrize("body", ["\u200b", "\u200b \u200c\u200d", "\ufeff\u2060", "\u00a0\u3000"])
def test_a_comment_of_only_invisible_characters_is_refused(people, ask, body):
    """Issue 11: a comment of only invisible characters was accepted (an empty-looking
    comment in the thread)."""
    with pytest.raises(CommentError, match="Enter your comment"):
        services.add_comment(author=people.member, ask=ask, body=body)
    made, _ = services.add_comment(author=people.member, ask=ask, body="\u200bVisible")
    assert made.body == "\u200bVisible"
