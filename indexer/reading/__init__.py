"""The reading stage: a file becomes a ``Report`` (readers, structure, metadata); no Whoosh, no numpy."""
