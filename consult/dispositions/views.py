"""Dispositions: the secretariat records its answer to a comment or an amendment (the
"outcome"), and every reader of an ask sees the answers on its "You said, we did" page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, request, url_for
from flask_login import current_user

from consult import errors, permissions, text
from consult.amendments import services
from consult.amendments.services import AmendmentError, target_in
from consult.asks import pages
from consult.comments import rules
from consult.dispositions import listing
from consult.dispositions.forms import HINTS, OutcomeForm
from consult.extensions import db
from consult.htmx import redirect_to, render
from consult.loading import load
from consult.models import Amendment, Ask, Comment, CommentState, Outcome
from consult.pagination import paginate, pagination_params

bp = Blueprint("dispositions", __name__)

WITHDRAWN_COMMENT = "Its author withdrew this comment, so it has no outcome to record."
WITHDRAWN_AMENDMENT = "Its proposer withdrew this amendment, so it has no outcome to record."
REPLY = "Outcomes are recorded on the first comment of a thread, not on its replies."


def _may_answer(user: Any, subject: Comment | Amendment) -> bool:
    return permissions.can_record_disposition(user, subject.ask)


def _back_to_list() -> bool:
    """Whether the form was opened from the "You said, we did" page (?next=ysw): the only
    other place it goes back to (no address is ever taken from the request)."""
    return request.args.get("next") == "ysw"


def _list_url(ask_id: int, anchor: str) -> str:
    return url_for("dispositions.index", ask_id=ask_id) + f"#{anchor}"


def _outcome_form(
    *,
    comment: Comment | None = None,
    amendment: Amendment | None = None,
    action_url: str,
    done_url: str,
    context: dict[str, Any],
) -> Response:
    """Show the outcome form (GET), prefilled with the current answer; or record it (POST):
    validate, call the service, commit, then back to where the form was opened from."""
    subject: Comment | Amendment | None = comment if comment is not None else amendment
    assert subject is not None
    existing = services.disposition_of(comment=comment, amendment=amendment)
    form = OutcomeForm() if request.method == "POST" else OutcomeForm(formdata=None)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.record_disposition(
                    actor=current_user,
                    outcome=form.outcome.data,
                    reason=form.reason.data or "",
                    comment=comment,
                    amendment=amendment,
                )
            except AmendmentError as error:
                db.session.rollback()
                form[error.field].errors = [*form[error.field].errors, str(error)]
            else:
                db.session.commit()
                flash("Outcome recorded", "success")
                return redirect_to(done_url)
        status = 422
    elif existing is not None:
        form.outcome.data, form.reason.data = existing.outcome.value, existing.reason
    ask = subject.ask
    return render(
        "dispositions/form.html",
        status=status,
        form=form,
        kind="comment" if comment is not None else "amendment",
        subject=subject,
        existing=existing,
        hint_items=[{"hint": {"text": HINTS[outcome]}} for outcome in Outcome],
        action_url=action_url,
        cancel_url=done_url,
        **context,
        **pages.ask_context(ask),
    )


@bp.route("/comments/<int:comment_id>/outcome", methods=["GET", "POST"])
def comment(comment_id: int):
    """The secretariat records, or changes, the outcome of a thread's first comment."""
    found = load(Comment, comment_id, _may_answer)
    if found.parent_id is not None:
        return errors.error_page(404, REPLY)
    if not permissions.can_record_comment_outcome(current_user, found):
        assert found.state == CommentState.WITHDRAWN
        return errors.error_page(409, WITHDRAWN_COMMENT)
    current = found.ask.current_version
    number = None
    if found.paragraph_anchor is not None:
        number = next(
            (
                n
                for n, p in enumerate(text.paragraphs(found.version.body), start=1)
                if p.anchor == found.paragraph_anchor
            ),
            None,
        )
    done_url = (
        _list_url(found.ask_id, f"comment-{found.id}")
        if _back_to_list()
        else url_for("comments.show", comment_id=found.id)
    )
    return _outcome_form(
        comment=found,
        action_url=url_for(
            "dispositions.comment", comment_id=found.id, next="ysw" if _back_to_list() else None
        ),
        context={
            "paragraph_number": number,
            "readable": rules.can_see_body(current_user, found),
            "answering_version": current,
        },
        done_url=done_url,
    )


@bp.route("/amendments/<int:amendment_id>/outcome", methods=["GET", "POST"])
def amendment(amendment_id: int):
    """The secretariat records, or changes, the outcome of an amendment (accepting or
    declining it records one already; this changes it, e.g. to "partly adopted")."""
    found = load(Amendment, amendment_id, _may_answer)
    if not permissions.can_record_amendment_outcome(current_user, found):
        return errors.error_page(409, WITHDRAWN_AMENDMENT)
    target = target_in(found, found.version)
    return _outcome_form(
        amendment=found,
        action_url=url_for("dispositions.amendment", amendment_id=found.id),
        context={
            "where": target.label if target is not None else "a paragraph",
            "blocks": text.paragraph_diff(found.original, found.wording),
            "answering_version": found.ask.current_version,
        },
        done_url=_list_url(found.ask_id, f"amendment-{found.id}"),
    )


@bp.get("/asks/<int:ask_id>/you-said-we-did")
def index(ask_id: int):
    """ "You said, we did": every comment and amendment on an ask with the secretariat's
    answer and the version that gave it, newest version first; by organisation, by outcome."""
    ask = load(Ask, ask_id, permissions.can_read_ask)
    organisations = listing.organisations(ask, current_user)
    filters = listing.Filters.from_args(request.args, [org_id for org_id, _ in organisations])
    page = paginate(listing.keys(ask, current_user, filters), per_page=listing.PER_PAGE)
    own = getattr(current_user, "organisation_id", None) if current_user.is_authenticated else None
    return render(
        "dispositions/index.html",
        page=page,
        pagination=pagination_params(page),
        groups=listing.items(page),
        filters=filters,
        organisations=organisations,
        own_organisation=next((o for o in organisations if o[0] == own), None),
        own_organisation_id=own,
        outcomes=list(Outcome),
        no_answer=listing.NONE,
        can_see_body=lambda c: rules.can_see_body(current_user, c),
        **pages.ask_context(ask),
    )
