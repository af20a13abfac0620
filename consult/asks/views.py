"""Ask pages: the current wording, version history and comparisons; writing new versions."""

from flask import Blueprint

bp = Blueprint("asks", __name__)
