"""The store: what an index is on disk (layout, schema, segments, pieces, checksums) and one generation in memory (exact)."""
