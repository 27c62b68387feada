"""BM25 scores of a question, read from the index files bm25s writes, with NumPy alone.

bm25s builds the index (index/build.py) and precomputes the score of every (token, chunk) pair
into a sparse column matrix, so scoring a question is summing a few columns. Importing bm25s
costs more than the whole query (it imports scipy and tqdm: 0.1-0.3 s of every cold search), so
search sums the columns itself, in bm25s's order and dtype: the scores are the same numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# bm25s methods whose scores also need a per-token score for chunks that lack the token
_NEEDS_NONOCCURRENCE = ("bm25l", "bm25+")


@dataclass
class Bm25Scores:
    """One saved bm25s index: vocabulary and the chunk scores of each token (CSC columns)."""

    vocab: dict[str, int]
    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    num_docs: int

    @classmethod
    def load(cls, folder: Path) -> "Bm25Scores":
        """Read a folder written by `bm25s.BM25.save`; ValueError or OSError when it is not one."""
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") in _NEEDS_NONOCCURRENCE:
            raise ValueError(f"bm25s method {params['method']} is not read here")
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
