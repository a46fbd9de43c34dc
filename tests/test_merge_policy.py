"""The merge policy (indexer/indexing/merge.py) alone: which segments a commit merges, from their sizes."""
from __future__ import annotations

from indexer.indexing.merge import MERGE_AT, SMALL_SEGMENT_DOCS, SegmentSize, segments_to_merge

SMALL, LARGE = SMALL_SEGMENT_DOCS - 1, SMALL_SEGMENT_DOCS * 10


def _sizes(*live_total: tuple[int, int]) -> list[SegmentSize]:
    return [SegmentSize(f"s{i}", live, total) for i, (live, total) in enumerate(live_total)]


def test_small_segments_wait_until_there_are_enough_of_them():
    few = _sizes(*[(SMALL, SMALL)] * (MERGE_AT - 1), (LARGE, LARGE))
    assert segments_to_merge(few, {s.id for s in few}) == []
    enough = _sizes(*[(SMALL, SMALL)] * MERGE_AT, (LARGE, LARGE))
    assert segments_to_merge(enough, {s.id for s in enough}) == [f"s{i}" for i in range(MERGE_AT)]


def test_a_segment_with_more_deleted_than_live_documents_is_compacted_alone():
    sizes = _sizes((LARGE, LARGE), (LARGE, 2 * LARGE + 1), (SMALL, SMALL))
    assert segments_to_merge(sizes, {"s0", "s1", "s2"}) == ["s1"]
    assert segments_to_merge(_sizes((LARGE, 2 * LARGE)), {"s0"}) == []  # half deleted is not yet wasteful


def test_segments_a_run_made_itself_are_never_merged():
    sizes = _sizes(*[(SMALL, SMALL)] * MERGE_AT, (1, 100))
    assert segments_to_merge(sizes, set()) == []
    mine = {"s0", "s4"}  # the others were made by this run
    assert segments_to_merge(sizes, {s.id for s in sizes} - mine) == []
    assert segments_to_merge(sizes, {"s4"}) == ["s4"]
