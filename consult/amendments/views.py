"""Amendments: proposing new wording, backing or opposing it, withdrawing it, and the
secretariat declining one or accepting several into the next version."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from consult import errors, permissions, text
from consult.amendments import cards, services
from consult.amendments.forms import (
    AcceptForm,
    BackingForm,
    DeclineForm,
    ProposeForm,
    WithdrawForm,
)
from consult.asks import services as ask_services
from consult.asks.pages import ask_context
from consult.extensions import db
from consult.htmx import redirect_to, render
from consult.loading import load
from consult.models import Amendment, AmendmentState, Ask, Backing
from consult.pagination import paginate, pagination_params

bp = Blueprint("amendments", __name__)

PER_PAGE = 20
CLOSED = "Amendments can no longer be proposed, backed, opposed or withdrawn."
_ID = re.compile(r"[0-9]{1,9}")
_OPTIONS = (
    joinedload(Amendment.organisation),
    joinedload(Amendment.proposer),
    joinedload(Amendment.version),
    joinedload(Amendment.accepted_version),
)


# Loading ------------------------------------------------------------------------------------


def _amendment(amendment_id: int, rule=None) -> Amendment:
    return load(Amendment, amendment_id, rule, options=_OPTIONS)


def _closed(ask: Ask, could_act: bool) -> Response | None:
    """After the consultation closed, or once the ask's wording is agreed, a refusal saying so
    to someone who could have acted."""
    return errors.closed_refusal(ask.consultation, could_act, CLOSED) or errors.agreed_refusal(
        ask, could_act
    )


def _ids(values: list[str]) -> list[int]:
    """Amendment ids from a form or query string; anything else is left out."""
    return sorted({int(v) for v in values if _ID.fullmatch(v.strip())})


def _label(paragraph: text.Paragraph, number: int) -> str:
    start = " ".join(paragraph.source.split())
    return (
        f"Paragraph {number}: {start[:60]}…" if len(start) > 60 else f"Paragraph {number}: {start}"
    )


# Proposing ----------------------------------------------------------------------------------


@bp.route("/asks/<int:ask_id>/amendments/new", methods=["GET", "POST"])
def new(ask_id: int):
    """Propose new wording for a paragraph of the current version, or for the whole text,
    with a preview of the change (members of organisations taking part)."""
    ask = load(Ask, ask_id)
    if not permissions.can_propose_amendment(current_user, ask):
        # Members could have proposed wording while it was open (can_be_delegate: members).
        closed = _closed(ask, permissions.can_be_delegate(current_user))
        if closed is not None:
            return closed
        load(Ask, ask_id, permissions.can_propose_amendment)  # the standard refusal
    current = ask.current_version
    assert current is not None  # can_propose_amendment requires a version
    paragraphs = text.paragraphs(current.body)
    sources = {p.anchor: p.source for p in paragraphs}
    sources[services.WHOLE_TEXT] = current.body
    form = ProposeForm()
    form.paragraph.choices = [
        (p.anchor, _label(p, number)) for number, p in enumerate(paragraphs, start=1)
    ] + [(services.WHOLE_TEXT, "The whole text")]
    status, preview = 200, None

    if request.method == "GET":
        chosen = request.args.get("paragraph", "")
        quote = request.args.get("quote", "")[:300]
        if chosen not in sources and quote.strip():
            # Words selected on the ask page: the paragraph they come from.
            chosen = next((p.anchor for p in paragraphs if text.quote_in(quote, p)), chosen)
        if chosen in sources:
            form.paragraph.data = chosen
            form.wording.data = sources[chosen]
        else:
            form.paragraph.data = None
    elif not form.validate_on_submit():
        status = 422
    elif request.form.get("action") == "preview":
        original = sources.get(form.paragraph.data or "")
        wording = ask_services.normalise_wording(form.wording.data or "")
        if original is None:
            form.paragraph.errors.append("Choose the paragraph your wording replaces")
        if not wording.strip():
            form.wording.errors.append("Enter the wording you propose")
        if original is not None and wording.strip():
            preview = text.paragraph_diff(original, wording)
        else:
            status = 422
    else:
        try:
            amendment, created = services.propose(
                actor=current_user,
                ask=ask,
                paragraph=form.paragraph.data,
                wording=form.wording.data or "",
                rationale=form.rationale.data or "",
                submission_key=form.submission_key.data,
            )
        except services.AmendmentError as error:
            db.session.rollback()
            form._fields.get(error.field, form.paragraph).errors.append(str(error))
            status = 422
        else:
            db.session.commit()
            flash(
                f"Amendment {amendment.id} proposed"
                if created
                else f"Amendment {amendment.id} was already proposed",
                "success",
            )
            return redirect_to(url_for("asks.show", ask_id=ask.id) + f"#amendment-{amendment.id}")
    if form.paragraph.data not in sources:
        form.paragraph.data = None  # a radio is checked only for a paragraph that exists
    return render(
        "amendments/new.html",
        status=status,
        form=form,
        preview=preview,
        **ask_context(ask),
    )


# Reading ------------------------------------------------------------------------------------


def _disposition_url(amendment: Amendment) -> str | None:
    """The "you said, we did" outcome form, for those who may record it."""
    if not permissions.can_record_amendment_outcome(current_user, amendment):
        return None
    return url_for("dispositions.amendment", amendment_id=amendment.id)


@bp.get("/amendments/<int:amendment_id>")
def show(amendment_id: int):
    """An amendment in full: what it replaces, the change, why, who backs it, and what
    became of it."""
    amendment = _amendment(amendment_id, permissions.can_read_amendment)
    ask = amendment.ask
    current = ask.current_version
    backings = services.backings_of([amendment])[amendment.id]
    applies = current is not None and services.target_in(amendment, current) is not None
    return render(
        "amendments/show.html",
        amendment=amendment,
        where=cards.where(amendment),
        blocks=cards.diff(amendment),
        support=cards.Support.of(backings, current_user),
        applies=applies,
        disposition=services.disposition_of(amendment=amendment),
        disposition_url=_disposition_url(amendment),
        backing_form=BackingForm(formdata=None),
        can_back=permissions.can_back_amendment(current_user, amendment),
        can_withdraw=permissions.can_withdraw_amendment(current_user, amendment),
        can_decline=permissions.can_decline_amendment(current_user, amendment),
        can_accept=applies
        and amendment.is_open
        and permissions.can_accept_amendments(current_user, ask),
        **ask_context(ask),
    )


STATES = {state.value: state for state in AmendmentState}


@bp.get("/asks/<int:ask_id>/amendments")
def index(ask_id: int):
    """Every amendment of an ask, newest first, optionally in one state only."""
    ask = load(Ask, ask_id, permissions.can_read_ask)
    state = STATES.get(request.args.get("state", ""))
    query = (
        select(Amendment)
        .options(*_OPTIONS)
        .where(Amendment.ask_id == ask.id)
        .order_by(Amendment.id.desc())
    )
    if state is not None:
        query = query.where(Amendment.state == state)
    page = paginate(query, per_page=PER_PAGE)
    items = list(page.items)
    backings = services.backings_of(items)
    return render(
        "amendments/index.html",
        page=page,
        items=[(a, cards.where(a), cards.Support.of(backings[a.id], current_user)) for a in items],
        state=state,
        states=list(AmendmentState),
        pagination=pagination_params(page),
        **ask_context(ask),
    )


# Backing and withdrawing --------------------------------------------------------------------


@bp.post("/amendments/<int:amendment_id>/backing")
def back(amendment_id: int):
    """Back or oppose an amendment for one's organisation (delegates of other
    organisations taking part)."""
    amendment = _amendment(amendment_id)
    if not permissions.can_back_amendment(current_user, amendment):
        could = (
            amendment.is_open
            and bool(getattr(current_user, "is_delegate", False))
            and current_user.organisation_id != amendment.organisation_id
        )
        closed = _closed(amendment.ask, could)
        if closed is not None:
            return closed
        _amendment(amendment_id, permissions.can_back_amendment)  # the standard refusal
    form = BackingForm()
    if not form.validate_on_submit():
        return errors.error_page(400, "Your form had expired. Reload the page and try again.")
    try:
        services.set_backing(actor=current_user, amendment=amendment, stance=form.stance.data)
    except services.AmendmentError as error:
        db.session.rollback()
        return errors.error_page(422, str(error))
    db.session.commit()
    verb = "backs" if form.stance.data == Backing.BACK.value else "opposes"
    flash(f"Your organisation {verb} amendment {amendment.id}", "success")
    if form.back_to.data == "ask":
        return redirect_to(
            url_for("asks.show", ask_id=amendment.ask_id) + f"#amendment-{amendment.id}"
        )
    return redirect_to(url_for("amendments.show", amendment_id=amendment.id))


@bp.route("/amendments/<int:amendment_id>/withdraw", methods=["GET", "POST"])
def withdraw(amendment_id: int):
    """Confirm, then withdraw one's own open amendment."""
    amendment = _amendment(amendment_id)
    if not permissions.can_withdraw_amendment(current_user, amendment):
        could = (
            current_user.is_authenticated
            and amendment.proposer_id == current_user.id
            and amendment.is_open
        )
        closed = _closed(amendment.ask, could)
        if closed is not None:
            return closed
        _amendment(amendment_id, permissions.can_withdraw_amendment)  # the standard refusal
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            services.withdraw(actor=current_user, amendment=amendment)
        except services.AmendmentError as error:
            db.session.rollback()
            return errors.error_page(409, str(error))
        db.session.commit()
        flash(f"Amendment {amendment.id} withdrawn", "success")
        return redirect_to(url_for("amendments.show", amendment_id=amendment.id))
    return render(
        "amendments/withdraw.html",
        status=422 if form.errors else 200,
        form=form,
        amendment=amendment,
        where=cards.where(amendment),
        blocks=cards.diff(amendment),
        **ask_context(amendment.ask),
    )


# The secretariat: declining and accepting ---------------------------------------------------


@bp.route("/amendments/<int:amendment_id>/decline", methods=["GET", "POST"])
def decline(amendment_id: int):
    """Decline an open amendment, giving the reason (secretariat)."""
    amendment = _amendment(amendment_id, permissions.can_decline_amendment)
    form = DeclineForm()
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            try:
                services.decline(
                    actor=current_user, amendment=amendment, reason=form.reason.data or ""
                )
            except services.AmendmentError as error:
                db.session.rollback()
                if error.field == "reason":
                    form.reason.errors.append(str(error))
                else:
                    return errors.error_page(409, str(error))
            else:
                db.session.commit()
                flash(f"Amendment {amendment.id} declined", "success")
                return redirect_to(url_for("amendments.show", amendment_id=amendment.id))
    return render(
        "amendments/decline.html",
        status=status,
        form=form,
        amendment=amendment,
        where=cards.where(amendment),
        blocks=cards.diff(amendment),
        **ask_context(amendment.ask),
    )


def _acceptance_page(
    ask: Ask,
    form: AcceptForm,
    chosen: list[int],
    *,
    status: int = 200,
    problem: str | None = None,
    plan: services.Acceptance | None = None,
) -> Response:
    current = ask.current_version
    open_ = services.amendments_of(ask, AmendmentState.OPEN)
    backings = services.backings_of(open_)
    acceptable: list[dict[str, Any]] = []
    stale: list[dict[str, Any]] = []
    for amendment in open_:
        target = services.target_in(amendment, current) if current is not None else None
        item = {
            "amendment": amendment,
            "target": target,
            "where": cards.where(amendment),
            "blocks": cards.diff(amendment),
            "support": cards.Support.of(backings[amendment.id], current_user),
            "checked": amendment.id in chosen,
        }
        (acceptable if target is not None else stale).append(item)
    blocks = text.paragraph_diff(current.body, plan.body) if plan and current else None
    return render(
        "amendments/accept.html",
        status=status,
        form=form,
        acceptable=acceptable,
        stale=stale,
        problem=problem,
        plan=plan,
        blocks=blocks,
        removed=sum(b.removed for b in blocks or []),
        added=sum(b.added for b in blocks or []),
        next_number=ask_services.latest_number(ask) + 1,
        **ask_context(ask),
    )


@bp.route("/asks/<int:ask_id>/amendments/accept", methods=["GET", "POST"])
def accept(ask_id: int):
    """Choose open amendments, preview the wording they make, and publish it as the next
    version with a change note crediting each (secretariat)."""
    ask = load(Ask, ask_id, permissions.can_accept_amendments)
    form = AcceptForm()
    if request.method == "GET":
        current = ask.current_version
        form.based_on.data = str(current.number if current is not None else 0)
        return _acceptance_page(ask, form, _ids(request.args.getlist("amendment")))

    chosen = _ids(request.form.getlist("amendment"))
    if not form.validate_on_submit():
        return _acceptance_page(ask, form, chosen, status=422)
    found = list(db.session.scalars(select(Amendment).where(Amendment.id.in_(chosen))))
    publishing = request.form.get("action") == "publish"
    try:
        if len(found) != len(chosen):
            raise services.AmendmentError(
                "One of the amendments you selected no longer exists. Reload the page and "
                "try again."
            )
        if not publishing:
            plan = services.plan_acceptance(ask, found)
            return _acceptance_page(ask, form, chosen, plan=plan)
        version = services.accept(
            actor=current_user,
            ask=ask,
            amendments=found,
            change_note=form.change_note.data or "",
            based_on=form.based_on_number,
        )
    except ask_services.VersionConflict as conflict:
        db.session.rollback()
        form.based_on.data = str(ask_services.latest_number(ask))  # now built on the latest
        return _acceptance_page(ask, form, chosen, status=409, problem=str(conflict))
    except (services.AmendmentError, ask_services.AskError) as error:
        db.session.rollback()
        return _acceptance_page(ask, form, chosen, status=422, problem=str(error))
    db.session.commit()
    count = len(found)
    flash(
        f"{version.label} published with {count} amendment{'s' if count != 1 else ''}",
        "success",
    )
    return redirect_to(url_for("asks.show", ask_id=ask.id))
