"""The search stage: a query becomes results (parse, match, rank, highlight), over one generation of the store."""
