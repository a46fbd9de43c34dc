"""Pages without a text layer (scanned PDFs, scanned pages inside text PDFs) and images (.png .jpg
.tif, multi-page TIFF too), read by OCR: RapidOCR (PP-OCRv4 Chinese detection and recognition,
whose models ship inside the rapidocr-onnxruntime wheel) on onnxruntime's CPU build, so it works
offline. PDF pages are rendered by pypdfium2 at ``DPI``, greyscale. Both are the ``ocr`` extra
(OpenCV with them is some 480 MB): without it a scan is skipped with what to install.

OCR's text boxes become layout text (``layout.page_layout``: lines by position, indents in
characters) and the PDF reader's paragraph recovery reads it, so page numbers and running headers
go and paragraphs, centred titles and headings come out as from a text PDF. The mean confidence
of the boxes is kept (``RawText.ocr_confidence``) and shown, and so is each run of characters read
with less than ``UNSURE`` (``RawText.ocr_unsure``): as an anchor (the run with the characters of its
line around it), since joining lines into paragraphs moves every offset; the structure stage finds
the anchors in its paragraphs (``unsure_spans``).

OCR is slow (seconds a page on two cores): each page read is told to the observer of this thread
(``observing_pages``: the indexer's bar, ``parse``'s), a file's OCR stops after ``OCR_SECONDS``, and
its result is kept by the hash of the file's bytes in the OCR cache (setting ``ocr_cache``), outside
the index, so that an unchanged scan is never read twice, across ``--rebuild`` too.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO
from dataclasses import dataclass
from pathlib import Path

from indexer.model import RawText, ReadError, ReadLimits, over_limit
from indexer.reading.readers.layout import Run, page_layout

DPI = 200
OCR_SECONDS = 600  # one file's OCR; a longer one is skipped with the reason
CACHE_VERSION = "rapidocr-1.4/ppocrv4/200dpi/2"
UNSURE = 0.8  # a character read with less confidence than this is marked where it is shown
ANCHOR_CONTEXT = 4  # characters of its line each side of an unsure run, to find it again
_engine = None
_engine_lock = threading.Lock()  # loads the engine once
_run_lock = threading.Lock()  # one page at a time through the engine's onnxruntime sessions


NOT_INSTALLED = ("OCR is not installed: pip install 'policy-search[ocr]' (from the repository: "
                 "pip install -e '.[ocr]')")


def ocr_available() -> bool:
    """Whether the OCR extra is installed (rapidocr-onnxruntime, and pypdfium2 for PDF pages)."""
    try:
        import pypdfium2  # noqa: F401
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _ocr():
    global _engine
    with _engine_lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR

            _engine = RapidOCR()
        return _engine


# An unsure run: (characters before it, the run, characters after it), whitespace removed.
Anchor = tuple[str, str, str]


def ocr_image(image) -> tuple[str, list[float], list[Anchor]]:
    """One page image (PIL) as layout text, the confidence of each of its text boxes, and the runs
    of characters read with less than ``UNSURE``."""
    import numpy as np

    engine = _ocr()
    with _run_lock:
        result, _ = engine(np.array(image.convert("RGB")), return_word_box=True)
    runs, confidences, unsure = [], [], []
    for box, text, confidence, *words in result or []:
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        height = max(ys) - min(ys)
        if text.strip() and height > 0:
            runs.append(Run(x=min(xs), y=(min(ys) + max(ys)) / 2, size=height, text=text))
            confidences.append(float(confidence))
            per_char = words[2] if len(words) == 3 else []
            unsure += unsure_runs(text, per_char if len(per_char) == len(text) else [float(confidence)] * len(text))
    return page_layout(runs), confidences, unsure


def unsure_runs(text: str, confidences: list[float]) -> list[Anchor]:
    """The runs of ``text`` whose characters' ``confidences`` are below ``UNSURE``, as anchors."""
    keep = [(c, conf) for c, conf in zip(text, confidences) if not c.isspace()]
    chars = "".join(c for c, _ in keep)
    out: list[Anchor] = []
    i = 0
    while i < len(keep):
        if keep[i][1] >= UNSURE:
            i += 1
            continue
        j = i
        while j < len(keep) and keep[j][1] < UNSURE:
            j += 1
        out.append((chars[max(0, i - ANCHOR_CONTEXT):i], chars[i:j], chars[j:j + ANCHOR_CONTEXT]))
        i = j
    return out


def unsure_spans(paragraphs: list[str], anchors: list[Anchor]) -> list[list[int]]:
    """Where the anchors are in the paragraphs, in reading order as they were read: [paragraph
    index (0-based), start, end] of each run found. Paragraph text may have spaces inside what a
    line read as one run (where a line was joined); an anchor not found is left out."""
    out: list[list[int]] = []
    at = 0
    for before, run, after in anchors:
        spaced = r"\s*".join
        pattern = re.compile(spaced(map(re.escape, before)) + r"\s*(" + spaced(map(re.escape, run)) + r")\s*"
                             + spaced(map(re.escape, after)))
        for k in list(range(at, len(paragraphs))) + list(range(0, at)):
            m = pattern.search(paragraphs[k])
            if m:
                out.append([k, m.start(1), m.end(1)])
                at = k
                break
    return out


# The observer of this thread's OCR: told (source, page, pages) after each page is read.
_observer = threading.local()


@contextmanager
def observing_pages(observer: Callable[[str, int, int], None]) -> Iterator[None]:
    """Within: ``observer(source, page, pages)`` after each page OCR reads in this thread."""
    before = getattr(_observer, "call", None)
    _observer.call = observer
    try:
        yield
    finally:
        _observer.call = before


def page_note(source: str, page: int, pages: int) -> str:
    """What a progress display says of a page read."""
    return f"OCR {Path(source).name}: page {page}/{pages}"


def _tell(source: str, page: int, pages: int) -> None:
    call = getattr(_observer, "call", None)
    if call is not None:
        call(source, page, pages)


@dataclass
class OcrResult:
    pages: list[str]  # each page's layout text
    confidences: list[float]  # each text box's
    unsure: list[Anchor]  # in reading order

    @property
    def confidence(self) -> float:
        return sum(self.confidences) / len(self.confidences) if self.confidences else 0.0


class _Cache:
    """OCR results by the hash of the file's bytes (and which pages), one JSON file each."""

    def __init__(self, folder: Path | None, data: bytes, pages: list[int] | None):
        key = hashlib.sha256(data).hexdigest() + CACHE_VERSION + json.dumps(pages)
        self.path = folder / f"{hashlib.sha256(key.encode()).hexdigest()}.json" if folder else None

    def get(self) -> OcrResult | None:
        if self.path is None:
            return None
        try:
            kept = json.loads(self.path.read_text(encoding="utf-8"))
            return OcrResult(kept["pages"], kept["confidences"], [tuple(a) for a in kept["unsure"]])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, result: OcrResult) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(f".{os.getpid()}.part")
            partial.write_text(json.dumps({"pages": result.pages, "confidences": result.confidences,
                                           "unsure": result.unsure}, ensure_ascii=False), encoding="utf-8")
            os.replace(partial, self.path)
        except OSError:
            pass  # a cache that cannot be written costs time, not the file


def _read(images, source: str, count: int, data: bytes, pages: list[int] | None, limits: ReadLimits) -> OcrResult:
    """What OCR reads of each image (an iterator of PIL images, ``count`` of them), from the cache
    when this file's pages were read before."""
    cache = _Cache(limits.ocr_cache, data, pages)
    kept = cache.get()
    if kept is not None:
        return kept
    if not ocr_available():
        raise ReadError(source, f"has no text layer and needs OCR. {NOT_INSTALLED}")
    deadline = time.monotonic() + OCR_SECONDS
    result = OcrResult([], [], [])
    for n, image in enumerate(images, 1):
        if time.monotonic() > deadline:
            raise ReadError(source, f"OCR took more than {OCR_SECONDS} s (stopped at page {n} of {count})")
        text, confidences, unsure = ocr_image(image)
        result.pages.append(text)
        result.confidences += confidences
        result.unsure += unsure
        _tell(source, n, count)
    cache.put(result)
    return result


def ocr_pdf_pages(data: bytes, pages: list[int], source: str, limits: ReadLimits) -> OcrResult:
    """Pages (0-based) of a PDF rendered and read by OCR."""
    def rendered():
        import pypdfium2

        document = pypdfium2.PdfDocument(data, password=None)
        try:
            for i in pages:
                yield document[i].render(scale=DPI / 72, grayscale=True).to_pil()
        finally:
            document.close()

    return _read(rendered(), source, len(pages), data, pages, limits)


def parse_image(data: bytes, source: str, suffix: str = ".png", limits: ReadLimits = ReadLimits()) -> RawText:
    """A scan saved as an image (.png .jpg .jpeg .tif .tiff; a TIFF's pages each a page)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(BytesIO(data))
        count = getattr(image, "n_frames", 1)
        if count > limits.max_pages:
            raise ReadError(source, over_limit(f"image has {count:,} pages", f"{limits.max_pages:,}", "max_pdf_pages"))
        frames = (frame.copy() for frame in ImageSequence.Iterator(image))
        result = _read(frames, source, count, data, None, limits)
    except ReadError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise ReadError(source, f"image is corrupt or not an image: {type(exc).__name__}: {exc}") from None
    from indexer.reading.readers.pdf import layout_paragraphs

    paragraphs = layout_paragraphs(result.pages)
    if not paragraphs:
        raise ReadError(source, f"no text found in the image ({count} page(s))")
    return RawText(source=source, text="\n\n".join(paragraphs), format=suffix.lstrip("."),
                   ocr_confidence=round(result.confidence, 3), ocr_unsure=tuple(result.unsure))
