"""Word 97-2003 .doc and WPS .wps files, common as attachments on government sites: converted to
.docx by LibreOffice (``soffice --headless --convert-to docx``, Debian's libreoffice-writer-nogui),
which reads their Chinese correctly, then read as a .docx is. Without LibreOffice the file is
skipped with the reason and what to install.

Each conversion runs in a folder of its own with a LibreOffice profile of its own, so that the
indexer's worker processes convert side by side (two soffice processes sharing a profile wait for
each other or fail), and is bounded in time.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from indexer.model import RawText, ReadError, ReadLimits
from indexer.reading.readers.docx import parse_docx

CONVERT_SECONDS = 120  # one file's conversion; a file that takes longer is skipped
_NEEDS = ("needs LibreOffice to read {kind} files, and soffice is not on PATH "
          "(install it: apt-get install libreoffice-writer-nogui)")


def soffice() -> str | None:
    """The LibreOffice command on PATH, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def parse_legacy_word(data: bytes, source: str, suffix: str = ".doc", limits: ReadLimits = ReadLimits()) -> RawText:
    kind = suffix.lstrip(".").upper()
    command = soffice()
    if command is None:
        raise ReadError(source, _NEEDS.format(kind=f".{suffix.lstrip('.')}"))
    with tempfile.TemporaryDirectory(prefix="policy-search-convert-") as work:
        folder = Path(work)
        original = folder / f"input{suffix}"
        original.write_bytes(data)
        profile = (folder / "profile").as_uri()
        try:
            done = subprocess.run(
                [command, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nologo",
                 "--convert-to", "docx", "--outdir", str(folder / "out"), str(original)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=CONVERT_SECONDS,
                env=dict(os.environ, HOME=work))
        except subprocess.TimeoutExpired:
            raise ReadError(source, f"LibreOffice took more than {CONVERT_SECONDS} s to convert the {kind} file") from None
        converted = folder / "out" / "input.docx"
        if done.returncode != 0 or not converted.is_file():
            said = " ".join(done.stdout.split())[-200:]
            raise ReadError(source, f"{kind} is corrupt or not a Word document: LibreOffice could not convert it"
                                    + (f" ({said})" if said else ""))
        raw = parse_docx(converted.read_bytes(), source, ".docx", limits)
    return RawText(source=source, text=raw.text, format=suffix.lstrip("."), fields=raw.fields)
