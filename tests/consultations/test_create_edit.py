"""Creating and editing consultations through the form: UK time, audit, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from consult.extensions import db
from consult.models import Consultation
from tests import factories
from tests.helpers import audit_events, consultation_count, login_as
from tests.helpers import consultation_form as form_data
from tests.html import assert_no_active_html, select, select_one, text_of


def _only_consultation() -> Consultation:
    consultations = list(db.session.scalars(db.select(Consultation)))
    assert len(consultations) == 1
    return consultations[0]


def test_the_secretariat_creates_a_consultation(client, people):
    login_as(client, people.secretariat)
    response = client.post("/consultations/new", data=form_data(changes_count_as_support="y"))
    consultation = _only_consultation()
    assert response.status_code == 303
    assert response.headers["Location"] == f"/consultations/{consultation.id}"
    assert consultation.title == "Net zero by 2040"
    assert consultation.summary == "A round of review of the *energy* asks."
    assert (consultation.quorum_percent, consultation.threshold_percent) == (60, 80)
    assert consultation.objection_blocks is True
    assert consultation.changes_count_as_support is True
    # 1 July 2030 09:00 BST is 08:00 UTC; 31 July 2030 17:00 BST is 16:00 UTC.
    assert consultation.opens_at == datetime(2030, 7, 1, 8, 0, tzinfo=UTC)
    assert consultation.closes_at == datetime(2030, 7, 31, 16, 0, tzinfo=UTC)

    [event] = audit_events("consultation.create")
    assert event.actor_id == people.secretariat.id
    assert event.object_type == "consultation" and event.object_id == consultation.id
    assert event.before is None
    assert event.after["title"] == "Net zero by 2040"
    assert event.after["opens_at"] == "2030-07-01T08:00:00+00:00"
    assert event.after["objection_blocks"] is True
    assert event.after["changes_count_as_support"] is True

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Consultation created: Net zero by 2040" in page
    assert "1 July 2030 at 9:00am" in page and "31 July 2030 at 5:00pm" in page
    assert (
        "At least 60% of the organisations taking part must take a position; at least 80% "
        "of those responding must support, with or without changes; an objection blocks "
        "agreement. Abstentions count towards the quorum but are left out of the support "
        "threshold."
    ) in page
    assert text_of(page, "p.govuk-body em") == "energy"


def test_an_unticked_objection_box_means_objections_do_not_block(client, people):
    login_as(client, people.secretariat)
    client.post("/consultations/new", data=form_data(objection_blocks=None))
    assert _only_consultation().objection_blocks is False


def test_an_unticked_changes_box_means_support_with_changes_does_not_count(client, people):
    login_as(client, people.secretariat)
    response = client.post("/consultations/new", data=form_data(), follow_redirects=True)
    assert _only_consultation().changes_count_as_support is False
    [event] = audit_events("consultation.create")
    assert event.after["changes_count_as_support"] is False
    assert "at least 80% of those responding must support without changes;" in text_of(
        response.get_data(as_text=True)
    )


@pytest.mark.parametrize(
    ("day", "at", "expected_utc"),
    [
        (["1", "7", "2030"], "09:00", datetime(2030, 7, 1, 8, 0, tzinfo=UTC)),  # BST
        (["15", "1", "2031"], "09:00", datetime(2031, 1, 15, 9, 0, tzinfo=UTC)),  # GMT
        (["27", "10", "2030"], "00:30", datetime(2030, 10, 26, 23, 30, tzinfo=UTC)),  # day before
    ],
)
def test_opening_times_are_uk_time(client, people, day, at, expected_utc):
    login_as(client, people.secretariat)
    response = client.post(
        "/consultations/new",
        data=form_data(opens_date=day, opens_time=at, closes_date=["1", "6", "2031"]),
    )
    assert response.status_code == 303
    assert _only_consultation().opens_at == expected_utc


def test_the_create_form_starts_with_the_default_rule(client, people):
    login_as(client, people.secretariat)
    html = client.get("/consultations/new").get_data(as_text=True)
    assert select_one(html, "input#quorum_percent")["value"] == "50"
    assert select_one(html, "input#threshold_percent")["value"] == "75"
    assert select_one(html, "input#changes_count_as_support").has_attr("checked")
    assert not select_one(html, "input#objection_blocks").has_attr("checked")
    assert text_of(html, "label[for=changes_count_as_support]") == (
        "Count “support with changes” as support"
    )
    assert "For example, 09:00 or 17:30" in html
    assert "Create a consultation" in html


def test_the_edit_form_shows_the_current_values_in_uk_time(client, people):
    consultation = factories.consultation(
        title="Summer round",
        quorum_percent=40,
        threshold_percent=70,
        objection_blocks=True,
        changes_count_as_support=False,
    )
    consultation.opens_at = datetime(2030, 7, 1, 8, 0, tzinfo=UTC)  # 09:00 BST
    consultation.closes_at = datetime(2030, 12, 1, 17, 30, tzinfo=UTC)  # 17:30 GMT
    login_as(client, people.secretariat)
    html = client.get(f"/consultations/{consultation.id}/edit").get_data(as_text=True)
    values = {field["id"]: field.get("value") for field in select(html, "form input[id]")}
    assert values["title"] == "Summer round"
    assert [values[f"opens_date-{part}"] for part in ("day", "month", "year")] == [
        "01",
        "07",
        "2030",
    ]
    assert values["opens_time"] == "09:00" and values["closes_time"] == "17:30"
    assert values["quorum_percent"] == "40" and values["threshold_percent"] == "70"
    assert select_one(html, "input#objection_blocks").has_attr("checked")
    assert not select_one(html, "input#changes_count_as_support").has_attr("checked")


def test_the_secretariat_edits_a_consultation_with_an_audit_trail(client, people):
    consultation = factories.consultation(title="Spring round", quorum_percent=50)
    consultation_id = consultation.id
    login_as(client, people.secretariat)
    response = client.post(
        f"/consultations/{consultation_id}/edit",
        data=form_data(
            title="Spring round (extended)", quorum_percent="55", closes_date=["30", "9", "2030"]
        ),
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/consultations/{consultation_id}"
    db.session.expire_all()
    consultation = db.session.get(Consultation, consultation_id)
    assert consultation.title == "Spring round (extended)"
    assert consultation.quorum_percent == 55
    assert consultation.closes_at == datetime(2030, 9, 30, 16, 0, tzinfo=UTC)

    [event] = audit_events("consultation.update")
    assert event.actor_id == people.secretariat.id
    assert event.object_id == consultation_id
    assert event.before["title"] == "Spring round"
    assert event.after["title"] == "Spring round (extended)"
    assert (event.before["quorum_percent"], event.after["quorum_percent"]) == (50, 55)
    assert (
        client.get(f"/consultations/{consultation_id}")
        .get_data(as_text=True)
        .count("Consultation updated")
        == 1
    )


@pytest.mark.parametrize("ticked", [True, False])
def test_editing_whether_support_with_changes_counts_is_audited(client, people, ticked):
    consultation = factories.consultation(
        title="Net zero by 2040",
        quorum_percent=60,
        threshold_percent=80,
        objection_blocks=True,
        changes_count_as_support=not ticked,
    )
    consultation_id = consultation.id
    login_as(client, people.secretariat)
    response = client.post(
        f"/consultations/{consultation_id}/edit",
        data=form_data(changes_count_as_support="y" if ticked else None),
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Consultation, consultation_id).changes_count_as_support is ticked
    [event] = audit_events("consultation.update")
    assert event.actor_id == people.secretariat.id and event.object_id == consultation_id
    assert event.before["changes_count_as_support"] is (not ticked)
    assert event.after["changes_count_as_support"] is ticked
    page = client.get(f"/consultations/{consultation_id}").get_data(as_text=True)
    wording = "with or without changes;" if ticked else "must support without changes;"
    assert wording in text_of(page)


def test_saving_without_changes_records_nothing(client, people):
    login_as(client, people.secretariat)
    client.post("/consultations/new", data=form_data())
    consultation = _only_consultation()
    response = client.post(
        f"/consultations/{consultation.id}/edit", data=form_data(), follow_redirects=True
    )
    assert "No changes were made" in response.get_data(as_text=True)
    assert audit_events("consultation.update") == []


def test_html_in_the_title_is_stored_as_typed_and_shown_escaped(client, people):
    payload = '<script>alert("x")</script>'
    login_as(client, people.secretariat)
    client.post(
        "/consultations/new",
        data=form_data(
            title=payload, summary="<img src=x onerror=alert(1)> [link](javascript:alert(2))"
        ),
    )
    consultation = _only_consultation()
    assert consultation.title == payload
    for path in (
        f"/consultations/{consultation.id}",
        "/consultations",
        f"/consultations/{consultation.id}/edit",
    ):
        html = client.get(path).get_data(as_text=True)
        assert_no_active_html(html)  # no <script>, no <img>, no javascript: link
        assert payload in text_of(html) or select(html, f"input[value='{payload}']"), path
    show = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert_no_active_html(show)
    assert "<img src=x onerror=alert(1)>" in text_of(show)


def _error_page(response) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in html
    assert text_of(html, "title").startswith("Error: ")
    return html


BAD_INPUT = [
    ({"title": ""}, "Enter a title"),
    ({"title": "   "}, "Enter a title"),
    ({"title": "x" * 201}, "Title must be 200 characters or fewer"),
    ({"summary": "x" * 5001}, "Summary must be 5,000 characters or fewer"),
    ({"quorum_percent": ""}, "Enter the quorum, as a percentage from 0 to 100"),
    ({"quorum_percent": "fifty"}, "The quorum must be a whole number, like 50"),
    ({"quorum_percent": "50.5"}, "The quorum must be a whole number, like 50"),
    ({"quorum_percent": "-1"}, "The quorum must be between 0% and 100%"),
    ({"threshold_percent": "101"}, "The support threshold must be between 0% and 100%"),
    ({"threshold_percent": "1e3"}, "The support threshold must be a whole number, like 50"),
    ({"opens_date": ["", "", ""]}, "Enter the opening date"),
    ({"opens_date": None}, "Enter the opening date"),
    ({"opens_date": ["31", "2", "2030"]}, "The opening date must be a real date"),
    ({"opens_date": ["1", "13", "2030"]}, "The opening date must be a real date"),
    ({"opens_date": ["1", "", "2030"]}, "The opening date must include a month"),
    ({"opens_date": ["", "", "2030"]}, "The opening date must include a day and month"),
    ({"opens_date": ["1", "July", "2030"]}, "The opening date must be a real date"),
    ({"opens_date": ["1", "7"]}, "The opening date must be a real date"),
    ({"opens_date": ["99999999999999999999", "7", "2030"]}, "The opening date must be a real date"),
    ({"closes_date": ["1", "8", "30"]}, "The year of the closing date must include 4 numbers"),
    ({"opens_time": ""}, "Enter the opening time"),
    ({"opens_time": "25:99"}, "The opening time must be a real time, from 00:00 to 23:59"),
    ({"opens_time": "24:00"}, "The opening time must be a real time, from 00:00 to 23:59"),
    ({"closes_time": "5pm"}, "Enter the closing time in hours and minutes on the 24-hour clock"),
    # 01:30 on 31 March 2030 never happens in the UK: the clocks go from 01:00 to 02:00.
    (
        {"opens_date": ["31", "3", "2030"], "opens_time": "01:30"},
        "The opening time does not exist on that day in the UK",
    ),
    ({"closes_date": ["30", "6", "2030"]}, "The closing date must be after the opening date"),
    (
        {"closes_date": ["1", "7", "2030"], "closes_time": "09:00"},
        "The closing date must be after the opening date",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_INPUT)
def test_bad_input_on_create_is_refused_with_a_clear_message(client, people, overrides, message):
    login_as(client, people.secretariat)
    response = client.post("/consultations/new", data=form_data(**overrides))
    html = _error_page(response)
    assert message in html
    assert consultation_count() == 0
    assert audit_events() == []


@pytest.mark.parametrize(("overrides", "message"), BAD_INPUT)
def test_bad_input_on_edit_is_refused_and_changes_nothing(client, people, overrides, message):
    consultation = factories.consultation(title="Spring round")
    consultation_id = consultation.id
    before = (
        consultation.title,
        consultation.opens_at,
        consultation.closes_at,
        consultation.quorum_percent,
        consultation.threshold_percent,
    )
    login_as(client, people.secretariat)
    response = client.post(f"/consultations/{consultation_id}/edit", data=form_data(**overrides))
    assert message in _error_page(response)
    db.session.expire_all()
    consultation = db.session.get(Consultation, consultation_id)
    assert (
        consultation.title,
        consultation.opens_at,
        consultation.closes_at,
        consultation.quorum_percent,
        consultation.threshold_percent,
    ) == before
    assert audit_events() == []


def test_a_refused_form_keeps_what_was_typed(client, people):
    login_as(client, people.secretariat)
    response = client.post(
        "/consultations/new",
        data=form_data(
            title="<b>Keep me</b>",
            opens_date=["31", "2", "2030"],
            opens_time="25:99",
            quorum_percent="fifty",
        ),
    )
    html = _error_page(response)
    assert select_one(html, "input#title")["value"] == "<b>Keep me</b>"
    assert select_one(html, "input#opens_date-day")["value"] == "31"
    assert select_one(html, "input#opens_time")["value"] == "25:99"
    assert select_one(html, "input#quorum_percent")["value"] == "fifty"
    # Each message appears in the summary and next to its field.
    assert "The opening date must be a real date" in text_of(html, ".govuk-error-summary")
    assert "The opening date must be a real date" in text_of(html, "#opens_date-error")
    summary_links = [a["href"] for a in select(html, ".govuk-error-summary a")]
    assert "#opens_date" in summary_links and "#opens_time" in summary_links
