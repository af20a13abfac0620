"""A comment is rendered once and kept (consult.fragments, threads.CONTENTS) under a key of
everything it shows: pages read again render nothing again, every change to what a comment
shows is on the page at once, and each viewer keeps their own controls."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from consult.comments import services, threads
from consult.extensions import db
from consult.fragments import FragmentCache
from consult.text import render_comment
from tests.helpers import comment, login_as
from tests.html import select_one, text_of, texts

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


class CountingCache(FragmentCache):
    """A FragmentCache that counts what it had to render."""

    rendered = 0

    def get(self, key, render):
        def counted():
            self.rendered += 1
            return render()

        return super().get(key, counted)


@pytest.fixture
def cache(monkeypatch) -> CountingCache:
    made = CountingCache(100)
    monkeypatch.setattr(threads, "CONTENTS", made)
    return made


def test_the_cache_renders_each_key_once_and_forgets_the_least_recently_used():
    cache = FragmentCache(2)
    calls: list[str] = []

    def render(text: str):
        return lambda: calls.append(text) or Markup(f"<p>{text}</p>")

    assert cache.get("a", render("a")) == Markup("<p>a</p>")
    assert cache.get("a", render("a again")) == Markup("<p>a</p>") and calls == ["a"]
    cache.get("b", render("b"))
    cache.get("a", render("a again"))  # a is now the most recently used
    cache.get("c", render("c"))  # so b goes
    assert len(cache) == 2 and calls == ["a", "b", "c"]
    cache.get("a", render("a again"))
    cache.get("b", render("b again"))
    assert calls == ["a", "b", "c", "b again"]


def test_a_page_read_again_renders_no_comment_again(client, people, ask, cache):
    first = comment(people.other_member, ask, "First.")
    comment(people.secretariat, ask, "A reply.", parent=first)
    comment(people.other_member, ask, "Second.")
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}").get_data(as_text=True)
    assert texts(page, ".app-comment .app-markdown") == ["First.", "A reply.", "Second."]
    assert cache.rendered == 3
    again = client.get(f"/asks/{ask.id}").get_data(as_text=True)
    assert cache.rendered == 3 and again.count("app-comment__content") == 3
    # Another reader with the same rights over them: the same comments.
    login_as(client, people.colleague)
    client.get(f"/asks/{ask.id}")
    assert cache.rendered == 3


def test_every_change_to_what_a_comment_shows_is_shown_at_once(client, people, ask, cache):
    first = comment(people.member, ask, "Before.")
    reply = comment(people.other_member, ask, "An answer.", parent=first)
    deeper = comment(people.colleague, ask, "Deeper.", parent=reply)
    deepest = comment(people.member, ask, "Deepest.", parent=deeper)
    login_as(client, people.other_member)

    def page() -> str:
        db.session.commit()
        return client.get(f"/asks/{ask.id}").get_data(as_text=True)

    def first_text(html: str) -> str:
        return text_of(select_one(html, f"#comment-{first.id}-content"))

    assert "Before." in first_text(page())
    services.edit_comment(actor=people.member, comment=first, body="After.")
    html = page()
    assert "After." in first_text(html) and "edited" in first_text(html)
    # A new renderer (flask consult render-comments) changes the stored HTML alone.
    first.body_html = str(render_comment("After, *rendered again*."))
    assert "After, rendered again." in first_text(page())
    # Names are read from their own rows: a renamed person or organisation shows at once.
    people.member.name = "Renamed Person"
    assert f"Renamed Person, {people.member.organisation.name}" in first_text(page())
    people.member.organisation.name = "Renamed Organisation"
    assert "Renamed Person, Renamed Organisation" in first_text(page())
    # A reply past the deepest level says whom it answers, and how, as its parent changes.
    deepest_text = text_of(select_one(page(), f"#comment-{deepest.id}-content"))
    assert f"in reply to {people.colleague.name}" in deepest_text
    services.hide_comment(actor=people.secretariat, comment=deeper, reason="Off topic")
    deepest_text = text_of(select_one(page(), f"#comment-{deepest.id}-content"))
    assert "in reply to a hidden comment" in deepest_text
    # Resolved: its response shows.
    services.resolve_comment(actor=people.secretariat, comment=first, response="Done in v3.")
    assert "Resolved by the secretariat Done in v3." in first_text(page())


def test_the_controls_are_each_viewers_own(client, people, ask, cache):
    mine = comment(people.member, ask, "Mine.")
    db.session.commit()

    def controls(user) -> list[str]:
        html = login_as(client, user).get(f"/asks/{ask.id}").get_data(as_text=True)
        return texts(html, f"#comment-{mine.id}-content .app-comment__actions a")

    own = controls(people.member)
    assert "Edit your comment" in own and "Withdraw your comment" in own
    other = controls(people.other_member)
    assert other and "Edit your comment" not in other and any(c.startswith("Report") for c in other)
    secretariat = controls(people.secretariat)
    assert any(c.startswith("Hide") for c in secretariat) and "Edit your comment" not in secretariat
    assert cache.rendered == 3  # one for each set of controls
    assert controls(people.member) == own and cache.rendered == 3


def test_a_new_report_shows_to_the_secretariat_at_once(client, people, ask, cache):
    reported = comment(people.member, ask, "Reported.")
    db.session.commit()

    def reports() -> list[str]:
        html = login_as(client, people.secretariat).get(f"/asks/{ask.id}").get_data(as_text=True)
        return texts(html, f"#comment-{reported.id}-content a[href='/comments/reports']")

    assert reports() == []
    services.report_comment(actor=people.other_member, comment=reported, reason="Rude")
    assert reports() == ["Reported 1 time"]
