"""Template filters and globals: dates in Europe/London, permissions for hiding controls."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from consult import permissions, text
from consult.models import utcnow
from consult.uktime import LONDON


def london(value: datetime | None) -> datetime | None:
    return value.astimezone(LONDON) if value is not None else None


def format_datetime(value: datetime | None) -> str:
    """29 November 2026 at 2:05pm, in UK time."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    hour = local.strftime("%I").lstrip("0")
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{local.strftime('%p').lower()}"


def machine_datetime(value: datetime | None) -> str:
    """2026-11-29T14:05:09Z: UTC to the whole second, for <time datetime="...">.

    The HTML validator rejects isoformat()'s six-digit fractions of a second.
    """
    if value is None:
        return ""
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}Z"


def format_date(value: datetime | None) -> str:
    """29 November 2026, in UK time."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{local.day} {local:%B %Y}"


def time_left(value: datetime | None, now: datetime | None = None) -> str:
    """How long until value, in words: '3 days left', '5 hours left', 'Closed'."""
    if value is None:
        return ""
    seconds = (value - (now or utcnow())).total_seconds()
    if seconds <= 0:
        return "Closed"
    days, rest = divmod(int(seconds), 86400)
    if days >= 2:
        return f"{days} days left"
    hours = days * 24 + rest // 3600
    if hours >= 2:
        return f"{hours} hours left"
    minutes = max(1, int(seconds // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''} left"


def register(app: Flask) -> None:
    app.add_template_filter(format_datetime)
    app.add_template_filter(format_date)
    app.add_template_filter(machine_datetime)
    app.add_template_filter(time_left)
    app.add_template_filter(london)
    app.jinja_env.globals["permissions"] = permissions  # the module: templates ask it
    app.add_template_global(utcnow, "utcnow")
    # Markdown of the small subset (comments, rationales, reasons), for macros imported
    # without the page's context.
    app.add_template_global(text.render_comment, "render_comment")
    app.add_template_global(text.render_markdown, "render_markdown")
