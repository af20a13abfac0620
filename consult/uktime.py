"""UK time: the one place that knows the coalition works on the Europe/London clock.

Datetimes are stored as aware UTC; people read and type them on the UK wall clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped in the UK when the clocks go forward."""


def london_to_utc(day: date, at: time) -> datetime:
    """A date and time on a UK wall clock, as an aware UTC datetime.

    A time that happens twice (when the clocks go back) means the first, in summer time;
    a time that never happens (when the clocks go forward) raises NonexistentLocalTime.
    """
    local = datetime.combine(day, at, tzinfo=LONDON)
    moment = local.astimezone(UTC)
    if moment.astimezone(LONDON).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentLocalTime(f"{day} {at} does not exist in the UK")
    return moment


def utc_to_london(moment: datetime) -> datetime:
    """An aware datetime, on the UK wall clock."""
    return moment.astimezone(LONDON)


def london_midnight(day: date) -> datetime:
    """The UTC instant at which this day starts in the UK."""
    return datetime.combine(day, time.min, tzinfo=LONDON).astimezone(UTC)
