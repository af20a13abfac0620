"""The discussion's rules agree in both their forms: for generated comments (states, authors,
versions, paragraphs, replies, resolution), viewers and filters, the SQL form of each rule in
consult.comments.rules selects exactly the comments its Python form accepts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask_login import AnonymousUserMixin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import ColumnElement, select

from consult.comments import queries, rules
from consult.comments.rules import WHOLE_ASK, Filters, Page
from consult.extensions import db
from consult.models import Ask, Comment, CommentState, utcnow
from consult.text import paragraphs
from tests import factories

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

# Three versions: v2 changes the second paragraph, v3 the third; the first stays throughout.
V1 = "First paragraph.\n\nSecond paragraph.\n\nThird paragraph."
V2 = "First paragraph.\n\nSecond paragraph, reworded.\n\nThird paragraph."
V3 = "First paragraph.\n\nSecond paragraph, reworded.\n\nThird paragraph, reworded."
VERSIONS = (V1, V2, V3)
VIEWERS = ("anonymous", "observer", "member", "other_member", "secretariat")
AUTHORS = ("member", "other_member", "secretariat")


@dataclass
class World:
    ask: Ask
    other_ask: Ask
    people: Any
    anchors: list[list[str]]  # per version

    def viewer(self, name: str) -> Any:
        return AnonymousUserMixin() if name == "anonymous" else getattr(self.people, name)


@pytest.fixture
def world(people) -> World:
    consultation = factories.consultation("Rules")
    ask = factories.ask(consultation, title="Generated", versions=VERSIONS)
    other_ask = factories.ask(consultation, title="Another ask")
    db.session.commit()
    return World(
        ask=ask,
        other_ask=other_ask,
        people=people,
        anchors=[[p.anchor for p in paragraphs(body)] for body in VERSIONS],
    )


@st.composite
def comment_specs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Up to a dozen comments; a reply names an earlier comment by its index."""
    specs: list[dict[str, Any]] = []
    for index in range(draw(st.integers(0, 12))):
        specs.append(
            {
                "parent": draw(st.none() | st.integers(0, index - 1)) if index else None,
                "version": draw(st.integers(0, len(VERSIONS) - 1)),
                # An index into every anchor of every version, or None (the whole ask).
                "paragraph": draw(st.none() | st.integers(0, 8)),
                "state": draw(st.sampled_from(list(CommentState))),
                "author": draw(st.sampled_from(AUTHORS)),
                "resolved": draw(st.booleans()),
            }
        )
    return specs


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    specs = draw(comment_specs())
    return {
        "specs": specs,
        "viewer": draw(st.sampled_from(VIEWERS)),
        "page_version": draw(st.integers(0, len(VERSIONS) - 1)),
        # Filters: a paragraph of the page's version (by index), the whole ask or none; an
        # author's organisation or none; unresolved only or not; one thread or none.
        "paragraph": draw(st.none() | st.just(WHOLE_ASK) | st.integers(0, 2)),
        "organisation": draw(st.none() | st.sampled_from(AUTHORS)),
        "unresolved": draw(st.booleans()),
        "thread": draw(st.none() | st.integers(0, max(len(specs) - 1, 0))),
        # Where the page's snapshot ends and where its threads shown so far end: an index
        # into the comments' ids (with 0 before them all and one past the newest).
        "upto": draw(st.integers(0, 14)),
        "boundary": draw(st.integers(0, 14)),
    }


def _write(world: World, specs: list[dict[str, Any]]) -> list[Comment]:
    """The comments, flushed (the test rolls them back)."""
    every_anchor = sorted({a for anchors in world.anchors for a in anchors})
    made: list[Comment] = []
    for spec in specs:
        author = getattr(world.people, spec["author"])
        parent = made[spec["parent"]] if spec["parent"] is not None else None
        if parent is not None:  # a reply takes its parent's version and paragraph
            version_id, anchor = parent.version_id, parent.paragraph_anchor
        else:
            version_id = world.ask.versions[spec["version"]].id
            index = spec["paragraph"]
            anchor = None if index is None else every_anchor[index % len(every_anchor)]
        comment = Comment(
            ask_id=world.ask.id,
            version_id=version_id,
            paragraph_anchor=anchor,
            parent=parent,
            author=author,
            organisation_id=author.organisation_id,
            body="Generated.",
            state=spec["state"],
            hidden_reason="Generated." if spec["state"] == CommentState.HIDDEN else None,
            resolved_at=utcnow() if spec["resolved"] else None,
            resolution="Generated." if spec["resolved"] else None,
        )
        db.session.add(comment)
        made.append(comment)
    # A comment on another ask, which no page of this ask lists.
    elsewhere = world.other_ask.current_version
    made.append(
        Comment(
            ask_id=world.other_ask.id,
            version_id=elsewhere.id,
            paragraph_anchor=paragraphs(elsewhere.body)[0].anchor,
            author=world.people.member,
            organisation_id=world.people.member.organisation_id,
            body="Elsewhere.",
        )
    )
    db.session.add(made[-1])
    db.session.flush()
    return made


def _selected(*conditions: ColumnElement[bool]) -> set[int]:
    return set(db.session.scalars(select(Comment.id).where(*conditions)))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_each_rule_selects_in_sql_what_it_accepts_in_python(world, scenario):
    try:
        comments = _write(world, scenario["specs"])
        viewer = world.viewer(scenario["viewer"])
        ask, version = world.ask, world.ask.versions[scenario["page_version"]]
        page_anchors = world.anchors[scenario["page_version"]]
        page = Page.of(ask, version, page_anchors)
        paragraph = scenario["paragraph"]
        organisation = scenario["organisation"]
        filters = Filters(
            paragraph=page_anchors[paragraph] if isinstance(paragraph, int) else paragraph,
            organisation_id=(
                getattr(world.people, organisation).organisation_id if organisation else None
            ),
            unresolved=scenario["unresolved"],
            thread=comments[scenario["thread"]].id if scenario["thread"] is not None else None,
        )
        has_replies = {c.parent_id for c in comments if c.parent_id is not None}

        def accepted(rule) -> set[int]:
            return {c.id for c in comments if rule(c)}

        # (a) who may read a comment's text, and whether it is shown at all
        assert _selected(rules.body_visible_sql(viewer)) == accepted(
            lambda c: rules.can_see_body(viewer, c)
        )
        assert _selected(rules.shown_sql(viewer)) == accepted(
            lambda c: rules.shown_as(c, viewer, c.id in has_replies) is not None
        )
        # (b) which comments belong on the version's page
        assert _selected(page.condition()) == accepted(page.holds)
        # (c) the reader's filters
        assert _selected(*filters.conditions()) == accepted(filters.matches)
        # All of them: the top-level comments the page lists.
        listed = accepted(lambda c: rules.listed(c, page, filters, viewer, c.id in has_replies))
        assert _selected(*rules.listed_sql(ask.id, page, filters, viewer)) == listed
        # Their count up to the page's snapshot, and how many come after those shown.
        ids = [0, *sorted(c.id for c in comments), max(c.id for c in comments) + 1]
        upto, boundary = (ids[scenario[k] % len(ids)] for k in ("upto", "boundary"))
        counted = queries.count_roots(
            rules.thread_starts_sql(ask.id, page, filters), rules.shown_sql(viewer), upto, boundary
        )
        assert counted == (
            len({i for i in listed if i <= upto}),
            len({i for i in listed if boundary < i <= upto}),
        )
    finally:
        db.session.rollback()


def test_the_generated_worlds_reach_every_case(world):
    """The page of v3 holds its own comments and v1's comments on the unchanged first
    paragraph, not v1's on the changed ones (so the generated cases are not vacuous)."""
    anchors = world.anchors
    assert anchors[0][0] == anchors[2][0] and anchors[0][1] != anchors[2][1]
    page = Page.of(world.ask, world.ask.versions[2], anchors[2])
    v1 = world.ask.versions[0].id
    kept = Comment(version_id=v1, paragraph_anchor=anchors[0][0], parent_id=None)
    dropped = Comment(version_id=v1, paragraph_anchor=anchors[0][1], parent_id=None)
    whole = Comment(version_id=v1, paragraph_anchor=None, parent_id=None)
    assert page.holds(kept) and not page.holds(dropped) and not page.holds(whole)
