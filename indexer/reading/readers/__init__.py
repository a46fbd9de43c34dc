"""The reader stage: a file on disk becomes ``RawText`` or a ``ReadError`` saying why it cannot.

Every reader produces the same dialect: paragraphs separated by one blank line, ``\\n`` line
endings, no BOM, explicit headings (docx heading styles) as markdown ``#`` lines, and the
container's own metadata in ``RawText.fields``. Numbering and sections are left to the
structure stage.

A file's bytes are read once (``load_file``, at most the size limit) and every reader parses
from those bytes, so whoever hashes the content (the index writer) hashes exactly what was read.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from indexer.model import RawText, ReadError, ReadLimits, byte_size, over_limit
from indexer.reading.readers.docx import OLE_MAGIC, parse_docx
from indexer.reading.readers.html import parse_html
from indexer.reading.readers.ocr import parse_image
from indexer.reading.readers.ofd import parse_ofd
from indexer.reading.readers.office import parse_legacy_word
from indexer.reading.readers.pdf import parse_pdf
from indexer.reading.readers.plain import parse_plain

# suffix -> parser of the file's bytes: (content, source, suffix, limits) -> RawText
_READERS: dict[str, Callable[[bytes, str, str, ReadLimits], RawText]] = {
    ".txt": parse_plain,
    ".md": parse_plain,
    ".pdf": parse_pdf,
    ".html": parse_html,
    ".htm": parse_html,
    ".docx": parse_docx,
    ".ofd": parse_ofd,
    ".doc": parse_legacy_word,
    ".wps": parse_legacy_word,
    ".png": parse_image,
    ".jpg": parse_image,
    ".jpeg": parse_image,
    ".tif": parse_image,
    ".tiff": parse_image,
}

SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(_READERS)

__all__ = ["SUPPORTED_SUFFIXES", "load_file", "read_file"]


def load_file(path: str | os.PathLike, source: str | None = None, limits: ReadLimits = ReadLimits()) -> bytes:
    """The file's bytes, read once and at most ``limits.max_file_bytes`` + 1 of them.

    ReadError (naming ``source``): not found, a directory, empty, over the size limit, or any
    other OS error.
    """
    path = Path(path)
    source = str(path) if source is None else source
    limit = limits.max_file_bytes
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:  # known too large: skip without reading it
                raise ReadError(source, _too_large(size, limit))
            # read(n) allocates n bytes up front, so ask for the size fstat gave (plus one byte,
            # to see a file still growing) rather than for the limit.
            data = handle.read(size + 1)
            if len(data) > size:  # growing: read on, but never more than one byte past the limit
                data += handle.read(limit + 1 - len(data))
    except FileNotFoundError:
        raise ReadError(source, "file not found") from None
    except IsADirectoryError:
        raise ReadError(source, "is a directory, not a file") from None
    except OSError as exc:
        raise ReadError(source, f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ReadError(source, _too_large(None, limit))
    if not data:
        raise ReadError(source, "file is empty")
    return data


def _too_large(size: int | None, limit: int) -> str:
    what = f"file is too large ({byte_size(size)})" if size is not None else "file is too large"
    return over_limit(what, byte_size(limit), "max_file_mb")


def read_file(
    path: str | os.PathLike,
    source: str | None = None,
    *,
    limits: ReadLimits = ReadLimits(),
    content: bytes | None = None,
) -> RawText:
    """Read one file of any supported type; ``source`` names it in the result and in errors.

    ``content``: the file's bytes as ``load_file`` returned them (parsed instead of reading the
    file again); the file type still comes from ``path``'s suffix.
    """
    path = Path(path)
    source = str(path) if source is None else source
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        kind = f"'{suffix}'" if suffix else "(no extension)"
        raise ReadError(source, f"unsupported file type {kind} (supported: {' '.join(SUPPORTED_SUFFIXES)})")
    if content is None:
        content = load_file(path, source, limits)
    elif not content:
        raise ReadError(source, "file is empty")
    elif len(content) > limits.max_file_bytes:
        raise ReadError(source, _too_large(len(content), limits.max_file_bytes))
    if suffix == ".docx" and content.startswith(OLE_MAGIC):  # a Word 97-2003 file named .docx
        return parse_legacy_word(content, source, ".doc", limits)
    return reader(content, source, suffix, limits)
