"""Closing the moderation loop: hiding a reported comment handles its reports in the same
step; only a comment that starts a thread can be resolved; the secretariat's queue of a
consultation's unresolved comments, oldest first, filterable by ask and organisation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.comments import services
from consult.comments.services import CommentError
from consult.extensions import db
from consult.models import AuditEvent, CommentReport, utcnow
from tests import factories
from tests.helpers import HTMX, V1, anchors, comment, login_as
from tests.html import select as css_select
from tests.html import select_one, text_of, texts

pytestmark = pytest.mark.database


def test_hiding_a_comment_handles_its_open_reports(people, ask):
    made = comment(people.member, ask, "Rude words.")
    first = services.report_comment(actor=people.other_member, comment=made, reason="Rude")
    second = services.report_comment(actor=people.colleague, comment=made, reason="Offensive")
    services.handle_report(actor=people.secretariat, report=second)
    handled_earlier = second.handled_at
    untouched = services.report_comment(
        actor=people.other_member, comment=comment(people.member, ask, "Fine."), reason="Hm"
    )
    services.hide_comment(actor=people.secretariat, comment=made, reason="Abusive")
    db.session.commit()
    assert first.handled_at is not None
    assert second.handled_at == handled_earlier  # already handled: left as it was
    assert untouched.handled_at is None  # another comment's report
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "comment.hide")).one()
    assert event.after["reports_handled"] == 1


def test_hiding_from_the_page_empties_the_open_reports(client, people, ask):
    made = comment(people.member, ask, "Rude words.")
    services.report_comment(actor=people.other_member, comment=made, reason="Rude")
    db.session.commit()
    login_as(client, people.secretariat)
    assert css_select(client.get("/comments/reports"), "tr[id^=report-]")
    page = client.get(f"/comments/{made.id}/hide")
    token = select_one(page, "input[name=csrf_token]")["value"]
    response = client.post(
        f"/comments/{made.id}/hide", data={"csrf_token": token, "reason": "Abusive"}
    )
    assert response.status_code == 303
    assert "There are no open reports." in text_of(client.get("/comments/reports"), "main")
    assert db.session.scalar(select(CommentReport.handled_at)) is not None


def test_only_a_comment_that_starts_a_thread_can_be_resolved(client, people, ask):
    top = comment(people.member, ask, "Top.")
    reply = comment(people.other_member, ask, "A reply.", parent=top)
    db.session.commit()
    with pytest.raises(CommentError, match="Only a comment that starts a thread"):
        services.resolve_comment(actor=people.secretariat, comment=reply, response="No.")
    login_as(client, people.secretariat)
    page = client.get(f"/asks/{ask.id}")
    top_actions = texts(page, f"#comment-{top.id}-content .app-comment__actions a")
    reply_actions = texts(page, f"#comment-{reply.id}-content .app-comment__actions a")
    assert any(a.startswith("Mark as resolved") for a in top_actions)
    assert not any(a.startswith("Mark as resolved") for a in reply_actions)
    assert any(a.startswith("Hide") for a in reply_actions)
    # The reply's resolve page and post are refused, and change nothing.
    assert client.get(f"/comments/{reply.id}/resolve").status_code == 403
    assert client.get(f"/comments/{reply.id}/resolve", headers=HTMX).status_code == 403
    assert client.post(f"/comments/{reply.id}/resolve", data={"response": "x"}).status_code in (
        400,
        403,
    )
    db.session.refresh(reply)
    assert not reply.is_resolved


def _queue(client, consultation_id: int, **args):
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return client.get(f"/consultations/{consultation_id}/unresolved-comments?{query}")


def test_the_unresolved_queue_oldest_first_with_filters(client, people, ask):
    consultation = ask.consultation
    other_ask = factories.ask(consultation, title="Second ask", versions=(V1,))
    db.session.commit()
    anchor = anchors(ask)[1]
    oldest = comment(people.other_member, ask, "Oldest.", paragraph_anchor=anchor)
    newer = comment(people.member, other_ask, "On the second ask.")
    resolved = comment(people.member, ask, "Answered.")
    services.resolve_comment(actor=people.secretariat, comment=resolved, response="Yes.")
    hidden = comment(people.member, ask, "Hidden.")
    services.hide_comment(actor=people.secretariat, comment=hidden, reason="Rude")
    reply = comment(people.member, ask, "A reply.", parent=oldest)
    oldest.created_at = utcnow() - timedelta(days=3)
    db.session.commit()

    login_as(client, people.secretariat)
    page = _queue(client, consultation.id)
    assert page.status_code == 200
    ids = [li["id"] for li in css_select(page, "#unresolved-comments > li")]
    assert ids == [f"unresolved-{oldest.id}", f"unresolved-{newer.id}"]
    assert reply.id and f"unresolved-{reply.id}" not in ids
    assert text_of(page, "#unresolved-summary") == "2 unresolved comments, oldest first."
    first = select_one(page, f"#unresolved-{oldest.id}")
    assert "Declare a climate emergency: on paragraph 2" in text_of(first)
    assert "Oldest." in text_of(first)
    links = {text_of(a): a["href"] for a in css_select(first, "a")}
    name = oldest.author.name
    assert links[f"Mark as resolved ({name}’s comment)"] == f"/comments/{oldest.id}/resolve"
    assert links[f"Read the thread started by {name}"] == f"/comments/{oldest.id}"

    by_ask = _queue(client, consultation.id, ask=other_ask.id)
    assert [li["id"] for li in css_select(by_ask, "#unresolved-comments > li")] == [
        f"unresolved-{newer.id}"
    ]
    assert text_of(by_ask, "#unresolved-summary") == (
        "1 unresolved comment matches your filters, oldest first."
    )
    by_org = _queue(client, consultation.id, organisation=people.other_member.organisation_id)
    assert [li["id"] for li in css_select(by_org, "#unresolved-comments > li")] == [
        f"unresolved-{oldest.id}"
    ]
    # Unknown filter values are ignored rather than an error.
    assert _queue(client, consultation.id, ask="nope", organisation="999999").status_code == 200

    # The consultation page links to it, with the count.
    show = client.get(f"/consultations/{consultation.id}")
    assert text_of(show, "#unresolved-link") == "Unresolved comments (2)"


def test_an_empty_queue_says_so(client, people, ask):
    login_as(client, people.secretariat)
    page = _queue(client, ask.consultation.id)
    assert "Every comment in this consultation has been resolved" in text_of(
        page, "#unresolved-summary"
    )


@pytest.mark.parametrize("role", ["observer", "member"])
def test_only_the_secretariat_has_the_queue(client, people, ask, role):
    login_as(client, getattr(people, role))
    assert _queue(client, ask.consultation.id).status_code == 403
    assert not css_select(client.get(f"/consultations/{ask.consultation.id}"), "#unresolved-link")


def test_a_withdrawn_comment_on_the_reports_page_keeps_its_text_to_itself(client, people, ask):
    made = comment(people.member, ask, "Words I took back.")
    services.report_comment(actor=people.other_member, comment=made, reason="Rude")
    services.withdraw_comment(actor=people.member, comment=made)
    hidden = comment(people.member, ask, "Words the secretariat hid.")
    services.report_comment(actor=people.other_member, comment=hidden, reason="Rude")
    services.hide_comment(actor=people.secretariat, comment=hidden, reason="Abusive")
    db.session.commit()
    login_as(client, people.secretariat)

    page = client.get("/comments/reports?show=all")

    assert page.status_code == 200
    [row] = [r for r in css_select(page, "tr[id^=report-]") if "Withdrawn" in r.get_text()]
    assert "Words I took back." not in page.get_data(as_text=True)
    assert "Withdrawn by its author" in row.get_text()
    assert not row.select(f'a[href="/comments/{made.id}/resolve"]')
    assert not row.select(f'a[href="/comments/{made.id}/hide"]')
    # A hidden comment stays readable by the secretariat, who hid it.
    assert "Words the secretariat hid." in page.get_data(as_text=True)
    # Resolving it is refused, and changes nothing.
    response = client.post(f"/comments/{made.id}/resolve", data={"response": "Noted."})
    assert response.status_code == 403
    db.session.refresh(made)
    assert made.resolved_at is None
    with pytest.raises(CommentError, match="Only a visible comment can be resolved"):
        services.resolve_comment(actor=people.secretariat, comment=made, response="Noted.")
