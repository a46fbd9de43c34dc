"""Which segments a commit merges (the policy, a pure function of their sizes) and the merge itself.

Small segments left by earlier runs (incremental updates) are merged once there are MERGE_AT of
them, and a segment with more deleted documents than live ones is compacted. A run never merges
the segments it made itself: a build would otherwise write its own batches again. As in Whoosh
and tantivy, the policy only picks; the merger writes.
"""
from __future__ import annotations

from dataclasses import dataclass

from indexer.store.schema import schema_words
from indexer.store.segments import SegmentWithPiece, live_documents

SMALL_SEGMENT_DOCS = 1_500  # about 30 reports; a build's batches are larger (1 MB and up)
MERGE_AT = 4


@dataclass(frozen=True)
class SegmentSize:
    id: str
    live: int  # documents not deleted
    total: int  # documents, deleted ones included


def segments_to_merge(segments: list[SegmentSize], mergeable: set[str]) -> list[str]:
    """The ids, in order, of the segments to merge into one: among ``mergeable`` (made by earlier
    runs), every wasteful one (more deleted than live documents) and, once there are MERGE_AT
    small ones, every small one."""
    candidates = [s for s in segments if s.id in mergeable]
    small = [s for s in candidates if s.live < SMALL_SEGMENT_DOCS]
    return [s.id for s in candidates if s.live * 2 < s.total or (len(small) >= MERGE_AT and s in small)]


def merged_segments(writer, existing: list, mergeable: set[str]) -> list:
    """The segments of the next table of contents: ``existing``, with those the policy picks
    written again as one. Whoosh's own merge (MERGE_SMALL) copies stored fields, and a paragraph
    keeps nothing there: segments are merged by writing their live documents again, with their
    pieces, into one (store.segments)."""
    picked = set(segments_to_merge([SegmentSize(s.segment_id(), s.doc_count(), s.doc_count_all()) for s in existing],
                                   mergeable))
    if not picked:
        return existing
    chosen = [s for s in existing if s.segment_id() in picked]
    builder = SegmentWithPiece(writer.storage, writer.schema)
    builder.extend(live_documents(writer.storage, writer.schema, chosen, schema_words(writer.schema)))
    merged = builder.finish()
    return [s for s in existing if s not in chosen] + ([merged] if merged is not None else [])
