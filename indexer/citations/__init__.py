"""Citations: what a paragraph cites and who cites whom, how to cite a paragraph, where a quote comes from.

``references`` finds the 《titles》 and 文号 in a text and links them to reports; ``cited`` builds the
corpus-wide ``CitationIndex`` from a store generation; ``formats`` writes a paragraph's citation
(GB/T 7714, BibTeX, RIS …); ``quote`` finds the paragraphs a pasted quote comes from. Everything
here reads a store (``store.exact.ExactStore``), never the search engine that owns it.
"""
