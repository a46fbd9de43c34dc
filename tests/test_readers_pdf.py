"""PDF reader: government-style PDFs drawn with reportlab (see pdf_factory), and damaged ones."""
from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from indexer.model import ReadError, ReadLimits
from indexer.reading.readers import read_file
from indexer.reading.readers.pdf import tidy_spaces
from conftest import ROOT
from pdf_factory import make_gov_pdf

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
HEADER = "法治政府建设年度报告（公开）"


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def corpus_paragraphs(name: str) -> tuple[str, list[str]]:
    """Title and paragraphs of a real report, with its markdown and PDF-extraction splits undone."""
    text = (CORPUS / name).read_text(encoding="utf-8")
    blocks = [re.sub(r"^#+\s*", "", b.strip().replace("**", "")) for b in text.split("\n\n") if b.strip()]
    blocks = [re.sub(r"\s*\n\s*", "", b) for b in blocks]
    merged: list[str] = []
    for block in blocks:
        # The corpus text came out of PDFs and keeps their page breaks as blank lines mid-sentence.
        if merged and len(merged[-1]) > 40 and not re.search(r"[。：；！？]$", merged[-1]):
            merged[-1] += block
        else:
            merged.append(block)
    return merged[0], merged[1:]


def page_texts(path: Path) -> list[str]:
    return [compact(page.extract_text()) for page in PdfReader(str(path)).pages]


@pytest.fixture(scope="module")
def yanchi(tmp_path_factory):
    title, paragraphs = corpus_paragraphs("001_623fe7deefd3bc57.txt")
    path = tmp_path_factory.mktemp("pdf") / "yanchi.pdf"
    pages = make_gov_pdf(path, title, paragraphs, header=HEADER)
    return path, title, paragraphs, pages


def test_paragraphs_recovered(yanchi):
    path, title, paragraphs, pages = yanchi
    assert pages >= 5
    raw = read_file(path)
    assert raw.format == "pdf"
    assert [compact(p) for p in raw.text.split("\n\n")] == [compact(p) for p in [title, *paragraphs]]
    assert raw.fields == {"标题": title}


def test_no_page_numbers_or_running_header(yanchi):
    path, *_ = yanchi
    text = read_file(path).text
    assert HEADER not in text
    assert "—1—" not in compact(text) and not re.search(r"—\s*\d+\s*—", text)
    for line in text.split("\n"):
        assert not re.fullmatch(r"\s*\d+\s*", line)


def test_paragraph_crossing_a_page_is_one_paragraph(yanchi):
    path, title, paragraphs, _ = yanchi
    pages = page_texts(path)
    crossing = [p for p in paragraphs if not any(compact(p) in page for page in pages)]
    assert crossing, "the fixture should have paragraphs that cross a page break"
    out = [compact(p) for p in read_file(path).text.split("\n\n")]
    for paragraph in crossing:
        assert compact(paragraph) in out


def test_text_format(yanchi):
    path, *_ = yanchi
    text = read_file(path).text
    assert "\r" not in text and "\n\n\n" not in text and not text.startswith("\n")
    assert all("\n" not in p for p in text.split("\n\n"))


@pytest.mark.parametrize("name", ["000_0d8bbccb02c01f0a.txt", "002_6785f9f2da4cfcb2.txt", "003_08e8b4a7741f3a58.txt"])
def test_other_reports(tmp_path, name):
    title, paragraphs = corpus_paragraphs(name)
    path = tmp_path / "report.pdf"
    make_gov_pdf(path, title, paragraphs)
    raw = read_file(path)
    assert [compact(p) for p in raw.text.split("\n\n")] == [compact(p) for p in [title, *paragraphs]]


SECTIONED = [
    "一、总体情况",
    "（一）加强组织领导",
    "2021年，县政府坚持以习近平新时代中国特色社会主义思想为指导，调整了法治政府建设工作领导小组，完善了工作机制，"
    "印发了《互助县2021年法治政府建设工作要点和任务台账》等文件，层层分解落实全县各部门、各单位依法行政及法治政府建设的工作任务。"
    "年内，县政府听取全县法治政府建设工作情况专题汇报2次，开展法治培训12场次，参训人员达1500余人次。",
    "（二）依法履行职责",
    "截至目前，各部门共有行政许可事项148项、公共服务事项351项。印发了《2021年度互助县营商环境建设工作方案》，"
    "推进社会信用体系建设，归集“双公示”信息数据5081条，其中行政许可信息4263条、行政处罚信息818条。",
    # Exactly two full lines (26 characters after the indent, then 28): nothing marks its end
    # except the heading that follows, flush left.
    "全县法治政府建设虽然取得成效但与上级要求还有差距部门推进法治政府建设不均衡个别部门协调配合不够推动力度不够。",
    "二、存在的问题",
    "一是部门推进法治政府建设不均衡。二是全社会重法治氛围还未完全形成。三是执法规范化建设还有短板。",
]


def test_headings_and_font_change_gaps(tmp_path):
    assert len(SECTIONED[5]) == 54
    path = tmp_path / "sections.pdf"
    make_gov_pdf(path, "互助县2021年度法治政府建设工作情况报告", SECTIONED * 3)
    paragraphs = read_file(path).text.split("\n\n")
    assert [compact(p) for p in paragraphs] == [compact(p) for p in ["互助县2021年度法治政府建设工作情况报告", *SECTIONED * 3]]
    # Digits are drawn in Helvetica and 年 in the CJK font; the gap between them is gone.
    assert paragraphs[0] == "互助县2021年度法治政府建设工作情况报告"
    assert paragraphs[3] == SECTIONED[2]
    assert paragraphs[5] == SECTIONED[4]


@pytest.mark.parametrize("page_format", ["第 {n} 页 共 {total} 页", "- {n} -", "{n}", "{n}/{total}"])
def test_page_number_styles(tmp_path, page_format):
    title, paragraphs = corpus_paragraphs("001_623fe7deefd3bc57.txt")
    path = tmp_path / "numbers.pdf"
    make_gov_pdf(path, title, paragraphs[:8], header=None, page_number_format=page_format)
    raw = read_file(path)
    assert [compact(p) for p in raw.text.split("\n\n")] == [compact(p) for p in [title, *paragraphs[:8]]]


def test_tidy_spaces():
    assert tidy_spaces("2021 年，全县 51 个部门提升水平 。") == "2021年，全县51个部门提升水平。"
    assert tidy_spaces("政务 APP 提供 Word   Online 服务") == "政务APP提供Word Online服务"
    assert tidy_spaces("  （2021 — 2025 年） ") == "（2021—2025年）"


# --- damaged and unreadable PDFs -------------------------------------------------------------


def test_scanned_pdf_without_text(tmp_path):
    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(2):
        c.setFillGray(0.85)
        c.rect(60, 80, 470, 680, fill=1, stroke=0)
        c.setFillGray(0.2)
        for y in range(700, 100, -28):
            c.rect(80, y, 430, 10, fill=1, stroke=0)
        c.showPage()
    c.save()
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "PDF has no text layer and OCR found none: 2 pages"  # lines, not letters


def test_scanned_pdf_with_image(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    image = pil.new("L", (200, 280), 255)
    for x in range(20, 180):
        for y in range(30, 250, 12):
            image.putpixel((x, y), 0)
    image_path = tmp_path / "page.png"
    image.save(image_path)
    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(str(image_path), 0, 0, width=A4[0], height=A4[1])
    c.showPage()
    c.save()
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "PDF has no text layer and OCR found none: 1 page"


def _small_pdf(path: Path) -> None:
    make_gov_pdf(path, "互助县2021年度法治政府建设工作情况报告", SECTIONED[:3])


def _encrypted(plain: Path, path: Path, user: str, owner: str, algorithm: str) -> Path:
    writer = PdfWriter(clone_from=str(plain))
    writer.encrypt(user_password=user, owner_password=owner, algorithm=algorithm)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_an_encrypted_pdf_opens_with_its_password_and_says_so_without(tmp_path, algorithm):
    """Issue 15: a PDF that needs a password is "encrypted: password required", never "corrupt";
    with the right password (AES needs the cryptography package, a dependency) its text is the
    unencrypted PDF's; wrong ones are counted, never printed."""
    plain = tmp_path / "plain.pdf"
    _small_pdf(plain)
    path = _encrypted(plain, tmp_path / "locked.pdf", "secret", "owner", algorithm)
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "encrypted: password required (give it with --pdf-password or the setting pdf_passwords)"
    assert str(path) in str(info.value)
    with pytest.raises(ReadError) as info:
        read_file(path, limits=ReadLimits(pdf_passwords=("wrong", "guess")))
    assert info.value.reason == "encrypted: password required (none of the 2 passwords given opens it)"
    assert "wrong" not in str(info.value)
    opened = read_file(path, limits=ReadLimits(pdf_passwords=("wrong", "secret")))
    assert opened.text == read_file(plain).text
    assert read_file(path, limits=ReadLimits(pdf_passwords=("owner",))).text == opened.text  # the owner's opens too


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_owner_password_only_pdf_reads(tmp_path, algorithm):
    """Government sites restrict printing and copying with an owner password: such a PDF reads."""
    plain = tmp_path / "plain.pdf"
    _small_pdf(plain)
    path = _encrypted(plain, tmp_path / "restricted.pdf", "", "owner", algorithm)
    assert read_file(path).text == read_file(plain).text


def test_pdf_passwords_from_the_command_line_and_the_config_file(tmp_path):
    plain = tmp_path / "plain.pdf"
    _small_pdf(plain)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _encrypted(plain, corpus / "locked.pdf", "s3cret", "owner", "AES-256")
    env = {**os.environ, "POLICY_SEARCH_CONFIG": str(tmp_path / "none.toml")}
    env.pop("POLICY_SEARCH_PDF_PASSWORDS", None)
    (tmp_path / "none.toml").write_text("", encoding="utf-8")

    def cli(*args, **extra):
        return subprocess.run([sys.executable, "-m", "indexer.cli", *args], capture_output=True, text=True,
                              cwd=ROOT, timeout=300, env={**env, **extra})

    run = cli("parse", str(corpus / "locked.pdf"))
    assert run.returncode == 1 and "encrypted: password required" in run.stderr
    run = cli("parse", str(corpus / "locked.pdf"), "--pdf-password", "x", "--pdf-password", "s3cret", "--json")
    assert run.returncode == 0 and "互助县2021年度法治政府建设工作情况报告" in run.stdout
    assert "s3cret" not in run.stdout + run.stderr
    (tmp_path / "none.toml").write_text('pdf_passwords = ["nope", "s3cret"]\n', encoding="utf-8")
    run = cli("index", str(corpus), "--index", str(tmp_path / "ix"))
    assert run.returncode == 0, run.stderr
    assert "1 reports" in run.stdout or "1 report" in run.stdout
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    run = cli("parse", str(corpus / "locked.pdf"), POLICY_SEARCH_PDF_PASSWORDS="a\ns3cret\n")
    assert run.returncode == 0, run.stderr
    (tmp_path / "none.toml").write_text("pdf_passwords = 3\n", encoding="utf-8")
    run = cli("parse", str(corpus / "locked.pdf"))
    assert run.returncode == 2 and "pdf_passwords" in run.stderr and "list of strings" in run.stderr


def test_truncated_pdf(tmp_path):
    plain = tmp_path / "plain.pdf"
    _small_pdf(plain)
    data = plain.read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason.startswith("PDF is corrupt or truncated")


def test_garbage_with_pdf_header(tmp_path):
    path = tmp_path / "garbage.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n")
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason.startswith("PDF is corrupt or truncated")


def test_not_a_pdf(tmp_path):
    path = tmp_path / "fake.pdf"
    path.write_text("这是一个文本文件，不是PDF。", encoding="utf-8")
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason.startswith("PDF is corrupt or truncated")


def test_empty_pdf_file(tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "file is empty"


# --- many short pages, damaged files that make pypdf talk -----------------------------------------


def _one_line_pages(path: Path, pages: int, line: str = "Line of text on page {n}.") -> None:
    c = canvas.Canvas(str(path), pagesize=A4)
    for n in range(1, pages + 1):
        c.setFont("Helvetica", 12)
        c.drawString(72, 700, line.format(n=n))
        c.showPage()
    c.save()


def test_one_line_on_every_page_is_text_not_a_running_header(tmp_path):
    # The same line, digits aside, on every page looks like a running header; when it is all the
    # PDF has, it is the text (this made a 30,000-page PDF "no text layer").
    path = tmp_path / "lines.pdf"
    _one_line_pages(path, 30)
    text = read_file(path).text
    assert compact(text) == compact("".join(f"Line of text on page {n}." for n in range(1, 31)))


def test_pdf_with_only_page_numbers_says_so(tmp_path):
    path = tmp_path / "numbers.pdf"
    _one_line_pages(path, 5, "- {n} -")
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "PDF has no text but page numbers: 5 pages"


def _misplaced_xref(path: Path, pages: int = 50) -> None:
    """A PDF whose cross-reference table points every object 3 bytes off: pypdf repairs it and
    logs a warning per object."""
    c = canvas.Canvas(str(path), pagesize=A4)
    for n in range(1, pages + 1):
        c.setFont("Helvetica", 12)
        for j in range(8):
            c.drawString(72, 700 - 20 * j, f"Page {n}, line {j}: the body text of the report goes on.")
        c.showPage()
    c.save()
    data = path.read_bytes()
    at = data.rindex(b"\nxref\n")
    table = re.sub(rb"(\d{10}) 00000 n", lambda m: b"%010d 00000 n" % (int(m.group(1)) + 3), data[at:])
    path.write_bytes(data[:at] + table)


def test_pypdf_warnings_stay_off_stderr_and_go_to_the_log(tmp_path, caplog):
    import subprocess
    import sys

    path = tmp_path / "misplaced.pdf"
    _misplaced_xref(path)
    # A process of its own: no logging configured, as in `policy-search parse` or an index worker,
    # where Python's last-resort handler printed every one of pypdf's warnings.
    script = "import sys; from indexer.reading.readers import read_file; print(len(read_file(sys.argv[1]).text))"
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, check=True)
    assert int(done.stdout) > 1000
    assert done.stderr == ""
    # ... while an application that configures logging gets them, and one summary line per file.
    with caplog.at_level(logging.INFO):
        read_file(path, source="corpus/misplaced.pdf")
    from_pypdf = [r for r in caplog.records if r.name.startswith("pypdf")]
    assert len(from_pypdf) > 50
    summary = [r.getMessage() for r in caplog.records if r.name == "indexer.reading.readers.pdf"]
    assert summary == [f"corpus/misplaced.pdf: pypdf reported {len(from_pypdf):,} problems, the first: {from_pypdf[0].getMessage()}"]


def test_a_skipped_pdf_says_how_many_problems_pypdf_reported(tmp_path):
    path = tmp_path / "misplaced.pdf"
    _misplaced_xref(path, pages=3)
    data = path.read_bytes()
    # cut the page contents out, keep the (misplaced) cross-reference table and the end marker
    path.write_bytes(data[:400] + data[data.rindex(b"\nxref\n"):])
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert "(pypdf reported " in info.value.reason and " problems, the first: " in info.value.reason


def test_one_line_pages_after_a_fuller_first_page_keep_their_line(tmp_path):
    path = tmp_path / "mixed.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("Helvetica", 12)
    for j, line in enumerate(["Title of the report", "An opening line.", "A second line.", "A third line."]):
        c.drawString(72, 700 - 40 * j, line)
    c.showPage()
    for n in range(2, 31):
        c.setFont("Helvetica", 12)
        c.drawString(72, 700, f"Line of text on page {n}.")
        c.showPage()
    c.save()
    text = compact(read_file(path).text)
    assert all(f"Lineoftextonpage{n}." in text for n in range(2, 31))


def test_a_title_centred_over_two_lines_is_one_paragraph(tmp_path):
    from indexer.reading.report import read_report

    path = tmp_path / "two-line-title.pdf"
    make_gov_pdf(path, "互助县人民政府关于2021年度法治政府\n建设工作情况的报告", SECTIONED[:4], header=None)
    report = read_report(path)
    assert report.meta.title == "互助县人民政府关于2021年度法治政府建设工作情况的报告"
    assert report.paragraphs[0].text == report.meta.title and "互助县人民政府" in report.meta.issuers
    assert report.paragraphs[1].text == "一、总体情况"
