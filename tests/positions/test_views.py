"""The delegate's form and the ask page's positions panel: full page and htmx fragment,
422 with errors, refusals (after closing: the closing date, not the account), reconfirming
on a new version, and earlier versions read-only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from consult.asks import services as ask_services
from consult.extensions import db
from consult.filters import format_datetime
from consult.models import Participant, Position, Stance, utcnow
from consult.positions import consensus
from consult.positions.services import positions_for, set_position
from tests import factories
from tests.helpers import HTMX, StatementCount, audit_events, count, login_as, statements_during
from tests.html import select as css_select
from tests.html import select_one, text_of, top_level


def expected_panel(app, ask):
    """The tally (its text) and the summary the current version's panel must show, from the
    consensus module itself."""
    rule = consensus.Rule.of(ask.consultation)
    verdict = consensus.evaluate(
        rule,
        {org: p.stance for org, p in positions_for(ask.current_version).items()},
        {p.organisation_id: p.organisation.name for p in ask.consultation.participants},
    )
    tally = app.jinja_env.get_template("positions/_tally.html").module.tally(verdict)
    return verdict, text_of(str(tally)), consensus.summary(verdict, rule)


def post(client, ask, **form):
    return client.post(f"/asks/{ask.id}/position", data=form)


def test_a_delegate_sets_the_position_and_is_sent_to_the_positions(client, delegates, ask):
    login_as(client, delegates.first)
    form = client.get(f"/asks/{ask.id}/position")
    assert form.status_code == 200
    assert text_of(form, "h1") == "Set your organisation’s position"
    radios = css_select(form, 'input[type="radio"][name="stance"]')
    assert [r["value"] for r in radios] == [s.value for s in Stance]
    assert not any(r.has_attr("checked") for r in radios)
    assert "Your organisation cannot agree" in text_of(form, ".govuk-radios")
    reason = select_one(form, 'textarea[name="reason"]')
    hint = select_one(form, f"#{reason['aria-describedby'].split()[0]}")
    assert text_of(hint) == "Required if you support with changes or object"

    response = post(client, ask, stance="object", reason="Too weak.")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/asks/{ask.id}#positions")
    row = db.session.scalars(select(Position)).one()
    assert (row.stance, row.reason, row.set_by_id) == (
        Stance.OBJECT,
        "Too weak.",
        delegates.first.id,
    )

    # The form again: pre-filled with the position, to change it.
    again = client.get(f"/asks/{ask.id}/position")
    assert text_of(again, "h1") == "Change your organisation’s position"
    assert select_one(again, 'input[name="stance"][checked]')["value"] == "object"
    assert text_of(again, 'textarea[name="reason"]') == "Too weak."


def test_an_objection_without_a_reason_gets_the_form_back_with_its_error(client, delegates, ask):
    login_as(client, delegates.first)
    response = post(client, ask, stance="object", reason="")
    assert response.status_code == 422
    assert text_of(response, "title").startswith("Error: ")
    summary = select_one(response, ".govuk-error-summary")
    assert "Give a reason for your position" in text_of(summary)
    assert select_one(summary, "a")["href"] == "#reason"
    assert "Give a reason for your position" in text_of(response, "#reason-error")
    assert select_one(response, 'input[name="stance"][checked]')["value"] == "object"
    nothing = post(client, ask, reason="Because.")
    assert nothing.status_code == 422
    assert "Select your organisation's position" in text_of(nothing, ".govuk-error-summary")
    assert count(Position) == 0 and audit_events("position.set") == []


def test_an_htmx_post_answers_with_the_updated_panel(app, client, delegates, ask):
    login_as(client, delegates.first)
    response = client.post(
        f"/asks/{ask.id}/position", data={"stance": "support", "reason": ""}, headers=HTMX
    )
    assert response.status_code == 200
    [panel] = top_level(response)
    assert panel.name == "section" and panel["id"] == "positions"
    verdict, tally, summary = expected_panel(app, ask)
    assert verdict.support == 1
    assert text_of(panel, "#positions-tally") == tally
    assert text_of(panel, "#positions-summary") == summary
    assert text_of(panel, "#positions-list").startswith("Home Organisation: Support")
    assert "position-set" in response.headers["HX-Trigger"]


def test_members_who_are_not_delegates_cannot_set_a_position(client, people, delegates, ask):
    login_as(client, people.member)
    assert post(client, ask, stance="support").status_code == 403
    page = client.get(f"/asks/{ask.id}")
    assert css_select(page, "#positions") and not css_select(page, "#set-position")
    assert count(Position) == 0


def test_after_closing_the_refusal_gives_the_closing_date(client, delegates, ask):
    closed = utcnow() - timedelta(hours=1)
    ask.consultation.closed_at = closed
    db.session.commit()
    login_as(client, delegates.first)
    for response in (client.get(f"/asks/{ask.id}/position"), post(client, ask, stance="support")):
        assert response.status_code == 403
        message = text_of(response, "main")
        assert f"The consultation closed on {format_datetime(closed)}." in message
        assert "Your account does not have permission" not in message
    assert count(Position) == 0
    # The panel stays readable, without the link to set a position.
    page = client.get(f"/asks/{ask.id}")
    assert css_select(page, "#positions") and not css_select(page, "#set-position")


def test_the_panel_shows_the_tally_the_summary_and_who_has_not_responded(
    app, client, people, delegates, ask
):
    set_position(actor=delegates.first, ask=ask, stance=Stance.OBJECT, reason="Too weak.")
    set_position(actor=delegates.other, ask=ask, stance=Stance.SUPPORT, reason="")
    db.session.commit()
    verdict, tally, summary = expected_panel(app, ask)
    assert (verdict.responded, verdict.object, verdict.support) == (2, 1, 1)
    for viewer in (people.member, people.observer, people.secretariat):
        login_as(client, viewer)
        page = client.get(f"/asks/{ask.id}")
        panel = select_one(page, "section#positions")
        # It is inside the live stream's element, and re-fetches itself on the doorbells.
        assert select_one(page, "[sse-connect]").find(id="positions") is not None
        assert panel["hx-get"] == f"/asks/{ask.id}/positions"
        assert panel["hx-trigger"] == (
            "sse:position-set delay:100ms, sse:version-published delay:100ms"
        )
        assert select_one(panel, "#positions-tally svg.app-tally__bar")
        assert text_of(panel, "#positions-tally") == tally
        assert text_of(panel, "#positions-summary") == summary
        assert text_of(panel, "#positions-not-responded") == "Third Organisation"
        items = [text_of(li) for li in css_select(panel, "#positions-list > li")]
        assert items[0].startswith("Home Organisation: Object Too weak. Set by Dee Delegate, ")
        assert items[1].startswith("Other Organisation: Support Set by Oda Other, ")
        client.post("/sign-out")

    # The fragment for htmx; the ask page otherwise.
    login_as(client, people.observer)
    fragment = client.get(f"/asks/{ask.id}/positions", headers=HTMX)
    [root] = top_level(fragment)
    assert root["id"] == "positions" and text_of(root, "#positions-tally") == tally
    assert "HX-Request" in fragment.headers["Vary"]
    page = client.get(f"/asks/{ask.id}/positions")
    assert text_of(page, "h1") == ask.title and css_select(page, "section#positions")


def test_the_delegate_sees_a_link_to_set_then_to_change_the_position(client, delegates, ask):
    login_as(client, delegates.first)
    link = select_one(client.get(f"/asks/{ask.id}"), "a#set-position")
    assert text_of(link) == "Set your organisation’s position"
    assert link["href"] == f"/asks/{ask.id}/position"
    post(client, ask, stance="support")
    link = select_one(client.get(f"/asks/{ask.id}"), "a#set-position")
    assert text_of(link) == "Change your organisation’s position"


def test_on_a_new_version_the_delegate_is_asked_to_reconfirm(client, people, delegates, ask):
    set_position(
        actor=delegates.first, ask=ask, stance=Stance.SUPPORT_WITH_CHANGES, reason="Say 2035."
    )
    db.session.commit()
    ask_services.publish_version(
        actor=people.secretariat, ask=ask, body="Version three.", change_note="Shorter."
    )
    db.session.commit()

    login_as(client, delegates.second)
    page = client.get(f"/asks/{ask.id}")
    prompt = select_one(page, "#positions-reconfirm")
    assert "On v2 you supported, with changes: Say 2035." in text_of(prompt)
    assert select_one(prompt, "a")["href"] == f"/asks/{ask.id}/position"
    assert not css_select(page, "#positions-list")  # nobody has a position on v3 yet
    form = client.get(f"/asks/{ask.id}/position")
    assert "on v2 your organisation’s position was “Support with changes”" in text_of(
        form, "#position-reconfirm"
    )
    assert select_one(form, 'input[name="stance"][checked]')["value"] == "support_with_changes"

    # The earlier version's page shows its positions, read-only.
    old = client.get(f"/asks/{ask.id}/versions/2")
    panel = select_one(old, "section#positions")
    assert text_of(panel, "h2") == "Positions on v2"
    assert "Say 2035." in text_of(panel, "#positions-list")
    assert not panel.has_attr("hx-get") and not css_select(panel, "a[href$='/position']")

    # Reconfirmed: the prompt goes.
    post(client, ask, stance="support_with_changes", reason="Still 2035.")
    assert not css_select(client.get(f"/asks/{ask.id}"), "#positions-reconfirm")


def test_the_public_sees_positions_only_once_published(app, client, delegates, ask):
    set_position(actor=delegates.first, ask=ask, stance=Stance.SUPPORT, reason="")
    db.session.commit()
    assert client.get(f"/asks/{ask.id}/positions").status_code == 302
    ask.consultation.published_at = utcnow()
    db.session.commit()
    page = client.get(f"/asks/{ask.id}")
    _, tally, _ = expected_panel(app, ask)
    assert text_of(page, "section#positions #positions-tally") == tally
    assert "Home Organisation: Support" in text_of(page, "#positions-list")
    assert client.get(f"/asks/{ask.id}/positions", headers=HTMX).status_code == 200


def test_the_ask_page_costs_the_same_statements_however_many_organisations_take_part(
    client, people, delegates, ask, uncached_pages
):
    """The panel's organisation names come with the participants: no query per row."""

    url = f"/asks/{ask.id}"  # read once: the ask is expired by each commit below

    def statements() -> StatementCount:
        responses = []
        count = statements_during(lambda: responses.append(client.get(url)))
        assert responses[0].status_code == 200
        db.session.expire_all()
        return count

    login_as(client, people.observer)
    client.get(f"/asks/{ask.id}")  # the first reading records the visit (a write)
    before = statements()
    for n in range(4):
        organisation = factories.organisation(f"Extra organisation {n}")
        db.session.add(Participant(consultation=ask.consultation, organisation=organisation))
    db.session.commit()
    assert statements() == before
