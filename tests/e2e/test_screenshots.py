"""`make screenshots` still works on the demo as it is, so the README's images can always be
made again: the three images it names are written, as PNGs of the expected width."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("ask-page.png", "ask-page-375.png", "manifesto.png", "agreed-text-pdf.png")


def _size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), path
    return struct.unpack(">II", data[16:24])


def test_the_readme_screenshots_can_be_made_again(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tests.screenshots", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert _size(tmp_path / "ask-page.png")[0] == 1280
    assert _size(tmp_path / "ask-page-375.png")[0] == 375
    assert _size(tmp_path / "manifesto.png")[0] == 1280
    width, height = _size(tmp_path / "agreed-text-pdf.png")
    assert height > width > 600  # an A4 page, upright
    # The README shows exactly these images, from where make screenshots writes them.
    readme = (ROOT / "README.md").read_text()
    assert set(re.findall(r"\(static/screenshots/([\w-]+\.png)\)", readme)) == set(NAMES)
