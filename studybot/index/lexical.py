"""BM25 indexes in bm25s's format, scored with NumPy from each token's documents and counts, updated incrementally.

bm25s builds its score matrix in Python loops over every token of the corpus and holds each token
as a string: for 20 MB of notes that was 9 s and most of a gigabyte, and an edited note rebuilt it
all from the catalog. Here the score matrix's own structure (each token's documents, `indices` and
`indptr`) is kept with each entry's token count (`tf.npy`) and each document's length
(`lengths.npy`, one row per entry of `ids.json`), so a refresh drops the stale chunks' entries,
adds the new chunks' and rescores every entry (every score depends on the whole corpus through idf
and the average length) in a few vectorised passes, without counting the corpus's tokens again.
The scores are bm25s's own: Lucene BM25 with its defaults, the same float operations in the same order.

At query time `Bm25Index` sums the question's columns of the saved matrix, in bm25s's order and
dtype (the same numbers as bm25s's get_scores): importing bm25s (scipy, tqdm) cost a cold search
more than the rest of the query.
"""

from __future__ import annotations

import json
import math
from array import array
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np

K1, B = 1.5, 0.75  # bm25s's defaults, which the saved params record
TF, LENGTHS = "tf.npy", "lengths.npy"


@dataclass
class Postings:
    """Each token's documents, in the score matrix's order (by token, then document): the documents of token
    `t` are `docs[indptr[t]:indptr[t + 1]]`, `tf` times each; document `i` is chunk `ids[i]`, `lengths[i]` tokens long."""

    ids: np.ndarray  # chunk ids, ascending
    lengths: np.ndarray  # int64
    indptr: np.ndarray  # int64, one more than the vocabulary
    docs: np.ndarray  # int32
    tf: np.ndarray  # int32
    vocab: list[str]


def load_postings(folder: Path, ids: np.ndarray) -> Postings | None:
    """The postings saved in a BM25 folder, for documents `ids` (ids.json); None when absent or inconsistent."""
    try:
        docs, indptr = (np.load(folder / f"{name}.csc.index.npy", allow_pickle=False) for name in ("indices", "indptr"))
        tf, lengths = np.load(folder / TF, allow_pickle=False), np.load(folder / LENGTHS, allow_pickle=False)
        vocab_dict = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    vocab = sorted(vocab_dict, key=vocab_dict.get)[:len(indptr) - 1]  # without bm25s's empty token when no column
    if (len(lengths) != len(ids) or len(vocab) != len(indptr) - 1 or len(tf) != len(docs) or indptr[-1] != len(docs)
            or int(tf.sum()) != int(lengths.sum()) or (len(docs) and docs.max() >= len(ids))):
        return None
    return Postings(np.asarray(ids, dtype=np.int64), lengths, indptr, docs, tf, vocab)


def update(previous: Postings | None, stale: set[int], new: Iterable[tuple[int, str]]) -> Postings:
    """The previous documents without the stale ones, plus the new ones (chunk id, space-separated tokens).

    An empty document is the token "" (as bm25s was given it). Tokens no document uses any more
    are dropped, so the vocabulary never grows with edits. Only the new documents' tokens are
    counted; the previous entries keep their order, so sorting them with the new ones is a merge.
    """
    vocab: dict[str, int] = {t: i for i, t in enumerate(previous.vocab)} if previous else {}
    new_ids, new_lengths, new_tokens = array("q"), array("q"), array("q")
    for cid, text in new:
        words = text.split() or [""]
        new_ids.append(cid)
        new_lengths.append(len(words))
        new_tokens.extend(vocab.setdefault(w, len(vocab)) for w in words)
    n_vocab = len(vocab)
    parts = []  # (ids, lengths, then each entry's token, document row and count)
    if previous is not None:
        keep = ~np.isin(previous.ids, np.fromiter(stale, dtype=np.int64, count=len(stale)))
        kept = keep[previous.docs]
        row = np.cumsum(keep) - 1  # a kept document's row once the stale ones are gone
        terms = np.repeat(np.arange(len(previous.vocab), dtype=np.int64), np.diff(previous.indptr))
        parts.append((previous.ids[keep], previous.lengths[keep], terms[kept], row[previous.docs[kept]],
                      previous.tf[kept]))
    lengths = np.frombuffer(new_lengths, dtype=np.int64)
    doc = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    width = max(n_vocab, 1)
    pairs, counts = np.unique(doc * width + np.frombuffer(new_tokens, dtype=np.int64), return_counts=True)
    offset = len(parts[0][0]) if parts else 0
    parts.append((np.frombuffer(new_ids, dtype=np.int64), lengths, pairs % width, pairs // width + offset,
                  counts.astype(np.int32)))
    ids, lengths, terms, docs, tf = (np.concatenate([p[k] for p in parts]) for k in range(5))
    order = np.argsort(ids, kind="stable")
    if np.any(order[1:] < order[:-1]):  # a new chunk took a smaller id than an old one: reorder the rows
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        ids, lengths, docs = ids[order], lengths[order], rank[docs]
    df = np.bincount(terms, minlength=n_vocab)
    used = np.flatnonzero(df)
    remap = np.full(n_vocab, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    terms = remap[terms]
    order = np.argsort(terms * max(len(ids), 1) + docs, kind="stable")  # mostly sorted runs: a merge
    indptr = np.zeros(len(used) + 1, dtype=np.int64)
    np.cumsum(df[used], out=indptr[1:])
    words = list(vocab)
    return Postings(ids, lengths, indptr, docs[order].astype(np.int32), tf[order], [words[u] for u in used.tolist()])


def score_matrix(postings: Postings) -> dict:
    """bm25s's score matrix (CSC: a column of document scores per token) for the postings."""
    n_docs, n_vocab = len(postings.ids), len(postings.vocab)
    df = np.diff(postings.indptr)
    terms = np.repeat(np.arange(n_vocab, dtype=np.int64), df)
    idf = np.array([math.log(1 + (n_docs - f + 0.5) / (f + 0.5)) for f in df.tolist()], dtype=np.float32)
    avg = np.asarray(postings.lengths, dtype=np.int64).mean()
    tf32 = postings.tf.astype(np.float32).astype(np.float64)
    tfc = tf32 / (K1 * ((1 - B) + B * postings.lengths[postings.docs] / avg) + tf32)
    value = (idf[terms].astype(np.float64) * tfc).astype(np.float32)
    return {"data": value, "indices": postings.docs, "indptr": postings.indptr, "num_docs": n_docs}


def save(folder: Path, postings: Postings) -> None:
    """Write the BM25 index in bm25s's format (search reads it with `Bm25Index`), with the postings beside it.

    Written here rather than by bm25s's own `save`, whose import (scipy with it) is most of a
    second, much of what a refresh after one edit costs.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if not len(postings.ids):
        return
    vocab_dict = {t: i for i, t in enumerate(postings.vocab)}
    vocab_dict.setdefault("", len(vocab_dict))  # bm25s adds the empty token to every vocabulary
    matrix = score_matrix(postings)
    for name in ("data", "indices", "indptr"):
        np.save(folder / f"{name}.csc.index.npy", matrix[name])
    (folder / "vocab.index.json").write_text(json.dumps(vocab_dict, ensure_ascii=False), encoding="utf-8")
    params = {"k1": K1, "b": B, "delta": 0.5, "method": "lucene", "idf_method": "lucene", "dtype": "float32",
              "int_dtype": "int32", "num_docs": matrix["num_docs"], "version": _bm25s_version(), "backend": "numpy"}
    (folder / "params.index.json").write_text(json.dumps(params, indent=4), encoding="utf-8")
    np.save(folder / TF, postings.tf)
    np.save(folder / LENGTHS, postings.lengths)


@lru_cache(maxsize=1)
def _bm25s_version() -> str:
    """bm25s's version for the params file, looked up once (each look-up reads package metadata: 8 ms)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bm25s")
    except PackageNotFoundError:
        return "0.0.0"


@dataclass
class Bm25Index:
    """One saved BM25 index, read for queries: vocabulary and the chunk scores of each token (CSC columns)."""

    vocab: dict[str, int]
    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    num_docs: int

    @classmethod
    def load(cls, folder: Path) -> "Bm25Index":
        """Read a folder written by `save` (or by `bm25s.BM25.save`); ValueError or OSError when it is not one."""
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") != "lucene":  # what `save` writes; other methods add scores for absent tokens
            raise ValueError(f"BM25 method {params.get('method')} is not read here")
        vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        arrays = [np.load(folder / f"{name}.csc.index.npy", allow_pickle=False) for name in ("data", "indices", "indptr")]
        scores = cls(vocab, *arrays, num_docs=int(params["num_docs"]))
        if len(scores.indptr) > len(vocab) + 1 or len(scores.data) != len(scores.indices):
            raise ValueError(f"{folder}: the score matrix does not match its vocabulary")
        return scores

    def scores(self, tokens: list[str]) -> np.ndarray:
        """Each chunk's BM25 score for the tokens (a repeated token counts again; unknown ones add nothing).

        bm25s gives the empty token, which our tokens never are, an id without a column.
        """
        scores = np.zeros(self.num_docs, dtype=self.data.dtype)
        for token in tokens:
            column = self.vocab.get(token)
            if column is not None and column + 1 < len(self.indptr):
                start, end = self.indptr[column], self.indptr[column + 1]
                np.add.at(scores, self.indices[start:end], self.data[start:end])
        return scores

    def chunks_with(self, token: str) -> int:
        """How many chunks the token scores in: its document frequency, for weighing a question's words."""
        column = self.vocab.get(token)
        if column is None or column + 1 >= len(self.indptr):
            return 0
        return int((self.data[self.indptr[column]:self.indptr[column + 1]] > 0).sum())
