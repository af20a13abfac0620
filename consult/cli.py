"""flask consult ... commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

consult_cli = AppGroup("consult", help="Manage Consult.")


def register(app: Flask) -> None:
    app.cli.add_command(consult_cli)
