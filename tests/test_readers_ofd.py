"""OFD files (issue 15): text in reading order from the positions, paragraphs as for a PDF, the
document's metadata; written by tests/ofd_factory.py the way OFD writers lay out official documents."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pytest

from indexer.model import ReadError, ReadLimits
from indexer.reading.readers import read_file
from indexer.reading.report import read_report

from conftest import ROOT
from ofd_factory import make_gov_ofd
from test_readers_pdf import SECTIONED

TITLE = "互助县2021年度法治政府建设工作情况报告"
# Several pages; each round's body paragraphs differ (a repeated text at a page's foot would be a
# running footer, as it is in real documents).
LONG = [p if len(p) < 30 else p + f"这是第{n}轮。" for n in "一二三四五六" for p in SECTIONED]


@pytest.mark.parametrize("per_char", [False, True])
def test_paragraphs_and_sections_come_back_as_written(tmp_path, per_char):
    path = tmp_path / "report.ofd"
    pages = make_gov_ofd(path, TITLE, LONG, author="互助土族自治县人民政府", creation_date="2022-01-17",
                         per_char=per_char)
    assert pages > 2
    raw = read_file(path)
    paragraphs = raw.text.split("\n\n")
    assert paragraphs[0] == TITLE
    assert paragraphs[1:] == list(LONG)  # page breaks inside paragraphs joined, headers and numbers gone
    assert raw.format == "ofd" and raw.fields == {"标题": TITLE, "作者": "互助土族自治县人民政府", "成文日期": "2022-01-17"}
    report = read_report(path)
    assert report.meta.title == TITLE and report.meta.date == "2022-01-17" and report.meta.year == 2021
    body = next(p for p in report.paragraphs if p.text.startswith("截至目前"))
    assert list(body.section) == ["一、总体情况", "（二）依法履行职责"]


def test_parse_and_index_an_ofd(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make_gov_ofd(corpus / "互助.ofd", TITLE, SECTIONED, creation_date="2022-01-17")
    run = subprocess.run([sys.executable, "-m", "indexer.cli", "parse", "--json", str(corpus / "互助.ofd")],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    parsed = json.loads(run.stdout)
    assert parsed["ok"] and parsed["meta"]["title"] == TITLE and parsed["meta"]["date"] == "2022-01-17"
    from indexer.indexing.update import update_index
    from indexer.search.engine import SearchEngine

    summary = update_index([corpus], tmp_path / "index")
    assert summary.added == ["互助.ofd"] and not summary.skipped
    eng = SearchEngine(tmp_path / "index")
    try:
        hits = eng.search("行政处罚信息818条").hits
        assert len(hits) == 1 and hits[0].section == ["一、总体情况", "（二）依法履行职责"]
    finally:
        eng.close()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("content, reason", [
    (b"not a zip at all", "OFD is corrupt or not an OFD file: not a zip archive"),
    (_zip({"Doc_0/Document.xml": b"<x/>"}), "OFD is corrupt: it lacks OFD.xml"),
    (_zip({"OFD.xml": b"<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'><ofd:DocBody/></ofd:OFD>"}),
     "OFD is corrupt: OFD.xml names no document (DocBody/DocRoot)"),
    (_zip({"OFD.xml": b"<unclosed"}), "OFD is corrupt: ParseError"),
])
def test_a_damaged_ofd_says_why(tmp_path, content, reason):
    path = tmp_path / "bad.ofd"
    path.write_bytes(content)
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason.startswith(reason) and str(path) in str(info.value)


def test_an_ofd_without_text_and_one_over_the_limits(tmp_path):
    path = tmp_path / "scan.ofd"
    make_gov_ofd(path, "", [], header=None)
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    for name in members:
        if name.endswith("Content.xml"):
            members[name] = b"<ofd:Page xmlns:ofd='http://www.ofdspec.org/2016'><ofd:Content/></ofd:Page>"
    path.write_bytes(_zip(members))
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "OFD has no text (scanned pages?): 1 page(s), none with text"
    big = tmp_path / "big.ofd"
    make_gov_ofd(big, TITLE, LONG)
    with pytest.raises(ReadError) as info:
        read_file(big, limits=ReadLimits(max_inflated_bytes=10_000))
    assert "OFD unpacks to" in info.value.reason and "max_inflated_mb" in info.value.reason
