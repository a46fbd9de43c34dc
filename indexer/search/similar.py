"""A paragraph's relatives (issue 16): the paragraphs of other reports that share a passage with
it, numbers and places changed or not.

Candidates are the paragraphs sharing at least ``LEAST_KEYS`` of its fingerprints (reuse.keys;
the store looks them up in every piece), most shared first; the best of them (``CANDIDATES_PER``
times as many as asked for, at least ``CANDIDATES``; alignment is what costs) are aligned with it
(reuse.align) and those with a shared passage are its relatives, the most shared characters first.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from indexer.reuse.align import Passage, comparable, shared_passages
from indexer.search.results import ParagraphView

LEAST_KEYS = 2
CANDIDATES = 30
CANDIDATES_PER = 3


@dataclass(frozen=True)
class Relative:
    paragraph: ParagraphView  # the other paragraph, with its report
    passages: tuple[Passage, ...]  # a: offsets in the asked-for paragraph, b: in this one
    shared: int  # characters equal in the passages
    share: float  # of the asked-for paragraph's characters

    def to_dict(self) -> dict:
        return {"paragraph": asdict(self.paragraph), "shared": self.shared, "share": round(self.share, 3),
                "passages": [p.to_dict() for p in self.passages]}


@dataclass(frozen=True)
class Relatives:
    paragraph: ParagraphView
    relatives: list[Relative] = field(default_factory=list)
    complete: bool = True  # False: some pieces predate text reuse (the index needs a rebuild)

    def to_dict(self) -> dict:
        return {"paragraph": asdict(self.paragraph), "complete": self.complete,
                "relatives": [r.to_dict() for r in self.relatives]}


def relatives_of(store, view_of, i: int, *, limit: int = 20, min_share: float = 0.0,
                 candidates: int | None = None) -> Relatives:
    """Paragraph i's relatives (at most ``limit``, each sharing at least ``min_share`` of its
    characters; the best ``candidates`` are aligned); ``view_of(row)`` is the engine's
    ParagraphView of a row."""
    me = view_of(i)
    rows, _, complete = store.reuse_candidates(i, LEAST_KEYS)
    places = store.reuse_places(i)
    text = me.text
    form = comparable(text)
    if candidates is None:
        candidates = max(CANDIDATES, CANDIDATES_PER * limit)
    # Ranked by their passages' extents alone; only the relatives returned get their changes.
    found: list[tuple[int, int, str]] = []
    for row in rows[:candidates].tolist():
        other = store.text(row)
        passages = shared_passages(text, other, detail=False, a_form=form)
        if passages:
            found.append((sum(p.same for p in passages), row, other))
    found.sort(key=lambda f: (-f[0], f[1]))
    out = []
    for shared, row, other in found:
        share = shared / max(len(text), 1)
        if share < min_share:
            continue
        passages = tuple(shared_passages(text, other, places + store.reuse_places(row), a_form=form))
        out.append(Relative(view_of(row), passages, shared, share))
        if len(out) >= limit:
            break
    return Relatives(me, out, complete)
