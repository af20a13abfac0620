"""The JSON archive: a rich consultation exported, checked for personal data, restored into
a fresh database and exported again to the same bytes; refusals that write nothing; the
CLI commands; the download route (headers, who may have it, a fixed number of queries)."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult import text
from consult.agreements import services as agreements
from consult.amendments import services as amendments
from consult.amendments.services import WHOLE_TEXT
from consult.archive.export import archive, dumps
from consult.archive.load import ArchiveError, import_archive
from consult.comments import services as comments
from consult.extensions import db
from consult.models import (
    AccountToken,
    AuditEvent,
    Backer,
    BackerState,
    Backing,
    Comment,
    Consultation,
    Decision,
    Endorsement,
    Organisation,
    Outcome,
    Role,
    Stance,
    User,
    utcnow,
)
from consult.positions import services as positions
from tests import factories
from tests.helpers import (
    count,
    database_rows,
    empty_database,
    login_as,
    make_app,
    stale_comment_html,
    statements_during,
)
from tests.html import select as css_select

# Written with the ORM and plain selects on both engines: also runs with --backend=postgres.
pytestmark = pytest.mark.database


def anchor(ask, number: int) -> str:
    return text.paragraphs(ask.current_version.body)[number - 1].anchor


@pytest.fixture
def story(people, delegates, ask):
    """Comments (a resolved one with a reply and a disposition, an edited one, a hidden one,
    a withdrawn one), positions on v2 and v3, amendments (backed and opposed, accepted into
    v3, declined with a disposition, withdrawn), an agreement reopened and declared again,
    endorsements and backers; and a second, empty ask."""
    first, _ = comments.add_comment(
        author=people.member, ask=ask, body="Say which year.", paragraph_anchor=anchor(ask, 2)
    )
    comments.add_comment(author=people.other_member, ask=ask, body="We agree.", parent=first)
    edited, _ = comments.add_comment(author=delegates.home, ask=ask, body="Typo ther.")
    comments.edit_comment(actor=delegates.home, comment=edited, body="Typo there — “fixed”.")
    hidden, _ = comments.add_comment(author=people.other_member, ask=ask, body="Rude words.")
    comments.hide_comment(actor=people.secretariat, comment=hidden, reason="Not civil")
    gone, _ = comments.add_comment(author=delegates.third, ask=ask, body="Secret afterthought.")
    comments.withdraw_comment(actor=delegates.third, comment=gone)
    comments.resolve_comment(actor=people.secretariat, comment=first, response="Done.")
    amendments.record_disposition(
        actor=people.secretariat, comment=first, outcome=Outcome.NOTED, reason="Thanks."
    )
    backed, _ = amendments.propose(
        actor=people.member,
        ask=ask,
        paragraph=anchor(ask, 1),
        wording="The council must act by 2030.",
        rationale="Sooner.",
    )
    amendments.set_backing(actor=delegates.other, amendment=backed, stance=Backing.BACK)
    amendments.set_backing(actor=delegates.third, amendment=backed, stance=Backing.OPPOSE)
    taken, _ = amendments.propose(
        actor=delegates.third,
        ask=ask,
        paragraph=WHOLE_TEXT,
        wording="Everyone commits to net zero by 2040.",
        rationale="Shorter.",
    )
    refused, _ = amendments.propose(
        actor=delegates.other, ask=ask, paragraph=anchor(ask, 3), wording="- Farms", rationale="X"
    )
    amendments.decline(actor=people.secretariat, amendment=refused, reason="Out of scope.")
    amendments.record_disposition(
        actor=people.secretariat,
        amendment=refused,
        outcome=Outcome.NOT_ADOPTED,
        reason="Out of scope.",
    )
    dropped, _ = amendments.propose(
        actor=delegates.home, ask=ask, paragraph=anchor(ask, 2), wording="Y.", rationale="Z."
    )
    amendments.withdraw(actor=delegates.home, amendment=dropped)
    positions.set_position(actor=delegates.home, ask=ask, stance=Stance.SUPPORT, reason="")
    positions.set_position(actor=delegates.other, ask=ask, stance=Stance.ABSTAIN, reason="")
    db.session.commit()
    amendments.accept(actor=people.secretariat, ask=ask, amendments=[taken], change_note="Shorter.")
    db.session.commit()
    positions.set_position(actor=delegates.home, ask=ask, stance=Stance.OBJECT, reason="Vague.")
    db.session.commit()
    agreements.declare_agreed(
        actor=people.secretariat, ask=ask, reason="Agreed in the room.", based_on=3
    )
    agreements.reopen(actor=people.secretariat, ask=ask, reason="One more look.")
    agreements.declare_agreed(actor=people.secretariat, ask=ask, reason="Final.", based_on=3)
    consultation = ask.consultation
    factories.ask(consultation, title="An empty ask", versions=(), author=people.secretariat)
    consultation.signoff_opened_at = utcnow()
    db.session.add_all(
        [
            Endorsement(
                consultation=consultation,
                organisation=people.member.organisation,
                decision=Decision.ENDORSE,
                list_publicly=True,
                set_by=delegates.home,
            ),
            Endorsement(
                consultation=consultation,
                organisation=delegates.third_org,
                decision=Decision.DECLINE,
                reason="Not for us.",
                set_by=delegates.third,
            ),
            Backer(
                consultation=consultation,
                organisation_name="Friends of the Fens",
                contact_name="Fay Fen",
                email="fay@fens.example",
                website="https://fens.example",
                state=BackerState.APPROVED,
                token_hash="a" * 64,
                confirmed_at=utcnow(),
                decided_at=utcnow(),
                decided_by=people.secretariat,
            ),
            Backer(
                consultation=consultation,
                organisation_name="Uncertain Trust",
                contact_name="Una",
                email="una@trust.example",
                token_hash="b" * 64,
                token_expires_at=utcnow() + timedelta(days=1),
            ),
        ]
    )
    db.session.commit()
    return consultation


def test_the_archive_holds_everything_and_no_personal_data(people, delegates, story):
    data = archive(story)
    serialised = dumps(data)
    assert data["format"] == "consult-archive" and data["version"] == 1
    assert data["consultation"]["title"] == "Net zero by 2040"
    assert data["consultation"]["rule"] == {
        "quorum_percent": 50,
        "threshold_percent": 75,
        "objection_blocks": False,
        "changes_count_as_support": True,
    }
    assert data["consultation"]["signoff_opened_at"].endswith("Z")
    assert [a["title"] for a in data["asks"]] == ["Declare a climate emergency", "An empty ask"]
    assert [v["number"] for v in data["versions"]] == [1, 2, 3]
    assert len(data["comments"]) == 5
    by_state = {c["state"]: c for c in data["comments"] if c["parent"] is None}
    assert by_state["hidden"]["body"] == "Rude words."
    assert by_state["hidden"]["hidden_reason"] == "Not civil"
    assert by_state["withdrawn"]["body"] is None
    assert "Secret afterthought" not in serialised
    reply = next(c for c in data["comments"] if c["parent"])
    assert reply["parent"] == data["comments"][0]["key"]
    assert data["comments"][0]["resolution"] == "Done."
    assert [a["state"] for a in data["amendments"]] == ["open", "accepted", "declined", "withdrawn"]
    assert data["amendments"][1]["accepted_version"] == data["versions"][2]["key"]
    assert [b["stance"] for b in data["backings"]] == ["back", "oppose"]
    assert [d["outcome"] for d in data["dispositions"]] == ["noted", "not_adopted", "adopted"]
    assert [(p["version"], p["stance"]) for p in data["positions"]] == [
        ("version-2", "support"),
        ("version-2", "abstain"),
        ("version-3", "object"),
    ]
    reopened, current = data["agreements"]
    assert reopened["reopen_reason"] == "One more look." and reopened["reopened_by"]
    assert current["reopened_at"] is None and current["tally"]["organisations"]
    assert [e["decision"] for e in data["endorsements"]] == ["endorse", "decline"]
    assert [b["organisation_name"] for b in data["backers"]] == [
        "Friends of the Fens",
        "Uncertain Trust",
    ]
    names = {p["name"] for p in data["people"]}
    assert names == {
        "Mina Member",
        "Otto Other",
        "Sam Secretariat",
        "Dee Delegate",
        "Oda Other",
        "Theo Third",
    }
    assert {o["name"] for o in data["organisations"]} == {
        "Home Organisation",
        "Other Organisation",
        "Third Organisation",
        "Coalition Secretariat",
    }
    # No email, password hash, token or address of anyone.
    emails = [u.email for u in db.session.scalars(select(User))]
    secrets = [*emails, "fay@fens.example", "una@trust.example", "a" * 64, "b" * 64]
    secrets += [u.password_hash for u in db.session.scalars(select(User))]
    secrets += [u.session_token for u in db.session.scalars(select(User))]
    for secret in secrets:
        assert secret not in serialised
    assert "@" not in serialised
    for word in ("password", "email", "token", "ip_address", "session"):
        assert f'"{word}' not in serialised
    # Deterministic: the same bytes every time, keys sorted.
    assert dumps(archive(story)) == serialised
    assert serialised == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert "“fixed”" in serialised


def test_export_import_export_gives_the_same_bytes_in_another_database(app_config, story, tmp_path):
    first = dumps(archive(story))
    other = make_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new.db'}"})
    try:
        with other.app_context():
            db.create_all()
            restored = import_archive(json.loads(first))
            db.session.commit()
            db.session.expire_all()
            again = dumps(archive(db.session.get(Consultation, restored.id)))
            people = list(db.session.scalars(select(User).order_by(User.id)))
            audited = count(AuditEvent)
            db.session.remove()
    finally:
        with other.app_context():
            db.engine.dispose()
    assert again == first
    assert audited == 0
    assert [p.email for p in people] == [f"person-{n}@archive.invalid" for n in range(1, 7)]
    assert all(p.password_hash is None and not p.active and not p.is_active for p in people)


def test_a_restore_into_the_emptied_database_gives_the_same_bytes(app, outbox, story):
    """On the suite's own backend (PostgreSQL too): ids restart, sequences follow."""
    first = dumps(archive(story))
    sent = len(outbox())
    empty_database()
    restored = import_archive(json.loads(first))
    db.session.commit()
    db.session.expire_all()
    assert dumps(archive(db.session.get(Consultation, restored.id))) == first
    assert count(AuditEvent) == 0 and count(AccountToken) == 0
    assert len(outbox()) == sent
    backers = list(db.session.scalars(select(Backer).order_by(Backer.id)))
    assert [b.email for b in backers] == ["backer-1@archive.invalid", "backer-2@archive.invalid"]
    assert all(b.token_hash is None and b.token_expires_at is None for b in backers)
    withdrawn = db.session.scalar(select(Comment).where(Comment.state == "withdrawn"))
    assert withdrawn.body == ""
    assert stale_comment_html() == []  # the archive holds no HTML: it is rendered on loading
    # New rows get new ids after the restored ones.
    factories.organisation("Arrived later")
    factories.user(Role.MEMBER)
    db.session.commit()


def _refused(data) -> str:
    before = database_rows()
    with pytest.raises(ArchiveError) as refusal:
        import_archive(data)
    db.session.rollback()
    assert database_rows() == before
    return str(refusal.value)


def test_refuses_a_database_that_is_not_empty(story):
    data = archive(story)
    assert "empty database" in _refused(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="something-else"), 'its "format" is not "consult-archive"'),
        (lambda d: d.update(version=2), "version 2"),
        (lambda d: d.pop("comments"), "The archive lacks comments."),
        (lambda d: d["people"][0].pop("name"), "people[0] lacks name."),
        (lambda d: d["people"][0].update(email="x@example.org"), "people[0] has unknown keys"),
        (lambda d: d["consultation"]["rule"].pop("quorum_percent"), "lacks quorum_percent"),
        (lambda d: d["versions"][0].update(ask="ask-99"), "versions[0].ask refers to 'ask-99'"),
        (lambda d: d["asks"][0].update(state="bogus"), "asks[0].state is not one of"),
        (lambda d: d["asks"][0].update(created_at="yesterday"), "asks[0].created_at is not a time"),
        (lambda d: d["asks"][1].update(key="ask-1"), "is used twice"),
        (
            lambda d: d["backers"][1].update(
                state="unconfirmed", confirmed_at=None, decided_at="x"
            ),
            "backers[1].decided_at",
        ),
    ],
)
def test_refuses_a_bad_archive_and_writes_nothing(app, story, change, message):
    data = copy.deepcopy(archive(story))
    change(data)
    empty_database()
    assert message in _refused(data)
    assert count(Organisation) == 0


def test_refuses_what_is_not_an_archive(app, story):
    assert "not a JSON object" in _refused([1, 2])
    assert "format" in _refused({"version": 1})
    data = archive(story)
    empty_database()
    assert "people is not a JSON list" in _refused({**data, "people": 3})
    assert "comments[0] is not a JSON object" in _refused({**data, "comments": ["x"]})


def test_a_row_the_database_refuses_rolls_everything_back(app, story):
    data = copy.deepcopy(archive(story))
    data["comments"][2]["hidden_reason"] = None  # a hidden comment needs its reason
    data["comments"][2]["state"] = "hidden"
    empty_database()
    assert "breaks a rule of the database" in _refused(data)


# The command line ------------------------------------------------------------------------------


def test_the_cli_exports_and_imports(runner, story, tmp_path):
    path = tmp_path / "archive.json"
    result = runner.invoke(args=["consult", "export-archive", str(story.id), str(path)])
    assert result.exit_code == 0, result.output
    written = path.read_text(encoding="utf-8")
    assert written == dumps(archive(story))
    assert runner.invoke(args=["consult", "export-archive", str(story.id)]).output == written
    # An existing file is not overwritten.
    again = runner.invoke(args=["consult", "export-archive", str(story.id), str(path)])
    assert again.exit_code == 1 and "already exists" in again.output
    # Not into a database that has data.
    refused = runner.invoke(args=["consult", "import-archive", str(path)])
    assert refused.exit_code == 1 and "empty database" in refused.output
    assert "Traceback" not in refused.output
    empty_database()
    loaded = runner.invoke(args=["consult", "import-archive", str(path)])
    assert loaded.exit_code == 0, loaded.output
    assert "Loaded the archive" in loaded.output
    restored = db.session.scalar(select(Consultation))
    assert dumps(archive(restored)) == written


def test_the_cli_refuses_bad_input(runner, tmp_path):
    missing = runner.invoke(args=["consult", "export-archive", "99"])
    assert missing.exit_code == 1 and "There is no consultation 99" in missing.output
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    result = runner.invoke(args=["consult", "import-archive", str(garbage)])
    assert result.exit_code == 1 and "is not a JSON file" in result.output
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"format": "consult-archive", "version": 7}', encoding="utf-8")
    result = runner.invoke(args=["consult", "import-archive", str(wrong)])
    assert result.exit_code == 1 and "version 7" in result.output
    assert "Traceback" not in result.output
    assert count(Organisation) == 0


# The download ----------------------------------------------------------------------------------


def test_the_download_is_the_archive_with_safe_headers(client, people, story):
    login_as(client, people.secretariat)
    response = client.get(f"/consultations/{story.id}/archive.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="net-zero-by-2040-archive-')
    assert disposition.endswith('.json"')
    assert response.get_data(as_text=True) == dumps(archive(story))


def test_the_archive_stays_for_the_secretariat_once_published(client, people, story):
    story.published_at = utcnow()
    db.session.commit()
    url = f"/consultations/{story.id}/archive.json"
    assert client.get(url).status_code == 302
    for person in (people.observer, people.member, people.other_member):
        assert login_as(client, person).get(url).status_code == 403
    assert login_as(client, people.secretariat).get(url).status_code == 200


def test_the_consultation_page_links_the_archive_for_the_secretariat_only(client, people, ask):
    url = f"/consultations/{ask.consultation_id}"
    link = css_select(login_as(client, people.secretariat).get(url), "#archive-link")
    assert [a["href"] for a in link] == [f"/consultations/{ask.consultation_id}/archive.json"]
    assert css_select(login_as(client, people.member).get(url), "#archive") == []


def _statements(action) -> int:
    return statements_during(action)


def test_the_query_count_does_not_grow_with_the_consultation(client, people, delegates, ask):
    consultation = ask.consultation
    db.session.expire_all()
    few = _statements(lambda: archive(consultation))
    login_as(client, people.secretariat)
    url = f"/consultations/{consultation.id}/archive.json"
    few_route = _statements(lambda: client.get(url))
    for n in range(4):
        comment, _ = comments.add_comment(author=people.member, ask=ask, body=f"Comment {n}.")
        comments.add_comment(author=delegates.other, ask=ask, body="Reply.", parent=comment)
        amendment, _ = amendments.propose(
            actor=delegates.third, ask=ask, paragraph=WHOLE_TEXT, wording=f"W {n}.", rationale="R"
        )
        amendments.set_backing(actor=delegates.home, amendment=amendment, stance=Backing.BACK)
    positions.set_position(actor=delegates.home, ask=ask, stance=Stance.SUPPORT, reason="")
    factories.ask(
        consultation, title="Another", versions=("One.", "Two."), author=people.secretariat
    )
    db.session.commit()
    db.session.expire_all()
    many = _statements(lambda: archive(consultation))
    assert few == many == 14
    assert _statements(lambda: client.get(url)) == few_route
