"""The reader stage: a file on disk becomes ``RawText`` or a ``ReadError`` saying why it cannot.

Every reader produces the same dialect: paragraphs separated by one blank line, ``\\n`` line
endings, no BOM, explicit headings (docx heading styles) as markdown ``#`` lines, and the
container's own metadata in ``RawText.fields``. Numbering and sections are left to the
structure stage.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from indexer.model import ReadError, RawText
from indexer.readers.docx import read_docx
from indexer.readers.html import read_html
from indexer.readers.pdf import read_pdf
from indexer.readers.plain import read_plain

_READERS: dict[str, Callable[[Path, str], RawText]] = {
    ".txt": read_plain,
    ".md": read_plain,
    ".pdf": read_pdf,
    ".html": read_html,
    ".htm": read_html,
    ".docx": read_docx,
}

SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(_READERS)

__all__ = ["SUPPORTED_SUFFIXES", "read_file", "read_plain", "read_pdf", "read_html", "read_docx"]


def read_file(path: str | os.PathLike, source: str | None = None) -> RawText:
    """Read one file of any supported type; ``source`` names it in the result and in errors."""
    path = Path(path)
    source = str(path) if source is None else source
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        kind = f"'{suffix}'" if suffix else "(no extension)"
        raise ReadError(source, f"unsupported file type {kind} (supported: {' '.join(SUPPORTED_SUFFIXES)})")
    try:
        if path.is_dir():
            raise ReadError(source, "is a directory, not a file")
        size = path.stat().st_size
    except FileNotFoundError:
        raise ReadError(source, "file not found") from None
    except OSError as exc:
        raise ReadError(source, f"cannot read file: {exc.strerror or exc}") from None
    if size == 0:
        raise ReadError(source, "file is empty")
    return reader(path, source)
