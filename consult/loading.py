"""One way to load and authorise, for every blueprint.

A view names what it needs and the `can_*` rule from `consult.permissions` that must allow
the signed-in person; anything missing is a 404, anything refused is the standard refusal
(sign in first when anonymous, 403 otherwise). Views never check roles themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask_login import current_user
from sqlalchemy.orm.interfaces import ORMOption

from consult.errors import refuse
from consult.extensions import db

T = TypeVar("T")


def require(rule: Callable[[Any], bool]) -> None:
    """Go on only if the rule allows the current person (no object involved)."""
    if not rule(current_user):
        refuse()


def load(
    model: type[T],
    ident: int,
    rule: Callable[[Any, T], bool] | None = None,
    *,
    options: Sequence[ORMOption] = (),
) -> T:
    """The object with this id, or 404; then the rule must allow the current person."""
    found = db.get_or_404(model, ident, options=list(options) or None)
    if rule is not None and not rule(current_user, found):
        refuse()
    return found
