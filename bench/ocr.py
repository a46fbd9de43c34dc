"""OCR benchmark (issue 15): character accuracy, paragraphs recovered and pages a second of the OCR
reader on scans made from the government-style PDFs the tests write (tests/pdf_factory.py).

    python3 bench/ocr.py [--documents 4]

Each document is rendered as a scanner would (pypdfium2, 200 dpi, greyscale) and read back twice:
clean, and noisy (tilted 0.3-1 degree, Gaussian noise, a grey background). Accuracy is
1 - edits / characters against the text PDF's own text (whitespace aside); paragraphs recovered
is the share of the text PDF's paragraphs found whole. Results: Markdown on stdout and
bench/out/ocr.md.
"""
from __future__ import annotations

import argparse
import difflib
import random
import re
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from run import conditions, machine, publish  # noqa: E402

DOCUMENTS = [
    ("互助县2021年度法治政府建设工作情况报告", 0),
    ("盐池县2022年法治政府建设年度报告", 1),
    ("乐都区2020年度法治政府建设工作总结", 2),
    ("临猗县2023年法治政府建设情况报告", 3),
    ("平安区2021年法治政府建设工作报告", 4),
    ("民和县2022年度法治政府建设工作情况报告", 5),
]


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def accuracy(got: str, want: str) -> float:
    got, want = _compact(got), _compact(want)
    same = sum(b.size for b in difflib.SequenceMatcher(None, got, want, autojunk=False).get_matching_blocks())
    return same / max(len(want), len(got), 1)


def noisy(image, rng: random.Random):
    import numpy as np
    from PIL import Image

    angle = rng.uniform(0.3, 1.0) * rng.choice((-1, 1))
    grey = image.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
    pixels = np.asarray(grey, dtype=np.float32)
    pixels = pixels * 0.82 + 30  # a grey background: white becomes light grey
    pixels += np.random.default_rng(rng.randrange(1 << 30)).normal(0, 12, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), angle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=4)
    args = parser.parse_args()

    import pypdfium2

    from indexer.reading.readers import read_file
    from indexer.reading.readers.ocr import DPI, ocr_image
    from indexer.reading.readers.pdf import layout_paragraphs
    from pdf_factory import make_gov_pdf
    from test_readers_pdf import SECTIONED

    start = machine()
    rng = random.Random(11)
    rows = {"clean": [], "noisy": []}
    with tempfile.TemporaryDirectory() as work:
        for title, k in DOCUMENTS[: args.documents]:
            paragraphs = [p.replace("2021", str(2018 + k)).replace("互助", title[:2]) for p in SECTIONED] * 2
            pdf = Path(work) / f"{k}.pdf"
            make_gov_pdf(pdf, title, paragraphs)
            want = read_file(pdf).text
            wanted = want.split("\n\n")
            document = pypdfium2.PdfDocument(str(pdf))
            images = [document[i].render(scale=DPI / 72, grayscale=True).to_pil() for i in range(len(document))]
            document.close()
            for kind in rows:
                pages = [noisy(im, rng)[0] if kind == "noisy" else im for im in images]
                started = time.perf_counter()
                texts = [ocr_image(page)[0] for page in pages]
                seconds = time.perf_counter() - started
                got = layout_paragraphs(texts)
                recovered = sum(1 for p in wanted if p in got) / len(wanted)
                rows[kind].append((accuracy("\n".join(got), want), recovered, len(pages), seconds))
    out = [f"## OCR: {args.documents} documents, {sum(r[2] for r in rows['clean'])} pages each way", "",
           conditions(start, "200 dpi greyscale"), "",
           "| scans | character accuracy (min / mean) | paragraphs recovered (mean) | pages/s |", "|---|---:|---:|---:|"]
    for kind, rs in rows.items():
        acc = [r[0] for r in rs]
        out.append(f"| {kind} | {min(acc):.4f} / {sum(acc) / len(acc):.4f} | {sum(r[1] for r in rs) / len(rs):.3f} | "
                   f"{sum(r[2] for r in rs) / sum(r[3] for r in rs):.2f} |")
    publish("ocr", out)


if __name__ == "__main__":
    main()
