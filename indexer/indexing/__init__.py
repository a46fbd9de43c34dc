"""The indexing stage: a corpus folder becomes a committed index generation (scan, batches in worker processes, merges, commits, swaps)."""
