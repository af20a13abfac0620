"""Search: what it finds, for whom, highlighted safely, kept in step with every write, ranked
sensibly, in a bounded number of statements. Runs on SQLite (FTS5) and, with
--backend=postgres, on PostgreSQL (tsvector)."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from consult.amendments import services as amendment_services
from consult.asks import services as ask_services
from consult.comments import services as comment_services
from consult.extensions import db
from consult.models import AskState, SearchDocument, SearchKind, utcnow
from consult.search.services import (
    QUERY_MAX,
    Result,
    SearchError,
    clean_query,
    fts5_query,
    highlight,
    search,
)
from tests import factories
from tests.helpers import anchors, comment, login_as, statements_for_page
from tests.html import select as css
from tests.html import text_of

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def found(reader, query: str) -> list[Result]:
    return [Result.of(row) for row in db.session.execute(search(reader, clean_query(query)))]


def kinds_and_ids(reader, query: str) -> set[tuple[str, int]]:
    return {(r.kind.value, r.object_id) for r in found(reader, query)}


def snippets(reader, query: str) -> str:
    return " ".join(str(r.snippet) for r in found(reader, query))


# What it finds, and where it leads -------------------------------------------------------------


def test_finds_a_paragraph_of_the_current_version_with_its_anchor(ask, people):
    results = found(people.member, "council")
    paragraphs = [r for r in results if r.kind == SearchKind.PARAGRAPH]
    assert len(paragraphs) == 1
    assert paragraphs[0].paragraph_anchor == anchors(ask)[0]
    assert paragraphs[0].position == 1
    assert paragraphs[0].ask_title == "Declare a climate emergency"
    assert "<mark>council</mark>" in str(paragraphs[0].snippet)


def test_stemming_finds_other_forms_of_a_word(ask, people):
    comment(people.member, ask, "Councils everywhere are acting.")
    db.session.commit()
    # "acting" and "act" share a stem in both databases' English rules.
    assert {r.kind for r in found(people.member, "acting")} >= {
        SearchKind.PARAGRAPH,
        SearchKind.COMMENT,
    }


def test_finds_comments_and_amendments_with_their_organisation(ask, people, delegates):
    made = comment(people.member, ask, "We want cycling lanes on every road.")
    amendment, _ = amendment_services.propose(
        actor=delegates.home,
        ask=ask,
        paragraph=anchors(ask)[1],
        wording="Every party commits to net zero and cycling infrastructure.",
        rationale="Cycling cuts emissions.",
    )
    db.session.commit()
    results = {(r.kind, r.object_id): r for r in found(people.other_member, "cycling")}
    assert set(results) == {(SearchKind.COMMENT, made.id), (SearchKind.AMENDMENT, amendment.id)}
    assert results[SearchKind.COMMENT, made.id].organisation == "Home Organisation"
    assert results[SearchKind.AMENDMENT, amendment.id].organisation == "Home Organisation"


def test_finds_an_ask_by_its_title(ask, people):
    assert (SearchKind.ASK.value, ask.id) in kinds_and_ids(people.member, "emergency")


# Who may read what -----------------------------------------------------------------------------


def test_hidden_comment_text_only_for_its_author_and_the_secretariat(ask, people):
    hidden = comment(people.member, ask, "Zebra crossings are dangerous.")
    comment_services.hide_comment(actor=people.secretariat, comment=hidden, reason="Off topic")
    db.session.commit()
    key = ("comment", hidden.id)
    assert key not in kinds_and_ids(people.other_member, "zebra")
    assert key not in kinds_and_ids(people.observer, "zebra")
    assert "Zebra" not in snippets(people.other_member, "zebra crossings")
    assert key in kinds_and_ids(people.member, "zebra")  # its author
    assert key in kinds_and_ids(people.secretariat, "zebra")


def test_withdrawn_comment_text_for_nobody(ask, people):
    withdrawn = comment(people.member, ask, "Walrus migration matters.")
    comment_services.withdraw_comment(actor=people.member, comment=withdrawn)
    db.session.commit()
    for reader in (people.member, people.other_member, people.secretariat):
        assert found(reader, "walrus") == []
    assert (
        db.session.scalars(
            select(SearchDocument).where(SearchDocument.text.contains("Walrus"))
        ).all()
        == []
    )


def test_hidden_and_withdrawn_comments_stay_out_of_the_page(client, ask, people):
    hidden = comment(people.member, ask, "Platypus secret plan.")
    comment_services.hide_comment(actor=people.secretariat, comment=hidden, reason="Rude")
    withdrawn = comment(people.member, ask, "Platypus withdrawn plan.")
    comment_services.withdraw_comment(actor=people.member, comment=withdrawn)
    login_as(client, people.other_member)
    html = client.get("/search?q=platypus").get_data(as_text=True)
    assert "Platypus" not in html and "platypus</mark>" not in html.lower()
    assert "Nothing you may read matches" in html


def test_unpublished_asks_and_upcoming_consultations_are_not_found(people):
    open_consultation = factories.consultation("Open")
    draft = factories.ask(open_consultation, title="Unpublished kangaroo", versions=())
    upcoming = factories.consultation("Upcoming", opens_in_days=3)
    factories.ask(upcoming, title="Future", versions=("Kangaroo courts.",))
    db.session.commit()
    for reader in (people.member, people.observer, AnonymousUserMixin()):
        assert found(reader, "kangaroo") == []
    secretariat = kinds_and_ids(people.secretariat, "kangaroo")
    assert ("ask", draft.id) in secretariat
    assert any(kind == "paragraph" for kind, _ in secretariat)


def test_the_public_finds_only_published_consultations(people):
    published = factories.consultation("Published", published_at=utcnow())
    factories.ask(published, title="Published ask", versions=("Otters thrive.",))
    factories.ask(factories.consultation("Open"), title="Open ask", versions=("Otters swim.",))
    db.session.commit()
    titles = {r.ask_title for r in found(AnonymousUserMixin(), "otters")}
    assert titles == {"Published ask"}
    assert {r.ask_title for r in found(people.member, "otters")} == {"Published ask", "Open ask"}


# Highlighting ----------------------------------------------------------------------------------


def test_highlight_escapes_everything_but_the_marks():
    assert str(highlight("a <b>\x02bold\x03</b> & \x02x")) == (
        "a &lt;b&gt;<mark>bold</mark>&lt;/b&gt; &amp; x"
    )


def test_a_comment_with_a_script_is_escaped_in_the_results(client, ask, people):
    comment(people.member, ask, "Look <script>alert('pelican')</script> pelican <b>bold</b>")
    login_as(client, people.other_member)
    response = client.get("/search?q=pelican")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert" not in html and "<b>bold" not in html
    snippet = css(html, ".app-search-result__snippet")[0]
    assert snippet.select("mark")
    assert all(m.get_text().lower() == "pelican" for m in snippet.select("mark"))
    assert snippet.select("script") == []


def test_markers_typed_by_people_do_not_make_marks(ask, people):
    comment(people.member, ask, "Heron \x02fake\x03 mark")
    db.session.commit()
    text = snippets(people.member, "heron")
    assert "<mark>fake</mark>" not in text
    assert "<mark>Heron</mark>" in text


# Kept in step ----------------------------------------------------------------------------------


def test_editing_a_comment_replaces_its_words(ask, people):
    made = comment(people.member, ask, "Badgers need protection.")
    db.session.commit()
    comment_services.edit_comment(actor=people.member, comment=made, body="Hedgehogs too.")
    db.session.commit()
    assert found(people.other_member, "badgers") == []
    assert [r.object_id for r in found(people.other_member, "hedgehogs")] == [made.id]


def test_a_new_version_replaces_the_old_wording(ask, people):
    assert not found(people.member, "should")  # v1's word: v2 says "must"
    assert [r for r in found(people.member, "homes") if r.kind == SearchKind.PARAGRAPH]
    ask_services.publish_version(
        actor=people.secretariat, ask=ask, body="Councils commit to wind power.", change_note=""
    )
    db.session.commit()
    assert not [r for r in found(people.member, "homes") if r.kind == SearchKind.PARAGRAPH]
    results = [r for r in found(people.member, "wind") if r.kind == SearchKind.PARAGRAPH]
    assert [r.paragraph_anchor for r in results] == anchors(ask)


def test_a_rolled_back_write_leaves_no_trace(ask, people):
    comment(people.member, ask, "Albatross sightings.")
    db.session.rollback()
    assert found(people.secretariat, "albatross") == []
    assert db.session.scalar(select(db.func.count()).select_from(SearchDocument)) > 0


def test_renaming_an_ask_is_found_by_its_new_title(ask, people):
    ask_services.update_ask(actor=people.secretariat, ask=ask, title="Plant more orchards")
    db.session.commit()
    assert ("ask", ask.id) in kinds_and_ids(people.member, "orchards")
    assert ("ask", ask.id) not in kinds_and_ids(people.member, "emergency")


# Ranking ---------------------------------------------------------------------------------------


def test_more_matches_rank_higher(ask, people):
    once = comment(people.member, ask, "One mention of solar and many other words about homes.")
    thrice = comment(people.member, ask, "Solar, solar and more solar.")
    db.session.commit()
    ids = [r.object_id for r in found(people.member, "solar")]
    assert ids == [thrice.id, once.id]


# The query -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter words to search for"),
        ("   ", "Enter words to search for"),
        ("?!*", "Enter words to search for, not only punctuation"),
        ("x" * (QUERY_MAX + 1), f"Search for {QUERY_MAX} characters or fewer"),
    ],
)
def test_bad_queries_are_refused(raw, message):
    with pytest.raises(SearchError, match=message):
        clean_query(raw)


def test_fts5_syntax_is_quoted():
    assert fts5_query('net OR zero" NEAR(x) -y*') == '"net" "OR" "zero" "NEAR" "x" "y"'


@pytest.mark.parametrize("raw", ['"net zero', "net OR", "NEAR(", "zero*", "-council", "a:b", "^"])
def test_odd_queries_never_fail(client, ask, people, raw):
    login_as(client, people.member)
    assert client.get("/search", query_string={"q": raw}).status_code in (200, 422)


# The page --------------------------------------------------------------------------------------


def test_the_page_links_to_the_paragraph_and_the_comment(client, ask, people):
    made = comment(people.other_member, ask, "The council should publish its plan.")
    login_as(client, people.member)
    response = client.get("/search?q=council")
    html = response.get_data(as_text=True)
    assert "Search results for ‘council’ – Consult" in text_of(html, "title")
    links = [a.get("href") for a in css(html, "#search-results h2 a")]
    assert f"/asks/{ask.id}#{anchors(ask)[0]}" in links
    assert f"/comments/{made.id}" in links
    tags = {text_of(html, f"#result-{n} .app-search-result__kind") for n in (1, 2)}
    assert tags == {"Ask", "Comment"}
    follow = client.get(f"/comments/{made.id}")
    assert follow.status_code == 303
    assert follow.headers["Location"].endswith(f"#comment-{made.id}")


def test_the_page_without_a_query_is_the_form(client, people):
    login_as(client, people.member)
    html = client.get("/search").get_data(as_text=True)
    assert text_of(html, "h1") == "Search"
    assert css(html, "main input[name=q]")
    assert not css(html, "#search-results")


def test_an_empty_query_is_a_clear_error(client, people):
    login_as(client, people.member)
    response = client.get("/search?q=+")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert text_of(html, ".govuk-error-summary").startswith("There is a problem")
    assert "Enter words to search for" in text_of(html, ".govuk-error-message")
    assert text_of(html, "title").startswith("Error: ")


def test_the_header_has_a_search_box_for_people_signed_in(client, ask, people):
    login_as(client, people.observer)
    html = client.get(f"/asks/{ask.id}").get_data(as_text=True)
    assert css(html, "form.app-header-search input[name=q]")
    anonymous = client.application.test_client()
    assert not css(anonymous.get("/").get_data(as_text=True), "form.app-header-search")


def test_results_are_paged(client, ask, people):
    for n in range(23):
        comment(people.member, ask, f"Beaver number {n}.")
    login_as(client, people.member)
    first = client.get("/search?q=beaver").get_data(as_text=True)
    assert text_of(first, "#search-summary").startswith("23 results")
    assert len(css(first, "#search-results > li")) == 20
    second = client.get("/search?q=beaver&page=2").get_data(as_text=True)
    assert len(css(second, "#search-results > li")) == 3
    assert "(page 2)" in text_of(second, "title")
    assert client.get("/search?q=beaver&page=9").status_code == 404


def test_the_page_costs_the_same_statements_for_few_or_many_results(client, ask, people):
    comment(people.member, ask, "Heron one.")
    login_as(client, people.member)
    few = statements_for_page(client, "/search?q=heron")
    for n in range(15):
        comment(people.other_member, ask, f"Heron {n}.")
    db.session.commit()
    assert statements_for_page(client, "/search?q=heron") == few
    assert few <= 6


def test_a_closed_ask_is_still_found(ask, people):
    ask.state = AskState.AGREED
    db.session.commit()
    assert found(people.member, "council")
