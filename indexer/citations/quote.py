"""Where does this quote come from? Paste a sentence or a paragraph, get the paragraph(s) back.

The quote may differ from the source in punctuation, spaces, width, traditional/simplified
characters and a few changed characters. Steps:

1. fold the quote like the documents (``normalise.fold``) and keep only letters and digits (CJK
   included): punctuation and spaces are what people change most;
2. candidates by voting: character n-grams (4-grams; shorter for short quotes) taken from the
   punctuation-free runs of the folded quote, so each is a real substring of a folded paragraph;
   up to ``MAX_GRAMS`` distinct ones spread evenly over the quote are looked up with the exact store
   (``docs_containing``) and ``numpy.bincount`` counts, per paragraph, how many it contains. Every
   look-up scans the whole store, so they run in an order spread over the quote and stop early once
   ``EARLY_STOP_AFTER`` grams are done and one paragraph holds 90% of them (an exact quote);
3. the ``MAX_CANDIDATES`` best-voted paragraphs (and each one joined with its neighbour in the same
   report, for quotes that run across a paragraph break) are aligned with the stripped quote
   (``difflib.SequenceMatcher`` matching blocks of at least ``MIN_BLOCK`` characters, limited to the
   densest stretch of the paragraph not much longer than the quote);
4. score = characters of the quote covered by the alignment / quote length (0..1, 3 decimals), so a
   quote taken from a longer paragraph still scores 1.0. When the quote is longer than the paragraph
   (a passage of several paragraphs pasted at once) the paragraph's own coverage counts too, for
   paragraphs of at least ``MIN_CONTAINED`` characters, so each source paragraph is found, in
   document order. Matches below ``threshold`` (0.5) are dropped; [] means "not found in this corpus".
"""
from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field

import numpy as np

from indexer.normalise import fold, fold_with_offsets
from indexer.store.exact import ExactStore

GRAM = 4
MAX_GRAMS = 30
MAX_CANDIDATES = 20
MIN_BLOCK = 3
MIN_CONTAINED = 20  # a paragraph this long found whole inside a longer quote counts as its source
EARLY_STOP_AFTER = 6
THRESHOLD = 0.5
MAX_QUOTE_CHARS = 5000
_OPENERS = set("(（《<〈“‘[［【〔「『")
_CLOSERS = set("%％‰)）》>〉”’]］】〕」』")


@dataclass
class QuoteMatch:
    pid: str  # the paragraph the quote starts in
    score: float  # share of the quote's characters found, in order, in the paragraph(s), 0..1
    report_id: str
    ordinal: int
    matched_text: str  # the matched stretch of the original paragraph text (joined with "\n" across two)
    span: tuple[int, int] | None  # [start, end) of matched_text in the first paragraph's text
    pids: list[str] = field(default_factory=list)  # every paragraph covered (two when it runs across)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["span"] = list(self.span) if self.span else None
        return d


def _strip(folded: str) -> tuple[str, list[int]]:
    """Letters and digits only, with each kept character's index in ``folded``."""
    keep = [i for i, c in enumerate(folded) if c.isalnum()]
    return "".join(folded[i] for i in keep), keep


def _grams(folded: str, n: int) -> list[str]:
    """Distinct n-grams inside the runs of letters/digits of the folded quote, in quote order."""
    out: dict[str, None] = {}
    run: list[str] = []
    for c in folded + " ":
        if c.isalnum():
            run.append(c)
            continue
        if len(run) >= n:
            s = "".join(run)
            for i in range(len(s) - n + 1):
                out.setdefault(s[i:i + n], None)
        run = []
    return list(out)


def _sample(items: list[str], k: int) -> list[str]:
    if len(items) <= k:
        return items
    idx = np.unique(np.linspace(0, len(items) - 1, k).round().astype(int))
    return [items[i] for i in idx]


def _spread_order(items: list[str]) -> list[str]:
    """The same items reordered so that any prefix is spread over the whole quote (bit-reversal)."""
    n = len(items)
    if n <= 2:
        return items
    bits = max(1, (n - 1).bit_length())
    rev = [int(format(i, f"0{bits}b")[::-1], 2) for i in range(n)]
    return [items[i] for i in sorted(range(n), key=lambda i: rev[i])]


def _align(q: str, t: str) -> tuple[int, int, int]:
    """(quote characters matched, start, end in t) of the best local alignment of q inside t."""
    if not q or not t:
        return 0, 0, 0
    sm = difflib.SequenceMatcher(None, q, t, autojunk=False)
    min_block = MIN_BLOCK if len(q) >= 2 * MIN_BLOCK else max(1, len(q) // 2)
    blocks = [b for b in sm.get_matching_blocks() if b.size >= min_block]
    if not blocks:
        return 0, 0, 0
    # Densest run of consecutive blocks whose stretch of t is not much longer than the quote.
    max_span = int(len(q) * 1.5) + 10
    best = (0, 0, 0)
    total = 0
    lo = 0
    for hi, b in enumerate(blocks):
        total += b.size
        while blocks[lo].b + 0 < b.b + b.size - max_span and lo < hi:
            total -= blocks[lo].size
            lo += 1
        if total > best[0]:
            best = (total, blocks[lo].b, b.b + b.size)
    return best


def _score(matched: int, qlen: int) -> float:
    return round(min(1.0, matched / qlen), 3) if qlen else 0.0


def find_quote(store: ExactStore, text: str, limit: int = 5, *, threshold: float = THRESHOLD) -> list[QuoteMatch]:
    """Paragraphs of ``store`` the quote comes from, best first; [] when nothing reaches ``threshold``."""
    folded = fold((text or "")[:MAX_QUOTE_CHARS])
    q, _ = _strip(folded)
    if len(q) < 2 or len(store) == 0:
        return []
    n = GRAM if len(q) >= 8 else (3 if len(q) >= 5 else 2)
    grams = _grams(folded, n)
    if not grams:  # punctuation everywhere: fall back to grams of the stripped quote
        grams = list(dict.fromkeys(q[i:i + n] for i in range(len(q) - n + 1)))
    grams = _spread_order(_sample(grams, MAX_GRAMS))
    votes = np.zeros(len(store), dtype=np.int64)
    for looked, g in enumerate(grams, 1):
        h = store.docs_containing(g)
        if h.size:
            votes += np.bincount(h, minlength=len(store))
        # Each look-up scans the whole store: stop once one paragraph holds nearly every gram so far.
        if looked >= EARLY_STOP_AFTER and looked < len(grams) and votes.max() >= 0.9 * looked:
            break
    if not votes.any():
        return []
    k = min(MAX_CANDIDATES, int(np.count_nonzero(votes)))
    top = np.argpartition(-votes, k - 1)[:k]
    top = top[np.argsort(-votes[top], kind="stable")]

    stripped_cache: dict[int, str] = {}

    def stripped(i: int) -> str:
        s = stripped_cache.get(i)
        if s is None:
            s = _strip(store.folded_text(i))[0]
            stripped_cache[i] = s
        return s

    def same_report(a: int, b: int) -> bool:
        return 0 <= a < len(store) and 0 <= b < len(store) and store.report_idx[a] == store.report_idx[b]

    scored: dict[tuple[int, ...], int] = {}
    for i in top.tolist():
        m, _s, _e = _align(q, stripped(i))
        scored[(i,)] = m
        if m >= len(q) * 0.98:
            continue
        for pair in ((i - 1, i), (i, i + 1)):
            if same_report(*pair) and pair not in scored:
                scored[pair] = _align(q, stripped(pair[0]) + stripped(pair[1]))[0]
    # A pair counts only when it covers clearly more than its parts alone.
    results: list[tuple[float, tuple[int, ...]]] = []
    for key, m in scored.items():
        if len(key) == 2:
            single = max(scored.get((key[0],), 0), scored.get((key[1],), 0))
            if m < single + max(MIN_BLOCK, len(q) * 0.05):
                continue
        score = _score(m, len(q))
        plen = sum(len(stripped(i)) for i in key)
        if len(q) > plen and plen >= MIN_CONTAINED:  # a passage of several paragraphs: this one is in it
            score = max(score, _score(m, plen))
        if score >= threshold:
            results.append((score, key))
    results.sort(key=lambda r: (-r[0], len(r[1]), r[1]))
    out: list[QuoteMatch] = []
    used: set[int] = set()
    for score, key in results:
        if any(i in used for i in key):
            continue
        used.update(key)
        out.append(_match(store, q, key, score))
        if len(out) >= limit:
            break
    return out


def _match(store: ExactStore, q: str, key: tuple[int, ...], score: float) -> QuoteMatch:
    texts = [store.text(i) for i in key]
    pids = [store.pid(i) for i in key]
    # Align once more on text folded with offsets, to map the match back onto the original text.
    pieces: list[tuple[str, list[int], int]] = []  # (stripped, original index per char, paragraph no.)
    for p, text in enumerate(texts):
        f, origin = fold_with_offsets(text)
        s, keep = _strip(f)
        pieces.append((s, [origin[k] for k in keep], p))
    joined = "".join(s for s, _, _ in pieces)
    owner = [(p, o) for s, orig, p in pieces for o in orig]
    _m, a, b = _align(q, joined)
    if b <= a:
        return _quote_match(store, key[0], score, "", None, pids)
    (pa, oa), (pb, ob) = owner[a], owner[b - 1]
    # Take in the brackets and the % that belong to the matched words ("89%", "《…》").
    ta, tb = texts[pa], texts[pb]
    while oa > 0 and ta[oa - 1] in _OPENERS:
        oa -= 1
    while ob + 1 < len(tb) and tb[ob + 1] in _CLOSERS:
        ob += 1
    if pa == pb:
        matched_text = ta[oa:ob + 1]
        span = (oa, ob + 1)
    else:
        matched_text = ta[oa:] + "\n" + tb[:ob + 1]
        span = (oa, len(ta))
    return _quote_match(store, key[pa], score, matched_text, span, pids[pa:pb + 1])


def _quote_match(store: ExactStore, row: int, score: float, matched_text: str, span: tuple[int, int] | None,
                 pids: list[str]) -> QuoteMatch:
    """The match starting in paragraph ``row``, with that paragraph's id, report and number."""
    return QuoteMatch(pid=store.pid(row), score=score, report_id=store.reports[int(store.report_idx[row])].rid,
                      ordinal=int(store.ordinals[row]), matched_text=matched_text, span=span, pids=pids)
