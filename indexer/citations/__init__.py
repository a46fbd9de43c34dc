"""Citations: formats of a paragraph's reference, references between documents, and finding a quote's source."""
