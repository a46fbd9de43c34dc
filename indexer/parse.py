"""file -> Report: the reader stage followed by the structure stage."""
from __future__ import annotations

import os

from .model import Report
from .readers import read_file
from .structure import DEFAULT_MAX_CHARS, build_report


def parse_file(path: str | os.PathLike, source: str | None = None, max_chars: int = DEFAULT_MAX_CHARS) -> Report:
    """Raises ReadError (naming the file and the reason) when the file cannot be read."""
    return build_report(read_file(path, source=source), max_chars=max_chars)
