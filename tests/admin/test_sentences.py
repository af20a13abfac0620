"""The audit log in plain English (consult/admin/sentences.py): a sentence for every action
recorded anywhere in consult/, names loaded in grouped queries, gone objects and old rows."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import consult
from consult.admin import sentences
from consult.admin import services as admin
from consult.agreements import services as agreements
from consult.amendments import services as amendments
from consult.asks import services as asks
from consult.auth import services as accounts
from consult.comments import services as comments
from consult.extensions import db
from consult.models import AuditEvent, Backer, BackerState, Role, utcnow
from consult.positions import services as positions
from consult.publication import services as publication
from consult.signoff import services as signoff
from tests import factories
from tests.helpers import V2, anchors, audit_events, comment, statements_during

pytestmark = pytest.mark.database

ASK = "Declare a climate emergency"


def said(action: str | None = None) -> list[str]:
    """The sentences of the audit events (of this action), oldest first."""
    events = audit_events(action)
    described = sentences.describe(events)
    return [described[event.id] for event in events]


# Every action recorded anywhere has a sentence ----------------------------------------------


def _strings(node: ast.expr, function: ast.AST, where: str) -> set[str]:
    """The action strings an expression can be: a literal, either branch of `a if c else b`,
    or a local name assigned one of those in the same function."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body, function, where) | _strings(node.orelse, function, where)
    if isinstance(node, ast.Name):
        found: set[str] = set()
        for statement in ast.walk(function):
            if isinstance(statement, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == node.id
                for target in statement.targets
            ):
                found |= _strings(statement.value, function, where)
        if found:
            return found
    raise AssertionError(
        f"{where}: cannot tell which action {ast.unparse(node)!r} is; pass a string literal "
        "(or teach this test to read it)"
    )


def recorded_actions() -> dict[str, str]:
    """Every action passed to audit.record() in consult/, with where it is recorded."""
    root = Path(consult.__file__).parent
    actions: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        functions = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for function in functions:
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                if name != "record" or path.name == "audit.py" and function.name == "record":
                    continue
                where = f"{path.relative_to(root.parent)}:{node.lineno}"
                action = node.args[1] if len(node.args) > 1 else None
                assert action is not None, f"{where}: record() without an action"
                for found in _strings(action, function, where):
                    actions.setdefault(found, where)
    return actions


def test_the_source_scan_finds_the_actions():
    found = recorded_actions()
    # Literals, both branches of a conditional, and a name assigned in the function.
    for action in (
        "version.publish",
        "user.sign_in",
        "organisation.deactivate",
        "organisation.reactivate",
        "backer.approve",
        "backer.reject",
        "reminders.send",
    ):
        assert action in found
    assert len(found) > 50


def test_every_recorded_action_has_a_sentence():
    missing = {
        action: where
        for action, where in recorded_actions().items()
        if action not in sentences.described_actions()
    }
    assert not missing, f"Give these actions a sentence in consult/admin/sentences.py: {missing}"


class Anything(dict):
    """Before/after values from an old or odd row: every key has this one value."""

    def __init__(self, value: Any) -> None:
        super().__init__({"name": value, "stance": value, "role": value, "title": value})
        self.value = value

    def get(self, key, default=None):
        return self.value


ODD_VALUES = [None, {}, *(Anything(v) for v in ([3, "x"], "text", 7, True, {"a": 1}, None))]


@pytest.mark.parametrize("values", ODD_VALUES, ids=repr)
def test_every_sentence_copes_with_missing_objects_and_odd_values(app, values):
    events = []
    for number, (action, tables) in enumerate(sorted(sentences.described_actions().items())):
        for table in tables:
            events.append(
                AuditEvent(
                    id=len(events) + 1,
                    action=action,
                    object_type=table,
                    object_id=10_000 + number,  # no such row
                    before=values,
                    after=values,
                )
            )
    found = sentences.describe(events)
    for event in events:
        text = found[event.id]
        assert text and "recorded as" not in text, (event.action, text)
        assert "None" not in text.split(), (event.action, text)


# Sentences for real events -----------------------------------------------------------------


def test_publishing_a_version(people, ask):
    asks.publish_version(actor=people.secretariat, ask=ask, body=V2 + "\n\nMore.", change_note="")
    assert said("version.publish") == [f"Sam Secretariat published v3 of {ASK}"]


def test_hiding_a_comment(people, ask):
    made = comment(people.member, ask, "Off topic.")
    comments.hide_comment(actor=people.secretariat, comment=made, reason="Off topic")
    assert said("comment.create") == [f"Mina Member commented on v2 of {ASK}"]
    assert said("comment.hide") == [f"Sam Secretariat hid a comment by Mina Member on v2 of {ASK}"]


def test_replying_names_whose_comment(people, ask):
    first = comment(people.member, ask, "First.")
    comment(people.other_member, ask, "A reply.", parent=first)
    assert said("comment.reply") == [f"Otto Other replied to Mina Member’s comment on v2 of {ASK}"]


def test_setting_and_changing_a_position(delegates, ask):
    positions.set_position(actor=delegates.home, ask=ask, stance="object", reason="Too vague")
    positions.set_position(actor=delegates.home, ask=ask, stance="support", reason="")
    positions.set_position(actor=delegates.home, ask=ask, stance="support", reason="Clearer now")
    assert said("position.set") == [
        f"Dee Delegate set Home Organisation’s position to Object on v2 of {ASK}",
        f"Dee Delegate changed Home Organisation’s position from Object to Support on v2 of {ASK}",
        f"Dee Delegate gave a new reason for Home Organisation’s position on v2 of {ASK}",
    ]


def test_signing_in_and_out(people):
    accounts.record_sign_in(people.member)
    accounts.record_sign_out(people.member)
    assert said() == ["Mina Member signed in", "Mina Member signed out"]


def test_changing_a_role(people, delegates):
    accounts.change_role(actor=people.secretariat, user=people.observer, role=Role.MEMBER)
    accounts.change_role(actor=people.secretariat, user=delegates.home, role=Role.OBSERVER)
    assert said("user.change_role") == [
        "Sam Secretariat changed Olive Observer’s role from Observer to Member",
        "Sam Secretariat changed Dee Delegate’s role from Member to Observer, "
        "so they are no longer a delegate",
    ]


def test_agreeing_an_ask(people, ask):
    agreements.declare_agreed(
        actor=people.secretariat, ask=ask, reason="At the meeting", based_on=2
    )
    agreements.reopen(actor=people.secretariat, ask=ask, reason="New evidence")
    assert said("ask.agree") == [
        f"Sam Secretariat declared the wording agreed against the rule for v2 of {ASK}"
    ]
    assert said("ask.reopen") == [f"Sam Secretariat reopened the agreed wording of {ASK}"]


def test_backing_an_amendment(people, delegates, ask):
    amendment, _ = amendments.propose(
        actor=delegates.home,
        ask=ask,
        paragraph=anchors(ask)[0],
        wording="The council must act today.",
        rationale="Sooner.",
    )
    amendments.set_backing(actor=delegates.other, amendment=amendment, stance="oppose")
    amendments.set_backing(actor=delegates.other, amendment=amendment, stance="back")
    assert said("amendment.propose") == [
        f"Dee Delegate, for Home Organisation, proposed an amendment to v2 of {ASK}"
    ]
    assert said("amendment.back") == [
        f"Oda Other, for Other Organisation, opposed Home Organisation’s amendment to v2 of {ASK}",
        "Oda Other, for Other Organisation, changed from opposing to backing "
        f"Home Organisation’s amendment to v2 of {ASK}",
    ]
    amendments.record_disposition(
        actor=people.secretariat, amendment=amendment, outcome="noted", reason="Thank you."
    )
    amendments.record_disposition(
        actor=people.secretariat, amendment=amendment, outcome="adopted", reason="In v3."
    )
    assert said("disposition.record") == [
        f"Sam Secretariat recorded the outcome Noted for Home Organisation’s amendment to v2 of {ASK}",
        "Sam Secretariat changed the outcome from Noted to Adopted for "
        f"Home Organisation’s amendment to v2 of {ASK}",
    ]


def test_approving_a_backer(people, ask):
    backer = Backer(
        consultation=ask.consultation,
        organisation_name="Friends of the Park",
        contact_name="Fran Friend",
        email="fran@example.org",
        state=BackerState.CONFIRMED,
        confirmed_at=utcnow(),
    )
    db.session.add(backer)
    db.session.flush()
    publication.approve_backer(actor=people.secretariat, backer=backer)
    assert said("backer.approve") == [
        "Sam Secretariat approved Friends of the Park as a backer of the manifesto of "
        "Net zero by 2040"
    ]


def test_a_person_and_an_organisation_by_the_command_line(app):
    made = admin.create_organisation(actor=None, name="Clean Air Group", kind="ngo")
    accounts.create_user(
        actor=None,
        email="cleo@example.org",
        name="Cleo Clean",
        organisation=made,
        role=Role.OBSERVER,
        password="a long enough password",
    )
    assert said() == [
        "Someone at the command line added the organisation Clean Air Group",
        "Someone at the command line created an account for Cleo Clean (Clean Air Group) "
        "as an observer",
    ]


def test_moving_an_ask(people, ask):
    other = factories.ask(ask.consultation, title="Retrofit homes", sort_order=ask.sort_order + 1)
    asks.create_ask(actor=people.secretariat, consultation=ask.consultation, title="Walk more")
    asks.move_ask(actor=people.secretariat, ask=other, direction="up")
    asks.update_ask(actor=people.secretariat, ask=other, title="Retrofit every home", theme="Homes")
    assert said() == [
        "Sam Secretariat added the ask Walk more",
        f"Sam Secretariat moved an ask up one place: Retrofit every home now comes before {ASK}",
        "Sam Secretariat changed the ask Retrofit every home: title from “Retrofit homes” to "
        "“Retrofit every home” and theme from none to “Homes”",
    ]


def test_signing_off_the_manifesto(people, delegates, ask):
    agreements.declare_agreed(
        actor=people.secretariat, ask=ask, reason="At the meeting", based_on=2
    )
    signoff.open_signoff(actor=people.secretariat, consultation=ask.consultation)
    for decision, listed, reason in (("endorse", True, ""), ("decline", False, "Not yet.")):
        signoff.set_endorsement(
            actor=delegates.home,
            consultation=ask.consultation,
            decision=decision,
            list_publicly=listed,
            reason=reason,
        )
    assert said("signoff.open") == [
        "Sam Secretariat opened sign-off of the manifesto of Net zero by 2040"
    ]
    assert said("endorsement.set") == [
        "Dee Delegate set Home Organisation’s answer to Endorsed (listed publicly) on the "
        "manifesto of Net zero by 2040",
        "Dee Delegate changed Home Organisation’s answer from Endorsed (listed publicly) to "
        "Declined on the manifesto of Net zero by 2040",
    ]


# Gone objects, gone people and actions Consult does not know -----------------------------------


def event(**fields) -> AuditEvent:
    made = AuditEvent(**{"object_id": None, "before": None, "after": None, **fields})
    db.session.add(made)
    db.session.flush()
    return made


def test_an_object_that_no_longer_exists(people):
    gone = event(
        actor_id=people.secretariat.id, action="draft.save", object_type="ask", object_id=9
    )
    version = event(
        actor_id=people.secretariat.id,
        action="version.publish",
        object_type="draft_version",
        object_id=9,
        after={"number": 4, "ask_id": 9},
    )
    found = sentences.describe([gone, version])
    assert found[gone.id] == (
        "Sam Secretariat saved a draft of the next version of an ask that no longer exists"
    )
    assert found[version.id] == "Sam Secretariat published v4 of an ask that no longer exists"


def test_someone_no_longer_known(app):
    # An actor whose account row is gone (the database would refuse to make one now).
    made = AuditEvent(id=1, actor_id=404, action="user.sign_out", object_type="user_account")
    assert sentences.describe([made]) == {1: "Someone (no longer known) signed out"}


def test_an_unknown_action_or_object_gets_an_honest_sentence(people):
    old = event(
        actor_id=people.member.id,
        action="comment.add",
        object_type="organisation",
        object_id=people.member.organisation_id,
    )
    odd = event(actor_id=None, action="thing.poke", object_type="thing", object_id=3)
    # A known action on an object of another kind than it is recorded on.
    mismatch = event(
        actor_id=people.member.id,
        action="user.sign_in",
        object_type="comment",
        object_id=77,
    )
    found = sentences.describe([old, odd, mismatch])
    assert found[old.id] == (
        "Mina Member did something recorded as “comment.add” to the organisation Home Organisation"
    )
    assert (
        found[odd.id]
        == "Someone at the command line did something recorded as “thing.poke” to thing 3"
    )
    assert found[mismatch.id] == (
        "Mina Member did something recorded as “user.sign_in” to a comment that no longer exists"
    )


def test_names_are_loaded_in_one_query_per_kind_of_object(people, delegates, ask):
    made = [comment(people.member, ask, f"Comment {n}.") for n in range(3)]
    positions.set_position(actor=delegates.home, ask=ask, stance="support", reason="")
    db.session.commit()
    # As the pages load them: each with its actor (and the actor's organisation).
    events = list(db.session.scalars(admin.audit_statement()))
    kinds = {e.object_type for e in events}
    assert kinds == {"comment", "position"}
    assert len(made) == 3
    assert statements_during(lambda: sentences.describe(events)) == len(kinds)
    assert statements_during(lambda: sentences.describe([])) == 0
