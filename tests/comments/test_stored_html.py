"""A comment's HTML is rendered once, when its text is written, and stored: pages show the
stored HTML; `flask consult render-comments` renders again what an earlier renderer stored."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from consult.comments import services
from consult.extensions import db
from consult.models import Comment
from consult.models.search import SearchDocument
from consult.search.index import comment_text, stored_comment_text
from consult.text import COMMENT_RENDERER_VERSION, render_comment
from tests.helpers import comment, login_as, stale_comment_html
from tests.html import select_one
from tests.xss_corpus import VECTORS, assert_inert

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

BODY = "We *support* this, with [a source](https://example.org/a) and `code`."


def stored(comment_id: int) -> tuple[str, str | None, int]:
    """A comment's stored HTML, response HTML and renderer version, as committed."""
    db.session.expire_all()
    row = db.session.execute(
        select(Comment.body_html, Comment.resolution_html, Comment.body_html_version).where(
            Comment.id == comment_id
        )
    ).one()
    return row.body_html, row.resolution_html, row.body_html_version


def test_a_new_comment_keeps_its_body_rendered(people, ask):
    made = comment(people.member, ask, BODY)
    db.session.commit()
    assert stored(made.id) == (str(render_comment(BODY)), None, COMMENT_RENDERER_VERSION)
    assert "<em>support</em>" in made.body_html


def test_an_edit_renders_the_body_again(people, ask):
    made = comment(people.member, ask, "First *thoughts*.")
    db.session.commit()
    assert services.edit_comment(actor=people.member, comment=made, body=BODY)
    db.session.commit()
    assert stored(made.id) == (str(render_comment(BODY)), None, COMMENT_RENDERER_VERSION)


def test_a_response_is_stored_rendered_too(people, ask):
    made = comment(people.member, ask)
    services.resolve_comment(actor=people.secretariat, comment=made, response="*Done* in v3.")
    db.session.commit()
    body_html, resolution_html, _ = stored(made.id)
    assert body_html == str(render_comment("A comment."))
    assert resolution_html == str(render_comment("*Done* in v3.")) != "*Done* in v3."


def test_a_comment_made_without_the_services_is_rendered_too(people, ask):
    """The attribute events render whatever sets the text: a constructor, an assignment."""
    made = Comment(
        ask_id=ask.id,
        version_id=ask.current_version.id,
        author=people.member,
        organisation_id=people.member.organisation_id,
        body="*Made* directly.",
        resolution="*Answered*.",
    )
    db.session.add(made)
    db.session.flush()
    made.body = "*Changed* directly."
    db.session.commit()
    assert stale_comment_html() == []
    assert "<em>Changed</em>" in stored(made.id)[0]


def test_a_bulk_insert_that_forgets_the_html_is_refused(people, ask):
    """A bulk insert bypasses the attribute events: without the HTML, the database refuses
    the row (and Comment.rendered is what it must add)."""
    row = {
        "ask_id": ask.id,
        "version_id": ask.current_version.id,
        "author_id": people.member.id,
        "organisation_id": people.member.organisation_id,
        "body": "Forgotten.",
        "state": "visible",
    }
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(insert(Comment), [row])
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(
                insert(Comment), [{**row, **Comment.rendered("Forgotten."), "resolution": "x"}]
            )
    db.session.execute(insert(Comment), [{**row, **Comment.rendered("Remembered.")}])
    db.session.commit()
    assert stale_comment_html() != []  # its HTML is "Remembered.", its body "Forgotten."


@pytest.mark.parametrize("payload", VECTORS)
def test_the_stored_html_of_every_xss_payload_is_the_sanitised_output(people, ask, payload):
    made = comment(people.member, ask, payload)
    services.resolve_comment(actor=people.secretariat, comment=made, response=payload)
    db.session.commit()
    body_html, resolution_html, _ = stored(made.id)
    assert body_html == resolution_html == str(render_comment(payload))
    assert_inert(body_html, "stored body")


def test_pages_show_the_stored_html_and_render_nothing(client, people, ask):
    """Pages read the stored HTML: changed in the database, it is what every page shows."""
    made = comment(people.member, ask, "Rendered *when written*.")
    reply = comment(people.other_member, ask, "A reply.", parent=made)
    services.resolve_comment(actor=people.secretariat, comment=made, response="Answered.")
    waiting = comment(people.other_member, ask, "Waiting *when written*.")
    db.session.commit()
    db.session.execute(
        update(Comment)
        .where(Comment.id == waiting.id)
        .values(body_html='<p class="govuk-body">Only in the stored HTML.</p>')
    )
    db.session.execute(
        update(Comment)
        .where(Comment.id == made.id)
        .values(
            body_html='<p class="govuk-body">Only in the stored HTML.</p>',
            resolution_html='<p class="govuk-body">Stored response.</p>',
        )
    )
    db.session.commit()
    login_as(client, people.secretariat)
    pages = {
        "ask": f"/asks/{ask.id}",
        "thread": f"/comments/{made.id}",
        "reply form": f"/comments/{made.id}/replies/new",
        "outcome form": f"/comments/{made.id}/outcome",
        "unresolved": f"/consultations/{ask.consultation_id}/unresolved-comments",
    }
    for name, url in pages.items():
        page = client.get(url, follow_redirects=True)
        assert page.status_code == 200, (name, page.status_code)
        assert "Only in the stored HTML." in page.text, name
        assert "when written" not in page.text, name
    thread = client.get(f"/comments/{made.id}", follow_redirects=True).text
    response = select_one(thread, f"#comment-{made.id}-content .govuk-inset-text .app-markdown")
    assert response.get_text(strip=True) == "Stored response."
    assert select_one(thread, f"#comment-{reply.id}-content .app-markdown").get_text(
        strip=True
    ) == ("A reply.")


def test_the_search_index_reads_the_stored_html(people, ask):
    made = comment(people.member, ask, BODY)
    db.session.commit()
    assert stored_comment_text(made) == comment_text(BODY)


def _spoil(comment_id: int, version: int) -> None:
    """Make a comment's stored HTML wrong, by a renderer of this version."""
    db.session.execute(
        update(Comment)
        .where(Comment.id == comment_id)
        .values(body_html="<p>Old HTML.</p>", body_html_version=version)
    )
    db.session.commit()


def test_the_command_renders_again_the_comments_of_an_earlier_renderer(runner, people, ask):
    old = comment(people.member, ask, "An *older* comment.")
    current = comment(people.member, ask, "A *current* comment.")
    db.session.commit()
    _spoil(old.id, 0)
    _spoil(current.id, COMMENT_RENDERER_VERSION)  # wrong, but by this renderer: left alone
    document = SearchDocument.__table__
    db.session.execute(
        update(document).where(document.c.object_id == old.id).values(text="Old HTML.")
    )
    db.session.commit()
    result = runner.invoke(args=["consult", "render-comments"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"Rendered 1 comment again (renderer version {COMMENT_RENDERER_VERSION})."
    )
    assert stored(old.id) == (
        str(render_comment("An *older* comment.")),
        None,
        COMMENT_RENDERER_VERSION,
    )
    assert stored(current.id)[0] == "<p>Old HTML.</p>"
    assert stale_comment_html() == [current.id]
    # The search index follows the stored HTML.
    indexed = db.session.scalar(
        select(document.c.text).where(document.c.kind == "comment", document.c.object_id == old.id)
    )
    assert indexed == comment_text("An *older* comment.")

    again = runner.invoke(args=["consult", "render-comments"])
    assert again.exit_code == 0 and "Rendered 0 comments again" in again.output

    every = runner.invoke(args=["consult", "render-comments", "--all"])
    assert every.exit_code == 0, every.output
    assert "Rendered 2 comments again" in every.output
    assert stale_comment_html() == []


def test_the_command_works_in_batches(people, ask):
    made = [comment(people.member, ask, f"Comment *{n}*.") for n in range(5)]
    db.session.commit()
    for item in made:
        _spoil(item.id, 0)
    first = services.render_stored_html(limit=2)
    assert first == [made[0].id, made[1].id]
    assert services.render_stored_html(after=first[-1], limit=2) == [made[2].id, made[3].id]
    db.session.commit()
    assert stale_comment_html() == [made[4].id]
