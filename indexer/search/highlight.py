"""Where a query's terms sit in a paragraph's original text, and the window of it a snippet shows."""
from __future__ import annotations

from indexer.normalise import fold_with_offsets, original_span

SNIPPET_WINDOW = 160
SNIPPET_FULL_BELOW = 300
SENTENCE_END = "。！？；!?;"
_MAX_EXTEND = 80


def highlight_spans(text: str, terms: list[str]) -> list[list[int]]:
    """Spans of the original text where any folded term occurs in the folded text, merged."""
    folded, origin = fold_with_offsets(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        if not term:
            continue
        start = folded.find(term)
        while start != -1:
            spans.append(original_span(origin, start, start + len(term)))
            start = folded.find(term, start + 1)
    spans.sort()
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return merged


def snippet_bounds(text: str, spans) -> tuple[int, int]:
    """[lo, hi) of a readable window around the first span: the whole of a short text, else about
    SNIPPET_WINDOW characters widened to sentence ends when one is near."""
    n = len(text)
    if n <= SNIPPET_FULL_BELOW:
        return 0, n
    first = spans[0][0] if spans else 0
    start = max(0, first - SNIPPET_WINDOW // 3)
    end = min(n, start + SNIPPET_WINDOW)
    start = max(0, min(start, end - SNIPPET_WINDOW))
    # extend to sentence boundaries, within reason
    lo = start
    while lo > 0 and start - lo < _MAX_EXTEND and text[lo - 1] not in SENTENCE_END:
        lo -= 1
    if lo > 0 and text[lo - 1] not in SENTENCE_END:
        lo = start
    hi = end
    while hi < n and hi - end < _MAX_EXTEND and text[hi - 1] not in SENTENCE_END:
        hi += 1
    if hi < n and text[hi - 1] not in SENTENCE_END:
        hi = end
    return lo, hi
