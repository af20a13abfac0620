"""Fill in the placeholders of a file in deploy/ and print it.

    python deploy/render.py deploy/nginx/consult.conf LISTEN="443 ssl http2" \\
        SERVER_NAME=consult.example.org \\
        APP_HOST_1_PAGES=10.0.0.11:8000 APP_HOST_1_STREAMS=10.0.0.11:8001 \\
        APP_HOST_2_PAGES=10.0.0.12:8000 APP_HOST_2_STREAMS=10.0.0.12:8001 \\
        CONSULT_ROOT=/srv/consult > /etc/nginx/sites-available/consult

A placeholder is a name in capitals between double underscores (__SERVER_NAME__); each file
lists its own at the top. The command refuses (exit 2, printing nothing) when a placeholder is
left unfilled or a value names none. The tests fill in the same files the same way
(tests/deploy/), so what they run is what you install.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path

PLACEHOLDER = re.compile(r"__([A-Z][A-Z0-9_]*?[A-Z0-9])__")


class PlaceholderError(ValueError):
    """A placeholder left unfilled, or a value for a placeholder the file does not have."""


def placeholders(text: str) -> set[str]:
    """The names of the placeholders in `text`."""
    return set(PLACEHOLDER.findall(text))


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each __NAME__ replaced by values[NAME]; every placeholder must be given a
    value, and every value must have its placeholder."""
    names = placeholders(text)
    missing = sorted(names - set(values))
    unknown = sorted(set(values) - names)
    if missing or unknown:
        raise PlaceholderError(
            "; ".join(
                part
                for part in (
                    f"no value for {', '.join(missing)}" if missing else "",
                    f"no placeholder for {', '.join(unknown)}" if unknown else "",
                )
                if part
            )
        )
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    path, *pairs = argv
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            print(f"render.py: {pair!r} is not NAME=value", file=sys.stderr)
            return 2
        values[name] = value
    try:
        print(fill(Path(path).read_text(), values), end="")
    except PlaceholderError as error:
        print(f"render.py: {path}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
