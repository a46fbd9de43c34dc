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
import threading
import weakref
from dataclasses import asdict, dataclass, field

import numpy as np

from indexer.citations.verify import EXACT, verify
from indexer.normalise import fold, fold_with_offsets
from indexer.store.exact import ExactStore

GRAM = 4
MAX_GRAMS = 30
MAX_CANDIDATES = 20
MIN_BLOCK = 3
MIN_CONTAINED = 20  # a paragraph this long found whole inside a longer quote counts as its source
RERANKED = 8  # matches beyond the limit that are verified and may rank above the first ones
RANK_STEP = 0.02  # scores this close rank by their differences
MAX_UNALIGNED = 40  # characters at either end of a quote set against the source beside the match
MAX_SPAN = 4  # consecutive paragraphs a quote may run across (a heading or two between)
EARLY_STOP_AFTER = 6
THRESHOLD = 0.7  # chosen by bench/quotes.py: no quote from outside the corpus reaches it
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
    pids: list[str] = field(default_factory=list)  # every paragraph covered (several when it runs across)
    verification: dict | None = None  # verify.Verification.to_dict() of the quote against matched_text

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


_PLACES: "weakref.WeakKeyDictionary[ExactStore, list[str]]" = weakref.WeakKeyDictionary()
_PLACES_LOCK = threading.Lock()


def corpus_places(store: ExactStore) -> list[str]:
    """The names of the corpus's places (counties, cities, provinces and their common short forms:
    互助土族自治县, 互助县, 互助), longest first: a changed one in a quote is a changed fact.
    Built once per store."""
    with _PLACES_LOCK:
        names = _PLACES.get(store)
        if names is None:
            full = {n for col in ("region", "city", "province") for n in store.reports.column(col) if n}
            short = set()
            for n in full:
                if len(n) >= 3 and n[-1] in "县区市旗省":
                    short.add(n[:-1])
                if "自治" in n and len(n) > 4:
                    short |= {n[:2], n[:2] + n[-1]}
            names = _PLACES[store] = sorted({fold(n) for n in full | short if len(n) >= 2}, key=len, reverse=True)
        return names


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
    matched, start, end, _qa, _qb = _aligned(q, t)
    return matched, start, end


def _aligned(q: str, t: str) -> tuple[int, int, int, int, int]:
    """``_align`` and the stretch of q the alignment covers: (matched, t start, t end, q start, q end)."""
    if not q or not t:
        return 0, 0, 0, 0, 0
    sm = difflib.SequenceMatcher(None, q, t, autojunk=False)
    min_block = MIN_BLOCK if len(q) >= 2 * MIN_BLOCK else max(1, len(q) // 2)
    blocks = [b for b in sm.get_matching_blocks() if b.size >= min_block]
    if not blocks:
        return 0, 0, 0, 0, 0
    # Densest run of consecutive blocks whose stretch of t is not much longer than the quote.
    max_span = int(len(q) * 1.5) + 10
    best = (0, 0, 0, 0, 0)
    total = 0
    lo = 0
    for hi, b in enumerate(blocks):
        total += b.size
        while blocks[lo].b + 0 < b.b + b.size - max_span and lo < hi:
            total -= blocks[lo].size
            lo += 1
        if total > best[0]:
            best = (total, blocks[lo].b, b.b + b.size, blocks[lo].a, b.a + b.size)
    return best


def _widened(q: str, t: str, a: int, b: int, qa: int, qb: int) -> tuple[int, int]:
    """The source stretch t[a:b] matched to q[qa:qb], widened over as much of t beside it as the
    quote's unmatched ends take: up to the farthest character they share with it (a finer
    alignment), or the same length where they share none (a changed number)."""
    head, tail = q[:qa][-MAX_UNALIGNED:], q[qb:][:MAX_UNALIGNED]
    if head:
        before = t[max(0, a - len(head)):a]
        blocks = [m for m in difflib.SequenceMatcher(None, head, before, autojunk=False).get_matching_blocks() if m.size]
        a -= len(before) - (max(0, blocks[0].b - blocks[0].a) if blocks else 0)
    if tail:
        after = t[b:b + len(tail)]
        blocks = [m for m in difflib.SequenceMatcher(None, tail, after, autojunk=False).get_matching_blocks() if m.size]
        if blocks:
            last = blocks[-1]
            b += min(len(after), last.b + last.size + (len(tail) - last.a - last.size))
        else:
            b += len(after)
    # A number is set against the whole of the source's number, never a part of it.
    while 0 < a < len(t) and t[a].isdigit() and t[a - 1].isdigit():
        a -= 1
    while 0 < b < len(t) and t[b].isdigit() and t[b - 1].isdigit():
        b += 1
    return a, b


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
    # Reports reuse each other's paragraphs with the numbers and places changed: the grams with a
    # digit tell such paragraphs apart, so they are always looked up, and first.
    numeric = [g for g in grams if any(c.isdigit() for c in g)]
    numeric = _sample(numeric, MAX_GRAMS // 2)
    rest = _sample([g for g in grams if g not in set(numeric)], MAX_GRAMS - len(numeric))
    grams = _spread_order(numeric) + _spread_order(rest)
    votes = np.zeros(len(store), dtype=np.int64)
    for looked, g in enumerate(grams, 1):
        h = store.docs_containing(g)
        if h.size:
            votes += np.bincount(h, minlength=len(store))
        # Each look-up scans the whole store: stop once one paragraph holds nearly every gram so far,
        # unless more paragraphs than the candidates hold as many (near copies the rest tell apart).
        if looked >= EARLY_STOP_AFTER and looked < len(grams) and votes.max() >= 0.9 * looked \
                and np.count_nonzero(votes == votes.max()) <= MAX_CANDIDATES // 2:
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

    def window_score(key: tuple[int, ...]) -> int:
        if key not in scored:
            scored[key] = _align(q, "".join(stripped(k) for k in key))[0]
        return scored[key]

    margin = max(MIN_BLOCK, len(q) * 0.05)
    for i in top.tolist():
        best = window_score((i,))
        # A quote that runs on across paragraph breaks (short headings between): windows of
        # consecutive paragraphs of one report around i, wider while each width finds clearly more.
        for width in range(2, MAX_SPAN + 1):
            if best >= len(q) * 0.98:
                break
            keys = [tuple(range(a, a + width)) for a in range(i - width + 1, i + 1)]
            keys = [k for k in keys if same_report(k[0], k[-1])]
            wider = max((window_score(k) for k in keys), default=0)
            if wider < best + margin:
                break
            best = wider
    # A window counts only when it covers clearly more than every narrower window inside it.
    results: list[tuple[float, tuple[int, ...]]] = []
    for key, m in scored.items():
        if len(key) > 1:
            inner = max((v for k, v in scored.items() if len(k) < len(key) and k[0] >= key[0] and k[-1] <= key[-1]),
                        default=0)
            if m < inner + margin:
                continue
        score = _score(m, len(q))
        plen = sum(len(stripped(i)) for i in key)
        if len(q) > plen and plen >= MIN_CONTAINED:  # a passage of several paragraphs: this one is in it
            score = max(score, _score(m, plen))
        if score >= threshold:
            results.append((score, key))
    results.sort(key=lambda r: (-r[0], len(r[1]), r[1]))
    out: list[tuple[tuple, QuoteMatch]] = []
    used: set[int] = set()
    for score, key in results:
        if any(i in used for i in key):
            continue
        used.update(key)
        match = _match(store, q, key, score)
        checked = verify(text, match.matched_text, places=corpus_places(store))
        match.verification = checked.to_dict()
        # Near copies score alike (reports reuse paragraphs with numbers changed): the one the quote
        # is word for word, else the one with the fewest characters different, comes first.
        edited = sum(len(e.quote) + len(e.source) for e in checked.edits)
        out.append(((checked.verdict != EXACT, -round(score / RANK_STEP), edited, len(out)), match))
        if len(out) >= limit + RERANKED:
            break
    out.sort(key=lambda pair: pair[0])
    return [m for _, m in out[:limit]]


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
    _m, a, b, qa, qb = _aligned(q, joined)
    if b > a:
        # The ends of the quote the alignment left out (a changed number at the end: 98% for 89%)
        # are set against the source beside the match, so that the difference is shown, not dropped.
        a, b = _widened(q, joined, a, b, qa, qb)
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
        matched_text = "\n".join([ta[oa:], *texts[pa + 1:pb], tb[:ob + 1]])
        span = (oa, len(ta))
    return _quote_match(store, key[pa], score, matched_text, span, pids[pa:pb + 1])


def _quote_match(store: ExactStore, row: int, score: float, matched_text: str, span: tuple[int, int] | None,
                 pids: list[str]) -> QuoteMatch:
    """The match starting in paragraph ``row``, with that paragraph's id, report and number."""
    return QuoteMatch(pid=store.pid(row), score=score, report_id=store.reports[int(store.report_idx[row])].rid,
                      ordinal=int(store.ordinals[row]), matched_text=matched_text, span=span, pids=pids)
