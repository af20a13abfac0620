"""One way to paginate a list page: the page of results, and GOV.UK pagination links."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, request, url_for
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func

from consult.extensions import db

MAX_PAGE = 100_000
_PAGE = re.compile(r"[0-9]{1,6}")


def paginate(stmt: Select[Any], per_page: int) -> Pagination:
    """db.paginate for the ?page= of this request: 404 for a page that cannot exist."""
    return db.paginate(stmt, page=_page_number(), per_page=per_page)


class RowPagination(Pagination):
    """A page of rows (several columns each), where db.paginate gives the first column's
    values only. Counted without the select list (no snippet worked out for every row)."""

    def _query_items(self) -> list[Any]:
        stmt = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(db.session.execute(stmt).all())

    def _query_count(self) -> int:
        stmt = (
            self._query_args["select"]
            .order_by(None)
            .with_only_columns(func.count(), maintain_column_froms=True)
        )
        return int(db.session.execute(stmt).scalar_one())


def _page_number() -> int:
    page = request.args.get("page", "1")
    if not _PAGE.fullmatch(page) or not 1 <= int(page) <= MAX_PAGE:
        abort(404)
    return int(page)


def paginate_rows(stmt: Select[Any], per_page: int) -> Pagination:
    """`paginate` for a statement of rows rather than of one entity."""
    return RowPagination(page=_page_number(), per_page=per_page, select=stmt)


def pagination_params(page: Pagination) -> dict[str, Any] | None:
    """govukPagination parameters for a page of results, keeping the current filters."""
    if page.pages <= 1:
        return None
    args: dict[str, Any] = {
        key: values
        for key, values in request.args.lists()
        if key != "page" and any(value.strip() for value in values)
    }

    def href(number: int) -> str:
        return url_for(request.endpoint or "", **(request.view_args or {}), **args, page=number)

    items: list[dict[str, Any]] = []
    for number in page.iter_pages(left_edge=1, left_current=1, right_current=2, right_edge=1):
        if number is None:
            items.append({"ellipsis": True})
        else:
            items.append({"number": number, "href": href(number), "current": number == page.page})
    params: dict[str, Any] = {"items": items}
    if page.prev_num is not None:
        params["previous"] = {"href": href(page.prev_num)}
    if page.next_num is not None:
        params["next"] = {"href": href(page.next_num)}
    return params
