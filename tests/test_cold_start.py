"""What a new process loads before it answers: jieba's counts and tags from disk, BM25 without bm25s, mapped weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from studybot.errors import StudybotError
from tests.conftest import REPO

# Sentences written for this test: domain terms (some only in the glossary), everyday words, English.
TEXT = ("梯度消失是深层网络训练困难的主要原因之一，残差连接让梯度可以直接流回浅层。"
        "批归一化在小批量上估计均值和方差；层归一化对每个样本的特征维度归一化。"
        "研究生命起源的人也会用注意力机制吗？Dropout 在训练时随机丢弃神经元，测试时不丢弃。"
        "学习率预热与余弦退火常一起使用，过拟合时可以加权重衰减。")
# Sentence openings written for this test: a verb, an adverb, a conjunction, a pronoun, a glossary term, a verb that
# only jieba.posseg's HMM cuts off (plain segmentation keeps 举个 whole), a character outside posseg's range, nothing.
OPENINGS = ["保留了 LN 的关键性质", "通常没有偏置", "而且计算更少", "它和 batch 无关", "梯度消失是主要原因",
            "举个例子，输入是一张图", "㐀字", ""]

_SEGMENT = """
import json, sys
from studybot.content.glossary import load_glossary
from studybot.text import dictionary
from studybot.text.tokens import _jieba, add_words, first_word_tag, tokenize
dictionary.READ_ALL_AFTER = int(sys.argv[2])
add_words(a for e in load_glossary().entries for a in e.zh)
freq = _jieba().dt.FREQ
openings = json.loads(sys.argv[3])
found = {"tokens": [tokenize(part) for part in sys.argv[1].split("。")], "tags": [first_word_tag(t) for t in openings],
         "posseg": "jieba.posseg" in sys.modules, "from_disk": type(freq).__name__ == "WordCounts",
         "read_all": getattr(freq, "_all", None)}
from jieba import posseg
found["posseg_tags"] = [next((pair.flag for pair in posseg.cut(t[:16])), "") for t in openings]
print(json.dumps(found))
"""


def _segment(cache: Path, read_all_after: int = 20_000) -> dict:
    env = {**os.environ, "STUDYBOT_CACHE": str(cache)}
    result = subprocess.run([sys.executable, "-c", _SEGMENT, TEXT, str(read_all_after), json.dumps(OPENINGS)],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_jieba_counts_read_from_disk_segment_exactly_as_jieba_loaded_whole(tmp_path: Path) -> None:
    first = _segment(tmp_path)  # no counts file yet: jieba loads its dictionary and the file is written
    assert not first["from_disk"]
    assert list(tmp_path.glob("jieba-words-*.sqlite")), "the counts were not kept for the next process"
    on_demand = _segment(tmp_path)
    read_all = _segment(tmp_path, read_all_after=50)  # a process that reads many words reads them all at once
    assert on_demand["from_disk"] and on_demand["read_all"] is False
    assert read_all["from_disk"] and read_all["read_all"] is True
    assert on_demand["tokens"] == first["tokens"] == read_all["tokens"]
    assert "梯度消失" in first["tokens"][0]  # the glossary's term stays whole (add_words works on disk counts too)


def test_a_damaged_counts_file_is_replaced_not_an_error(tmp_path: Path) -> None:
    reference = _segment(tmp_path)
    [counts] = tmp_path.glob("jieba-words-*.sqlite")
    counts.write_bytes(b"not a database" * 100)
    again = _segment(tmp_path)
    assert not again["from_disk"] and again["tokens"] == reference["tokens"]
    assert _segment(tmp_path)["from_disk"]  # written anew


def test_first_word_tags_come_from_the_counts_file_as_jieba_posseg_gives_them_without_importing_it(
        tmp_path: Path) -> None:
    first, later = _segment(tmp_path), _segment(tmp_path)  # the dictionary loaded whole, then the counts file
    assert later["from_disk"]
    for run in (first, later):
        assert run["tags"] == run["posseg_tags"] and not run["posseg"]
    assert later["tags"][:2] == ["v", "d"] and later["tags"][5] == "v" and later["tags"][-2:] == ["x", ""]


def test_a_counts_file_of_an_older_layout_is_rebuilt_with_tags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    import jieba

    from studybot.text import dictionary

    monkeypatch.setenv("STUDYBOT_CACHE", str(tmp_path))
    path = dictionary._path(jieba)
    with sqlite3.connect(path) as db:  # the layout before tags: counts only
        db.execute("CREATE TABLE words (word TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID")
        db.executemany("INSERT INTO words VALUES (?, ?)", [("保留", 100), ("保", 10)])
        db.execute("CREATE TABLE meta (total INTEGER NOT NULL)")
        db.execute("INSERT INTO meta VALUES (110)")
    db.close()
    stale = _segment(tmp_path)
    assert not stale["from_disk"] and stale["tags"] == stale["posseg_tags"]
    rebuilt = _segment(tmp_path)
    assert rebuilt["from_disk"] and rebuilt["tags"] == stale["tags"] and not rebuilt["posseg"]
    assert rebuilt["tokens"] == stale["tokens"]


def test_bm25_scores_without_bm25s_equal_bm25s_scores(tmp_path: Path) -> None:
    import bm25s

    from studybot.index.lexical import Bm25Index

    corpus = [["梯度", "消失", "残差"], ["批", "归一化", "均值", "方差", "归一化"], ["dropout", "神经元", "训练"],
              ["学习率", "预热", "余弦"], ["梯度", "裁剪", "训练", "训练"], [""]]
    model = bm25s.BM25()
    model.index(corpus, show_progress=False)
    model.save(str(tmp_path / "bm25"), show_progress=False)
    mine = Bm25Index.load(tmp_path / "bm25")
    for query in (["梯度"], ["训练", "梯度", "训练"], ["归一化", "未知词"], ["余弦", "dropout", "方差"]):
        assert np.array_equal(mine.scores(query), model.get_scores(query)), query
    assert not mine.scores(["未知词"]).any()
    for token in ("梯度", "训练", "归一化", "未知词", ""):
        assert mine.chunks_with(token) == int((mine.scores([token]) > 0).sum()), token
    assert mine.chunks_with("训练") == 2
    (tmp_path / "bm25" / "vocab.index.json").write_text("{broken")
    with pytest.raises(ValueError):
        Bm25Index.load(tmp_path / "bm25")


def test_mapped_safetensors_weights_are_the_file_s_tensors(tmp_path: Path) -> None:
    from safetensors.numpy import load_file, save_file

    from studybot.index.numpy_bert import mapped_safetensors

    rng = np.random.default_rng(0)
    tensors = {"a.weight": rng.standard_normal((7, 5)).astype(np.float32), "b.bias": np.arange(3, dtype=np.int64),
               "c.half": rng.standard_normal((2, 2)).astype(np.float16)}
    save_file(tensors, str(tmp_path / "model.safetensors"))
    mapped = mapped_safetensors(tmp_path / "model.safetensors")
    loaded = load_file(str(tmp_path / "model.safetensors"))
    assert mapped.keys() == loaded.keys()
    for name in tensors:
        assert mapped[name].dtype == loaded[name].dtype and np.array_equal(mapped[name], loaded[name]), name
    (tmp_path / "broken.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(StudybotError, match="download the model again"):
        mapped_safetensors(tmp_path / "broken.safetensors")


def test_a_cold_search_imports_neither_bm25s_nor_scipy_nor_torch_nor_yaml(knowledge_home: Path) -> None:
    code = ("import sys\nfrom studybot.cli.main import main\n"
            "sys.argv = ['studybot', 'search', 'BatchNorm 和 LayerNorm 有什么区别？', '--json']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('LOADED', sorted(m for m in ('bm25s', 'scipy', 'torch', 'sentence_transformers', 'safetensors', 'yaml')"
            " if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                            env={**os.environ, "STUDYBOT_HOME": str(knowledge_home)})
    assert result.returncode == 0, result.stderr
    assert '"file"' in result.stdout and "LOADED []" in result.stdout, result.stdout[-500:]


def test_search_expands_questions_with_the_glossary_the_index_was_built_with(tmp_path: Path) -> None:
    from studybot.index import store
    from studybot.index.build import build_index
    from studybot.index.search import Index, search

    home, notes = tmp_path / "home", tmp_path / "notes"
    (home / "glossary").mkdir(parents=True)
    notes.mkdir()
    # a made-up concept: only the user's glossary links its English and Chinese names
    (home / "glossary" / "mine.yaml").write_text("- {id: zorbling, topic: mine, en: [zorbling], zh: [佐布林变换]}\n",
                                                 encoding="utf-8")
    (notes / "a.md").write_text("# 变换\n\n佐布林变换把每一层的输出重新排列一次。\n\n# 其他\n\n今天天气很好，适合散步。\n",
                                encoding="utf-8")
    build_index(home, [notes], bundled=False)
    (home / "glossary" / "mine.yaml").unlink()  # edited after indexing: search keeps the index's glossary
    hits = search("zorbling", index=Index(home), mode="bm25")
    assert hits and "佐布林变换" in hits[0].text

    current = store.current_generation(home)
    (current / store.GLOSSARY).write_text("[{broken", encoding="utf-8")
    with pytest.raises(StudybotError, match="index --rebuild"):
        search("zorbling", index=Index(home), mode="bm25")
    build_index(home)  # a plain refresh finds the damage by the recorded sizes, rebuilds with today's glossary
    assert not search("zorbling", index=Index(home), mode="bm25")
