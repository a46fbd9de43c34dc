"""What an update drops is remembered: the paragraphs of a changed or removed report that are not
live any more become retired documents, so that a link to one can point at the closest current
paragraph instead of nowhere."""
from __future__ import annotations

import numpy as np

from indexer.store.pieces import Piece, PieceRow, locked_piece_of
from indexer.store.schema import retired_documents


def retire(writer, rid: str, live_pids: set[str], pieces: dict[str, Piece | None]) -> None:
    """Remembers the paragraphs of report rid that the update drops (see schema.retired_documents)."""
    for doc in retired_documents(current_paragraphs(writer, rid, pieces), live_pids):
        writer.delete_by_term("retired_pid", doc.pid)
        writer.add_document(**doc.whoosh_fields())


def current_paragraphs(writer, rid: str, pieces: dict[str, Piece | None]) -> list[PieceRow]:
    """The live paragraphs of report rid, from the pieces of the segments that hold them."""
    out: list[PieceRow] = []
    with writer.searcher() as s:
        docnums = np.fromiter(s.document_numbers(rid=rid), dtype=np.int64)
        for segreader, offset in s.reader().leaf_readers():
            if not hasattr(segreader, "segment"):
                continue
            local = docnums[(docnums >= offset) & (docnums < offset + segreader.doc_count_all())] - offset
            if not local.size:
                continue
            segment_id = segreader.segment().segment_id()
            if segment_id not in pieces:
                pieces[segment_id] = locked_piece_of(writer.storage.folder, segreader)
            piece = pieces[segment_id]
            if piece is not None:  # else retired paragraphs only
                out += [piece.row(j) for j in np.flatnonzero(np.isin(piece.docnums, local))]
    return out
