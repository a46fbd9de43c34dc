"""The Whoosh analysis chain: folded text -> jieba precise-mode words with ordinal positions.

Segmentation runs on rjieba (jieba-rs, the Rust port of jieba's precise mode with the same
dictionary and HMM), 10-30x faster than jieba itself; tests/test_analysis.py proves it cuts the
whole bundled corpus into exactly the tokens of ``jieba.cut`` with the same user dictionary.

jieba's bundled ``ChineseAnalyzer`` is unfit for phrase search: it stores character offsets as
positions and emits overlapping search-mode tokens, and it drops single non-Chinese characters.
This tokenizer emits each word of jieba's precise mode once, numbered 0, 1, 2, … so that
Whoosh phrase queries line up, with character offsets into the folded text.

The schema (and so this class) is pickled into the index: it must stay importable under this name.
Extra dictionary words are stored on the tokenizer itself, so an index always segments queries
the same way it segmented its documents.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from importlib import resources
from pathlib import Path

import rjieba
from whoosh.analysis import Token, Tokenizer

from indexer.normalise import fold

# jieba segments each run of the characters of group 1 on its own (jieba.re_han_default). A match
# is either such a run or a single letter or digit outside every run (CJK Ext A, ...), which jieba
# passes through and this analyzer keeps as a word; everything else is punctuation or space.
_WORD_SOURCE = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%]+)|[^\\W_]")

_lock = threading.Lock()
_shipped: tuple[tuple[str, int | None], ...] | None = None
CACHE_RUNS = 500_000  # distinct runs remembered per segmenter; policy prose repeats a lot


def parse_userdict(text: str) -> tuple[tuple[str, int | None], ...]:
    """Lines of ``word [freq] [tag]`` (jieba's user dictionary format)."""
    words = []
    for line in text.splitlines():
        parts = line.strip().split()
        if not parts or parts[0].startswith("#"):
            continue
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        words.append((fold(parts[0]), freq))
    return tuple(words)


def shipped_userdict() -> tuple[tuple[str, int | None], ...]:
    global _shipped
    if _shipped is None:
        _shipped = parse_userdict(resources.files("indexer").joinpath("dicts/userdict.txt").read_text("utf-8"))
    return _shipped


def load_userdict_file(path: Path) -> tuple[tuple[str, int | None], ...]:
    return parse_userdict(path.read_text(encoding="utf-8"))


_default_claimed = False


def _fresh_jieba() -> rjieba.Jieba:
    """A jieba with the default dictionary that no one else adds words to. rjieba builds one at
    import (~0.1 s) for its module-level functions, which this project never calls: the first
    segmenter takes that one instead of loading the dictionary a second time (a one-shot search
    loads it once). Called under ``_lock`` (by ``segmenter``)."""
    global _default_claimed
    default = getattr(rjieba, "_DEFAULT_JIEBA", None)
    if not _default_claimed and isinstance(default, rjieba.Jieba):
        _default_claimed = True
        return default
    return rjieba.Jieba()


class Segmenter:
    """jieba precise mode (HMM on) with the shipped dictionary plus one index's extra words.

    One per dictionary, so that two indexes with different corpus dictionaries in one process
    (the test suite, a server and a re-index) never segment with each other's words.
    """

    def __init__(self, extra_words: tuple[tuple[str, int | None], ...] = ()):
        self._jieba = _fresh_jieba()
        for word, freq in shipped_userdict() + tuple(extra_words):
            self._jieba.add_word(word, freq, None)
        self._runs: dict[str, tuple[tuple[str, ...], tuple[tuple[int, int], ...]]] = {}

    def cut_run(self, run: str) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
        """The words of one run, pieces without a letter or digit left out, and their spans.

        Safe for threads: the cache maps a run to its one cut (an immutable tuple), and a dict's
        get, set and clear are each atomic, so a racing thread at worst cuts a run again; jieba-rs
        cuts read its dictionary only."""
        cut = self._runs.get(run)
        if cut is None:
            if len(self._runs) >= CACHE_RUNS:
                self._runs.clear()
            kept: list[str] = []
            spans: list[tuple[int, int]] = []
            start = 0
            for word in self._jieba.cut(run, True):
                end = start + len(word)
                if any(c.isalnum() for c in word):
                    kept.append(word)
                    spans.append((start, end))
                start = end
            cut = self._runs[run] = (tuple(kept), tuple(spans))
        return cut


_segmenters: OrderedDict[tuple[tuple[str, int | None], ...], Segmenter] = OrderedDict()
MAX_SEGMENTERS = 8  # dictionaries kept loaded in one process, the first loaded dropped first


def segmenter(extra_words: tuple[tuple[str, int | None], ...] = ()) -> Segmenter:
    """The one segmenter of this dictionary in this process. Threads that ask for a new one at the
    same time wait for it instead of each loading the dictionary (functools.lru_cache would call
    the loader once per racing thread)."""
    found = _segmenters.get(extra_words)  # the hot path (every segmentation call) takes no lock
    if found is not None:
        return found
    with _lock:
        found = _segmenters.get(extra_words)
        if found is None:
            found = _segmenters[extra_words] = Segmenter(extra_words)
            while len(_segmenters) > MAX_SEGMENTERS:
                _segmenters.popitem(last=False)
        return found


def forget_segmenters() -> None:
    """Drop every loaded segmenter and its cache (a benchmark's cold start)."""
    with _lock:
        _segmenters.clear()


def segment(folded: str, extra_words: tuple[tuple[str, int | None], ...] = ()) -> list[tuple[str, int, int]]:
    """(word, start, end) for every word of jieba's precise mode, punctuation and spaces left out.

    Identical to filtering ``jieba.cut(folded, HMM=True)``: jieba cuts each run of
    _WORD_SOURCE's group 1 on its own, so cutting (and caching) per run changes nothing but the speed.
    """
    cut_run = segmenter(tuple(extra_words)).cut_run
    out: list[tuple[str, int, int]] = []
    for m in _WORD_SOURCE.finditer(folded):
        base = m.start()
        run = m.group(1)
        if run is None:
            out.append((m.group(), base, base + 1))
            continue
        kept, spans = cut_run(run)
        out.extend((w, base + s, base + e) for w, (s, e) in zip(kept, spans))
    return out


_plain: rjieba.Jieba | None = None


def plain_words(folded: str) -> list[str]:
    """jieba's words of a phrase with its own dictionary only, not the policy phrases this project
    adds (which keep 一村一法律顾问 one word): the words a near match (query ``~``) looks for in
    order. Punctuation and spaces are left out. The dictionary is loaded on first use (~0.1 s)."""
    global _plain
    with _lock:
        if _plain is None:
            _plain = _fresh_jieba()  # the default one if no segmenter has claimed it: it gets no words added
        jieba = _plain
    out: list[str] = []
    for m in _WORD_SOURCE.finditer(folded):
        out.extend([m.group()] if m.group(1) is None else jieba.cut(m.group(1), True))
    return out


def segment_words(folded: str, extra_words: tuple[tuple[str, int | None], ...] = ()) -> list[str]:
    """The words of ``segment`` without their spans: the indexing path, paid per run, not per word."""
    cut_run = segmenter(tuple(extra_words)).cut_run
    out: list[str] = []
    for m in _WORD_SOURCE.finditer(folded):
        run = m.group(1)
        if run is None:
            out.append(m.group())
        else:
            out.extend(cut_run(run)[0])
    return out


class PolicyTokenizer(Tokenizer):
    """Folds the text, then yields jieba precise-mode words with ordinal positions."""

    def __init__(self, extra_words: tuple[tuple[str, int | None], ...] = ()):
        self.extra_words = tuple(extra_words)

    def __eq__(self, other):
        return isinstance(other, PolicyTokenizer) and other.extra_words == self.extra_words

    def __hash__(self):
        return hash(self.extra_words)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if isinstance(value, (list, tuple)):
            # Already analysed (the writer segments paragraphs in worker processes): the words as given.
            words_with_spans = ((w, None, None) for w in value)
        else:
            text = fold(value)
            if not tokenize:
                words_with_spans = iter([(text, 0, len(text))])
            else:
                words_with_spans = iter(segment(text, self.extra_words))
        for i, (word, s, e) in enumerate(words_with_spans):
            t.text = word
            t.boost = 1.0
            if keeporiginal:
                t.original = word
            t.stopped = False
            if positions:
                t.pos = start_pos + i
            if chars and s is not None:
                t.startchar, t.endchar = start_char + s, start_char + e
            yield t


def words(text: str, extra_words: tuple[tuple[str, int | None], ...] = ()) -> list[str]:
    """The words a query or document text is indexed under."""
    return segment_words(fold(text), tuple(extra_words))
