"""Bounded reading: a file's bytes read once within the size limit, parsed from those bytes, and
reports over the inflated-size or paragraph limits skipped with a message naming the limit."""
from __future__ import annotations

import os

import pytest

from indexer.config import Settings
from indexer.model import ReadError, ReadLimits
from indexer.reading.report import read_report
from indexer.reading.readers import load_file, read_file

REPORT = "关于2021年法治政府建设工作的报告\n\n一、主要工作\n\n（一）依法行政。我县坚持依法行政。\n"


def test_limits_from_settings():
    settings = Settings(max_file_mb=3, max_inflated_mb=5, max_report_paragraphs=7)
    assert ReadLimits.from_settings(settings) == ReadLimits(3 << 20, 5 << 20, 7, ocr_cache=settings.ocr_cache)
    assert ReadLimits.from_settings(Settings()) == ReadLimits(ocr_cache=Settings().ocr_cache)


def test_load_file_returns_the_bytes(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(REPORT.encode("gb18030"))
    assert load_file(path) == REPORT.encode("gb18030")


def test_file_over_the_size_limit_is_skipped_naming_the_setting(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(("法治政府建设。" * 100 + "\n").encode("utf-8") * 100)  # 210 KB
    limits = ReadLimits(max_file_bytes=100 << 10)
    for call in (lambda: load_file(path, "corpus/big.txt", limits), lambda: read_report(path, "corpus/big.txt", limits=limits)):
        with pytest.raises(ReadError) as info:
            call()
        assert info.value.source == "corpus/big.txt"
        assert f"file is too large ({path.stat().st_size / 1024:.1f} KB)" in info.value.reason
        assert "over the limit of 100 KB" in info.value.reason
        assert "max_file_mb" in info.value.reason
    # exactly at the limit is fine
    assert len(load_file(path, limits=ReadLimits(max_file_bytes=path.stat().st_size))) == path.stat().st_size


@pytest.mark.parametrize("make, reason", [
    (lambda p: None, "file not found"),
    (lambda p: p.mkdir(), "is a directory, not a file"),
    (lambda p: p.write_bytes(b""), "file is empty"),
])
def test_load_file_errors(tmp_path, make, reason):
    path = tmp_path / "x.txt"
    make(path)
    with pytest.raises(ReadError) as info:
        load_file(path, "corpus/x.txt")
    assert (info.value.source, info.value.reason) == ("corpus/x.txt", reason)


def test_read_file_parses_the_given_bytes_not_the_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("文件里的文字", encoding="utf-8")
    content = "传入的文字".encode("utf-8")
    assert read_file(path, content=content).text == "传入的文字"
    assert read_report(path, content=content).paragraphs[0].text == "传入的文字"
    # content need not even exist on disk; the file type comes from the suffix
    assert read_file(tmp_path / "gone.md", content=b"# x\n\ny").text == "# x\n\ny"
    with pytest.raises(ReadError, match="file is empty"):
        read_file(path, content=b"")
    with pytest.raises(ReadError, match="max_file_mb"):
        read_file(path, content=b"x" * 11, limits=ReadLimits(max_file_bytes=10))


def test_report_over_the_paragraph_limit_is_skipped(tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("\n\n".join(f"第{i}段。" for i in range(1, 51)), encoding="utf-8")
    assert len(read_report(path, limits=ReadLimits(max_paragraphs=50)).paragraphs) == 50
    with pytest.raises(ReadError) as info:
        read_report(path, source="corpus/many.txt", limits=ReadLimits(max_paragraphs=49))
    assert info.value.source == "corpus/many.txt"
    assert "report has too many paragraphs" in info.value.reason
    assert "over the limit of 49" in info.value.reason and "max_report_paragraphs" in info.value.reason


def test_paragraph_limit_counts_split_chunks(tmp_path):
    # one line of 10 sentences split into chunks: the chunks are the paragraphs that count
    path = tmp_path / "long.txt"
    path.write_text("这是一个很长的句子用来测试分段。" * 10, encoding="utf-8")
    chunks = len(read_report(path, max_chars=50).paragraphs)
    assert chunks == 4  # 16-character sentences, three to a chunk of at most 50
    assert len(read_report(path, max_chars=50, limits=ReadLimits(max_paragraphs=4)).paragraphs) == 4
    with pytest.raises(ReadError, match="too many paragraphs"):
        read_report(path, max_chars=50, limits=ReadLimits(max_paragraphs=3))


# --- .docx: what the zip unpacks to ------------------------------------------------------------

def _docx_with_body(path, body_xml: bytes) -> None:
    """A real python-docx package whose word/document.xml body is ``body_xml``."""
    import zipfile

    import docx

    template = path.with_suffix(".template.docx")
    docx.Document().save(str(template))
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                head, _, rest = data.partition(b"<w:body>")
                data = head + b"<w:body>" + body_xml + b"</w:body>" + rest.partition(b"</w:body>")[2]
            dst.writestr(info.filename, data)
    template.unlink()


def _paragraphs_xml(texts) -> bytes:
    return b"".join(f"<w:p><w:r><w:t>{t}</w:t></w:r></w:p>".encode() for t in texts)


def test_docx_that_unpacks_over_the_limit_is_skipped(tmp_path):
    path = tmp_path / "bomb.docx"
    _docx_with_body(path, _paragraphs_xml(["依法行政。" * 2000] * 100))  # 3 MB of XML, ~20 KB zipped
    assert path.stat().st_size < 100 << 10
    assert read_file(path).text.startswith("依法行政。")
    with pytest.raises(ReadError) as info:
        read_file(path, source="corpus/bomb.docx", limits=ReadLimits(max_inflated_bytes=1 << 20))
    assert info.value.source == "corpus/bomb.docx"
    assert info.value.reason.startswith("DOCX unpacks to 3.")
    assert "over the limit of 1 MB" in info.value.reason and "max_inflated_mb" in info.value.reason


def _lie_about_size(path, member: bytes, declared: int) -> None:
    """Rewrite ``member``'s declared uncompressed size (local and central header) as ``declared``."""
    import struct

    data = bytearray(path.read_bytes())
    # (signature, offset of the size field, of the name length, of the name)
    for signature, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = data.find(signature)
        while at != -1:
            (name_len,) = struct.unpack_from("<H", data, at + name_len_at)
            if data[at + name_at:at + name_at + name_len] == member:
                struct.pack_into("<I", data, at + size_at, declared)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def test_docx_lying_about_its_sizes_is_inflated_no_further_than_declared(tmp_path):
    import tracemalloc

    path = tmp_path / "liar.docx"
    _docx_with_body(path, _paragraphs_xml(["依法行政。" * 4000] * 1000))  # 60 MB of XML
    _lie_about_size(path, b"word/document.xml", 1000)
    tracemalloc.start()
    try:
        with pytest.raises(ReadError) as info:
            read_file(path, source="corpus/liar.docx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.reason.startswith("DOCX is corrupt or not a Word document: BadZipFile")
    # python-docx alone inflates the whole 60 MB document.xml before zipfile cuts it short
    assert peak < 20 << 20, f"peak {peak >> 20} MB"


def test_docx_with_too_many_paragraphs_is_skipped_before_parsing(tmp_path):
    path = tmp_path / "many.docx"
    # empty paragraphs are not counted: only those with text become report paragraphs
    _docx_with_body(path, _paragraphs_xml(f"第{i}段。" for i in range(1, 51)) + b"<w:p/>" * 100)
    assert len(read_report(path, limits=ReadLimits(max_paragraphs=50)).paragraphs) == 50
    with pytest.raises(ReadError) as info:
        read_file(path, source="corpus/many.docx", limits=ReadLimits(max_paragraphs=49))
    assert info.value.reason.startswith("DOCX has too many paragraphs with text (50), over the limit of 49")
    assert "max_report_paragraphs" in info.value.reason


# --- .pdf: pages, text, content streams -------------------------------------------------------

def _pdf_pages(path, pages: int, lines: int = 5) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    for n in range(1, pages + 1):
        c.setFont("Helvetica", 12)
        for j in range(lines):
            c.drawString(72, 700 - 20 * j, f"Page {n}, line {j}: the body text of the report goes on.")
        c.showPage()
    c.save()


def test_pdf_over_the_page_limit_is_skipped_naming_the_setting(tmp_path):
    # the path a 30,000-page PDF takes, provoked with a lower limit
    path = tmp_path / "long.pdf"
    _pdf_pages(path, 30)
    assert "Page 30, line 2" in read_file(path, limits=ReadLimits(max_pages=30)).text
    with pytest.raises(ReadError) as info:
        read_file(path, source="corpus/long.pdf", limits=ReadLimits(max_pages=29))
    assert info.value.reason.startswith("PDF has too many pages (30), over the limit of 29 pages")
    assert "max_pdf_pages" in info.value.reason


def test_limits_take_max_pdf_pages_when_the_settings_have_it():
    from dataclasses import make_dataclass

    with_pages = make_dataclass("WithPages", [("max_pdf_pages", int, 7)], bases=(Settings,), frozen=True)()
    assert ReadLimits.from_settings(with_pages).max_pages == 7


def test_pdf_with_more_text_than_the_limit_is_skipped(tmp_path):
    path = tmp_path / "wordy.pdf"
    _pdf_pages(path, 20, lines=30)  # about 1.7 KB of text a page
    assert read_file(path).text
    with pytest.raises(ReadError) as info:
        read_file(path, source="corpus/wordy.pdf", limits=ReadLimits(max_inflated_bytes=10 << 10))
    assert info.value.reason.startswith("PDF has more than 10 KB of text (by page ")
    assert info.value.reason.endswith("of 20), over the limit of 10 KB (raise setting max_inflated_mb, env POLICY_SEARCH_MAX_INFLATED_MB)")


def test_pdf_content_stream_bomb_is_stopped_at_the_limit(tmp_path):
    import tracemalloc

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    stream = DecodedStreamObject()
    # 40 MB of spaces around one line of text: about 40 KB once deflated
    stream.set_data(b"BT /F1 12 Tf 72 700 Td (The only line.) Tj ET" + b" " * (40 << 20))
    page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
    path = tmp_path / "bomb.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(ReadError) as info:
            read_file(path, source="corpus/bomb.pdf", limits=ReadLimits(max_inflated_bytes=1 << 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.reason.startswith("a content stream of page 1 unpacks to more than 1 MB, over the limit of 1 MB")
    assert "max_inflated_mb" in info.value.reason
    assert peak < 16 << 20, f"peak {peak >> 20} MB"


# --- memory: a report over the paragraph limit is stopped early --------------------------------

def _peak_while(call) -> tuple[int, object]:
    import tracemalloc

    tracemalloc.start()
    try:
        try:
            result = call()
        except ReadError as exc:
            result = exc
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_millions_of_short_lines_are_stopped_at_the_paragraph_limit_in_bounded_memory(tmp_path, suffix):
    path = tmp_path / f"lines{suffix}"
    path.write_text("字\n\n" * 1_000_000, encoding="utf-8")  # 5 MB, a million paragraphs
    peak, result = _peak_while(lambda: read_report(path, source="corpus/lines.txt"))
    assert isinstance(result, ReadError) and "report has too many paragraphs (more than 20,000)" in result.reason
    # a Python object per line (what the structure stage and the text reader used to build) is
    # over 100 bytes each: over 100 MB here
    assert peak < 8 * path.stat().st_size, f"peak {peak >> 20} MB for a {path.stat().st_size >> 20} MB file"


def test_charset_detection_looks_at_a_sample_of_a_big_file(tmp_path, monkeypatch):
    import charset_normalizer

    seen = []
    real = charset_normalizer.from_bytes
    monkeypatch.setattr(charset_normalizer, "from_bytes", lambda data, **kw: seen.append(len(data)) or real(data, **kw))
    path = tmp_path / "gbk.txt"
    paragraph = "互助县人民政府关于2021年度法治政府建设工作情况的报告。" * 20
    path.write_bytes(("\n\n".join([paragraph] * 1200)).encode("gbk"))  # 1.6 MB of GBK
    assert path.stat().st_size > 1 << 20
    text = read_file(path).text
    assert text.split("\n\n") == [paragraph] * 1200
    assert seen and max(seen) <= 1 << 20  # the whole file, before: seconds for tens of MB


# --- .html --------------------------------------------------------------------------------------

def test_html_page_with_too_many_tags_is_skipped_before_parsing(tmp_path):
    path = tmp_path / "tags.html"
    body = "<p>依法行政。</p>" * 200_000  # 4 MB: BeautifulSoup would build 400,000 objects
    path.write_text(f'<html><head><meta charset="utf-8"></head><body><div class="content">{body}</div></body></html>', encoding="utf-8")
    peak, result = _peak_while(lambda: read_file(path, source="corpus/tags.html"))
    assert isinstance(result, ReadError)
    assert result.reason.startswith("HTML page has too many tags (200,00")  # the <p>s and a few more
    assert "over the limit of 160,000 (8 a paragraph of the paragraph limit)" in result.reason
    assert "max_report_paragraphs" in result.reason
    assert peak < 8 * path.stat().st_size, f"peak {peak >> 20} MB"


def test_html_tag_limit_follows_the_paragraph_limit(tmp_path):
    path = tmp_path / "page.html"
    body = "".join(f"<p>第{i}段。</p>" for i in range(1, 31))
    path.write_text(f'<html><head><meta charset="utf-8"></head><body><div class="content">{body}</div></body></html>', encoding="utf-8")
    assert len(read_file(path, limits=ReadLimits(max_paragraphs=30)).text.split("\n\n")) == 30
    with pytest.raises(ReadError, match="HTML page has too many tags"):
        read_file(path, limits=ReadLimits(max_paragraphs=4))  # 35 opening tags > 32


def test_a_read_error_is_one_line():
    error = ReadError("corpus/a.pdf", "PDF is corrupt or truncated: LimitReachedError: Memory limit reached:\njbig2dec: out of memory\n")
    assert error.reason == "PDF is corrupt or truncated: LimitReachedError: Memory limit reached: jbig2dec: out of memory"
    assert str(error) == "corpus/a.pdf: " + error.reason


def test_pdf_page_limit_holds_when_the_page_tree_understates_its_count(tmp_path):
    path = tmp_path / "liar.pdf"
    _pdf_pages(path, 30)
    data = path.read_bytes()
    assert data.count(b"/Count 30") == 1
    path.write_bytes(data.replace(b"/Count 30", b"/Count 1 "))  # same length: offsets stay right
    with pytest.raises(ReadError) as info:
        read_file(path, limits=ReadLimits(max_pages=29))
    assert info.value.reason.startswith("PDF has too many pages (30), over the limit of 29 pages")


def test_docx_with_too_many_xml_elements_is_skipped(tmp_path):
    path = tmp_path / "elements.docx"
    # beside the body, python-docx's template has 18,600 elements
    _docx_with_body(path, b"<w:p><w:r><w:t>text</w:t></w:r>" + b'<w:proofErr w:type="x"/>' * 90_000 + b"</w:p>")
    assert read_file(path, limits=ReadLimits(max_paragraphs=200)).text == "text"  # 110,000 elements allowed
    with pytest.raises(ReadError) as info:
        read_file(path, source="corpus/elements.docx", limits=ReadLimits(max_paragraphs=10))
    assert info.value.reason.startswith(
        "DOCX has too many XML elements (more than 100,500), over the limit of 100,500 "
        "(50 a paragraph of the paragraph limit and 100,000 for styles and settings)")
    assert "max_report_paragraphs" in info.value.reason


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux's /proc/self/status")
def test_docx_of_millions_of_elements_is_stopped_in_bounded_memory(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "elements.docx"
    # 34 MB of XML in one paragraph, under the inflated-size limit: python-docx's tree of it
    # took 650 MB (in C: tracemalloc does not see it, so the reading process reports its peak)
    _docx_with_body(path, b"<w:p><w:r><w:t>text</w:t></w:r>" + b'<w:proofErr w:type="x"/>' * 1_500_000 + b"</w:p>")
    # the peak of this process's own memory (VmHWM; ru_maxrss would carry pytest's over from fork)
    script = ("import re, sys\nfrom indexer.reading.readers import read_file\nfrom indexer.model import ReadError\n"
              "try:\n    read_file(sys.argv[1])\nexcept ReadError as exc:\n    print(exc.reason)\n"
              "status = open('/proc/self/status').read()\n"
              "print(int(re.search(r'VmHWM:\\s*(\\d+) kB', status).group(1)) // 1024)")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    reason, peak_mb = done.stdout.splitlines()
    assert reason.startswith("DOCX has too many XML elements (more than 1,100,000)")
    assert int(peak_mb) < 250, f"peak RSS {peak_mb} MB"


def test_docx_element_limit_covers_every_xml_part(tmp_path):
    import zipfile

    path = tmp_path / "styles.docx"
    _docx_with_body(path, _paragraphs_xml(["正文。"]))
    swollen = tmp_path / "swollen.docx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(swollen, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/styles.xml":
                data = data.replace(b"</w:styles>", b"<w:latentStyles/>" * 100_000 + b"</w:styles>")
            dst.writestr(info.filename, data)
    assert read_file(swollen).text == "正文。"
    with pytest.raises(ReadError, match=r"DOCX has too many XML elements \(more than 101,000\)"):
        read_file(swollen, limits=ReadLimits(max_paragraphs=20))


def test_docx_with_a_member_twice_reads_without_a_warning(tmp_path, recwarn):
    import warnings
    import zipfile

    path = tmp_path / "twice.docx"
    _docx_with_body(path, _paragraphs_xml(["正文。"]))
    with zipfile.ZipFile(path, "a") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        archive.writestr("word/fontTable.xml", archive.read("word/fontTable.xml"))
    recwarn.clear()
    assert read_file(path).text == "正文。"
    assert [str(w.message) for w in recwarn] == []
