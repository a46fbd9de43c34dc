"""Word 97-2003 .doc and WPS .wps files (issue 15), converted by LibreOffice and read as .docx: the
files are made by the tests (python-docx writes a .docx, LibreOffice saves it as .doc)."""
from __future__ import annotations

import shutil
import subprocess

import docx
import pytest

from indexer.model import ReadError
from indexer.reading.readers import read_file
from indexer.reading.readers.office import soffice
from indexer.reading.report import read_report

TITLE = "互助县2021年度法治政府建设工作情况报告"
BODY = [
    "一、总体情况",
    "2021年，县政府坚持以习近平新时代中国特色社会主义思想为指导，调整了法治政府建设工作领导小组，完善了工作机制。",
    "（一）加强组织领导",
    "年内，县政府听取全县法治政府建设工作情况专题汇报2次，开展法治培训12场次，参训人员达1500余人次。",
]


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    """A .doc LibreOffice saved from a .docx python-docx wrote, and the .docx."""
    assert soffice(), "LibreOffice is missing (tests/system_packages.py installs libreoffice-writer-nogui)"
    folder = tmp_path_factory.mktemp("legacy")
    document = docx.Document()
    document.add_paragraph(TITLE)
    for text in BODY:
        document.add_paragraph(text)
    source = folder / "report.docx"
    document.save(source)
    subprocess.run([soffice(), f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                    "--convert-to", "doc", "--outdir", str(folder / "doc"), str(source)],
                   check=True, capture_output=True, timeout=180)
    doc = folder / "doc" / "report.doc"
    assert doc.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a real Word 97-2003 file
    return source, doc


@pytest.mark.parametrize("suffix", [".doc", ".wps", ".docx"])
def test_a_word_97_file_reads_as_its_docx(legacy, tmp_path, suffix):
    """.doc, .wps (WPS 文字 saves the same compound document) and a .doc someone renamed .docx."""
    source, doc = legacy
    path = tmp_path / f"report{suffix}"
    shutil.copy(doc, path)
    raw = read_file(path)
    assert raw.text.split("\n\n") == [TITLE, *BODY] == read_file(source).text.split("\n\n")
    assert raw.format == ("doc" if suffix == ".docx" else suffix.lstrip("."))
    report = read_report(path)
    assert report.meta.title == TITLE and report.meta.year == 2021
    assert [list(p.section) for p in report.paragraphs if p.text.startswith("年内")] == [["一、总体情况", "（一）加强组织领导"]]


def test_a_damaged_doc_and_no_libreoffice_say_why(tmp_path, monkeypatch):
    bad = tmp_path / "old.doc"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(ReadError) as info:
        read_file(bad)
    assert info.value.reason.startswith("DOC is corrupt or not a Word document: LibreOffice could not convert it")
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice on it
    with pytest.raises(ReadError) as info:
        read_file(bad)
    assert info.value.reason == ("needs LibreOffice to read .doc files, and soffice is not on PATH "
                                 "(install it: apt-get install libreoffice-writer-nogui)")
