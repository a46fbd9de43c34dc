"""What became of a paragraph id that is no longer live: its last text, the most similar current
paragraphs of its report, and what changed between them."""
from __future__ import annotations

import difflib
from collections.abc import Callable

from indexer.normalise import fold
from indexer.search.rank import Ranker
from indexer.search.reports import ReportColumns
from indexer.search.results import ParagraphView, RetiredParagraph
from indexer.store.exact import ExactStore
from indexer.store.schema import rid_of

SIMILAR_ENOUGH = 0.3  # below this ratio a current paragraph is not offered as the retired one's successor


def paragraph_history(pid: str, ranker: Ranker, store: ExactStore, columns: ReportColumns,
                      view: Callable[[int], ParagraphView], limit: int = 3,
                      article: Callable[[str], ParagraphView | None] = lambda label: None) -> RetiredParagraph | None:
    """The retired paragraph (or article of a legal text) ``pid`` with its ``limit`` closest current
    paragraphs (``view`` builds one from its store row). An amended article's closest is first the
    article of its number now (``article(label)``: the whole article as one paragraph), so that its
    old link shows the old text with the new beside it. None for an id of an unknown report that
    was never indexed."""
    stored = ranker.retired_fields(pid)
    rid = stored["retired_rid"] if stored else rid_of(pid)
    r = store.rid_index.get(rid)
    if stored is None and r is None:
        return None
    retired = RetiredParagraph(
        id=pid, report_id=rid, text=stored.get("text", "") if stored else "",
        section=list(stored.get("section") or []) if stored else [], ordinal=stored.get("ordinal", 0) if stored else 0,
        report=columns.refs[r] if r is not None else None,
    )
    if r is not None and retired.text:
        old = fold(retired.text)
        lo, hi = columns.rows(r)
        scored = []
        for i in range(lo, hi):
            matcher = difflib.SequenceMatcher(None, old, store.folded_text(i), autojunk=False)
            if matcher.real_quick_ratio() > SIMILAR_ENOUGH and matcher.quick_ratio() > SIMILAR_ENOUGH:
                scored.append((matcher.ratio(), i))
        scored.sort(key=lambda x: (-x[0], x[1]))
        retired.closest = [(view(i), score) for score, i in scored[:limit] if score > SIMILAR_ENOUGH]
        now = article(retired.section[-1]) if retired.section else None
        if now is not None:
            ratio = difflib.SequenceMatcher(None, old, fold(now.text), autojunk=False).ratio()
            retired.closest = [(now, ratio)] + [(p, x) for p, x in retired.closest if p.id != now.id][: limit - 1]
        retired.changed = []
        for n, (p, _) in enumerate(retired.closest):
            gone, added = diff_spans(retired.text, p.text)
            retired.changed.append(added)
            if n == 0:
                retired.old_changed = gone
    return retired


def diff_spans(old: str, new: str) -> tuple[list[list[int]], list[list[int]]]:
    """[start, end) spans of what differs between two texts: (in old, in new)."""
    sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
    gone: list[list[int]] = []
    added: list[list[int]] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            _add_span(gone, old, i1, i2)
        if j2 > j1:
            _add_span(added, new, j1, j2)
    return gone, added


def _add_span(spans: list[list[int]], text: str, s: int, e: int) -> None:
    """Append [s, e) widened to whole numbers and latin words (89% -> 92% marks 89 and 92, not 8 and 2)."""
    def word(ch: str) -> bool:
        return ch.isascii() and ch.isalnum()

    while s > 0 and word(text[s - 1]) and word(text[s]):
        s -= 1
    while e < len(text) and word(text[e]) and word(text[e - 1]):
        e += 1
    if spans and s <= spans[-1][1]:
        spans[-1][1] = max(spans[-1][1], e)
    else:
        spans.append([s, e])
