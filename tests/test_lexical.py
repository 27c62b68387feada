"""BM25 scored with NumPy from token ids: the same scores as bm25s, and an update equals a fresh build."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from studybot.index import lexical

DOCS = ["梯度 消失 梯度 rnn", "", "batch norm batch norm batch", "attention 梯度", "rnn lstm gru rnn", "norm"]


def _by_cell(scores: dict, vocab: list[str]) -> dict[tuple[int, str], float]:
    """(document row, token) -> score, whatever the order of the vocabulary."""
    cells = {}
    for column, token in enumerate(vocab):
        for k in range(scores["indptr"][column], scores["indptr"][column + 1]):
            cells[(int(scores["indices"][k]), token)] = float(scores["data"][k])
    return cells


def test_scores_are_those_of_bm25s() -> None:
    postings = lexical.update(None, set(), enumerate(DOCS))
    reference = bm25s.BM25()
    reference.index([d.split() or [""] for d in DOCS], show_progress=False)
    vocab = sorted(reference.vocab_dict, key=reference.vocab_dict.get)
    assert _by_cell(lexical.score_matrix(postings), postings.vocab) == _by_cell(reference.scores, vocab)  # bit for bit


def test_an_update_equals_a_fresh_build_and_survives_saving(tmp_path: Path) -> None:
    fresh = lexical.update(None, set(), enumerate(DOCS))
    partial = lexical.update(None, set(), [(i, d) for i, d in enumerate(DOCS) if i not in (1, 3)] + [(9, "gone 词")])
    lexical.save(tmp_path / "text", partial)
    loaded = lexical.load_postings(tmp_path / "text", partial.ids)
    updated = lexical.update(loaded, {0, 9}, [(0, DOCS[0]), (1, DOCS[1]), (3, DOCS[3])])
    assert updated.ids.tolist() == fresh.ids.tolist() and "gone" not in updated.vocab  # unused tokens leave
    assert _by_cell(lexical.score_matrix(updated), updated.vocab) == _by_cell(lexical.score_matrix(fresh), fresh.vocab)
    model = bm25s.BM25.load(str(tmp_path / "text"), show_progress=False)
    row = model.retrieve([["batch"]], k=1, show_progress=False).documents[0][0]
    assert partial.ids[row] == 2  # rows follow the ids
    assert lexical.load_postings(tmp_path / "text", np.arange(3)) is None  # rows that do not match ids.json


def test_updates_that_only_add_or_replace_everything_equal_fresh_builds() -> None:
    docs = list(enumerate(DOCS))
    added = lexical.update(lexical.update(None, set(), docs[:4]), set(), docs[4:] + [(7, "new 词 batch")])
    fresh = lexical.update(None, set(), docs + [(7, "new 词 batch")])
    assert added.ids.tolist() == fresh.ids.tolist()
    assert _by_cell(lexical.score_matrix(added), added.vocab) == _by_cell(lexical.score_matrix(fresh), fresh.vocab)
    replaced = lexical.update(fresh, set(fresh.ids.tolist()), [(8, "rnn norm"), (9, "")])
    again = lexical.update(None, set(), [(8, "rnn norm"), (9, "")])
    assert replaced.ids.tolist() == [8, 9] and sorted(replaced.vocab) == sorted(again.vocab)
    assert _by_cell(lexical.score_matrix(replaced), replaced.vocab) == _by_cell(lexical.score_matrix(again), again.vocab)


def test_saved_files_load_in_bm25s_as_its_own_save_writes_them(tmp_path: Path) -> None:
    postings = lexical.update(None, set(), enumerate(DOCS))
    lexical.save(tmp_path / "ours", postings)
    reference = bm25s.BM25()
    reference.index([d.split() or [""] for d in DOCS], show_progress=False)
    reference.save(str(tmp_path / "theirs"), show_progress=False)
    ours, theirs = (bm25s.BM25.load(str(tmp_path / name), show_progress=False) for name in ("ours", "theirs"))
    assert {k: v for k, v in vars(ours).items() if k not in ("scores", "vocab_dict", "unique_token_ids_set")} == \
        {k: v for k, v in vars(theirs).items() if k not in ("scores", "vocab_dict", "unique_token_ids_set")}
    assert set(ours.vocab_dict) == set(theirs.vocab_dict) and ours.scores["num_docs"] == theirs.scores["num_docs"]
    for name in ("data", "indices", "indptr"):
        assert ours.scores[name].dtype == theirs.scores[name].dtype
    for query in (["batch"], ["梯度", "rnn"], ["norm", "lstm"], ["absent"]):
        a = ours.get_scores(query)
        assert np.array_equal(a, theirs.get_scores(query))
