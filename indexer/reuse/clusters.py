"""Near-duplicate paragraphs across a corpus, in clusters: the passages /reuse lists and the
"相似段落 N" of a hit.

Two paragraphs are near-duplicates when most of their fingerprints (``keys.fingerprints``: the
masked text's sampled shingles, numbers and places changed or not) are the same: Jaccard
similarity of the two sets of at least ``SAME``. A MinHash signature of ``HASHES`` minima per
paragraph estimates it; paragraphs whose signatures agree on a band of ``BAND`` minima are
candidates, and a candidate pair is kept when at least ``SAME`` of all the minima agree. The
clusters are the connected components of the kept pairs. Everything is numpy over the arrays the
pieces keep (``reuse_keys``, ``reuse_rows``): no pair of paragraphs is compared in Python.

A passage shared inside two longer paragraphs is not a near-duplicate of either: that is what a
paragraph's relatives (``align``) find; clusters group the paragraphs copied whole.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

HASHES = 16  # minima per signature
BAND = 2  # minima per LSH band: HASHES // BAND bands
SAME = 0.8  # least estimated Jaccard similarity of a kept pair (lower chains template variants into one giant cluster: bench/README.md)
MIN_KEYS = 3  # a paragraph with fewer fingerprints (a line of a few words) is in no cluster

_SEEDS = np.array([0x9E3779B97F4A7C15 * (k + 1) & 0xFFFFFFFFFFFFFFFF for k in range(HASHES)], dtype=np.uint64)
_MIX1, _MIX2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)


def _mixed(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(33))
        x = x * _MIX1
        x ^= x >> np.uint64(33)
        x *= _MIX2
        x ^= x >> np.uint64(33)
    return x


def signatures(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, signatures): the rows with at least MIN_KEYS fingerprints, ascending, and for each
    its HASHES minima (uint32); ``keys``/``rows``: every fingerprint and the row it is of, in any
    order, each (key, row) once."""
    if keys.size == 0:
        return np.zeros(0, np.int64), np.zeros((0, HASHES), np.uint32)
    order = np.argsort(rows, kind="stable")
    by_row, keys = rows[order], keys[order]
    starts = np.flatnonzero(np.concatenate([[True], by_row[1:] != by_row[:-1]]))
    counts = np.diff(np.append(starts, by_row.size))
    keep = counts >= MIN_KEYS
    sig = np.empty((int(keep.sum()), HASHES), np.uint32)
    for k in range(HASHES):
        minima = np.minimum.reduceat(_mixed(keys ^ _SEEDS[k]), starts)
        sig[:, k] = (minima[keep] >> np.uint64(32)).astype(np.uint32)
    return by_row[starts[keep]].astype(np.int64), sig


def _candidate_pairs(sig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (u, v) of signature rows agreeing on a whole band: within a band's bucket, each
    member and the next (a chain connects the bucket as every pair would)."""
    us, vs = [], []
    for b in range(HASHES // BAND):
        band = sig[:, b * BAND:(b + 1) * BAND].astype(np.uint64)
        code = band[:, 0] << np.uint64(32) | band[:, 1] if BAND == 2 else _mixed(band.sum(axis=1))
        order = np.argsort(code, kind="stable")
        same = code[order[1:]] == code[order[:-1]]
        us.append(order[:-1][same])
        vs.append(order[1:][same])
    if not us:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    u, v = np.concatenate(us), np.concatenate(vs)
    pair = np.unique(np.minimum(u, v) << 32 | np.maximum(u, v))
    return pair >> 32, pair & 0xFFFFFFFF


def components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The connected components of the graph on 0..n-1 with edges (u, v): each node's label is
    the smallest node of its component (hooking and pointer jumping, all numpy)."""
    labels = np.arange(n, dtype=np.int64)
    while u.size:
        lu, lv = labels[u], labels[v]
        low = np.minimum(lu, lv)
        hooked = labels.copy()
        np.minimum.at(hooked, lu, low)
        np.minimum.at(hooked, lv, low)
        while True:
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, labels):
            break
        labels = hooked
    return labels


def near_duplicate_labels(parts: Iterable[tuple[np.ndarray, np.ndarray]], n_rows: int) -> np.ndarray:
    """Per row of ``n_rows``, its cluster's label (one of the cluster's rows), -1 for a row in
    no cluster of two or more; ``parts``: (keys, rows) of each piece, rows numbered as the store
    numbers them (-1: not live). A piece's signatures are made from its own arrays, one at a time."""
    all_rows, all_sigs = [], []
    for keys, rows in parts:
        live = rows >= 0
        r, s = signatures(keys[live], rows[live])
        all_rows.append(r)
        all_sigs.append(s)
    labels = np.full(n_rows, -1, dtype=np.int64)
    if not all_rows:
        return labels
    rows = np.concatenate(all_rows)
    sig = np.concatenate(all_sigs)
    u, v = _candidate_pairs(sig)
    agree = (sig[u] == sig[v]).sum(axis=1) >= SAME * HASHES
    u, v = u[agree], v[agree]
    comp = components(rows.size, u, v)
    sizes = np.bincount(comp, minlength=rows.size)
    grouped = sizes[comp] > 1
    labels[rows[grouped]] = rows[comp[grouped]]
    return labels
