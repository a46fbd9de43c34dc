"""Text placed on a page (an OFD's TextObjects, OCR's text boxes) put back as layout text: a line
per baseline, left to right, indented by characters from the page's leftmost text, a blank line
at a wide gap; the PDF reader's ``layout_paragraphs`` reads pages of it into paragraphs."""
from __future__ import annotations

from dataclasses import dataclass

GAP_LINES = 1.8  # a baseline this many line pitches below the one above starts after a blank line
SAME_LINE = 0.4  # runs whose baselines differ by less than this share of the text height are one line


@dataclass
class Run:
    x: float  # left edge
    y: float  # baseline (or the box's middle: the same for every run of a line)
    size: float  # height of a full-width character, in the same unit
    text: str


def page_layout(runs: list[Run]) -> str:
    """The page as layout text."""
    if not runs:
        return ""
    runs = sorted(runs, key=lambda r: (r.y, r.x))
    lines: list[list[Run]] = []
    for run in runs:
        if lines and abs(run.y - lines[-1][0].y) < SAME_LINE * run.size:
            lines[-1].append(run)
        else:
            lines.append([run])
    left = min(r.x for r in runs)
    pitches = [b[0].y - a[0].y for a, b in zip(lines, lines[1:])]
    pitch = sorted(pitches)[len(pitches) // 2] if pitches else 0.0
    out: list[str] = []
    for k, line in enumerate(lines):
        line.sort(key=lambda r: r.x)
        if k and pitch and line[0].y - lines[k - 1][0].y > GAP_LINES * pitch:
            out.append("")
        out.append(" " * round((line[0].x - left) / line[0].size) + _joined(line))
    return "\n".join(out)


def _joined(line: list[Run]) -> str:
    """A line's runs left to right, with a space where a gap of a character or more parts them."""
    text = line[0].text
    end = line[0].x + _advance(line[0])
    for run in line[1:]:
        text += (" " if run.x - end > run.size * 0.9 else "") + run.text
        end = run.x + _advance(run)
    return text


def _advance(run: Run) -> float:
    return sum(run.size if ord(c) > 0x2E80 else run.size / 2 for c in run.text)
