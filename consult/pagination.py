"""One way to paginate a list page: the page of results, and GOV.UK pagination links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from flask import abort, request, url_for
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, literal, select, tuple_

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


# Newest first, by key ----------------------------------------------------------------------
# For a list that grows without end (the audit log): a page goes on from the row named in
# ?before= (older than it) or ?after= (newer than it), by the index order (created_at, id),
# so any page costs the same as the first; no page numbers, and the total counted only up
# to COUNT_CAP ("more than 10,000").

COUNT_CAP = 10_000
_ROW_ID = re.compile(r"[0-9]{1,10}")
_MAX_ROW_ID = 2**31 - 1  # an INTEGER column (PostgreSQL's is 32-bit), as in the URL rules


class Keyed(Protocol):
    id: Any
    created_at: Any


@dataclass
class NewestFirstPage:
    """A page of rows newest first, how many rows there are in all (counted up to `cap`,
    then "more than"), and the query arguments of the newer and older pages, if any."""

    items: list[Any]
    total: int
    cap: int
    newer: dict[str, str] | None
    older: dict[str, str] | None

    @property
    def more_than_cap(self) -> bool:
        return self.total > self.cap


def newest_first(stmt: Select[Any], model: type[Keyed], per_page: int) -> NewestFirstPage:
    """The page of stmt's rows (instances of model) that this request's ?before= or ?after=
    asks for, newest first by (created_at, id); 404 for a row id that is not one."""
    cap = COUNT_CAP
    key = tuple_(model.created_at, model.id)
    newest = (model.created_at.desc(), model.id.desc())
    oldest = (model.created_at.asc(), model.id.asc())
    stmt = stmt.order_by(None)
    before, after = _row_arg("before"), _row_arg("after")
    if before is not None and after is not None:
        abort(404)
    cursor = _cursor(model, before if before is not None else after)
    if cursor is None:
        rows = _rows(stmt.order_by(*newest), per_page + 1)
        items, newer_exists, older_exists = rows[:per_page], False, len(rows) > per_page
    elif after is None:
        rows = _rows(stmt.where(key < cursor).order_by(*newest), per_page + 1)
        items, older_exists = rows[:per_page], len(rows) > per_page
        newer_exists = bool(items) and _exists(stmt.where(key > _key(items[0])))
    else:
        rows = _rows(stmt.where(key > cursor).order_by(*oldest), per_page + 1)
        items, newer_exists = rows[:per_page][::-1], len(rows) > per_page
        older_exists = bool(items) and _exists(stmt.where(key < _key(items[-1])))
    if cursor is not None and not items:
        abort(404)  # only a made-up address goes on from the first or last row
    counted = stmt.with_only_columns(model.id).limit(cap + 1).subquery()
    total = int(db.session.scalar(select(func.count()).select_from(counted)) or 0)
    return NewestFirstPage(
        items=items,
        total=total,
        cap=cap,
        newer={"after": str(items[0].id)} if newer_exists else None,
        older={"before": str(items[-1].id)} if older_exists else None,
    )


def _row_arg(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    if not _ROW_ID.fullmatch(value) or int(value) > _MAX_ROW_ID:
        abort(404)
    return int(value)


def _cursor(model: type[Keyed], row_id: int | None) -> Any:
    """The (created_at, id) key of the row a page goes on from; 404 if there is none."""
    if row_id is None:
        return None
    created_at = db.session.scalar(select(model.created_at).where(model.id == row_id))
    if created_at is None:
        abort(404)
    return tuple_(literal(created_at, type_=model.created_at.type), literal(row_id))


def _key(row: Keyed) -> Any:
    return tuple_(literal(row.created_at, type_=type(row).created_at.type), literal(row.id))


def _rows(stmt: Select[Any], limit: int) -> list[Any]:
    return list(db.session.scalars(stmt.limit(limit)).unique())


def _exists(stmt: Select[Any]) -> bool:
    return bool(db.session.scalar(select(stmt.exists())))


def newest_first_params(page: NewestFirstPage) -> dict[str, Any] | None:
    """govukPagination parameters for a page of newest_first: links to the newer and older
    pages, keeping the current filters."""
    if page.newer is None and page.older is None:
        return None
    args: dict[str, Any] = {
        key: values
        for key, values in request.args.lists()
        if key not in ("page", "before", "after") and any(value.strip() for value in values)
    }

    def href(cursor: dict[str, Any]) -> str:
        return url_for(request.endpoint or "", **(request.view_args or {}), **args, **cursor)

    params: dict[str, Any] = {}
    if page.newer is not None:
        params["previous"] = {"href": href(page.newer), "text": "Newer events"}
    if page.older is not None:
        params["next"] = {"href": href(page.older), "text": "Older events"}
    return params
