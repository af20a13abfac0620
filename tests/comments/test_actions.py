"""Editing, withdrawing, hiding, resolving and reporting comments, and the secretariat's
reports page: who may, confirmation pages, bad input, htmx fragments against full pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consult.comments import services
from consult.extensions import db
from consult.models import Comment, CommentReport
from tests.helpers import HTMX, audit_actions, comment, login_as
from tests.helpers import comments_snapshot as snapshot
from tests.html import assert_no_active_html, select_one, text_of, texts, top_level
from tests.html import select as css_select

# Each action: its URL, the form that does it, and who may (the comment is the member's).
ACTIONS = {
    "edit": ({"body": "Changed text."}, {"member"}),
    "withdraw": ({}, {"member"}),
    "hide": ({"reason": "Off topic"}, {"secretariat"}),
    "resolve": ({"response": "Changed in v3."}, {"secretariat"}),
    "report": ({"reason": "Rude"}, {"colleague", "other_member"}),
}
EVERYONE = ("anonymous", "observer", "member", "colleague", "other_member", "secretariat")


@pytest.fixture
def own(people, ask) -> Comment:
    made = comment(people.member, ask, "My *own* comment.")
    db.session.commit()
    return made


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", EVERYONE)
def test_who_may_do_what(client, people, own, action, role):
    """The author edits and withdraws; the secretariat hides and resolves; other members
    report. Everyone else is refused (403, or sent to sign in) and nothing changes."""
    data, allowed = ACTIONS[action]
    login_as(client, people.get(role))
    before = snapshot()
    page = client.get(f"/comments/{own.id}/{action}")
    done = client.post(f"/comments/{own.id}/{action}", data=data)
    if role in allowed:
        assert page.status_code == 200 and done.status_code == 303
        assert done.headers["Location"].endswith(f"?thread={own.id}#comment-{own.id}")
        assert snapshot() != before
    else:
        expected = 302 if role == "anonymous" else 403
        assert page.status_code == expected and done.status_code == expected
        assert snapshot() == before


def test_edit_shows_edited(client, people, own):
    login_as(client, people.member)
    form = client.get(f"/comments/{own.id}/edit").get_data(as_text=True)
    assert text_of(form, "h1") == "Edit your comment"
    assert text_of(form, "textarea") == "My *own* comment."  # the current text, to change
    response = client.post(f"/comments/{own.id}/edit", data={"body": "Better *words*."})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your comment has been updated" in html
    content = select_one(html, f"#comment-{own.id}-content")
    assert "Better words." in text_of(content) and text_of(content, "em") == "words"
    assert (
        ", edited" in text_of(content) and len(css_select(content, ".app-comment__meta time")) == 2
    )
    assert audit_actions()[-1] == "comment.edit"


def test_htmx_edit_replaces_only_the_content(client, people, own):
    login_as(client, people.member)
    form = client.get(f"/comments/{own.id}/edit", headers=HTMX).get_data(as_text=True)
    [element] = top_level(form)  # the form itself, swapped into the comment's form slot
    assert element.name == "form" and element["id"] == f"edit-{own.id}-form"
    assert "app-comment-form" in element["class"]
    assert element["hx-post"] == f"/comments/{own.id}/edit" and element["hx-target"] == "this"
    response = client.post(f"/comments/{own.id}/edit", data={"body": "New."}, headers=HTMX)
    assert response.status_code == 200 and "comments-changed" in response.headers["HX-Trigger"]
    html = response.get_data(as_text=True)
    assert "Your comment has been updated." in html and len(css_select(html, "[autofocus]")) == 1
    content = select_one(html, f"div.app-comment__content#comment-{own.id}-content")
    assert content["hx-swap-oob"] == "true"
    assert "New." in text_of(content) and ", edited" in text_of(content)
    # Never the form slot or the replies: they may hold what someone is typing.
    assert not css_select(html, f"#comment-{own.id}-form, #replies-{own.id}")


@pytest.mark.parametrize(
    "action, data, message, field",
    [
        ("edit", {"body": ""}, "Enter your comment", "body"),
        ("edit", {"body": "x" * 5001}, "Comment must be 5,000 characters or fewer", "body"),
        ("hide", {"reason": ""}, "Enter the reason for hiding the comment", "reason"),
        ("hide", {"reason": "x" * 501}, "Reason must be 500 characters or fewer", "reason"),
        ("resolve", {"response": " "}, "Enter the secretariat's response", "response"),
        ("report", {"reason": ""}, "Enter why you are reporting this comment", "reason"),
        ("report", {"reason": "x" * 501}, "Reason must be 500 characters or fewer", "reason"),
    ],
)
def test_bad_input(client, people, own, action, data, message, field):
    actor = {
        "edit": people.member,
        "hide": people.secretariat,
        "resolve": people.secretariat,
        "report": people.other_member,
    }[action]
    login_as(client, actor)
    before = snapshot()
    for headers in ({}, HTMX):
        response = client.post(f"/comments/{own.id}/{action}", data=data, headers=headers)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert "There is a problem" in html and message in text_of(html)
        assert css_select(html, f'.govuk-error-summary a[href="#{action}-{own.id}-{field}"]')
        assert bool(css_select(html, "html")) == (headers == {})
    assert snapshot() == before


@pytest.fixture
def lonely_and_answered(people, ask) -> tuple[Comment, Comment]:
    """Two of the member's comments: one nobody answered, one with a reply."""
    lonely = comment(people.member, ask, "Nobody answered.")
    answered = comment(people.member, ask, "Somebody answered.")
    comment(people.other_member, ask, "The answer.", parent=answered)
    db.session.commit()
    return lonely, answered


def test_withdraw_asks_first_and_leaves_a_tombstone_only_with_replies(
    client, people, ask, lonely_and_answered
):
    lonely, answered = lonely_and_answered
    login_as(client, people.member)
    page = client.get(f"/comments/{lonely.id}/withdraw").get_data(as_text=True)
    assert "Are you sure you want to withdraw your comment?" in page and "Nobody answered." in page
    assert css_select(page, "button.govuk-button--warning")
    for made in (lonely, answered):
        assert client.post(f"/comments/{made.id}/withdraw").status_code == 303
    assert audit_actions()[-2:] == ["comment.withdraw", "comment.withdraw"]
    for viewer in (people.member, people.other_member, people.secretariat):
        html = login_as(client, viewer).get(f"/asks/{ask.id}").get_data(as_text=True)
        assert not css_select(html, f"#comment-{lonely.id}") and "Nobody answered." not in html
        assert css_select(html, f"#comment-{answered.id}") and "Somebody answered." not in html
        assert "This comment was withdrawn by its author." in html and "The answer." in html
    # A withdrawn comment cannot be withdrawn or edited again.
    login_as(client, people.member)
    assert client.post(f"/comments/{answered.id}/withdraw").status_code == 403
    assert client.post(f"/comments/{answered.id}/edit", data={"body": "Back"}).status_code == 403


def test_hidden_comment_members_do_not_see_it_and_the_author_sees_why(
    client, people, ask, lonely_and_answered
):
    hidden, answered = lonely_and_answered
    login_as(client, people.secretariat)
    form = client.get(f"/comments/{hidden.id}/hide").get_data(as_text=True)
    assert "The author is shown this reason." in form
    for made in (hidden, answered):
        response = client.post(
            f"/comments/{made.id}/hide", data={"reason": "<b>Personal</b> details"}
        )
        assert response.status_code == 303
    # Other members and observers: no text, a tombstone only where it has replies.
    for viewer in (people.other_member, people.colleague, people.observer):
        html = login_as(client, viewer).get(f"/asks/{ask.id}").get_data(as_text=True)
        assert "Nobody answered." not in html and "Somebody answered." not in html
        assert "Personal" not in html
        assert not css_select(html, f"#comment-{hidden.id}")
        assert html.count("This comment was hidden by the secretariat.") == 1
        assert "The answer." in html
    # The author and the secretariat: the text, and why it is hidden.
    for viewer in (people.member, people.secretariat):
        html = login_as(client, viewer).get(f"/asks/{ask.id}").get_data(as_text=True)
        assert "Nobody answered." in html and "Somebody answered." in html
        assert "Hidden by the secretariat: <b>Personal</b> details" in text_of(html)
        assert_no_active_html(html)
        assert not css_select(html, "main b")
    # Hidden comments cannot be replied to, edited or reported.
    login_as(client, people.member)
    assert client.post(f"/comments/{hidden.id}/edit", data={"body": "x"}).status_code == 403
    login_as(client, people.other_member)
    assert client.get(f"/comments/{hidden.id}/report").status_code == 403


def test_resolve_shows_the_response(client, people, own):
    login_as(client, people.secretariat)
    client.post(f"/comments/{own.id}/resolve", data={"response": "We changed *this* in v3."})
    html = login_as(client, people.other_member).get(f"/asks/{own.ask_id}").get_data(as_text=True)
    assert "Resolved by the secretariat" in html and "We changed this in v3." in text_of(html)
    assert "this" in texts(html, f"#comment-{own.id}-content em")
    login_as(client, people.secretariat)
    again = client.post(f"/comments/{own.id}/resolve", data={"response": "Again"})
    assert again.status_code == 422 and "This comment is already resolved" in again.get_data(
        as_text=True
    )
    assert "Mark as resolved" not in client.get(f"/asks/{own.ask_id}").get_data(as_text=True)


def test_controls_match_permissions(client, people, own, ask):
    theirs = comment(people.other_member, ask, "Theirs.")
    db.session.commit()

    def controls(html: str, comment_id: int) -> set[str]:
        content = select_one(html, f"#comment-{comment_id}-content")
        return {
            name
            for name in ("replies/new", "edit", "withdraw", "hide", "resolve", "report")
            if css_select(content, f'a[href="/comments/{comment_id}/{name}"]')
        }

    def page(user) -> str:
        return login_as(client, user).get(f"/asks/{ask.id}").get_data(as_text=True)

    assert controls(page(people.member), own.id) == {"replies/new", "edit", "withdraw"}
    assert controls(page(people.member), theirs.id) == {"replies/new", "report"}
    assert controls(page(people.colleague), own.id) == {"replies/new", "report"}
    assert controls(page(people.secretariat), own.id) == {"replies/new", "hide", "resolve"}
    assert controls(page(people.observer), own.id) == set()


def test_report_and_the_secretariats_list(client, people, own):
    login_as(client, people.other_member)
    response = client.post(
        f"/comments/{own.id}/report", data={"reason": "<script>alert(1)</script>"}
    )
    assert response.status_code == 303
    again = client.post(f"/comments/{own.id}/report", data={"reason": "Again"})
    assert again.status_code == 422 and "You have already reported this comment" in again.get_data(
        as_text=True
    )
    login_as(client, people.colleague)
    client.post(f"/comments/{own.id}/report", data={"reason": "Unkind"}, headers=HTMX)
    assert db.session.scalars(select(CommentReport)).all()
    # Members are never told who reported them, or how often.
    for viewer in (people.member, people.other_member):
        assert "Reported" not in login_as(client, viewer).get(f"/asks/{own.ask_id}").get_data(
            as_text=True
        )
    login_as(client, people.secretariat)
    html = client.get(f"/asks/{own.ask_id}").get_data(as_text=True)
    assert texts(html, f'#comment-{own.id}-content a[href="/comments/reports"]') == [
        "Reported 2 times"
    ]
    reports = client.get("/comments/reports").get_data(as_text=True)
    assert_no_active_html(reports)
    assert "<script>alert(1)</script>" in text_of(reports) and "Unkind" in reports
    assert (
        "Otto Other, Other Organisation" in reports
        and "Colin Colleague, Home Organisation" in reports
    )
    assert "My *own* comment." in reports and "Declare a climate emergency" in reports
    links = {a["href"] for a in css_select(reports, "main a")}
    assert {
        f"/comments/{own.id}",
        f"/comments/{own.id}/hide",
        f"/comments/{own.id}/resolve",
    } <= links


def test_marking_a_report_handled(client, people, own):
    report = services.report_comment(actor=people.other_member, comment=own, reason="Off topic")
    db.session.commit()
    # (Who may: the route x role matrix, tests/test_access.py.)
    login_as(client, people.secretariat)
    response = client.post(f"/comments/reports/{report.id}/handled")
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/comments/reports"
    )
    db.session.expire_all()
    assert db.session.get(CommentReport, report.id).handled_at is not None
    assert audit_actions()[-1] == "comment.report_handle"
    open_list = client.get("/comments/reports").get_data(as_text=True)
    assert "There are no open reports." in open_list and "Report marked as handled" in open_list
    everything = client.get("/comments/reports?show=all").get_data(as_text=True)
    assert "Handled" in text_of(everything, f"#report-{report.id}")
    # The count on the comment is of open reports only.
    assert "Reported 1 time" not in client.get(f"/asks/{own.ask_id}").get_data(as_text=True)
    again = client.post(f"/comments/reports/{report.id}/handled")
    assert again.status_code == 303
    assert "That report was already handled" in client.get("/comments/reports").get_data(
        as_text=True
    )
    assert client.post("/comments/reports/999999/handled").status_code == 404


def test_permalink_goes_to_the_thread(client, people, own, ask):
    reply = comment(people.other_member, ask, "Reply.", parent=own)
    deeper = comment(people.member, ask, "Deeper.", parent=reply)
    db.session.commit()
    login_as(client, people.observer)
    response = client.get(f"/comments/{deeper.id}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/asks/{ask.id}?thread={own.id}#comment-{deeper.id}"
    )
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Deeper." in html and "You are reading one thread." in html
