"""file -> Report: the reader stage followed by the structure stage."""
from __future__ import annotations

import os

from indexer.model import ReadLimits, Report
from indexer.reading.metadata import with_source
from indexer.reading.readers import read_file
from indexer.reading.sources import SourceRecord
from indexer.reading.structure import DEFAULT_MAX_CHARS, build_report


def read_report(
    path: str | os.PathLike,
    source: str | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    *,
    limits: ReadLimits = ReadLimits(),
    content: bytes | None = None,
    sidecar: SourceRecord | None = None,
) -> Report:
    """Raises ReadError (naming the file and the reason) when the file cannot be read or is over
    one of ``limits``. ``content``: the file's bytes from ``readers.load_file``, parsed instead
    of reading the file again (so a caller can hash exactly the bytes that were parsed).
    ``sidecar``: what the corpus says of the file beside it (``sources``), put over what was read."""
    raw = read_file(path, source=source, limits=limits, content=content)
    report = build_report(raw, max_chars=max_chars, max_paragraphs=limits.max_paragraphs)
    if sidecar is not None:
        with_source(report.meta, sidecar)
    return report
