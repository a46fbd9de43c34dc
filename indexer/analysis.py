"""The Whoosh analysis chain: folded text -> jieba precise-mode words with ordinal positions.

jieba's bundled ``ChineseAnalyzer`` is unfit for phrase search: it stores character offsets as
positions and emits overlapping search-mode tokens, and it drops single non-Chinese characters.
This tokenizer emits each word of jieba's precise mode once, numbered 0, 1, 2, … so that
Whoosh phrase queries line up, with character offsets into the folded text.

The schema (and so this class) is pickled into the index: it must stay importable under this name.
Extra dictionary words are stored on the tokenizer itself, so an index always segments queries
the same way it segmented its documents.
"""
from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jieba
from whoosh.analysis import Token, Tokenizer

from .normalise import fold

jieba.setLogLevel(logging.WARNING)

# jieba segments each run of these characters independently (jieba.re_han_default); everything
# between runs is punctuation or space and never part of a word.
_HAN_RUN = re.compile("[\u4E00-\u9FD5a-zA-Z0-9+#&\\._%]+")
_OTHER_WORD_CHAR = re.compile(r"[^\W_]")  # letters/digits jieba leaves outside its runs (CJK Ext A, ...)

_lock = threading.Lock()
_loaded_words: set[tuple[str, int | None]] = set()
_shipped: tuple[tuple[str, int | None], ...] | None = None


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


def _ensure_words(words: tuple[tuple[str, int | None], ...]) -> None:
    missing = [w for w in words if w not in _loaded_words]
    if not missing:
        return
    with _lock:
        for word, freq in missing:
            if (word, freq) not in _loaded_words:
                jieba.add_word(word, freq)
                _loaded_words.add((word, freq))
        _cut_run.cache_clear()


@lru_cache(maxsize=500_000)
def _cut_run(run: str) -> tuple[str, ...]:
    return tuple(jieba.cut(run, HMM=True))


def segment(folded: str) -> list[tuple[str, int, int]]:
    """(word, start, end) for every word of jieba's precise mode, punctuation and spaces left out.

    Identical to filtering ``jieba.cut(folded)``: jieba cuts each run of _HAN_RUN characters on its
    own, so caching per run changes nothing but the speed.
    """
    out: list[tuple[str, int, int]] = []
    pos = 0
    for m in _HAN_RUN.finditer(folded):
        for k in range(pos, m.start()):
            ch = folded[k]
            if _OTHER_WORD_CHAR.match(ch):
                out.append((ch, k, k + 1))
        start = m.start()
        for word in _cut_run(m.group()):
            end = start + len(word)
            if word.strip() and any(c.isalnum() for c in word):
                out.append((word, start, end))
            start = end
        pos = m.end()
    for k in range(pos, len(folded)):
        if _OTHER_WORD_CHAR.match(folded[k]):
            out.append((folded[k], k, k + 1))
    return out


class PolicyTokenizer(Tokenizer):
    """Folds the text, then yields jieba precise-mode words with ordinal positions."""

    def __init__(self, extra_words: tuple[tuple[str, int | None], ...] = ()):
        self.extra_words = tuple(extra_words)

    def __eq__(self, other):
        return isinstance(other, PolicyTokenizer) and other.extra_words == self.extra_words

    def __hash__(self):
        return hash(self.extra_words)

    def prepare(self) -> None:
        _ensure_words(shipped_userdict() + self.extra_words)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if isinstance(value, (list, tuple)):
            # Already analysed (the writer segments paragraphs in worker processes): the words as given.
            words_with_spans = ((w, None, None) for w in value)
        else:
            self.prepare()
            text = fold(value)
            if not tokenize:
                words_with_spans = iter([(text, 0, len(text))])
            else:
                words_with_spans = iter(segment(text))
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


def analyse(text: str, extra_words: tuple[tuple[str, int | None], ...] = ()) -> tuple[str, ...]:
    """A paragraph's indexed words, ready to hand to the Whoosh field as a pre-analysed value."""
    return tuple(words(text, extra_words))


def words(text: str, extra_words: tuple[tuple[str, int | None], ...] = ()) -> list[str]:
    """The words a query or document text is indexed under."""
    _ensure_words(shipped_userdict() + tuple(extra_words))
    return [w for w, _, _ in segment(fold(text))]
