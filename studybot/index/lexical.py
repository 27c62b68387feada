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
PARAMS = "params.index.json"  # bm25s's parameters file, which names the method and the bm25s version


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
    counted, and their entries are inserted among the previous ones, which keep their order: an
    edited note costs a few passes over the entries, not a sort of them (a fresh process pays for
    every page it touches, so each pass over 5 MB of notes' entries is milliseconds).
    """
    vocab: dict[str, int] = {t: i for i, t in enumerate(previous.vocab)} if previous else {}
    new_ids, new_lengths, new_tokens = array("q"), array("q"), array("q")
    for cid, text in new:
        words = text.split() or [""]
        new_ids.append(cid)
        new_lengths.append(len(words))
        new_tokens.extend(vocab.setdefault(w, len(vocab)) for w in words)
    n_vocab, n_previous = len(vocab), len(previous.vocab) if previous else 0
    if previous is None:
        previous = Postings(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int32),
                            np.zeros(0, np.int32), [])
    keep = ~np.isin(previous.ids, np.fromiter(stale, dtype=np.int64, count=len(stale)))
    ids = np.concatenate([previous.ids[keep], np.frombuffer(new_ids, dtype=np.int64)])
    lengths = np.concatenate([previous.lengths[keep], np.frombuffer(new_lengths, dtype=np.int64)])
    n_kept = int(keep.sum())
    row = np.arange(len(ids))  # each document's row: kept ones first, then the new ones...
    ordered = bool(np.all(ids[1:] > ids[:-1]))
    if not ordered:  # ...unless a new chunk took a smaller id than a kept one: the rows follow the ids
        order = np.argsort(ids, kind="stable")
        ids, lengths, row[order] = ids[order], lengths[order], np.arange(len(ids))
    n_docs = len(ids)
    if keep.all() and ordered:
        docs, tf, kept_indptr = previous.docs, previous.tf, previous.indptr
    else:
        kept = keep[previous.docs]
        moved = np.zeros(len(keep), dtype=np.int32)  # each previous document's new row
        moved[keep] = row[:n_kept]
        docs = moved[previous.docs[kept]]
        tf = previous.tf[kept]
        kept_indptr = np.concatenate([[0], np.cumsum(kept)])[previous.indptr]
    # The new entries, by token then row, and where each goes among the previous ones.
    doc = np.repeat(np.arange(len(new_lengths), dtype=np.int64), np.frombuffer(new_lengths, dtype=np.int64))
    width = max(n_vocab, 1)
    pairs, counts = np.unique(doc * width + np.frombuffer(new_tokens, dtype=np.int64), return_counts=True)
    new_terms, new_docs = pairs % width, row[n_kept:][pairs // width]
    by_term = np.argsort(new_terms * n_docs + new_docs, kind="stable")
    new_terms, new_docs, counts = new_terms[by_term], new_docs[by_term], counts[by_term]
    if not len(docs):  # a fresh build
        docs, tf = new_docs.astype(np.int32), counts.astype(np.int32)
    else:
        if ordered:  # every new row comes after the kept ones: at the end of its token's column
            at = kept_indptr[np.minimum(new_terms + 1, n_previous)]
        else:
            kept_terms = np.repeat(np.arange(n_previous, dtype=np.int64), np.diff(kept_indptr))
            at = np.searchsorted(kept_terms * n_docs + docs, new_terms * n_docs + new_docs)
        docs = np.insert(docs, at, new_docs.astype(np.int32))
        tf = np.insert(tf, at, counts.astype(np.int32))
    df = np.bincount(new_terms, minlength=n_vocab)
    df[:n_previous] += np.diff(kept_indptr)
    used = np.flatnonzero(df)  # the tokens no document uses any more have no entries: only the columns go
    indptr = np.zeros(len(used) + 1, dtype=np.int64)
    np.cumsum(df[used], out=indptr[1:])
    words = list(vocab)
    return Postings(ids, lengths, indptr, docs, tf, [words[u] for u in used.tolist()])


def score_matrix(postings: Postings) -> dict:
    """bm25s's score matrix (CSC: a column of document scores per token) for the postings.

    bm25s's float operations in its order, each one on the entries or, where it depends on the
    document alone (the length norm), once per document: the same numbers, fewer passes.
    """
    n_docs = len(postings.ids)
    df = np.diff(postings.indptr)
    idf = np.array([math.log(1 + (n_docs - f + 0.5) / (f + 0.5)) for f in df.tolist()], dtype=np.float32)
    avg = np.asarray(postings.lengths, dtype=np.int64).mean()
    norm = K1 * ((1 - B) + B * postings.lengths / avg)
    tf32 = postings.tf.astype(np.float32).astype(np.float64)
    value = tf32 / (norm[postings.docs] + tf32)
    value *= np.repeat(idf.astype(np.float64), df)
    return {"data": value.astype(np.float32), "indices": postings.docs, "indptr": postings.indptr, "num_docs": n_docs}


def save(folder: Path, postings: Postings, version: str | None = None) -> None:
    """Write the BM25 index in bm25s's format (search reads it with `Bm25Index`), with the postings beside it.

    Written here rather than by bm25s's own `save`, whose import (scipy with it) is most of a
    second, much of what a refresh after one edit costs. `version` is the bm25s version the params
    file names (a refresh passes the previous generation's: looking it up costs 30 ms of imports).
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
              "int_dtype": "int32", "num_docs": matrix["num_docs"], "version": version or _bm25s_version(), "backend": "numpy"}
    (folder / PARAMS).write_text(json.dumps(params, indent=4), encoding="utf-8")
    np.save(folder / TF, postings.tf)
    np.save(folder / LENGTHS, postings.lengths)


def saved_version(folder: Path) -> str | None:
    """The bm25s version a saved BM25 index names, or None when its params cannot be read."""
    try:
        return str(json.loads((folder / PARAMS).read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


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
        params = json.loads((folder / PARAMS).read_text(encoding="utf-8"))
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

    def rows_with(self, token: str) -> np.ndarray:
        """The rows (documents) the token scores in."""
        column = self.vocab.get(token)
        if column is None or column + 1 >= len(self.indptr):
            return np.zeros(0, dtype=self.indices.dtype)
        start, end = self.indptr[column], self.indptr[column + 1]
        return self.indices[start:end][self.data[start:end] > 0]

    def chunks_with(self, token: str) -> int:
        """How many chunks the token scores in: its document frequency, for weighing a question's words."""
        return len(self.rows_with(token))
