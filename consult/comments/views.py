"""The discussion of an ask: posting, replying, editing, withdrawing, moderating, reporting,
"Show more comments", live changes, and the secretariat's list of reports.

Every action has a page of its own that works without JavaScript (GET shows the form, POST
does it, then redirects to the comment), and the same form as a fragment that htmx opens
under the comment. Live updates never replace those forms: they live in a slot of their own
(#comment-<id>-form) beside the comment's content (#comment-<id>-content).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, g, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from consult import errors, permissions, text, throttle
from consult.asks import pages
from consult.comments import live, queries, rules, services, threads
from consult.comments.forms import (
    ANCHOR_PATTERN,
    CommentActionForm,
    CommentForm,
    EditForm,
    HideForm,
    ReplyForm,
    ReportForm,
    ResolveForm,
    WithdrawForm,
)
from consult.comments.rules import Filters, Page, parse_id
from consult.comments.services import CommentError
from consult.extensions import db
from consult.htmx import is_htmx, redirect_to, render, trigger
from consult.live.services import cursor_expired
from consult.loading import load, require
from consult.models import (
    Ask,
    Comment,
    CommentReport,
    CommentState,
    Consultation,
    DraftVersion,
    User,
)
from consult.pagination import paginate, pagination_params
from consult.transactions import commit_keeping_loaded

bp = Blueprint("comments", __name__)

REPORTS_PER_PAGE = 25
CHANGED = "comments-changed"  # tells the page's live tail to fetch what changed now
TOO_FAST = (
    "You have posted a lot of comments in a short time. Wait {wait}, then try again. "
    "What you wrote has not been posted."
)


# Which version's page, and where a comment is read -----------------------------------------


def _page_version(ask: Ask) -> DraftVersion:
    """The version whose page asks (?version=, the current one by default)."""
    current = ask.current_version
    if current is None:
        abort(404)
    number = parse_id(request.args.get("version"))
    if number is None or number == current.number:
        return current
    found = next((v for v in ask.versions if v.number == number), None)
    if found is None:
        abort(404)
    return found


def thread_url(comment: Comment) -> str:
    """Where a comment is read: its thread on the page of the version that shows it."""
    root = queries.root_of(comment)
    ask = comment.ask
    current = ask.current_version
    anchors = [p.anchor for p in text.paragraphs(current.body)] if current is not None else []
    if current is not None and Page.of(ask, current, anchors).holds(root):
        page = url_for("asks.show", ask_id=comment.ask_id, thread=root.id)
    else:
        page = url_for(
            "asks.version", ask_id=comment.ask_id, number=root.version.number, thread=root.id
        )
    return f"{page}#comment-{comment.id}"


# After the consultation has closed ------------------------------------------------------------

CLOSED = "Comments can no longer be added or changed."


def _load_for_commenting(ask_id: int) -> Ask | Response:
    """The ask, if the current person may comment on it; once the consultation has closed, a
    refusal that says so to those who could have commented (not their account's fault)."""
    ask = load(Ask, ask_id, options=pages.WITH_CONSULTATION_AND_VERSIONS)
    if permissions.can_comment(current_user, ask):
        return ask
    could = permissions.can_take_part(current_user)
    closed = errors.closed_refusal(ask.consultation, could, CLOSED) or errors.agreed_refusal(
        ask, could
    )
    return closed if closed is not None else load(Ask, ask_id, permissions.can_comment)


def _could_act_while_open(action_name: str, comment: Comment) -> bool:
    """Whether the current person could have done this to the comment before the close."""
    if action_name == "reply":
        return permissions.can_take_part(current_user)
    if action_name in ("edit", "withdraw"):
        return (
            current_user.is_authenticated
            and comment.author_id == current_user.id
            and comment.state == CommentState.VISIBLE
        )
    return False


# Rate limit on new comments and replies -----------------------------------------------------


def _creation_limit_value() -> str:
    return current_app.config["COMMENT_RATE_LIMIT"]


def _person_key() -> str:
    return f"commenter:{getattr(current_user, 'id', 'anonymous')}"


def _created_one(response: Response) -> bool:
    """Count only comments actually made (not a resent form, not a form with errors)."""
    return bool(g.get("comment_created"))


# Counted before the view runs (a burst cannot all get through), given back if no comment was
# made; past the limit, a clear message (into #messages for htmx) and nothing is stored.
creation_limit = throttle.counted(
    _creation_limit_value,
    _person_key,
    counts=_created_one,
    exempt=lambda: not current_user.is_authenticated,
    message=TOO_FAST,
)


# Reading ------------------------------------------------------------------------------------


def _page_context(ask: Ask, version: DraftVersion, more: bool = False) -> dict[str, Any]:
    paragraphs = text.paragraphs(version.body)
    return {
        "paragraphs": paragraphs,
        "more": more,
        **pages.ask_context(ask, version),
        "discussion": pages.discussion(ask, version, paragraphs, more=more),
    }


@bp.get("/asks/<int:ask_id>/comments")
def index(ask_id: int):
    """More threads of an ask's discussion ("Show more comments"): the next threads for htmx,
    the ask page from there on otherwise."""
    ask = load(Ask, ask_id, permissions.can_read_ask)
    version = _page_version(ask)
    if not is_htmx():
        return render("asks/show.html", **_page_context(ask, version))
    return render("asks/show.html", block="more", **_page_context(ask, version, more=True))


@bp.get("/asks/<int:ask_id>/paragraphs/<anchor>/threads")
def paragraph_threads(ask_id: int, anchor: str):
    """A paragraph's threads in short, for its margin on the ask page (htmx, when "Show the
    threads" is opened); without JavaScript, the discussion filtered to the paragraph."""
    ask = load(Ask, ask_id, permissions.can_read_ask)
    version = _page_version(ask)
    paragraphs = text.paragraphs(version.body)
    if anchor not in {p.anchor for p in paragraphs}:
        abort(404)
    found = threads.load(ask, version, paragraphs, current_user, Filters(paragraph=anchor))
    if not is_htmx():
        return redirect_to(found.page_url(paragraph=anchor) + "#discussion")
    response = render("comments/margin_threads.html", discussion=found, anchor=anchor)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/asks/<int:ask_id>/comments/changes")
def changes(ask_id: int):
    """What changed in the discussion after a live event (?after=): new and changed comments,
    paragraph counts, notices and the page's new cursor, as out-of-band fragments."""
    ask = load(Ask, ask_id, permissions.can_follow_discussion)
    version = _page_version(ask)
    if not is_htmx():
        return redirect_to(url_for("asks.show", ask_id=ask.id))
    if cursor_expired(request.args.get("after")):  # its live events were pruned: reload
        return Response(headers={"HX-Refresh": "true", "Cache-Control": "no-store"})
    paragraphs = text.paragraphs(version.body)
    args = request.args
    start = parse_id(args.get("start")) or 0
    result = live.changes(
        ask,
        version,
        paragraphs,
        current_user,
        Filters.from_args(args, [p.anchor for p in paragraphs]),
        after=parse_id(args.get("after")) or 0,
        window=live.Window(
            start=start,
            upto=parse_id(args.get("upto")) or 0,
            loaded=max(parse_id(args.get("loaded")) or 0, start),
        ),
    )
    response = render("comments/changes.html", changes=result, discussion=result.discussion)
    response.headers["Cache-Control"] = "no-store"
    if result.more_pending:  # more than one answer holds: ask again at once
        trigger(response, "comments-changed")
    return response


@bp.get("/comments/<int:comment_id>")
def show(comment_id: int):
    """A link to one comment: its thread, on the page of the version that shows it."""
    comment = load(Comment, comment_id, permissions.can_read_comment)
    return redirect_to(thread_url(comment))


# Posting ------------------------------------------------------------------------------------


def _form_page(template_context: dict[str, Any], status: int = 200) -> Response:
    """A comment form: a page of its own, or (for htmx) the form alone."""
    context = {"status_message": None, "status_link": None, **template_context}
    return render(
        "comments/form.html",
        block="form",
        status=status,
        fragment=is_htmx(),
        focus=request.method == "GET",
        **context,
    )


def _new_comment_context(
    ask: Ask, form: CommentForm, paragraph: text.Paragraph | None
) -> dict[str, Any]:
    current = ask.current_version
    body = current.body if current is not None else ""
    number = next(
        (
            n
            for n, p in enumerate(text.paragraphs(body), start=1)
            if paragraph and p.anchor == paragraph.anchor
        ),
        None,
    )
    return {
        "ask": ask,
        "form": form,
        "paragraph": paragraph,
        "paragraph_number": number,
        "kind": "comment",
        "target": None,
        "title": f"Comment on paragraph {number}" if paragraph else "Comment on the whole ask",
        "button": "Post comment",
        "action_url": url_for("comments.create", ask_id=ask.id),
        "cancel_url": url_for(
            "comments.new", ask_id=ask.id, paragraph=paragraph.anchor if paragraph else None
        ),
        "back_url": url_for("asks.show", ask_id=ask.id)
        + (f"#{paragraph.anchor}" if paragraph else "#discussion"),
    }


def _comment_form_ids(form: CommentForm) -> CommentForm:
    """Ids of the form at the foot of the page ("comment-…"), or of the one under its
    paragraph ("comment-<anchor>-…"), so that both can be open at once."""
    anchor = form.paragraph.data or ""
    inline = form.placement.data == "inline" and re.fullmatch(ANCHOR_PATTERN, anchor)
    return form.use_ids(f"comment-{anchor}" if inline else "comment")


@bp.get("/asks/<int:ask_id>/comments/new")
def new(ask_id: int):
    """The form to comment on the whole ask, or on one paragraph (?paragraph=)."""
    loaded = _load_for_commenting(ask_id)
    if isinstance(loaded, Response):
        return loaded
    ask = loaded
    paragraph = services.current_paragraph(ask, request.args.get("paragraph"))
    form = CommentForm(formdata=None)
    form.paragraph.data = paragraph.anchor if paragraph else ""
    form.placement.data = "inline" if is_htmx() and paragraph else "page"
    _comment_form_ids(form)
    return _form_page(_new_comment_context(ask, form, paragraph))


def _posted(comment: Comment, message: str, form_context: dict[str, Any] | None) -> Response:
    """After a comment or reply is made (or found made by the same form before): for htmx,
    the form's place says so (the page's live tail fetches the comment itself, so it
    appears once, where it belongs); otherwise back to the comment."""
    if not is_htmx():
        flash(message, "success")
        return redirect_to(thread_url(comment))
    link = url_for("comments.show", comment_id=comment.id)
    if form_context is not None:  # the form at the foot of the page: fresh, for another one
        response = _form_page({**form_context, "status_message": message, "status_link": link})
    else:
        response = render(
            "comments/done.html",
            message=message,
            link=link,
            link_text="View your reply" if comment.parent_id else "View your comment",
        )
    return trigger(response, CHANGED)


@bp.post("/asks/<int:ask_id>/comments")
@creation_limit
def create(ask_id: int):
    """Comment on the ask's current version: on the whole text or on one paragraph."""
    loaded = _load_for_commenting(ask_id)
    if isinstance(loaded, Response):
        return loaded
    ask = loaded
    form = CommentForm()
    paragraph = services.current_paragraph(ask, form.paragraph.data)
    _comment_form_ids(form)
    if form.validate_on_submit():
        try:
            comment, created = services.add_comment(
                author=current_user,
                ask=ask,
                body=form.body.data,
                paragraph_anchor=form.paragraph.data or None,
                quote=form.quote.data if form.paragraph.data else None,
                submission_key=form.submission_key.data,
            )
        except CommentError as error:
            form[error.field].errors.append(str(error))
        else:
            commit_keeping_loaded()
            g.comment_created = created
            fresh = None
            if form.placement.data != "inline":
                fresh_form = CommentForm(formdata=None).use_ids("comment")
                fresh = _new_comment_context(ask, fresh_form, None)
            return _posted(comment, "Your comment has been posted", fresh)
    return _form_page(_new_comment_context(ask, form, paragraph), status=422)


# Actions on one comment ---------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One thing that can be done to a comment: who may, its form and words, and the one
    service that does it (given the comment and the valid form)."""

    name: str
    form: type[CommentActionForm]
    allowed: Callable[[Any, Comment], bool]
    perform: Callable[[Comment, Any], Any]
    title: str
    button: str
    done: str
    field: str | None = None
    label: str = ""
    hint: str = ""
    warning: bool = False


def _reply(comment: Comment, form: ReplyForm) -> Comment:
    made, created = services.add_comment(
        author=current_user,
        ask=comment.ask,
        body=form.body.data,
        parent=comment,
        submission_key=form.submission_key.data,
    )
    g.comment_created = created
    return made


MARKDOWN_HINT = (
    "You can use *emphasis*, **strong**, lists, [links](https://example.org) and > quotes."
)
ACTIONS = {
    action.name: action
    for action in (
        Action(
            "reply",
            ReplyForm,
            permissions.can_reply,
            _reply,
            "Reply to a comment",
            "Post reply",
            "Your reply has been posted",
            "body",
            "Your reply",
            MARKDOWN_HINT,
        ),
        Action(
            "edit",
            EditForm,
            permissions.can_edit_comment,
            lambda comment, form: services.edit_comment(
                actor=current_user, comment=comment, body=form.body.data
            ),
            "Edit your comment",
            "Save changes",
            "Your comment has been updated",
            "body",
            "Your comment",
            "Your comment will say when it was last edited. " + MARKDOWN_HINT,
        ),
        Action(
            "withdraw",
            WithdrawForm,
            permissions.can_edit_comment,
            lambda comment, form: services.withdraw_comment(actor=current_user, comment=comment),
            "Are you sure you want to withdraw your comment?",
            "Withdraw comment",
            "Your comment has been withdrawn",
            warning=True,
        ),
        Action(
            "hide",
            HideForm,
            permissions.can_moderate_comment,
            lambda comment, form: services.hide_comment(
                actor=current_user, comment=comment, reason=form.reason.data
            ),
            "Hide a comment",
            "Hide comment",
            "The comment has been hidden",
            "reason",
            "Why are you hiding this comment?",
            "The author is shown this reason. It is also kept in the audit log.",
            warning=True,
        ),
        Action(
            "resolve",
            ResolveForm,
            permissions.can_resolve_comment,
            lambda comment, form: services.resolve_comment(
                actor=current_user, comment=comment, response=form.response.data
            ),
            "Mark a comment as resolved",
            "Mark as resolved",
            "The comment has been marked as resolved",
            "response",
            "The secretariat's response",
            "Everyone who reads the comment sees this response. " + MARKDOWN_HINT,
        ),
        Action(
            "report",
            ReportForm,
            permissions.can_report_comment,
            lambda comment, form: services.report_comment(
                actor=current_user, comment=comment, reason=form.reason.data
            ),
            "Report a comment to the secretariat",
            "Send report",
            "Thank you. The secretariat has been told about this comment",
            "reason",
            "Why are you reporting this comment?",
            "Only the secretariat sees your report.",
        ),
    )
}
_SUBMIT_ENDPOINT = {"reply": "comments.create_reply"}


def _action_context(action: Action, comment: Comment, form: CommentActionForm) -> dict[str, Any]:
    endpoint = _SUBMIT_ENDPOINT.get(action.name, f"comments.{action.name}")
    form_endpoint = "comments.new_reply" if action.name == "reply" else f"comments.{action.name}"
    return {
        "ask": comment.ask,
        "form": form,
        "kind": action.name,
        "action": action,
        "target": comment,
        "target_readable": rules.can_see_body(current_user, comment),
        "paragraph": None,
        "title": action.title,
        "button": action.button,
        "action_url": url_for(endpoint, comment_id=comment.id),
        "cancel_url": url_for(form_endpoint, comment_id=comment.id),
        "back_url": thread_url(comment),
    }


def _act(comment_id: int, action: Action) -> Response:
    """Show an action's form (GET) or carry it out (POST): load, check, validate, call one
    service, commit, then answer (the updated comment for htmx, a redirect otherwise)."""
    comment = load(Comment, comment_id, permissions.can_read_comment)
    if not action.allowed(current_user, comment):
        closed = errors.closed_refusal(
            comment.ask.consultation, _could_act_while_open(action.name, comment), CLOSED
        )
        if closed is not None:
            return closed
        errors.refuse()
    form = action.form() if request.method == "POST" else action.form(formdata=None)
    form.use_ids(f"{action.name}-{comment.id}")
    context = _action_context(action, comment, form)
    if request.method == "GET":
        if action.name == "edit":
            form.body.data = comment.body
        return _form_page(context)
    if form.validate_on_submit():
        try:
            made = action.perform(comment, form)
        except CommentError as error:
            form[error.field].errors.append(str(error))
        else:
            commit_keeping_loaded()
            if action.name == "reply":
                return _posted(made, action.done, None)
            return _changed(comment, action.done)
    return _form_page(context, status=422)


def _changed(comment: Comment, message: str) -> Response:
    """After a change to a comment: its new content (out of band) in place of the form for
    htmx; otherwise back to the comment with a message."""
    if not is_htmx():
        flash(message, "success")
        return redirect_to(thread_url(comment))
    result = live.single(comment, current_user)
    response = render(
        "comments/done.html",
        message=message,
        changes=result,
        discussion=result.discussion if result else None,
    )
    return trigger(response, CHANGED)


@bp.get("/comments/<int:comment_id>/replies/new")
def new_reply(comment_id: int):
    """The form to reply to a comment."""
    return _act(comment_id, ACTIONS["reply"])


@bp.post("/comments/<int:comment_id>/replies")
@creation_limit
def create_reply(comment_id: int):
    """Reply to a comment (the reply joins its thread)."""
    return _act(comment_id, ACTIONS["reply"])


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
def edit(comment_id: int):
    """The author changes the text of their comment (it then shows when it was edited)."""
    return _act(comment_id, ACTIONS["edit"])


@bp.route("/comments/<int:comment_id>/withdraw", methods=["GET", "POST"])
def withdraw(comment_id: int):
    """The author withdraws their comment, after confirming (replies stay, under a tombstone)."""
    return _act(comment_id, ACTIONS["withdraw"])


@bp.route("/comments/<int:comment_id>/hide", methods=["GET", "POST"])
def hide(comment_id: int):
    """The secretariat hides a comment, giving the reason its author is shown."""
    return _act(comment_id, ACTIONS["hide"])


@bp.route("/comments/<int:comment_id>/resolve", methods=["GET", "POST"])
def resolve(comment_id: int):
    """The secretariat marks a comment resolved, with a response everyone sees."""
    return _act(comment_id, ACTIONS["resolve"])


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
def report(comment_id: int):
    """A member reports someone else's comment to the secretariat, saying why."""
    return _act(comment_id, ACTIONS["report"])


# The secretariat's reports ------------------------------------------------------------------


@bp.get("/comments/reports")
def reports():
    """Comments reported to the secretariat: open reports, or every report (?show=all)."""
    require(permissions.can_moderate)
    show_all = request.args.get("show") == "all"
    stmt = (
        select(CommentReport)
        .options(
            joinedload(CommentReport.reporter).joinedload(User.organisation),
            joinedload(CommentReport.comment).joinedload(Comment.author),
            joinedload(CommentReport.comment).joinedload(Comment.ask),
        )
        .order_by(CommentReport.created_at.desc(), CommentReport.id.desc())
    )
    if not show_all:
        stmt = stmt.where(CommentReport.handled_at.is_(None))
    page = paginate(stmt, per_page=REPORTS_PER_PAGE)
    return render(
        "comments/reports.html",
        page=page,
        pagination=pagination_params(page),
        show_all=show_all,
        # A withdrawn comment's text is nobody's to read, the secretariat's included.
        can_see_body=rules.can_see_body,
    )


UNRESOLVED_PER_PAGE = 25


@bp.get("/consultations/<int:consultation_id>/unresolved-comments")
def unresolved(consultation_id: int):
    """The secretariat's queue: threads of the consultation's asks not yet resolved, oldest
    first, filterable by ask and by the organisation that started them."""
    require(permissions.can_moderate)
    consultation = load(Consultation, consultation_id)
    asks = list(consultation.asks)
    ask_id = parse_id(request.args.get("ask"))
    ask_id = ask_id if ask_id in {a.id for a in asks} else None
    organisations = queries.unresolved_organisations(consultation.id)
    organisation_id = parse_id(request.args.get("organisation"))
    organisation_id = organisation_id if organisation_id in dict(organisations) else None
    page = paginate(
        queries.unresolved_statement(consultation.id, ask_id, organisation_id),
        per_page=UNRESOLVED_PER_PAGE,
    )
    numbers = {ask.id: _paragraph_numbers(ask) for ask in asks}
    return render(
        "comments/unresolved.html",
        consultation=consultation,
        asks=asks,
        organisations=organisations,
        chosen_ask=ask_id,
        chosen_organisation=organisation_id,
        page=page,
        pagination=pagination_params(page),
        numbers=numbers,
    )


def _paragraph_numbers(ask: Ask) -> dict[str, int]:
    """The number of each paragraph of the ask's current version, by anchor."""
    current = ask.current_version
    if current is None:
        return {}
    return {p.anchor: n for n, p in enumerate(text.paragraphs(current.body), start=1)}


@bp.post("/comments/reports/<int:report_id>/handled")
def handle_report(report_id: int):
    """The secretariat marks a report as dealt with; it leaves the list of open reports."""
    require(permissions.can_moderate)
    found = load(CommentReport, report_id)
    changed = services.handle_report(actor=current_user, report=found)
    db.session.commit()
    flash(
        "Report marked as handled" if changed else "That report was already handled",
        "success" if changed else "info",
    )
    return redirect_to(url_for("comments.reports"))
