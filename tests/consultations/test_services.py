"""The consultations services, without HTTP: UK time, queries, the rule in words, changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from consult import uktime
from consult.consultations import services
from consult.consultations.services import ConsultationError
from consult.extensions import db
from consult.models import Consultation, Role, utcnow
from tests import factories
from tests.helpers import audit_events, consultation_count

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

SUMMER_OPEN = datetime(2030, 7, 1, 8, 0, tzinfo=UTC)
SUMMER_CLOSE = datetime(2030, 7, 31, 16, 0, tzinfo=UTC)


def _values(**overrides) -> dict:
    values = dict(
        title="Net zero by 2040",
        summary="About energy.",
        opens_at=SUMMER_OPEN,
        closes_at=SUMMER_CLOSE,
        quorum_percent=50,
        threshold_percent=75,
        objection_blocks=False,
        changes_count_as_support=True,
    )
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("day", "at", "expected"),
    [
        (date(2030, 7, 1), time(9, 0), datetime(2030, 7, 1, 8, 0, tzinfo=UTC)),  # BST
        (date(2031, 1, 15), time(9, 0), datetime(2031, 1, 15, 9, 0, tzinfo=UTC)),  # GMT
        (date(2030, 3, 31), time(2, 0), datetime(2030, 3, 31, 1, 0, tzinfo=UTC)),  # just after
        (
            date(2030, 10, 27),
            time(1, 30),
            datetime(2030, 10, 27, 0, 30, tzinfo=UTC),
        ),  # first of two
    ],
)
def test_london_to_utc(day, at, expected):
    assert uktime.london_to_utc(day, at) == expected


def test_a_time_skipped_when_the_clocks_go_forward_is_refused():
    with pytest.raises(uktime.NonexistentLocalTime):
        uktime.london_to_utc(date(2030, 3, 31), time(1, 30))


def test_utc_to_london_round_trips():
    local = uktime.utc_to_london(datetime(2030, 7, 1, 8, 0, tzinfo=UTC))
    assert (local.date(), local.time()) == (date(2030, 7, 1), time(9, 0))


def test_create_consultation_stores_it_and_records_an_audit_event(app):
    actor = factories.user(Role.SECRETARIAT)
    consultation = services.create_consultation(actor=actor, **_values(title="  Spaced  "))
    assert consultation.id is not None
    assert consultation.title == "Spaced"
    assert consultation.opens_at == SUMMER_OPEN
    [event] = audit_events("consultation.create")
    assert event.actor_id == actor.id and event.object_id == consultation.id
    assert event.after == {
        "title": "Spaced",
        "summary": "About energy.",
        "opens_at": "2030-07-01T08:00:00+00:00",
        "closes_at": "2030-07-31T16:00:00+00:00",
        "quorum_percent": 50,
        "threshold_percent": 75,
        "objection_blocks": False,
        "changes_count_as_support": True,
        "participants": [],  # the secretariat's own organisation never takes part
    }


def test_a_new_consultation_consults_every_active_member_organisation(app):
    """Taking part: active organisations with a member; never the secretariat's own, an
    observer's, or a deactivated one."""
    actor = factories.user(Role.SECRETARIAT)
    council = factories.organisation(name="Council")
    factories.user(Role.MEMBER, council)
    research = factories.organisation(name="research lab")
    factories.user(Role.MEMBER, research)
    factories.user(Role.OBSERVER, research)
    funder = factories.organisation(name="Funder")
    factories.user(Role.OBSERVER, funder)
    closed = factories.organisation(name="Closed down", active=False)
    factories.user(Role.MEMBER, closed)
    factories.user(Role.MEMBER, actor.organisation)  # the secretariat's own: never counted
    consultation = services.create_consultation(actor=actor, **_values())
    assert [p.organisation for p in consultation.participants] == [council, research]
    [event] = audit_events("consultation.create")
    assert event.after["participants"] == sorted([council.id, research.id])


def test_create_consultation_converts_other_timezones_to_utc(app):
    actor = factories.user(Role.SECRETARIAT)
    opens = datetime(2030, 7, 1, 10, 0, tzinfo=uktime.LONDON)
    consultation = services.create_consultation(actor=actor, **_values(opens_at=opens))
    assert consultation.opens_at.utcoffset() == timedelta(0)
    assert consultation.opens_at == datetime(2030, 7, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"closes_at": SUMMER_OPEN}, "The closing date must be after the opening date"),
        (
            {"closes_at": SUMMER_OPEN - timedelta(minutes=1)},
            "The closing date must be after the opening date",
        ),
        ({"quorum_percent": 101}, "The quorum must be between 0% and 100%"),
        ({"threshold_percent": -1}, "The support threshold must be between 0% and 100%"),
        ({"title": "  "}, "Enter a title"),
        ({"opens_at": datetime(2030, 7, 1, 8, 0)}, "timezone-aware"),
    ],
)
def test_create_consultation_refuses_a_broken_consultation(app, overrides, message):
    actor = factories.user(Role.SECRETARIAT)
    with pytest.raises(ConsultationError, match=message):
        services.create_consultation(actor=actor, **_values(**overrides))
    assert consultation_count() == 0
    assert audit_events() == []


def test_update_consultation_records_what_changed(app):
    actor = factories.user(Role.SECRETARIAT)
    consultation = services.create_consultation(actor=actor, **_values())
    changed = services.update_consultation(
        actor=actor, consultation=consultation, **_values(title="Renamed", objection_blocks=True)
    )
    assert changed is True
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Consultation, consultation.id)
    assert stored.title == "Renamed" and stored.objection_blocks is True
    [event] = audit_events("consultation.update")
    assert event.actor_id == actor.id
    assert event.before == {"title": "Net zero by 2040", "objection_blocks": False}
    assert event.after == {"title": "Renamed", "objection_blocks": True}


def test_changing_whether_support_with_changes_counts_is_audited(app):
    actor = factories.user(Role.SECRETARIAT)
    consultation = services.create_consultation(actor=actor, **_values())
    assert consultation.changes_count_as_support is True
    changed = services.update_consultation(
        actor=actor, consultation=consultation, **_values(changes_count_as_support=False)
    )
    assert changed is True
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Consultation, consultation.id).changes_count_as_support is False
    [event] = audit_events("consultation.update")
    assert event.before == {"changes_count_as_support": True}
    assert event.after == {"changes_count_as_support": False}


def test_a_consultation_created_without_saying_counts_support_with_changes(app):
    """The demo and other callers that predate the setting get the model's default."""
    actor = factories.user(Role.SECRETARIAT)
    values = _values()
    del values["changes_count_as_support"]
    assert services.create_consultation(actor=actor, **values).changes_count_as_support is True


def test_update_consultation_without_changes_records_nothing(app):
    actor = factories.user(Role.SECRETARIAT)
    consultation = services.create_consultation(actor=actor, **_values())
    assert (
        services.update_consultation(actor=actor, consultation=consultation, **_values()) is False
    )
    assert audit_events("consultation.update") == []


def test_update_consultation_refuses_closing_before_opening(app):
    actor = factories.user(Role.SECRETARIAT)
    consultation = services.create_consultation(actor=actor, **_values())
    db.session.commit()
    with pytest.raises(ConsultationError):
        services.update_consultation(
            actor=actor,
            consultation=consultation,
            **_values(closes_at=SUMMER_OPEN - timedelta(days=1)),
        )
    db.session.rollback()
    assert db.session.get(Consultation, consultation.id).closes_at == SUMMER_CLOSE
    assert audit_events("consultation.update") == []


def test_the_state_queries_sort_consultations_into_open_upcoming_and_ended(app):
    later = factories.consultation(title="Closes later", closes_in_days=10)
    sooner = factories.consultation(title="Closes sooner", closes_in_days=2)
    upcoming = factories.consultation(title="Upcoming", opens_in_days=3)
    past = factories.consultation(title="Past its date", opens_in_days=-9, closes_in_days=-1)
    closed_early = factories.consultation(title="Closed early", closed_at=utcnow())
    published = factories.consultation(title="Published", published_at=utcnow())
    assert services.open_consultations() == [sooner, later]
    assert services.upcoming_consultations() == [upcoming]
    assert set(services.recent_ended_consultations()) == {past, closed_early, published}
    assert list(db.session.scalars(services.published_consultations_query())) == [published]
    for consultation in services.open_consultations():
        assert consultation.state.value == "open"


def test_recent_ended_consultations_are_limited(app):
    for n in range(12):
        factories.consultation(title=f"Old {n}", opens_in_days=-40, closes_in_days=-n - 1)
    ended = services.recent_ended_consultations(limit=10)
    assert [c.title for c in ended] == [f"Old {n}" for n in range(10)]


def test_ask_counts(app):
    one = factories.consultation()
    none = factories.consultation()
    factories.ask(one)
    factories.ask(one)
    assert services.ask_counts([one, none]) == {one.id: 2, none.id: 0}
    assert services.ask_counts([]) == {}


@pytest.mark.parametrize(
    ("quorum", "threshold", "blocks", "changes", "words"),
    [
        (
            50,
            75,
            True,
            True,
            "At least 50% of the organisations taking part must take a position; "
            "at least 75% of those responding must support, with or without changes; "
            "an objection blocks agreement. Abstentions count towards the quorum but are "
            "left out of the support threshold.",
        ),
        (
            50,
            75,
            False,
            False,
            "At least 50% of the organisations taking part must take a position; "
            "at least 75% of those responding must support without changes; "
            "an objection does not block agreement on its own. Abstentions count towards "
            "the quorum but are left out of the support threshold.",
        ),
        (
            0,
            100,
            False,
            True,
            "No minimum share of the organisations taking part must take a position; "
            "at least 100% of those responding must support, with or without changes; "
            "an objection does not block agreement on its own. Abstentions count towards "
            "the quorum but are left out of the support threshold.",
        ),
        (
            10,
            0,
            False,
            False,
            "At least 10% of the organisations taking part must take a position; no "
            "minimum share of those responding must support; an objection does not "
            "block agreement on its own.",
        ),
    ],
)
def test_the_consensus_rule_in_words(app, quorum, threshold, blocks, changes, words):
    consultation = factories.consultation(
        quorum_percent=quorum,
        threshold_percent=threshold,
        objection_blocks=blocks,
        changes_count_as_support=changes,
    )
    assert services.consensus_rule(consultation) == words


def test_asks_are_grouped_into_runs_of_one_theme(app):
    consultation = factories.consultation()
    a = factories.ask(consultation, theme="Energy", sort_order=1)
    b = factories.ask(consultation, theme="Energy", sort_order=2)
    c = factories.ask(consultation, theme="", sort_order=3)
    d = factories.ask(consultation, theme="Energy", sort_order=4)
    db.session.expire(consultation, ["asks"])
    assert services.themed_groups(consultation.asks) == [
        ("Energy", [a, b]),
        ("", [c]),
        ("Energy", [d]),
    ]
