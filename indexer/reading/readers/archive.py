"""Zip containers (.docx, .ofd) read within the limits: what a member unpacks to is bounded before
and while it is inflated."""
from __future__ import annotations

import warnings
import zipfile
from io import BytesIO

from indexer.model import ReadError, ReadLimits, byte_size, over_limit

_CHUNK = 1 << 20


def bounded_zip(data: bytes, source: str, limits: ReadLimits, kind: str) -> BytesIO:
    """The zip re-stored uncompressed, after checking what it unpacks to (``kind`` names the
    format in the message: DOCX, OFD).

    Readers read members whole (``ZipFile.read``), which inflates a member's entire stream
    before cutting it to its declared size, so a zip that declares small members but holds a
    300 MB part would take it all. Here the declared sizes are checked against
    ``max_inflated_bytes`` and every member is inflated a chunk at a time (zipfile then stops at
    the declared size and checks the CRC), so memory stays near the limit whatever the zip says.
    """
    limit = limits.max_inflated_bytes
    stored = BytesIO()
    with (
        zipfile.ZipFile(BytesIO(data)) as archive,
        zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as copy,
        # A member name twice is copied twice, as it was (the last one is read); zipfile's
        # warning about it would go to stderr.
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", UserWarning)
        members = [info for info in archive.infolist() if not info.is_dir()]
        declared = sum(info.file_size for info in members)
        if declared > limit:
            raise ReadError(source, _inflated_over(kind, declared, limit))
        inflated = 0
        for info in members:
            with archive.open(info) as member, copy.open(info.filename, "w") as out:
                while chunk := member.read(_CHUNK):
                    inflated += len(chunk)
                    if inflated > limit:  # cannot happen while zipfile enforces declared sizes
                        raise ReadError(source, _inflated_over(kind, inflated, limit))
                    out.write(chunk)
    stored.seek(0)
    return stored


def _inflated_over(kind: str, size: int, limit: int) -> str:
    return over_limit(f"{kind} unpacks to {byte_size(size)}", byte_size(limit), "max_inflated_mb")
