"""Rate limits counted before the work they guard.

Flask-Limiter's `deduct_when` counts a request after its response, so a burst sent at once
is all checked before any is counted (issue 11: 100 wrong passwords sent together were all
checked against a limit of 10). Here a request takes its count first, atomically in the
limiter's storage (memory, or Redis shared between processes), and is refused past the
limit; when what it guarded turns out not to count (a sign-in that succeeded, a comment form
with errors) it gives the count back afterwards. So a burst gets at most the limit through.

Use `counted(...)` (a view decorator) or `take(...)` for "count only some requests"; never
`deduct_when`. Limits on every request (password reset requests, backers) keep Flask-Limiter's
decorators, which also count before the view. Windows are fixed: a limit string such as
"10 per 5 minutes" allows 10 from the first one counted until 5 minutes later.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import request
from limits import RateLimitItem, parse
from werkzeug.exceptions import TooManyRequests

from consult.extensions import limiter


class TooManyAttempts(TooManyRequests):
    """A refusal past a limit: a 429 saying how many seconds until the next try may work
    (consult.errors turns it into the page, the message and the Retry-After header)."""

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(retry_after=max(1, retry_after))
        self.retry_after = max(1, retry_after)
        self.message = message  # for the page; "{wait}" becomes "5 minutes" (consult.errors)


@dataclass(frozen=True)
class Taken:
    """One count taken from one limit's window."""

    item: RateLimitItem
    key: str
    count: int  # the count after this one: past item.amount means refused

    @property
    def over(self) -> bool:
        return self.count > self.item.amount

    def give_back(self) -> None:
        """Undo this count (what it guarded turned out not to count)."""
        if self.count > 0 and _storage().get(self.key) > 0:
            _storage().incr(self.key, self.item.get_expiry(), amount=-1)


def enabled() -> bool:
    return bool(limiter.enabled and limiter.initialized)


def _storage() -> Any:
    return limiter.storage


def seconds_left(key: str) -> int:
    """Whole seconds until this key's window ends (at least 1)."""
    return max(1, math.ceil(_storage().get_expiry(key) - time.time()))


def count(limit: str, *identifiers: str) -> Taken | None:
    """Count one against this limit for these identifiers, refusing nothing (the caller
    decides what being over means); None when rate limiting is off."""
    if not enabled():
        return None
    item = parse(limit)
    key = item.key_for("consult", *identifiers)
    return Taken(item, key, _storage().incr(key, item.get_expiry()))


def take(limits: Iterable[tuple[str, str]], message: str | None = None) -> list[Taken]:
    """Count one against each (limit, key); past any of them, give back what was taken and
    refuse (TooManyAttempts, with the seconds until that window ends)."""
    taken: list[Taken] = []
    for limit, key in limits:
        one = count(limit, key)
        if one is None:
            continue
        if one.over:
            one.give_back()
            for earlier in taken:
                earlier.give_back()
            raise TooManyAttempts(seconds_left(one.key), message)
        taken.append(one)
    return taken


def one_at_a_time(key: str, seconds: int) -> int:
    """Let one request through for this key each `seconds`: 0 for the one let through, else
    the seconds it must wait. (A window of one, whose length each opener chooses.)"""
    if not enabled():
        return 0
    storage_key = f"consult/gate/{key}"
    if _storage().incr(storage_key, seconds) == 1:
        return 0
    return seconds_left(storage_key)


def forget(key: str) -> None:
    """Clear a gate (one_at_a_time) for this key."""
    if enabled():
        _storage().clear(f"consult/gate/{key}")


def clear(limit: str, *identifiers: str) -> None:
    """Clear one limit's window for these identifiers."""
    if enabled():
        _storage().clear(parse(limit).key_for("consult", *identifiers))


def counted(
    limit: Callable[[], str],
    key: Callable[[], str],
    *,
    counts: Callable[[Any], bool],
    exempt: Callable[[], bool] = lambda: False,
    message: str | None = None,
) -> Callable:
    """A view decorator: each POST takes a count before the view runs (refused past the
    limit), and gives it back if `counts(response)` says it did not count."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if request.method != "POST" or exempt():
                return view(*args, **kwargs)
            taken = take([(limit(), key())], message)
            response = view(*args, **kwargs)
            if not counts(response):
                for one in taken:
                    one.give_back()
            return response

        return guarded

    return decorate
