"""Text reuse (issue 16): the passages reports share with numbers and places changed.

``keys``: fingerprints of a paragraph's text, so that paragraphs sharing a passage share some;
``align``: the passages two paragraphs share, and what changed inside them. Pure functions of
text, below the store (which keeps the fingerprints of a segment beside its piece) and the
search (which looks a paragraph's relatives up).
"""
