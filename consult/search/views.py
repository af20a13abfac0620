"""The search page: one box over the asks, comments and amendments the reader may read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask_login import current_user

from consult import permissions
from consult.htmx import render
from consult.loading import require
from consult.pagination import paginate_rows, pagination_params
from consult.search import services
from consult.search.services import Result, SearchError

bp = Blueprint("search", __name__)


def _page(query: str, *, error: str | None = None, status: int = 200, **found: Any):
    context: dict[str, Any] = {"page": None, "results": [], "pagination": None, **found}
    return render("search/index.html", status=status, query=query, error=error, **context)


@bp.get("/search")
def index():
    """Search for words in what the signed-in person may read; the form alone without ?q."""
    require(permissions.can_search)
    raw = request.args.get("q")
    if raw is None:
        return _page("")
    try:
        query = services.clean_query(raw)
    except SearchError as error:
        return _page(raw, error=str(error), status=422)
    page = paginate_rows(services.search(current_user, query), per_page=services.PER_PAGE)
    return _page(
        query,
        page=page,
        results=[Result.of(row) for row in page.items],
        pagination=pagination_params(page),
    )
