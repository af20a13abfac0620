"""How failed sign-ins are limited: guessing stays expensive, but a stranger cannot lock a
person out of their own account (issue 11).

Each sign-in whose password is checked is counted BEFORE the check (consult.throttle), so a
burst sent at once gets no more checks than the limits; a sign-in that succeeds gives its
counts back (only failures count). Three counts, all keyed on the email address posted,
whether or not an account has it (so the answers say nothing about which accounts exist):

- per account and address together (SIGN_IN_ACCOUNT_ADDRESS_LIMIT, 10 per 5 minutes) and per
  address (SIGN_IN_ADDRESS_LIMIT, 30 per 5 minutes): past either, that address is refused
  (429, saying how long until its window ends). Someone guessing from one address stops
  there; the owner, at another address, is not affected.
- per account from any address (SIGN_IN_ACCOUNT_LIMIT, 10 per 5 minutes): past it, the
  account is slowed, never locked: one attempt at a time is checked, the wait between them
  doubling from 1 second up to SIGN_IN_SLOWEST_SECONDS (60); anyone else is asked to try
  again in so many seconds. Guessing from many addresses gets about 5 tries in 5 minutes;
  the owner waits at most a minute for a try.
- when the account count reaches its limit the owner (if there is one) is emailed, at most
  once a window, with a link to reset their password. A password reset (the emailed link
  proves they own the address) clears the account's counts and its wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from consult import throttle
from consult.throttle import Taken, TooManyAttempts

LIMIT_DEFAULTS = {
    "SIGN_IN_ACCOUNT_ADDRESS_LIMIT": "10 per 5 minutes",  # failures per account from one address
    "SIGN_IN_ADDRESS_LIMIT": "30 per 5 minutes",  # failures per address, any account
    "SIGN_IN_ACCOUNT_LIMIT": "10 per 5 minutes",  # failures per account before it is slowed
}
SLOWEST_SECONDS = 60  # the longest wait between checked attempts on a slowed account

SLOWED = (
    "There have been many wrong passwords for this account. Wait {wait}, then try again. "
    "If you cannot remember your password, you can reset it."
)


def _limit(name: str) -> str:
    return current_app.config.get(name) or LIMIT_DEFAULTS[name]


def _account(email: str) -> str:
    return "sign-in-account:" + email.strip().lower()[:254]


def _pair(email: str, address: str) -> str:
    return f"{_account(email)}|address:{address}"


def slowed_wait(over_by: int) -> int:
    """Seconds between checked attempts on an account `over_by` failures past its limit:
    1, 2, 4, ... up to SIGN_IN_SLOWEST_SECONDS."""
    slowest = int(current_app.config.get("SIGN_IN_SLOWEST_SECONDS") or SLOWEST_SECONDS)
    return min(2 ** min(max(over_by - 1, 0), 16), slowest)


@dataclass
class Attempt:
    """A sign-in allowed to have its password checked, holding the counts it took."""

    email: str
    taken: list[Taken] = field(default_factory=list)
    account: Taken | None = None

    def succeeded(self) -> None:
        """The password was right: give every count back (only failures count)."""
        for one in [*self.taken, *([self.account] if self.account else [])]:
            one.give_back()

    def failed(self) -> bool:
        """The password was wrong (the counts stand). True if the account's owner should now
        be told of the failed attempts: once its count reaches the limit, once a window."""
        account = self.account
        if account is None or account.count < account.item.amount:
            return False
        window = account.item.get_expiry()
        return throttle.one_at_a_time("warned:" + _account(self.email), window) == 0

    @property
    def window_seconds(self) -> int:
        return self.account.item.get_expiry() if self.account else 0

    @property
    def failures(self) -> int:
        return self.account.count if self.account else 0


def begin(email: str, address: str) -> Attempt:
    """Count a sign-in attempt before its password is checked; TooManyAttempts if this
    address has had too many failures, or the account is slowed and must wait."""
    taken = throttle.take(
        [
            (_limit("SIGN_IN_ADDRESS_LIMIT"), "sign-in-address:" + address),
            (_limit("SIGN_IN_ACCOUNT_ADDRESS_LIMIT"), _pair(email, address)),
        ]
    )
    account = throttle.count(_limit("SIGN_IN_ACCOUNT_LIMIT"), _account(email))
    if account is not None and account.over:
        wait = throttle.one_at_a_time(
            "slowed:" + _account(email), slowed_wait(account.count - account.item.amount)
        )
        if wait:
            # Not checked, so not counted: the wait grows only with checked failures.
            for one in [*taken, account]:
                one.give_back()
            raise TooManyAttempts(wait, SLOWED)
    return Attempt(email=email, taken=taken, account=account)


def forget(email: str, address: str) -> None:
    """The owner proved they hold the address (a password reset): clear the account's count,
    its wait and its warning, and this address's count for it."""
    throttle.clear(_limit("SIGN_IN_ACCOUNT_LIMIT"), _account(email))
    throttle.clear(_limit("SIGN_IN_ACCOUNT_ADDRESS_LIMIT"), _pair(email, address))
    throttle.forget("slowed:" + _account(email))
    throttle.forget("warned:" + _account(email))
