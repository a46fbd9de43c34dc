"""policy-search: reading, normalising, structuring, analysing, indexing and searching reports."""
__version__ = "0.1.0"
