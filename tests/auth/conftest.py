"""Fixtures for the auth tests: a real SMTP server (helpers are in tests/helpers.py)."""

from __future__ import annotations

from tests.smtp import smtp_server  # noqa: F401 (the fixture)
