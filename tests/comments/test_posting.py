"""Posting comments and replies through the pages: who may, bad input, double submission,
flooding, and htmx fragments against full pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from consult.extensions import db
from consult.models import Comment, ConsultationState
from tests import factories
from tests.helpers import HTMX, anchors, audit_actions, comment, login_as, sql_during
from tests.helpers import comments_snapshot as snapshot
from tests.html import assert_no_active_html, select_one, text_of, texts, top_level
from tests.html import select as css_select

KEY = "0123456789abcdef0123456789abcdef"


def count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Comment))


def post_comment(client, ask, headers=None, **data):
    form = {"body": "We agree.", "submission_key": KEY, "placement": "page", **data}
    return client.post(f"/asks/{ask.id}/comments", data=form, headers=headers or {})


# Who may post: the route x role matrix (tests/test_access.py). --------------------------------


def test_observers_see_no_controls(client, people, ask):
    comment(people.member, ask)
    html = login_as(client, people.observer).get(f"/asks/{ask.id}").get_data(as_text=True)
    assert "We agree" not in html and "A comment." in html
    assert "Comment on paragraph" not in html and "Post comment" not in html
    assert "Mark as resolved" not in html
    for control in ("replies/new", "edit", "withdraw", "hide", "report", "resolve"):
        assert not css_select(html, f'a[href^="/comments/"][href$="/{control}"]'), control
    assert not css_select(html, "#comment-form")
    assert "Observers can read the discussion but cannot comment." in html
    assert login_as(client, people.observer).get(f"/asks/{ask.id}/comments/new").status_code == 403


def test_no_comments_once_the_consultation_closes(client, people, ask):
    from consult.models import utcnow

    ask.consultation.closed_at = utcnow()
    db.session.commit()
    assert ask.consultation.state == ConsultationState.CLOSED
    login_as(client, people.member)
    assert post_comment(client, ask).status_code == 403
    html = client.get(f"/asks/{ask.id}").get_data(as_text=True)
    assert "The consultation closed on" in html and "Comment on paragraph" not in html
    assert count() == 0


# Posting and where it leads -----------------------------------------------------------------


def test_comment_on_a_paragraph_without_javascript(client, people, ask):
    anchor = anchors(ask)[1]
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}?comment_on={anchor}").get_data(as_text=True)
    assert "Comment on paragraph 2" in page and "Comment on the whole ask instead" in page
    assert css_select(page, 'input[name="quote"]')
    assert "Quote a phrase from this paragraph (optional)" in page
    paragraph = select_one(page, 'input#comment-paragraph[type="hidden"][name="paragraph"]')
    assert paragraph["value"] == anchor
    response = post_comment(client, ask, paragraph=anchor, quote="net zero")
    assert response.status_code == 303
    made = db.session.scalar(select(Comment))
    assert made.paragraph_anchor == anchor and made.quote == "net zero"
    assert response.headers["Location"].endswith(
        f"/asks/{ask.id}?thread={made.id}#comment-{made.id}"
    )
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your comment has been posted" in html  # the flash message
    assert css_select(html, f"li#comment-{made.id}") and "You are reading one thread." in html
    assert audit_actions() == ["comment.create"]


def test_the_paragraph_form_opens_inline_with_htmx(client, people, ask):
    anchor = anchors(ask)[0]
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}").get_data(as_text=True)
    link = select_one(page, f'a[hx-target="#paragraph-form-{anchor}"]')
    assert text_of(link) == "Comment on paragraph 1"
    assert link["href"].endswith(f"?comment_on={anchor}#comment-form")
    assert css_select(page, f"#paragraph-form-{anchor}")
    full = client.get(link["hx-get"])
    fragment = client.get(link["hx-get"], headers=HTMX)
    assert "HX-Request" in fragment.headers["Vary"]
    full_html, part = full.get_data(as_text=True), fragment.get_data(as_text=True)
    assert css_select(full_html, "html") and css_select(full_html, "h1")
    assert "Comment on paragraph 1" in full_html
    [form] = top_level(part)
    assert form.name == "form" and form["id"] == f"comment-{anchor}-form"
    assert form["hx-post"].startswith("/asks/") and not css_select(part, "h1")
    assert select_one(form, 'input[type="hidden"][name="placement"]')["value"] == "inline"
    # The reader asked for the form: the quote field takes focus.
    assert [field["name"] for field in css_select(form, "[autofocus]")] == ["quote"]
    assert "Cancel" in part and css_select(form, '[hx-swap="delete"]')
    # The full page's form posts normally, without htmx.
    assert not css_select(full_html, "main [hx-post]")


def test_htmx_post_from_a_paragraph_form(client, people, ask):
    anchor = anchors(ask)[0]
    login_as(client, people.member)
    response = post_comment(client, ask, headers=HTMX, paragraph=anchor, placement="inline")
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == '{"comments-changed": true}'
    html = response.get_data(as_text=True)
    made = db.session.scalar(select(Comment))
    assert "Your comment has been posted." in html
    assert css_select(html, f'a[href="/comments/{made.id}"]')
    assert not css_select(html, "form, html") and len(css_select(html, "[autofocus]")) == 1


def test_htmx_post_from_the_page_form_gives_a_fresh_form(client, people, ask):
    login_as(client, people.member)
    response = post_comment(client, ask, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert [element.name for element in top_level(html)][:1] == ["form"]
    assert css_select(html, "form#comment-form") and "Your comment has been posted." in html
    key = select_one(html, 'input[type="hidden"][name="submission_key"]')["value"]
    assert re.fullmatch("[0-9a-f]{32}", key) and key != KEY  # a new key, for the next comment
    assert text_of(html, 'textarea.govuk-textarea#comment-body[name="body"]') == ""
    assert "We agree." not in html


@pytest.mark.database
def test_a_posted_comment_is_answered_without_reading_it_back(client, people, ask):
    """The answer is made from what the POST saved: after its writes, no statement reads
    the ask or the comment again. (The commit gives the database a new revision, its last
    write: consult/page_cache.py.)"""
    login_as(client, people.member)
    responses = []
    statements = sql_during(lambda: responses.append(post_comment(client, ask, headers=HTMX)))
    assert responses[0].status_code == 200
    assert "Your comment has been posted." in responses[0].get_data(as_text=True)
    words = [" ".join(s.split()).split(" ")[:3] for s in statements]
    last_write = max(i for i, w in enumerate(words) if w[0] in ("INSERT", "UPDATE"))
    assert words[last_write][:3] == ["INSERT", "INTO", "data_revision"]
    assert words[last_write - 1][:3] == ["INSERT", "INTO", "live_event"]
    assert statements[last_write + 1 :] == [] or all(
        not s.lstrip().upper().startswith("SELECT") for s in statements[last_write + 1 :]
    ), statements[last_write + 1 :]


@pytest.mark.database
def test_the_same_form_twice_makes_one_comment(client, people, ask):
    """A double click or a resent form: one comment, and the same answer both times."""
    login_as(client, people.member)
    first = post_comment(client, ask)
    second = post_comment(client, ask)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count() == 1 and audit_actions() == ["comment.create"]
    htmx_first = post_comment(client, ask, headers=HTMX, submission_key="f" * 32)
    htmx_again = post_comment(client, ask, headers=HTMX, submission_key="f" * 32)
    assert htmx_first.status_code == htmx_again.status_code == 200
    assert count() == 2
    made = db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()
    for response in (htmx_first, htmx_again):
        assert css_select(response, f'a[href="/comments/{made.id}"]')
    parent = db.session.scalars(select(Comment).order_by(Comment.id)).first()
    for _ in range(2):
        reply = client.post(
            f"/comments/{parent.id}/replies", data={"body": "Hi.", "submission_key": "e" * 32}
        )
        assert reply.status_code == 303
    assert count() == 3


@pytest.mark.parametrize(
    "data, message, field",
    [
        ({"body": ""}, "Enter your comment", "comment-body"),
        ({"body": "x" * 5001}, "Comment must be 5,000 characters or fewer", "comment-body"),
        ({"submission_key": ""}, "Reload the page and try again", "comment-submission_key"),
        ({"submission_key": "<script>"}, "Reload the page and try again", "comment-submission_key"),
        ({"paragraph": "not-an-anchor"}, "Reload the page and try again", "comment-paragraph"),
        (
            {"paragraph": "p-0000000000"},
            "That paragraph has changed in a newer version",
            "comment-body",
        ),
        ({"placement": "elsewhere"}, "Reload the page and try again", "comment-placement"),
    ],
)
def test_bad_input_is_refused_with_a_message(client, people, ask, data, message, field):
    login_as(client, people.member)
    before = snapshot()
    for headers in ({}, HTMX):
        response = post_comment(client, ask, headers=headers, **data)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert "There is a problem" in html and message in html
        # The error summary links to the field.
        assert css_select(html, f'.govuk-error-summary a[href="#{field}"]')
        assert bool(css_select(html, "html")) == (headers == {})
    assert snapshot() == before


def test_a_quote_from_elsewhere_is_refused_on_the_quote_field(client, people, ask):
    anchor = anchors(ask)[1]
    login_as(client, people.member)
    response = post_comment(
        client, ask, headers=HTMX, paragraph=anchor, placement="inline", quote="<b>not there</b>"
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The quoted phrase must be words from the paragraph" in html
    assert css_select(html, f'.govuk-error-summary a[href="#comment-{anchor}-quote"]')
    assert select_one(html, f"input#comment-{anchor}-quote")["value"] == "<b>not there</b>"
    assert not css_select(html, "b")
    # The error summary takes focus.
    assert [element["class"] for element in css_select(html, "[autofocus]")] == [
        ["govuk-error-summary"]
    ]
    assert count() == 0


def test_reply_form_page_and_fragment(client, people, ask):
    parent = comment(people.other_member, ask, "Original *point*.")
    login_as(client, people.member)
    full = client.get(f"/comments/{parent.id}/replies/new").get_data(as_text=True)
    part = client.get(f"/comments/{parent.id}/replies/new", headers=HTMX).get_data(as_text=True)
    assert text_of(full, "h1") == "Reply to a comment"
    assert "Original point." in text_of(full, "main") and "Otto Other" in full
    assert "point" in texts(full, "main em")
    [form] = top_level(part)
    assert form.name == "form" and "app-comment-form" in form["class"]
    assert form["id"].startswith("reply-") and not css_select(part, "h1")
    assert form["hx-post"] == f"/comments/{parent.id}/replies"
    assert len(css_select(form, "[autofocus]")) == 1


def test_htmx_reply_lets_the_live_tail_add_it(client, people, ask):
    parent = comment(people.other_member, ask)
    login_as(client, people.member)
    response = client.post(
        f"/comments/{parent.id}/replies",
        headers=HTMX,
        data={"body": "Indeed.", "submission_key": KEY},
    )
    assert response.status_code == 200 and "comments-changed" in response.headers["HX-Trigger"]
    html = response.get_data(as_text=True)
    assert "Your reply has been posted." in html and "View your reply" in html


def test_an_empty_reply_is_refused(client, people, ask):
    parent = comment(people.other_member, ask)
    login_as(client, people.member)
    before = snapshot()
    response = client.post(
        f"/comments/{parent.id}/replies", headers=HTMX, data={"body": " ", "submission_key": KEY}
    )
    assert response.status_code == 422 and "Enter your reply" in response.get_data(as_text=True)
    assert snapshot() == before


def test_a_reply_to_a_withdrawn_comment_is_refused(client, people, ask):
    from consult.comments import services

    parent = comment(people.other_member, ask)
    services.withdraw_comment(actor=people.other_member, comment=parent)
    login_as(client, people.member)
    before = snapshot()
    response = client.post(
        f"/comments/{parent.id}/replies", data={"body": "Hi.", "submission_key": KEY}
    )
    assert response.status_code == 422
    assert "This comment can no longer be replied to" in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.database
def test_unknown_comments_and_asks_are_404(client, people, ask):
    login_as(client, people.member)
    assert client.get("/comments/999999/replies/new").status_code == 404
    assert client.post("/asks/999999/comments", data={"body": "x"}).status_code == 404
    assert client.get("/comments/99999999999").status_code == 404


def test_payloads_are_stored_as_text_and_never_rendered_as_html(client, people, ask):
    anchor = anchors(ask)[1]
    payloads = [
        "<script>alert('body')</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1)) and [data](data:text/html,evil)",
        '<div hx-get="/evil" hx-trigger="load">htmx</div>',
        '<a href="javascript:alert(2)">raw</a>',
    ]
    author = factories.user(
        people.member.role,
        factories.organisation("<b>Evil org</b>"),
        name="<script>alert('name')</script>",
    )
    db.session.commit()
    login_as(client, author)
    for n, payload in enumerate(payloads):
        assert (
            post_comment(client, ask, body=payload, submission_key=f"{n:032x}").status_code == 303
        )
    quoted = post_comment(
        client, ask, body="Quote", paragraph=anchor, quote="net zero", submission_key="a" * 32
    )
    assert quoted.status_code == 303
    made = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    assert made[0].body == payloads[0]  # stored as written
    for viewer in (people.member, people.secretariat, author):
        login_as(client, viewer)
        for url in (
            f"/asks/{ask.id}",
            f"/asks/{ask.id}/comments",
            f"/comments/{made[0].id}/replies/new",
            f"/comments/{made[0].id}/report",
        ):
            response = client.get(url)
            if response.status_code == 403:
                continue
            html = response.get_data(as_text=True)
            assert_no_active_html(html)
            assert "<b>Evil org</b>" in text_of(html) or "/report" in url or "/replies" in url
        changes = client.get(f"/asks/{ask.id}/comments/changes?after=0&upto=0", headers=HTMX)
        assert_no_active_html(changes.get_data(as_text=True))


# Flooding -----------------------------------------------------------------------------------


class TestFlooding:
    @pytest.fixture
    def app_config(self, app_config):
        app_config["COMMENT_RATE_LIMIT"] = "3 per minute"
        return app_config

    def test_flooding_is_refused_with_a_clear_message(self, client, people, ask):
        parent = comment(people.other_member, ask)
        login_as(client, people.member)
        for n in range(2):
            assert post_comment(client, ask, submission_key=f"{n:032x}").status_code == 303
        # A resent form and a form with errors do not count.
        assert post_comment(client, ask, submission_key=f"{0:032x}").status_code == 303
        assert post_comment(client, ask, body="", submission_key="b" * 32).status_code == 422
        assert (
            client.post(
                f"/comments/{parent.id}/replies",
                data={"body": "Third.", "submission_key": "c" * 32},
            ).status_code
            == 303
        )
        before = snapshot()
        refused = post_comment(client, ask, submission_key="d" * 32)
        assert refused.status_code == 429
        html = refused.get_data(as_text=True)
        assert (
            "You have posted a lot of comments in a short time. Wait a minute, then try again."
            in html
        )
        assert text_of(html, "h1") == "Too many attempts"
        assert int(refused.headers["Retry-After"]) > 0
        # Replies share the limit; htmx gets the message in the page's message region.
        reply = client.post(
            f"/comments/{parent.id}/replies",
            headers=HTMX,
            data={"body": "Fourth.", "submission_key": "e" * 32},
        )
        assert reply.status_code == 429
        assert (
            reply.headers["HX-Retarget"] == "#messages"
            and reply.headers["HX-Reswap"] == "innerHTML"
        )
        part = reply.get_data(as_text=True)
        assert not css_select(part, "html") and css_select(part, ".govuk-error-summary")
        assert "Wait a minute" in part
        assert snapshot() == before
        # Others may still post, and reading is not limited.
        login_as(client, people.colleague)
        assert post_comment(client, ask, submission_key="f" * 32).status_code == 303
        login_as(client, people.member)
        assert client.get(f"/asks/{ask.id}").status_code == 200

    def test_the_limit_does_not_touch_anonymous_visitors(self, client, people, ask):
        for _ in range(5):
            assert post_comment(client, ask).status_code == 302


def test_a_form_for_a_paragraph_that_has_since_changed(client, people, ask):
    """The inline form of a paragraph a newer version changed keeps its own ids and says why."""
    login_as(client, people.member)
    before = snapshot()
    response = post_comment(client, ask, headers=HTMX, paragraph="p-0000000000", placement="inline")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    [form] = top_level(html)
    assert form.name == "form" and form["id"] == "comment-p-0000000000-form"
    assert "app-comment-form" in form["class"]
    assert "Reload the page to comment on the latest wording." in html
    assert snapshot() == before
