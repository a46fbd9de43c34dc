"""Whoosh segments written in bulk: the same files Whoosh's own writer produces, in a fraction of the time.

Whoosh's ``SegmentWriter`` pushes every posting through a pool, a sort of Python tuples, and a
per-posting ``add`` that reads the document's length back from disk: about 20 µs a posting,
which made it the bottleneck of the indexer. ``SegmentBuilder`` keeps the per-document side
(stored fields and field lengths go through Whoosh's own per-document writer, call for call as
``SegmentWriter.add_document`` makes them) and replaces the inverted side: it counts words per
document, sorts all postings of the segment at once with numpy, and hands Whoosh's block writer
a whole block (up to 128 postings) at a time. Blocks, term infos, headers and compression are
still Whoosh's code; only where a block's lists come from changes.

``SegmentWithPiece`` is the one way the indexer writes a segment (an index worker's batch, a merge,
a carry-over): the segment and its piece (pieces.py), from typed documents (schema.py);
``live_documents`` reads a segment's documents back to be written again.

Like the sub-writers of Whoosh's ``MpWriter(multisegment=True)``, a builder writes a complete
segment that a later commit adds to the index's table of contents; until then the segment is
just files nobody reads. tests/test_segments.py proves that a built segment reads back
posting for posting, stored field for stored field and score for score like one written by
``IndexWriter.add_document``.

Depends on the internals of whoosh-reloaded 2.7.5 (``W3PostingsWriter``'s block buffer), which
is why that version is pinned exactly.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from whoosh.analysis import IDTokenizer
from whoosh.codec import default_codec
from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter
from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.formats import Existence, Frequency
from whoosh.reading import SegmentReader
from whoosh.util.numeric import byte_to_length, length_to_byte

from indexer.analysis import PolicyTokenizer
from indexer.store.layout import INDEX_NAME, damaged
from indexer.store.pieces import PieceBuilder, locked_piece_of, piece_path
from indexer.store.schema import Document, ParagraphDoc, ReportDoc, paragraph_document, stored_document

_QUANTISED = np.array([byte_to_length(length_to_byte(n)) for n in range(1 << 16)], dtype=np.int64)


def quantised_length(n: int) -> int:
    """A field length as Whoosh reads it back from its one-byte length column."""
    return int(_QUANTISED[n]) if n < _QUANTISED.size else byte_to_length(length_to_byte(n))


class _BlockPostingsWriter(W3PostingsWriter):
    """Whoosh's postings writer, given its block buffer a block at a time."""

    def set_block(self, ids: list[int], deltas: tuple, weights: list[float], values: bytes | None,
                  lengths: list[int] | None) -> None:
        self._ids = ids
        self._weights = weights
        self._deltas = deltas
        self._values_bytes = values
        self._maxweight = max(weights)
        if lengths:
            self._minlength = min(lengths)
            self._maxlength = max(lengths)
        else:
            self._minlength, self._maxlength = None, 0

    def _mini_ids(self):
        return self._deltas

    def _mini_weights(self):
        weights = self._weights
        lo, hi = min(weights), max(weights)
        if lo == hi == 1.0:
            return None
        if lo == hi:
            return weights[0]
        return tuple(weights)

    def _mini_values(self):
        return self._values_bytes


class _FieldPostings:
    """One indexed field's postings, gathered document by document."""

    def __init__(self):
        self.vocab: dict[str, int] = {}
        self.term_ids: list[int] = []
        self.docs: list[int] = []
        self.freqs: list[int] = []

    def add(self, docnum: int, counts: dict[str, int]) -> None:
        vocab = self.vocab
        self.term_ids.extend([vocab.setdefault(w, len(vocab)) for w in counts])
        self.freqs.extend(counts.values())
        self.docs.extend([docnum] * len(counts))


class SegmentBuilder:
    """Writes one new segment of ``schema`` into ``storage``; ``finish()`` returns it, ready to be
    listed in a table of contents (a commit's ``mergetype``, see indexer/indexing/update.py). Without its
    piece: SegmentWithPiece writes both."""

    def __init__(self, storage, schema: Schema, indexname: str):
        self.storage = storage
        self.schema = schema
        self.codec: W3Codec = default_codec()
        self.segment = self.codec.new_segment(storage, indexname)
        self._perdoc = self.codec.per_document_writer(storage, self.segment)
        self._postings: dict[str, _FieldPostings] = {}
        self._lengths: dict[str, dict[int, int]] = {}
        self.doc_count = 0
        for name, field in schema.items():
            if not field.indexed:
                continue
            if not isinstance(field.format, (Frequency, Existence)) or field.vector or field.separate_spelling():
                raise ValueError(f"field {name!r}: only frequency and existence postings are built in bulk")
            tokenizer = field.analyzer
            if not isinstance(tokenizer, (PolicyTokenizer, IDTokenizer)):
                raise ValueError(f"field {name!r}: analyzer {tokenizer!r} is not supported in bulk")

    def add_document(self, **fields) -> None:
        """Same arguments as ``IndexWriter.add_document``; a ``PolicyTokenizer`` field takes the
        tuple of already analysed words (as ``ParagraphDoc.whoosh_fields()`` gives them)."""
        docnum = self.doc_count
        perdoc = self._perdoc
        perdoc.start_doc(docnum)
        for name in sorted(n for n in fields if not n.startswith("_")):
            value = fields[name]
            if value is None:
                continue
            field = self.schema[name]
            length = 0
            if field.indexed:
                counts = self._counts(field, value)
                if counts:
                    self._postings.setdefault(name, _FieldPostings()).add(docnum, counts)
                if field.scorable:
                    length = sum(counts.values())
                    if length:
                        self._lengths.setdefault(name, {})[docnum] = quantised_length(length)
            perdoc.add_field(name, field, value if field.stored else None, length)
        perdoc.finish_doc()
        self.doc_count += 1

    @staticmethod
    def _counts(field, value) -> dict[str, int]:
        if isinstance(field.analyzer, IDTokenizer):
            return {value: 1}
        if isinstance(value, str):
            value = tuple(t.text for t in field.analyzer(value))
        return Counter(value)

    def finish(self):
        """Writes the inverted index, closes every file, and returns the segment."""
        self._perdoc.close()
        fieldwriter = self.codec.field_writer(self.storage, self.segment)
        for name in sorted(self._postings):
            self._write_field(fieldwriter, name, self._postings.pop(name))
        fieldwriter.close()
        self.segment.set_doc_count(self.doc_count)
        return self.segment

    def _write_field(self, fieldwriter, name: str, postings: _FieldPostings) -> None:
        field = self.schema[name]
        codec = self.codec
        words = list(postings.vocab)
        # Whoosh orders terms by their UTF-8 bytes, and postings of a term by document.
        by_bytes = sorted(range(len(words)), key=lambda i: words[i].encode("utf-8"))
        rank = np.empty(len(words), dtype=np.int64)
        rank[by_bytes] = np.arange(len(words))
        term_rank = rank[np.asarray(postings.term_ids, dtype=np.int64)]
        order = np.argsort(term_rank, kind="stable")  # documents were added in ascending order
        term_rank = term_rank[order]
        docs = np.asarray(postings.docs, dtype=np.int64)[order]
        freqs = np.asarray(postings.freqs, dtype=np.int64)[order]
        del postings

        term_starts = np.flatnonzero(np.diff(term_rank, prepend=-1))
        term_ends = np.append(term_starts[1:], docs.size)
        # Blocks of at most blocklimit postings, each term starting a new block.
        blocklimit = codec._blocklimit
        offsets_in_term = np.arange(docs.size) - np.repeat(term_starts, term_ends - term_starts)
        block_start = offsets_in_term % blocklimit == 0
        deltas = np.diff(docs, prepend=0)
        deltas[block_start] = docs[block_start]

        doc_list = docs.tolist()
        delta_list = deltas.tolist()
        weight_list = freqs.astype(np.float64).tolist()
        values = freqs.astype(">u4").tobytes() if isinstance(field.format, Frequency) else None
        lengths = self._lengths.get(name)
        if lengths:
            by_doc = np.zeros(self.doc_count, dtype=np.int64)
            by_doc[np.fromiter(lengths.keys(), dtype=np.int64)] = np.fromiter(lengths.values(), dtype=np.int64)
            length_list = by_doc[docs].tolist()
        else:
            length_list = None

        fieldwriter.start_field(name, field)
        postwriter = _BlockPostingsWriter(fieldwriter._postfile, blocklimit=blocklimit,
                                          compression=codec._compression, inlinelimit=codec._inlinelimit)
        fieldwriter._postwriter = postwriter
        for t, (start, end) in enumerate(zip(term_starts.tolist(), term_ends.tolist())):
            fieldwriter.start_term(words[by_bytes[t]].encode("utf-8"))
            for a in range(start, end, blocklimit):
                b = min(a + blocklimit, end)
                postwriter.set_block(
                    doc_list[a:b], tuple(delta_list[a:b]), weight_list[a:b],
                    values[4 * a:4 * b] if values is not None else None,
                    length_list[a:b] if length_list is not None else None,
                )
                if b < end:
                    postwriter._write_block()
            fieldwriter.finish_term()
        fieldwriter.finish_field()


class SegmentWithPiece:
    """One new segment of the index's schema and its piece, written together: ``add`` documents,
    then ``finish``. Until a commit lists the segment it is just files nobody reads."""

    def __init__(self, storage, schema: Schema):
        self.folder = Path(storage.folder)
        self._segment = SegmentBuilder(storage, schema, INDEX_NAME)
        self._piece = PieceBuilder()

    @classmethod
    def in_folder(cls, folder: Path | str, schema: Schema) -> "SegmentWithPiece":
        """In a folder of its own (created), to be moved into the index's folder once finished."""
        return cls(FileStorage(str(folder)).create(), schema)

    def add(self, doc: Document) -> None:
        docnum = self._segment.doc_count
        if isinstance(doc, ParagraphDoc):
            self._piece.add_paragraph(docnum, doc.pid, doc.rid, doc.kind, doc.ordinal, doc.section, doc.text,
                                      doc.folded, doc.block)
        elif isinstance(doc, ReportDoc):
            self._piece.add_report(docnum, doc.piece_row())
        self._segment.add_document(**doc.whoosh_fields())

    def extend(self, docs: Iterable[Document]) -> None:
        for doc in docs:
            self.add(doc)

    def finish(self):
        """Writes the segment's files and its piece; returns the segment, or None if no document
        was added (no files are written then)."""
        if not self._segment.doc_count:
            return None
        segment = self._segment.finish()
        self._piece.save(piece_path(self.folder, segment))
        return segment


def live_documents(storage, schema: Schema, segments: list, extra_words: tuple,
                   rids: set[str] | None = None) -> Iterator[Document]:
    """The live documents of segments, to be written again: paragraphs from their pieces (their
    words segmented with extra_words), reports and retired paragraphs from Whoosh's stored
    fields. ``rids``: only the paragraphs and reports of these reports (and every retired
    paragraph); None for all. For a writer, which holds the lock: a missing piece is damage."""
    for segment in segments:
        reader = SegmentReader(storage, schema, segment)
        try:
            # Without reports to carry, only stored documents are wanted: the pieces are not read.
            old = locked_piece_of(storage.folder, reader) if rids is None or rids else None
            rows = {r.docnum: r for r in old.rows()} if old is not None else {}
            for docnum in range(segment.doc_count_all()):
                if reader.is_deleted(docnum):
                    continue
                row = rows.get(docnum)
                if row is not None:
                    if rids is None or row.rid in rids:
                        yield paragraph_document(row.pid, row.rid, row.kind, row.ordinal, row.section, row.text,
                                                 row.folded, extra_words, block=row.block)
                    continue
                doc = stored_document(reader.stored_fields(docnum))
                if doc is None:
                    if rids is not None and not rids:
                        continue  # a paragraph, whose piece was not read
                    raise damaged(storage.folder, f"document {docnum} of segment {segment.segment_id()} is in no piece")
                if rids is None or doc.kind == "retired" or doc.rid in rids:
                    yield doc
        finally:
            reader.close()

