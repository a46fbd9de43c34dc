"""Pages without a text layer (scanned PDFs, scanned pages inside text PDFs) and images (.png .jpg
.tif, multi-page TIFF too), read by OCR: RapidOCR (PP-OCRv4 Chinese detection and recognition,
whose models ship inside the rapidocr-onnxruntime wheel) on onnxruntime's CPU build, so it works
offline. PDF pages are rendered by pypdfium2 at ``DPI``, greyscale. Both are the ``ocr`` extra
(OpenCV with them is some 480 MB): without it a scan is skipped with what to install.

OCR's text boxes become layout text (``layout.page_layout``: lines by position, indents in
characters) and the PDF reader's paragraph recovery reads it, so page numbers and running headers
go and paragraphs, centred titles and headings come out as from a text PDF. The mean confidence
of the boxes is kept (``RawText.ocr_confidence``) and shown.

OCR is slow (seconds a page on two cores): a file's OCR stops after ``OCR_SECONDS``, and its result
is kept by the hash of the file's bytes in the OCR cache (setting ``ocr_cache``), outside the index,
so that an unchanged scan is never read twice, across ``--rebuild`` too.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from io import BytesIO
from pathlib import Path

from indexer.model import RawText, ReadError, ReadLimits, over_limit
from indexer.reading.readers.layout import Run, page_layout

DPI = 200
OCR_SECONDS = 600  # one file's OCR; a longer one is skipped with the reason
CACHE_VERSION = "rapidocr-1.4/ppocrv4/200dpi/1"
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


def ocr_image(image) -> tuple[str, list[float]]:
    """One page image (PIL) as layout text, and the confidence of each of its text boxes."""
    import numpy as np

    engine = _ocr()
    with _run_lock:
        result, _ = engine(np.array(image.convert("RGB")))
    runs, confidences = [], []
    for box, text, confidence in result or []:
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        height = max(ys) - min(ys)
        if text.strip() and height > 0:
            runs.append(Run(x=min(xs), y=(min(ys) + max(ys)) / 2, size=height, text=text))
            confidences.append(float(confidence))
    return page_layout(runs), confidences


class _Cache:
    """OCR results by the hash of the file's bytes (and which pages), one JSON file each."""

    def __init__(self, folder: Path | None, data: bytes, pages: list[int] | None):
        key = hashlib.sha256(data).hexdigest() + CACHE_VERSION + json.dumps(pages)
        self.path = folder / f"{hashlib.sha256(key.encode()).hexdigest()}.json" if folder else None

    def get(self) -> tuple[list[str], list[float]] | None:
        if self.path is None:
            return None
        try:
            kept = json.loads(self.path.read_text(encoding="utf-8"))
            return kept["pages"], kept["confidences"]
        except (OSError, ValueError, KeyError):
            return None

    def put(self, pages: list[str], confidences: list[float]) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(f".{os.getpid()}.part")
            partial.write_text(json.dumps({"pages": pages, "confidences": confidences}, ensure_ascii=False),
                               encoding="utf-8")
            os.replace(partial, self.path)
        except OSError:
            pass  # a cache that cannot be written costs time, not the file


def _read(images, source: str, count: int, data: bytes, pages: list[int] | None,
          limits: ReadLimits) -> tuple[list[str], float]:
    """The layout text of each image (an iterator of PIL images, ``count`` of them) and the mean
    confidence, from the cache when this file's pages were read before."""
    cache = _Cache(limits.ocr_cache, data, pages)
    kept = cache.get()
    if kept is None:
        if not ocr_available():
            raise ReadError(source, f"has no text layer and needs OCR. {NOT_INSTALLED}")
        deadline = time.monotonic() + OCR_SECONDS
        texts, confidences = [], []
        for n, image in enumerate(images, 1):
            if time.monotonic() > deadline:
                raise ReadError(source, f"OCR took more than {OCR_SECONDS} s (stopped at page {n} of {count})")
            text, conf = ocr_image(image)
            texts.append(text)
            confidences += conf
        cache.put(texts, confidences)
        kept = (texts, confidences)
    texts, confidences = kept
    return texts, (sum(confidences) / len(confidences) if confidences else 0.0)


def ocr_pdf_pages(data: bytes, pages: list[int], source: str, limits: ReadLimits) -> tuple[list[str], float]:
    """Pages (0-based) of a PDF rendered and read by OCR: their layout texts and mean confidence."""
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
        texts, confidence = _read(frames, source, count, data, None, limits)
    except ReadError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise ReadError(source, f"image is corrupt or not an image: {type(exc).__name__}: {exc}") from None
    from indexer.reading.readers.pdf import layout_paragraphs

    paragraphs = layout_paragraphs(texts)
    if not paragraphs:
        raise ReadError(source, f"no text found in the image ({count} page(s))")
    return RawText(source=source, text="\n\n".join(paragraphs), format=suffix.lstrip("."),
                   ocr_confidence=round(confidence, 3))
