"""Scans read by OCR (issue 15): scanned PDFs, scanned pages inside text PDFs, PNG and multi-page
TIFF images, made by rendering the government-style PDFs the tests write (pypdfium2, 200 dpi,
greyscale) and read by RapidOCR; the result kept by file hash so a scan is read once."""
from __future__ import annotations

import difflib
import re

import pypdfium2
import pytest
from PIL import Image

from indexer.model import ReadError, ReadLimits
from indexer.reading.readers import ocr, read_file
from indexer.reading.report import read_report

from pdf_factory import make_gov_pdf
from test_readers_pdf import SECTIONED

TITLE = "互助县2021年度法治政府建设工作情况报告"
PARAGRAPHS = SECTIONED * 2  # two pages


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def accuracy(got: str, want: str) -> float:
    """Character accuracy: 1 - edits / characters of the source (whitespace aside)."""
    got, want = _compact(got), _compact(want)
    matcher = difflib.SequenceMatcher(None, got, want, autojunk=False)
    same = sum(b.size for b in matcher.get_matching_blocks())
    return same / max(len(want), len(got))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The text PDF and its pages rendered as a scanner would (200 dpi, greyscale)."""
    folder = tmp_path_factory.mktemp("scans")
    source = folder / "text.pdf"
    make_gov_pdf(source, TITLE, PARAGRAPHS)
    document = pypdfium2.PdfDocument(str(source))
    images = [document[i].render(scale=200 / 72, grayscale=True).to_pil() for i in range(len(document))]
    document.close()
    return source, images


def test_a_scanned_pdf_is_read_by_ocr_and_kept(rendered, tmp_path, monkeypatch):
    source, images = rendered
    scan = tmp_path / "scan.pdf"
    images = [im.copy() for im in images]  # Pillow's multi-page save leaves its marks on the images
    images[0].save(scan, save_all=True, append_images=images[1:], resolution=200)
    limits = ReadLimits(ocr_cache=tmp_path / "cache")
    raw = read_file(scan, limits=limits)
    want = read_file(source).text
    assert accuracy(raw.text, want) >= 0.98, (raw.text, want)
    assert len(images) == 2 and raw.text.split("\n\n")[0] == TITLE  # running header and page numbers gone
    assert len(raw.text.split("\n\n")) == len(want.split("\n\n"))  # paragraphs recovered
    assert 0.9 < raw.ocr_confidence <= 1.0
    report = read_report(scan, limits=limits)
    assert report.meta.ocr and report.meta.title == TITLE and report.meta.ocr_confidence == raw.ocr_confidence
    # Read again, from the cache: OCR is not run.
    monkeypatch.setattr(ocr, "ocr_image", lambda image: pytest.fail("OCR ran again on an unchanged scan"))
    assert read_file(scan, limits=limits).text == raw.text


def test_a_scanned_page_inside_a_text_pdf_and_images(rendered, tmp_path):
    source, images = rendered
    images = [im.copy() for im in images]
    limits = ReadLimits(ocr_cache=None)
    png = tmp_path / "page.png"
    images[0].save(png)
    raw = read_file(png, limits=limits)
    assert raw.format == "png" and TITLE in raw.text and "加强组织领导" in raw.text
    tif = tmp_path / "pages.tif"
    images[0].save(tif, save_all=True, append_images=images[1:])  # a multi-page TIFF
    raw = read_file(tif, limits=limits)
    assert raw.format == "tif" and accuracy(raw.text, read_file(source).text) >= 0.98
    # A text PDF with one scanned page after its text page.
    from pypdf import PdfReader, PdfWriter

    scan = tmp_path / "one-page-scan.pdf"
    images[0].save(scan, resolution=200)
    writer = PdfWriter()
    extra = tmp_path / "appendix.pdf"
    make_gov_pdf(extra, "附件", ["附件：互助县法治政府建设任务分解表，各单位对照落实。"])
    for path in (extra, scan):
        for page in PdfReader(path).pages:
            writer.add_page(page)
    mixed = tmp_path / "mixed.pdf"
    with mixed.open("wb") as handle:
        writer.write(handle)
    raw = read_file(mixed, limits=limits)
    assert "任务分解表" in raw.text and "加强组织领导" in raw.text and raw.ocr_confidence is not None


def test_what_ocr_cannot_read_says_why(tmp_path, monkeypatch):
    blank = tmp_path / "blank.png"
    Image.new("L", (800, 1100), 255).save(blank)
    with pytest.raises(ReadError) as info:
        read_file(blank, limits=ReadLimits(ocr_cache=None))
    assert info.value.reason == "no text found in the image (1 page(s))"
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(ReadError) as info:
        read_file(broken)
    assert info.value.reason.startswith("image is corrupt or not an image")
    monkeypatch.setattr(ocr, "ocr_available", lambda: False)
    with pytest.raises(ReadError) as info:
        read_file(blank, limits=ReadLimits(ocr_cache=None))
    assert info.value.reason == ("has no text layer and needs OCR. OCR is not installed: pip install "
                                 "'policy-search[ocr]' (from the repository: pip install -e '.[ocr]')")


def _smudged(image, line: str):
    """The page with noise over two characters in the middle of the line OCR reads as ``line``."""
    import numpy as np
    import random

    box = next(box for box, text, _ in ocr._ocr()(np.array(image.convert("RGB")))[0] if text.startswith(line))
    xs, ys = [p[0] for p in box], [p[1] for p in box]
    height = int(max(ys) - min(ys))
    x0, y0 = int(min(xs) + (max(xs) - min(xs)) * 0.4), int(min(ys))
    image, rng = image.copy(), random.Random(3)
    px = image.load()
    for x in range(x0, x0 + 2 * height):
        for y in range(y0, y0 + height):
            if rng.random() < 0.45:
                px[x, y] = 255 - px[x, y] if rng.random() < 0.6 else 128
    return image


def test_characters_read_unsure_are_found_in_the_paragraphs_and_marked(rendered, tmp_path):
    from indexer.config import Settings
    from indexer.indexing.update import update_index
    from webapp import create_app

    _, images = rendered
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    line = "印发了《互助县2021年法治政府建设工作要点"
    _smudged(images[0], line).save(corpus / "smudged.png")
    limits = ReadLimits(ocr_cache=tmp_path / "cache")
    report = read_report(corpus / "smudged.png", limits=limits)
    spans = report.meta.ocr_unsure
    assert spans, "noise over two characters read with full confidence"
    by_ordinal = {p.ordinal: p.text for p in report.paragraphs}
    smudged = [(o, s, e) for o, s, e in spans if line[:6] in by_ordinal[o]]
    assert smudged, (spans, line)
    ordinal, start, end = smudged[0]
    text = by_ordinal[ordinal]
    assert 0 <= start < end <= len(text) and text.index(line[:6]) < start < text.index("等")
    # The report page marks them, inside the text it shows.
    index = tmp_path / "index"
    update_index([corpus], index, limits=limits)
    client = create_app(Settings(index=index, corpus=corpus)).test_client()
    rid = client.get("/api/reports").get_json()["reports"][0]["id"]
    page = client.get(f"/reports/{rid}").get_data(as_text=True)
    marked = re.findall(r'<span class="ocr-unsure"[^>]*>([^<]*)</span>', page)
    assert text[start:end] in marked and f"识别把握不大的 {len(spans)} 处" in page


def test_unsure_anchors_are_found_across_joined_lines():
    paragraphs = ["一、总体情况", "全县行政机关负责人出庭应诉率 为100%，比上年提高。", "出庭应诉率继续保持"]
    found = ocr.unsure_spans(paragraphs, [("负责人出", "庭应", "诉率为1"), ("", "继续", "保持"), ("不在", "这里", "")])
    assert found == [[1, 10, 12], [2, 5, 7]]
    assert ocr.unsure_runs("出庭 应诉率", [1.0, 0.5, 0.0, 0.6, 0.95, 0.2]) == [("出", "庭应", "诉率"), ("出庭应诉", "率", "")]


def test_each_page_ocr_reads_is_told_to_the_progress(rendered, tmp_path):
    from indexer.indexing.batches import BarProgress, ReadJob, build_batch
    from indexer.store.schema import make_schema

    _, images = rendered
    scan = tmp_path / "二页扫描.tif"
    images = [im.copy() for im in images]
    images[0].save(scan, save_all=True, append_images=images[1:])

    class Bar:
        def __init__(self):
            self.files, self.notes = 0, []

        def update(self, n):
            self.files += n

        def set_postfix_str(self, text):
            self.notes.append(text)

    bar = Bar()
    job = ReadJob(str(scan), scan.name, "r1", scan.stat().st_size, 1000, ReadLimits(ocr_cache=None), ())
    result = build_batch([job], str(tmp_path / "staging"), make_schema(()), BarProgress(bar))
    assert result.outcomes[0].pids and bar.files == 1
    assert bar.notes == ["OCR 二页扫描.tif: page 1/2", "OCR 二页扫描.tif: page 2/2"]
