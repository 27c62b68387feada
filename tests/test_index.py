"""Indexing end to end with the real embedder, FAISS and BM25 on tiny notes: incremental, atomic, locked."""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from studybot.index import store
from studybot.errors import StudybotError
from studybot.index.build import build_index
from studybot.index.search import Index, search
from tests.conftest import REPO, notes_index


def _index(home: Path, paths=None, **kw):
    return build_index(home, paths, bundled=False, **kw)


def test_incremental_add_change_delete(tmp_path: Path, notes_dir: Path) -> None:
    home = tmp_path / "home"
    first = _index(home, [notes_dir])
    assert (first.new, first.changed, first.removed, first.unchanged) == (2, 0, 0, 0)
    # a chunk is embedded or found in the embedding cache (the test run's, which other tests fill first)
    assert first.files == 2 and first.chunks == first.embedded + first.cached > 0

    again = _index(home)  # the folder is remembered
    assert (again.new, again.changed, again.removed, again.unchanged) == (0, 0, 0, 2)
    assert again.embedded == again.cached == 0 and again.generation == first.generation  # a no-op writes nothing

    (notes_dir / "python.md").write_text("# Python\n\n## GIL\n\nThe GIL lets one thread run Python bytecode at a time.\n")
    (notes_dir / "extra.md").write_text("# Extra\n\n## Dropout\n\nDropout zeroes activations at random during training.\n")
    changed = _index(home)
    assert (changed.new, changed.changed, changed.removed, changed.unchanged) == (1, 1, 0, 1)
    assert changed.embedded + changed.cached == 2  # only the two new sections are embedded

    (notes_dir / "extra.md").unlink()
    removed = _index(home)
    assert (removed.new, removed.changed, removed.removed) == (0, 0, 1)

    index = Index(home)
    assert index.dense.ntotal == removed.chunks == index.catalog.execute("SELECT count(*) FROM chunks").fetchone()[0]
    files = [Path(f).name for (f,) in index.catalog.execute("SELECT path FROM files ORDER BY path")]
    assert files == ["norms.md", "python.md"]
    top = search("GIL thread", k=1, index=index)[0]
    assert top.heading_path == ["Python", "GIL"] and top.line_start == 3


def test_unreadable_files_are_skipped_with_a_warning(tmp_path: Path, notes_dir: Path) -> None:
    (notes_dir / "broken.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    warnings: list[str] = []
    summary = _index(tmp_path / "home", [notes_dir], warn=warnings.append)
    assert summary.files == 2
    assert [Path(s["path"]).name for s in summary.skipped] == ["broken.md"]
    assert any("broken.md" in w and "binary" in w for w in warnings)


def test_a_note_with_gbk_lines_in_utf8_is_indexed_and_its_lines_named(tmp_path: Path, notes_dir: Path) -> None:
    """Pasted GBK lines made the whole note "not text" and skipped it; now it is indexed and the lines are named."""
    (notes_dir / "mixed.md").write_bytes("# 优化方法\n\n动量法可以加速收敛，减少震荡。\n\n".encode()
                                         + "## 学习率预热\n\n学习率预热让训练初期更稳定。\n".encode("gbk"))
    warnings: list[str] = []
    summary = _index(tmp_path / "home", [notes_dir], warn=warnings.append)
    assert not summary.skipped and summary.files == 3
    assert [w for w in warnings if "mixed.md" in w and "lines 5, 7" in w and "GBK" in w]
    assert summary.warnings == warnings and summary.to_dict()["warnings"] == warnings  # --json carries them too
    hits = search("学习率预热", k=1, index=Index(tmp_path / "home"))
    assert hits[0].file.endswith("mixed.md") and hits[0].line_start == 5 and "训练初期" in hits[0].text


def test_a_note_still_damaged_is_named_on_every_index_until_it_is_fixed(tmp_path: Path, notes_dir: Path) -> None:
    """The GBK-lines warning came on the first index only: touched and indexed again, the note was unchanged and
    nothing was said, though it was as damaged as before."""
    utf8, gbk = "# 激活函数\n\nReLU 在负半轴梯度为 0。\n\n", "## 平滑的激活\n\nGELU 比 ReLU 更平滑。\n"
    (notes_dir / "mixed.md").write_bytes(utf8.encode() + gbk.encode("gbk"))
    (notes_dir / "broken.md").write_bytes("# 归一化\n\nLayerNorm 不依赖 batch".encode() + b" \xff size\n")
    home = tmp_path / "home"
    first: list[str] = []
    _index(home, [notes_dir], warn=first.append)
    assert len(first) == 2 and "mixed.md: lines 5, 7 are GBK" in first[1] and "broken.md: 1 byte(s)" in first[0]
    os.utime(notes_dir / "mixed.md")
    again: list[str] = []
    summary = _index(home, warn=again.append)
    assert summary.unchanged == 4 and again == first
    (notes_dir / "mixed.md").write_bytes((utf8 + gbk).encode())  # saved as UTF-8, as the warning asks
    fixed: list[str] = []
    _index(home, warn=fixed.append)
    assert fixed == first[:1]


def test_changed_embedding_model_forces_rebuild(tmp_path: Path, notes_dir: Path) -> None:
    from studybot.index.embedders import resolve_embed_model

    home = tmp_path / "home"
    _index(home, [notes_dir])
    model_folder = resolve_embed_model(None)[1]  # the same weights, named by path: a different model id
    said: list[str] = []
    summary = _index(home, embed_model=model_folder, warn=said.append)
    assert summary.rebuilt and summary.new == 2 and summary.embedded + summary.cached == summary.chunks > 0
    assert Index(home).manifest["embed_model"] == model_folder
    assert len(said) == 1 and "embedding model changes" in said[0] and "rebuilt" in said[0]
    again = _index(home, warn=said.append)  # the new model is remembered: nothing to say, nothing to do
    assert len(said) == 1 and not again.rebuilt and again.unchanged == 2


def test_an_index_built_by_another_version_says_why_it_is_rebuilt(tmp_path: Path, notes_dir: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A user who upgraded studybot saw "rebuilt" and no reason."""
    from studybot.index import build

    home = tmp_path / "home"
    _index(home, [notes_dir])
    monkeypatch.setattr(build, "PIPELINE_VERSION", build.PIPELINE_VERSION + 1)
    said: list[str] = []
    assert _index(home, warn=said.append).rebuilt
    assert said == ["this studybot reads notes differently from the one that built the index: the index is rebuilt "
                    "(vectors already computed with a model stay cached)"]


def test_index_folder_layout_and_manifest(tmp_path: Path, notes_dir: Path) -> None:
    home = tmp_path / "home"
    summary = _index(home, [notes_dir])
    folder = store.current_generation(home)
    assert sorted(p.name for p in folder.iterdir()) == ["bm25", "catalog.sqlite", "crosslingual.faiss", "dense.faiss",
                                                       "glossary.json", "headings.faiss", "manifest.json"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["schema_version"] == store.SCHEMA_VERSION
    assert manifest["embed_model"] == "all-MiniLM-L6-v2" and manifest["dim"] == 384
    assert manifest["crosslingual_model"] == "universal-sentence-encoder-multilingual-3" and manifest["crosslingual_dim"] == 512
    assert manifest["counts"] == {"files": 2, "chunks": summary.chunks}
    assert manifest["sources"] == [str(notes_dir.resolve())]


def test_an_index_written_before_the_cross_language_list_is_searched_without_it_until_the_next_index(
        tmp_path: Path, notes_dir: Path) -> None:
    home = tmp_path / "home"
    _index(home, [notes_dir])
    folder = store.current_generation(home)
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in ("crosslingual_model", "crosslingual_dim"):
        del manifest[key]
    del manifest["sizes"][store.CROSSLINGUAL]
    (folder / store.CROSSLINGUAL).unlink()  # as the code before it wrote the generation
    (folder / "manifest.json").write_text(json.dumps(manifest))
    index = Index(home)
    assert index.crosslingual_ranking("What is BatchNorm?", 5) == []
    assert search("BatchNorm", index=index)  # the other five lists answer
    summary = _index(home)
    assert summary.rebuilt and not summary.recovered  # out of date, not damaged
    index = Index(home)
    assert index.manifest["crosslingual_model"] == "universal-sentence-encoder-multilingual-3"
    assert len(index.crosslingual_ranking("What is BatchNorm?", 5)) == min(5, summary.chunks)


@pytest.mark.parametrize("victim", ["manifest.json", "dense.faiss", "headings.faiss", "crosslingual.faiss",
                                    "catalog.sqlite", "bm25/ids.json",
                                    "glossary.json", "bm25/text/vocab.index.json"])
def test_corrupt_index_file_names_the_rebuild(tmp_path: Path, notes_dir: Path, victim: str) -> None:
    home = tmp_path / "home"
    _index(home, [notes_dir])
    (store.current_generation(home) / victim).write_bytes(b"\x00garbage\xff" * 10)
    with pytest.raises(StudybotError, match="studybot index --rebuild"):
        search("BatchNorm", index=Index(home))
    summary = _index(home)  # a plain refresh sees the damage too and rebuilds, with the remembered sources
    assert summary.rebuilt and Path(victim).name in summary.recovered
    assert summary.files == 2
    assert search("BatchNorm", k=1, home=home)[0].file.endswith("norms.md")


def test_search_before_index_and_on_empty_index(tmp_path: Path) -> None:
    with pytest.raises(StudybotError, match="does not exist"):
        Index(tmp_path / "missing")
    (tmp_path / "home").mkdir()
    with pytest.raises(StudybotError, match="studybot index"):
        Index(tmp_path / "home")
    _index(tmp_path / "home")  # nothing to index at all
    with pytest.raises(StudybotError, match="empty"):
        Index(tmp_path / "home")


def _big_corpus(folder: Path, files: int = 40) -> None:
    folder.mkdir()
    for i in range(files):
        sections = "\n\n".join(f"## Section {i}-{j}\n\nTopic {i} part {j}: " + " ".join(f"w{i}x{j}x{k}" for k in range(60))
                               for j in range(12))
        (folder / f"n{i:03d}.md").write_text(f"# Note {i}\n\n{sections}\n")


@pytest.mark.slow
def test_killed_index_leaves_the_previous_index_working(tmp_path: Path, notes_dir: Path) -> None:
    home = tmp_path / "home"
    _index(home, [notes_dir])
    live = store.current_generation(home)
    big = tmp_path / "big"
    _big_corpus(big)
    proc = subprocess.Popen([sys.executable, "-m", "studybot", "index", str(big), "--no-bundled", "--home", str(home)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not any(p != live for p in (home / "index").glob("gen-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # inside the new generation's work: reading, embedding or writing
    assert proc.poll() is None, "the indexer finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert store.current_generation(home) == live
    hits = search("LayerNorm batch size", k=2, home=home)
    assert hits[0].file.endswith("norms.md")
    assert _index(home).files == 2  # the killed run's new path was never committed
    summary = _index(home, [big])  # running it again finishes the job and clears the half-written folder
    assert summary.files == 42
    assert [p.name for p in (home / "index").glob("gen-*")] == [store.current_generation(home).name]


@pytest.mark.slow
def test_two_writers_at_once_leave_one_consistent_index(tmp_path: Path, notes_dir: Path) -> None:
    home = tmp_path / "home"
    big = tmp_path / "big"
    _big_corpus(big, files=10)
    cmd = [sys.executable, "-m", "studybot", "index", "--no-bundled", "--home", str(home), "--json"]
    procs = [subprocess.Popen(cmd + [str(p)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in (notes_dir, big)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    index = Index(home)
    assert index.manifest["counts"]["files"] == 12  # the second writer saw the first one's work
    assert index.dense.ntotal == index.manifest["counts"]["chunks"]
    assert len(list((home / "index").glob("gen-*"))) == 1


def test_lock_waits_says_so_and_times_out_with_a_clear_message(tmp_path: Path) -> None:
    from filelock import FileLock

    home = tmp_path / "home"
    (home / "index").mkdir(parents=True)
    said: list[str] = []
    with FileLock(home / "index" / "LOCK"):
        started = time.monotonic()
        with pytest.raises(StudybotError, match="another `studybot index`"):
            with store.writer_lock(home, timeout=0.3, on_wait=said.append):
                pass
        assert time.monotonic() - started >= 0.3
    assert len(said) == 1 and "waiting" in said[0]
    with store.writer_lock(home, timeout=0.3, on_wait=said.append):  # released: taken at once, no word
        pass
    assert len(said) == 1


def test_every_stage_of_a_big_note_reports_progress(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    sections = [f"## 第 {i} 节 Section {i}\n\n梯度下降沿负梯度方向更新参数，学习率 {i} 决定步子大小。Dropout rate {i}.\n"
                for i in range(60)]
    (notes / "big.md").write_text("# Big\n\n" + "\n".join(sections), encoding="utf-8")
    (notes / "small.md").write_text("# Small\n\nLayerNorm 对每个样本归一化。\n", encoding="utf-8")
    events: dict[str, list[tuple[int, int]]] = {}
    summary = build_index(tmp_path / "home", [notes], bundled=False, repair="jieba",
                          progress=lambda task, done, total: events.setdefault(task, []).append((done, total)))
    assert events["reading"][-1] == (2, 2)
    matching = events["tokenizing and matching terms"]
    assert matching[-1] == (summary.chunks, summary.chunks) and len(matching) == summary.chunks > 60
    assert [done for done, _ in matching] == sorted(done for done, _ in matching)


def _unembedded_corpus(folder: Path, files: int, sections: int = 12) -> None:
    """Notes whose text no other test embedded (the session's cache would hand their vectors back)."""
    import uuid

    folder.mkdir()
    run = uuid.uuid4().hex[:8]
    for i in range(files):
        (folder / f"n{i:03d}.md").write_text(f"# Note {i} {run}\n\n" + "\n\n".join(
            f"## Section {i}-{j} {run}\n\nTopic {i} part {j}: " + " ".join(f"w{run}x{i}x{j}x{k}" for k in range(40))
            for j in range(sections)) + "\n")


def test_progress_is_reported_from_the_start_and_before_a_model_loads(tmp_path: Path, monkeypatch) -> None:
    """An index of a big folder was silent for its first seconds and while the embedder loaded (torch: seconds): the
    first report comes before any work, and each pass names its loading before the model is loaded."""
    from studybot.index import build

    notes = tmp_path / "notes"
    _unembedded_corpus(notes, 1, sections=3)
    events: list[tuple[str, int, int]] = []
    loaded_after: list[int] = []
    real_loader = build.load_passage_embedder
    monkeypatch.setattr(build, "load_passage_embedder",
                        lambda model, count: loaded_after.append(len(events)) or real_loader(model, count))
    _index(tmp_path / "home", [notes], repair="jieba", progress=lambda *event: events.append(event))
    assert events[0] == (build.STARTING, 0, 1) and events.index((build.STARTING, 1, 1)) < events.index(("reading", 1, 1))
    loading = events.index(("pass 1 of 3, loading the model", 0, 1))
    first_batch = next(i for i, (task, done, _) in enumerate(events) if task == "pass 1 of 3, embedding" or
                       task.startswith("pass 2") and done > 0)
    assert loaded_after == [loading + 1] and loading < first_batch


@pytest.mark.slow
def test_ctrl_c_stops_an_index_at_once_and_the_same_command_finishes_it(tmp_path: Path) -> None:
    """Ctrl-C during an index's embedding waited for the batch under way (2.4 s for 64 headings): it stops within
    about a second, says so in one line, exits 130, and the same command then finishes the index with the vectors
    computed before it, into the chunks an index run once makes."""
    from studybot.cache import ContentCache
    from tests.conftest import sigint_default

    notes = tmp_path / "notes"
    _unembedded_corpus(notes, 5, sections=10)
    cmd = [sys.executable, "-m", "studybot", "index", str(notes), "--no-bundled", "--repair", "jieba",
           "--home", str(tmp_path / "home")]
    cache = ContentCache(Path(os.environ["STUDYBOT_CACHE"]) / "embeddings.sqlite").path  # the session's

    def kept() -> int:
        with closing(sqlite3.connect(cache)) as db:
            return db.execute("SELECT count(*) FROM entries").fetchone()[0]

    cached_before = kept()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_default)
    said = []
    for line in proc.stderr:  # into a pipe: a stage going on for a second says so in a plain line
        said.append(line)
        if line.startswith("pass 1 of 3, embedding"):
            break
    deadline = time.monotonic() + 60
    while kept() == cached_before and time.monotonic() < deadline:  # until a slice of vectors is kept
        time.sleep(0.05)
    assert proc.poll() is None, said
    os.kill(proc.pid, signal.SIGINT)
    stopped = time.monotonic()
    proc.wait(timeout=30)
    waited = time.monotonic() - stopped
    err = proc.stderr.read()
    assert proc.returncode == 130 and waited < 1.5, (waited, err)
    assert err.startswith("studybot: error: interrupted: the index is as it was before this run") and \
        len(err.splitlines()) == 1, err
    assert store.current_generation(tmp_path / "home") is None
    again = subprocess.run(cmd + ["--json"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    resumed = json.loads(again.stdout)
    whole = _index(tmp_path / "home2", [notes], repair="jieba")  # every vector cached now
    assert whole.embedded == 0 and (resumed["files"], resumed["chunks"]) == (whole.files, whole.chunks) == (5, 50)
    rows = "SELECT path, ordinal, hash FROM chunks ORDER BY path, ordinal"
    assert Index(tmp_path / "home").catalog.execute(rows).fetchall() == Index(tmp_path / "home2").catalog.execute(rows).fetchall()
    assert search("Topic 3 part 5", k=1, home=tmp_path / "home")[0].file.endswith("n003.md")


def test_an_edited_note_updates_the_index_as_a_rebuild_would(tmp_path: Path, notes_dir: Path, monkeypatch) -> None:
    from studybot.index import build

    home = tmp_path / "home"
    _index(home, [notes_dir], repair="jieba")
    sections = "".join(f"\n## 第 {i} 节 Momentum {i}\n\n动量累积过去的梯度，batch norm 第 {i} 次出现。\n" for i in range(8))
    (notes_dir / "python.md").write_text((notes_dir / "python.md").read_text() + sections, encoding="utf-8")
    loaded: list[int] = []
    real_loader = build.load_passage_embedder
    monkeypatch.setattr(build, "load_passage_embedder", lambda model, count: loaded.append(count) or real_loader(model, count))
    segmented: list[str] = []
    real_tokens = build.lexical_tokens
    monkeypatch.setattr(build, "lexical_tokens", lambda text, glossary: segmented.append(text) or real_tokens(text, glossary))
    old_rows = Index(home).catalog.execute("SELECT id, hash FROM chunks WHERE path LIKE '%python.md'").fetchall()
    edited = _index(home)
    assert len(segmented) == 2 * 8  # text and heading of each new section; the note's old sections keep their tokens
    rebuilt = _index(tmp_path / "home2", [notes_dir], repair="jieba")
    new_rows = Index(home).catalog.execute("SELECT id, hash FROM chunks WHERE path LIKE '%python.md'").fetchall()
    assert set(old_rows) < set(new_rows) and len(new_rows) == len(old_rows) + 8  # old sections keep their rows and ids
    assert (edited.changed, edited.unchanged, edited.embedded) == (1, 1, 8)  # only the new sections
    assert loaded == [8]  # the eight new sections, the only ones not in the embedding cache
    assert edited.chunks == rebuilt.chunks
    for mode in ("bm25", "hybrid"):
        for query in ("batch norm 动量", "GIL thread", "第 3 节 Momentum", "LayerNorm 归一化"):
            got = [(h.file, h.line_start, h.text, round(h.score, 6)) for h in search(query, k=5, home=home, mode=mode)]
            want = [(h.file, h.line_start, h.text, round(h.score, 6))
                    for h in search(query, k=5, home=tmp_path / "home2", mode=mode)]
            assert got == want
    assert _bm25_cells(home) == _bm25_cells(tmp_path / "home2")  # bit for bit, both indexes
    assert Index(home).manifest["languages"] == Index(tmp_path / "home2").manifest["languages"]

    (notes_dir / "norms.md").unlink()  # a note leaves and another is edited: stale rows go, new ones come
    (notes_dir / "python.md").write_text((notes_dir / "python.md").read_text() + "\n## Only English\n\nPlain words.\n")
    _index(home)
    _index(tmp_path / "home3", [notes_dir], repair="jieba")
    assert _bm25_cells(home) == _bm25_cells(tmp_path / "home3")
    assert Index(home).manifest["languages"] == Index(tmp_path / "home3").manifest["languages"]

    text = (notes_dir / "python.md").read_text()  # a section edited in the middle: the ones after it move down
    (notes_dir / "python.md").write_text(text.replace("第 3 次出现。", "第 3 次出现。\n\n多了两行。\n"))
    _index(home)
    _index(tmp_path / "home4", [notes_dir], repair="jieba")
    rows = "SELECT path, ordinal, heading, line_start, line_end, kind, text, tokens FROM chunks ORDER BY path, ordinal"
    assert Index(home).catalog.execute(rows).fetchall() == Index(tmp_path / "home4").catalog.execute(rows).fetchall()
    assert _bm25_cells(home) == _bm25_cells(tmp_path / "home4")


def _bm25_cells(home: Path) -> dict[tuple[str, str, str], float]:
    """(index, token, chunk as path#ordinal) -> BM25 score of every cell of both saved matrices: the chunk ids
    of an edited index and of a rebuild differ."""
    index = Index(home)
    chunks = dict(index.catalog.execute("SELECT id, path || '#' || ordinal FROM chunks"))
    cells = {}
    for name in ("text", "heading"):
        matrix = index.lexical[name]
        for token, column in matrix.vocab.items():
            for k in range(matrix.indptr[column], matrix.indptr[column + 1]) if column + 1 < len(matrix.indptr) else ():
                cells[(name, token, chunks[int(index.lexical["ids"][matrix.indices[k]])])] = float(matrix.data[k])
    return cells


def test_a_refresh_reads_the_glossary_from_the_index_until_a_glossary_file_changes(
        tmp_path: Path, notes_dir: Path, monkeypatch) -> None:
    from studybot.index import build

    home = tmp_path / "home"
    _index(home, [notes_dir])
    parsed: list[Path] = []
    real_load = build.load_glossary
    monkeypatch.setattr(build, "load_glossary", lambda h: parsed.append(h) or real_load(h))
    (notes_dir / "python.md").write_text((notes_dir / "python.md").read_text() + "\n## More\n\nMomentum 动量.\n")
    edited = _index(home)
    assert not parsed and not edited.rebuilt  # the YAML files are as they were: their JSON copy in the index serves
    (home / "glossary").mkdir()
    (home / "glossary" / "mine.yaml").write_text("- id: zorbling\n  topic: misc\n  en: [zorbling]\n  zh: [佐布林]\n",
                                                 encoding="utf-8")
    extended = _index(home)
    assert parsed == [home] and extended.rebuilt  # a new glossary file is read, and every chunk is expanded with it
    assert "zorbling" in Index(home).glossary.aliases()


def test_fusion_puts_a_section_most_lists_rank_first_above_one_every_list_finds_middling() -> None:
    """Seen on an outside book: the answer ranked 1st by three lists and 44th by the multilingual one lost
    to a neighbour ranked 6th, 10th, 3rd and 2nd when fused with k = 60."""
    from studybot.index.search import AGREEMENT_K, rrf

    filler = list(range(100, 160))

    def ranking(places: dict[int, int]) -> list[int]:
        order = [c for c in filler if c not in places]
        for chunk, place in sorted(places.items(), key=lambda item: item[1]):
            order.insert(place - 1, chunk)
        return order

    answer, neighbour = 1, 2
    rankings = {"text": ranking({answer: 1, neighbour: 6}), "heading": ranking({answer: 1, neighbour: 10}),
                "dense": ranking({answer: 1, neighbour: 3}), "headings": ranking({neighbour: 2, answer: 44})}
    weights = dict.fromkeys(rankings, 1.0)
    fused = rrf(rankings, weights)
    assert fused[answer] > fused[neighbour]
    agreement = rrf(rankings, weights, AGREEMENT_K)  # the scale the user's-passage test was calibrated on
    assert agreement[answer] < agreement[neighbour]


ANCHOR_NOTE = """# 目标检测笔记

## 锚框是什么

目标检测里预先在图上铺好的一组参考矩形，模型只需预测相对它们的偏移和类别。

## 非极大值抑制

同一物体的多个重叠预测只保留得分最高的一个，其余按重叠程度删掉。

## 特征金字塔

把深层的语义特征逐层上采样，与浅层的高分辨率特征相加，用来检测不同大小的物体。
"""


def test_chinese_character_pairs_find_a_section_the_segmenter_cuts_differently(tmp_path: Path) -> None:
    """jieba reads 降维是 as one word in the heading and 降维 in the question: only the character-pair list sees
    that they share it. (锚框, cut as 锚 + 框 in a question, was the example until the glossary learned it: its
    concept now joins the two, as it should.)"""
    from studybot.index.search import WEIGHTS
    from studybot.text.tokens import cjk_bigrams, tokenize

    question = "为什么要用降维？"
    assert cjk_bigrams("为什么要用锚框") == ["为什", "什么", "么要", "要用", "用锚", "锚框"]
    assert cjk_bigrams("框 a 锚框") == ["框", "锚框"]
    assert cjk_bigrams("⾃注意⼒") == cjk_bigrams("自注意力") == ["自注", "注意", "意力"]  # Kangxi radicals, as tokenize
    assert not set(tokenize(question)) & set(tokenize("降维是什么"))
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "detection.md").write_text(ANCHOR_NOTE + "\n## 降维是什么\n\n把高维数据映射到少数几个方向上，保留大部分方差，便于可视化。\n",
                                        encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    index = Index(tmp_path / "home")
    assert (index.folder / store.BM25_DIR / "chars").is_dir()
    assert search(question, k=1, index=index, mode="bm25")[0].heading == "降维是什么"
    without = search(question, k=3, index=index, mode="bm25", weights={**WEIGHTS, "chars": 0.0})
    assert "降维是什么" not in [hit.heading for hit in without]  # no word list finds it, and a list weighted 0 adds none
    import shutil

    shutil.rmtree(index.folder / store.BM25_DIR / "chars")  # an index written before the list: searched without it
    assert search("锚框是什么", k=1, index=Index(tmp_path / "home"))[0].heading == "锚框是什么"


def test_a_chinese_question_searched_as_asked_has_no_list_from_the_english_embedder(tmp_path: Path) -> None:
    """all-MiniLM was trained on English: a question with no word in Latin letters, over notes in its own
    language (so not translated), has nothing for it to read, and search leaves its list out (and never loads it);
    an English question, a Chinese one that names BatchNorm, or one with its English translation has it."""
    from studybot.index.search import reads_no_english

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "detection.md").write_text(ANCHOR_NOTE, encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    index = Index(tmp_path / "home")
    assert search("非极大值抑制怎么去掉重复的框？", k=1, index=index)[0].heading == "非极大值抑制"
    assert "embedder" not in vars(index)  # the English model was not even loaded
    assert search("non-maximum suppression", k=1, index=index, translate=False)
    assert "embedder" in vars(index)
    assert reads_no_english("锚框是什么？", "锚框是什么？", index)
    assert not reads_no_english("锚框是什么？", "锚框是什么？\nWhat is an anchor box?", index)
    assert not reads_no_english("What is an anchor box?", "What is an anchor box?", index)
    assert not reads_no_english("BatchNorm 和 LayerNorm 有什么区别？", "BatchNorm 和 LayerNorm 有什么区别？", index)


RADICALS_NOTE = """# 长短期记忆

## 输⼊⻔、遗忘⻔和输出⻔

LSTM ⽤三个⻔控制记忆细胞：遗忘⻔决定丢掉多少旧的记忆，输⼊⻔决定写⼊多少新的信息。

## 梯度裁剪

梯度的范数超过阈值时按比例缩小，防止训练发散。
"""


def test_radicals_a_pdf_wrote_for_characters_are_read_as_the_characters(tmp_path: Path) -> None:
    """Text copied from some Chinese PDFs writes 门 as ⻔ (CJK RADICAL C-SIMPLIFIED GATE, which NFKC keeps) and
    入 as ⼊ (KANGXI RADICAL ENTER): the note is read, cited and matched in the characters it means."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "lstm.md").write_text(RADICALS_NOTE, encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    index = Index(tmp_path / "home")
    hit = search("遗忘门有什么作用？", k=1, index=index, mode="bm25")[0]
    assert hit.heading == "输入门、遗忘门和输出门"
    assert "遗忘门决定丢掉多少旧的记忆" in hit.text
    assert "forget-gate" in {entry.id for entry in index.glossary.find(hit.text)}


BOOK_CHAPTER = """# Chapter 10 Reinforcement learning

## 10.3 Reinforcement learning, supervised learning and unsupervised learning

Reinforcement learning is the third family beside supervised learning and unsupervised learning.

### 10.3.1 Reinforcement learning and supervised learning

Supervised learning has a teacher with labels for every input; reinforcement learning has none and learns
from a delayed reward, so supervised learning and reinforcement learning differ in their feedback.

### 10.3.2 Reinforcement learning and unsupervised learning

Unsupervised learning finds patterns without labels, while reinforcement learning maps states to actions.
Supervised learning and unsupervised learning differ from it in how ambiguous their samples are.

## 10.4 Algorithms

Monte Carlo methods and temporal differences are its main algorithms.
"""


def test_each_subsection_of_a_book_answers_a_question_of_its_own(tmp_path: Path) -> None:
    """Search keeps at most two chunks of one section ahead of the others, so that a long section cut in
    pieces cannot fill every slot; a section is one heading path, not a chapter's first two headings (the
    outside book's 10.3.1, which answers "how does reinforcement learning differ from supervised learning",
    was left out for its siblings 10.3 and 10.3.2)."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "chapter10.md").write_text(BOOK_CHAPTER, encoding="utf-8")
    long = "\n\n".join(f"Supervised learning fact {i}: labels tell the model the right output for input {i}, "
                       f"unlike reinforcement learning, which learns from rewards." for i in range(40))
    (notes / "long.md").write_text(f"# Notes\n\n## A long section\n\n{long}\n", encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    index = Index(tmp_path / "home")
    question = "How does reinforcement learning differ from supervised learning?"
    assert {h.heading for h in search(question, k=4, index=index, mode="bm25")} >= {
        "10.3 Reinforcement learning, supervised learning and unsupervised learning",
        "10.3.1 Reinforcement learning and supervised learning",
        "10.3.2 Reinforcement learning and unsupervised learning"}
    hits = search("What do labels tell the model about the right output?", k=4, index=index, mode="bm25")
    assert [h.heading for h in hits].count("A long section") == 2  # the long section, cut in pieces, takes two
    assert len(list(index.catalog.execute("SELECT id FROM chunks WHERE heading LIKE '%A long section%'"))) > 2


def test_a_sections_opening_yields_the_first_place_to_a_subsection_scoring_nearly_as_well() -> None:
    """The opening of a book's "7.4 动量法" (two lines leading in to its subsections) ranked first for "动量法是为了解决梯度
    下降的什么问题？", its "7.4.1 梯度下降的问题" second at 0.94 of its score: the subsection on the point comes first. A
    summary keeps its place (it states what the sections found), and a subsection comes first only from its own
    section and file, scoring SPECIFIC_SHARE of the opening or more."""
    from studybot.index.search import SPECIFIC_SHARE, specific_first

    places = {1: ("7.4.md", ("7.4 动量法",), "section"),
              2: ("7.3.md", ("7.3 小批量随机梯度下降",), "section"),
              3: ("7.4.md", ("7.4 动量法", "7.4.1 梯度下降的问题"), "section"),
              4: ("7.4.md", ("7.4 动量法", "7.4.1 梯度下降的问题", "一个例子"), "section"),
              5: ("7.4.md", ("7.4 动量法", "小结"), "section"),
              6: ("7.4.md", ("7.4 动量法", "面试回答"), "answer"),
              7: ("other.md", ("7.4 动量法", "7.4.2 指数加权移动平均"), "section")}
    fused = {1: 1.0, 2: 0.97, 3: 0.94, 4: 0.8, 5: 0.99, 6: 0.98, 7: 0.96}
    ranked = sorted(fused, key=lambda cid: -fused[cid])  # 1, 5, 6, 2, 7, 3, 4
    # 7.4.1 before the opening; its own example, 0.85 of its score, stays below
    assert specific_first(ranked, places, fused) == [3, 1, 5, 6, 2, 7, 4]
    fused[4] = 0.93
    assert specific_first(ranked, places, fused)[:2] == [4, 3]  # each opening yields to the subsection below it
    fused[3], fused[4] = SPECIFIC_SHARE - 0.01, 0.5
    assert specific_first(ranked, places, fused) == ranked  # too far below: the opening stays first
    summary_first = [5, 3, 1]
    assert specific_first(summary_first, places, {5: 1.0, 3: 0.99, 1: 0.98}) == summary_first


def test_a_passage_copied_into_two_files_takes_one_place(tmp_path: Path) -> None:
    """A folder's README that repeats its note (or an export kept beside its source) gave the same passage two of
    the top places, and the next passage that answers was left out: a passage's text is ranked once, where it ranks
    best."""
    notes = tmp_path / "notes"
    (notes / "svm").mkdir(parents=True)
    note = ("# SVM\n\n## Kernels\n\nA kernel computes the inner product of two samples in a higher-dimensional space"
            " without mapping them there, so a linear separator in that space is a curved one here.\n")
    (notes / "svm" / "svm.md").write_text(note, encoding="utf-8")
    (notes / "svm" / "README.md").write_text(note, encoding="utf-8")
    (notes / "kernels.md").write_text(
        "# Kernel choice\n\n## Common kernels\n\nThe RBF kernel suits most data; a polynomial kernel of low degree"
        " suits normalized features; a linear kernel suits many features and few samples.\n", encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    hits = search("What does a kernel compute in an SVM?", k=2, index=Index(tmp_path / "home"), mode="bm25")
    assert [h.heading for h in hits] == ["Kernels", "Common kernels"]


def test_a_section_with_no_heading_is_no_ones_neighbour_by_heading(tmp_path: Path) -> None:
    """The multilingual model's vector of an empty heading lies near every question: a chapter readme
    holding a line of '#' and nothing else came first by heading for English questions on any subject.
    Such a section's heading vector is zero; a titled section's is the model's unit vector."""
    import numpy as np

    notes = tmp_path / "notes"
    (notes / "ch03").mkdir(parents=True)
    (notes / "ch03" / "readme.md").write_text("#" * 59 + "\n", encoding="utf-8")
    (notes / "ch03" / "optimizers.md").write_text(
        "# 优化器\n\n## 超参数的重要性顺序\n\n学习率最重要，其次是批大小和动量，最后是 Adam 的 β 和权重衰减。\n\n"
        "## 权重初始化\n\n全部初始化为零会让同层神经元学到一样的东西。\n", encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    index = Index(tmp_path / "home")
    paths = index.catalog.execute("SELECT id, heading FROM chunks").fetchall()
    untitled = [cid for cid, heading in paths if json.loads(heading) == []]
    assert len(untitled) == 1 and len(paths) >= 3
    assert not np.any(index.headings.reconstruct(untitled[0]))
    titled = [cid for cid, heading in paths if cid not in untitled]
    assert all(abs(np.linalg.norm(index.headings.reconstruct(cid)) - 1) < 1e-3 for cid in titled)
    ranking = index.heading_ranking("Which hyperparameters should you tune first?", 10)
    assert ranking[-1] == untitled[0]


BOOSTING_NOTE = """# XGBoost 面试题

## 梯度提升树

梯度提升树（GBDT）每一轮拟合上一轮的负梯度，提升方法把弱学习器组合起来。

## XGBoost 和 LightGBM 的区别

- XGB 按层生长（level-wise），LGB 按叶子生长（leaf-wise），后者更快但容易过拟合。
- XGB 用预排序找切分点，LGB 用直方图，内存更省，计算更快。

## 参考资料

- XGBoost 和 LightGBM 的区别详解，知乎专栏
- 梯度提升树、XGBoost 与 LightGBM 入门

## 提升方法小结

提升方法（boosting）串行训练弱学习器，XGBoost 是梯度提升的工程实现。
"""


def test_a_list_of_references_comes_after_every_section_that_explains(tmp_path: Path) -> None:
    """A references section's link titles name the note's subjects and explain none: "XGBoost面试题 > 参考" ranked
    third for "XGBoost 和 LightGBM 的区别", above the section comparing the two."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "xgboost.md").write_text(BOOSTING_NOTE, encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    headings = [h.heading for h in search("XGBoost 和 LightGBM 的区别", k=10, index=Index(tmp_path / "home"), mode="bm25")]
    assert headings[0] == "XGBoost 和 LightGBM 的区别" and headings[-1] == "参考资料" and len(headings) == 4, headings


# Short sections on names, and a table whose last row is the one place the notes write "BERTScore"
SECTIONS = [("IoU", "预测框和真实框的交集面积除以并集面积，目标检测用它判断一个框算不算命中。"),
            ("NMS", "同一个物体的多个重叠框只保留得分最高的一个，其余和它重叠太多的删掉。"),
            ("Dropout", "训练时随机让一部分神经元输出为零，相当于训练很多子网络再平均。"),
            ("Softmax", "把一组实数变成和为一的概率分布，指数放大了最大值和其余值的差距。"),
            ("ReLU", "负数输出零、正数原样输出，正区间梯度恒为一，缓解梯度消失。"),
            ("BatchNorm", "对一个批次里每个通道做标准化，再用可学习的缩放和平移恢复表达能力。"),
            ("Adam", "结合动量和逐参数的自适应学习率，用一阶和二阶矩的滑动平均更新。"),
            ("GELU", "用输入乘以它在标准正态下的累积概率，是平滑版的 ReLU。"),
            ("LoRA", "冻结原权重，只训练两个低秩矩阵的乘积作为增量，参数量很小。"),
            ("Word2Vec", "用上下文预测中心词或反过来，学到稠密的词向量。"),
            ("RNN", "每一步把上一步的隐藏状态和当前输入一起算出新的隐藏状态。"),
            ("CNN", "用共享权重的卷积核在图上滑动提取局部特征，参数比全连接少。"),
            ("LSTM", "用输入门、遗忘门和输出门控制细胞状态，长距离依赖更容易保留。"),
            ("Transformer", "全靠自注意力和前馈层堆叠，不用循环，序列可以并行计算。"),
            ("BERT", "双向编码器，用遮住部分词再预测的任务预训练。"),
            ("GPT", "只有解码器的自回归语言模型，从左到右预测下一个词。"),
            ("SGD", "每次用一小批样本的梯度更新参数，噪声有助于跳出尖锐的极小值。"),
            ("ResNet", "加了恒等捷径的卷积网络，很深也能训练。"),
            ("ViT", "把图片切成小块当作词，送进 Transformer 编码器做分类。"),
            ("GAN", "生成器和判别器对抗训练，生成器学着骗过判别器。"),
            ("VAE", "编码器输出分布的均值和方差，用重参数化采样再解码。"),
            ("KV cache", "生成时把之前各步的键和值存起来，下一步只算新词。"),
            ("RLHF", "先训练奖励模型，再用强化学习让语言模型的输出更符合人的偏好。"),
            ("Beam search", "每一步保留概率最高的几个候选序列，最后选总分最高的。"),
            ("Focal loss", "给容易分对的样本降低权重，让模型专注难样本。"),
            ("Label smoothing", "把独热标签的一部分概率分给其他类别，防止过度自信。")]
TABLE_NOTE = "# 面试笔记\n\n" + "".join(f"## {name} 是什么\n\n{text}\n\n" for name, text in SECTIONS) + """## 其他

| 指标 | 怎么算 | 适合什么任务 |
| --- | --- | --- |
| 困惑度 | 测试集上平均负对数似然取指数，越低越好 | 语言模型 |
| 精确匹配 | 生成答案和标准答案逐字相同的比例 | 抽取式问答 |
| 词错误率 | 把生成句改成参考句需要的增删改次数除以参考句词数 | 语音识别 |
| 人工评分 | 请标注员按流畅度和相关性打分再取平均 | 开放式对话 |
| 多样性 | 生成文本里不重复的 n-gram 占全部 n-gram 的比例 | 故事生成 |
| BERTScore | 用预训练模型的词向量算生成句和参考句每个词的最大余弦相似度再平均 | 摘要和翻译 |
"""


def test_a_table_whose_row_the_question_names_ranks_second_at_the_latest(tmp_path: Path) -> None:
    """"BLEU 是什么" over a note that writes BLEU only in a metrics table's eighth row: BM25 ranked the table first, and
    the lists that read meaning, which read a passage's heading and first lines, put sections on other names above
    it, out of the first ten. The row is the notes' entry on the name: the table comes second at the latest, in both
    languages."""
    index = notes_index(tmp_path, {"notes.md": TABLE_NOTE})
    for question in ("BERTScore 是什么", "What is BERTScore?"):
        headings = [h.heading for h in search(question, k=5, index=index)]
        assert "其他" in headings[:2], (question, headings)
        assert search(question, k=5, index=index, mode="bm25")[0].heading == "其他"


def test_a_concept_with_many_names_counts_once_beside_the_questions_own_words() -> None:
    """A question reads each word of its concepts' aliases once, and none it has already: boosting's aliases
    (提升 in four of them) outweighed "LightGBM" and "区别" in "XGBoost 和 LightGBM 的区别". A concept is also one
    token of its own, which a passage naming it by any alias, in either language, shares."""
    from studybot.content.glossary import load_glossary
    from studybot.index.expansion import CONCEPT_TOKEN, lexical_tokens

    glossary = load_glossary()
    question = "XGBoost 和 LightGBM 的区别"
    tokens = lexical_tokens(question, glossary, named=question)
    assert tokens[:3] == ["xgboost", "lightgbm", "区别"]
    assert len(tokens) == len(set(tokens)) and f"{CONCEPT_TOKEN}boosting" in tokens
    chinese = lexical_tokens("梯度提升树每一轮拟合负梯度。", glossary)
    english = lexical_tokens("Gradient boosting fits each tree to the negative gradient.", glossary)
    assert f"{CONCEPT_TOKEN}boosting" in chinese and f"{CONCEPT_TOKEN}boosting" in english


def test_a_folder_without_notes_is_named_with_the_files_studybot_reads(tmp_path: Path, notes_dir: Path) -> None:
    """Pointing `index` at a folder of files it does not read (Org, reStructuredText, PDF) indexes nothing from it:
    it says so, naming the kinds of file it reads, rather than reporting success in silence."""
    other = tmp_path / "org-notes"
    other.mkdir()
    (other / "attention.org").write_text("* Attention\n")
    said: list[str] = []
    summary = _index(tmp_path / "home", [notes_dir, other], warn=said.append)
    assert summary.files == 2
    assert [w for w in said if str(other) in w] == [
        f"no notes under {other}: studybot reads .md, .markdown, .txt, .ipynb, .qmd and .Rmd files"]
    assert not [w for w in said if str(notes_dir) in w]


def test_notes_added_after_a_first_index_of_nothing_are_indexed(tmp_path: Path, notes_dir: Path) -> None:
    """A first `index` of an empty folder writes empty vector indexes that know no dimension; the next `index` with
    notes adds to them instead of failing on FAISS's dimension check."""
    empty = tmp_path / "empty"
    empty.mkdir()
    home = tmp_path / "home"
    assert _index(home, [empty]).chunks == 0
    summary = _index(home, [notes_dir])
    assert summary.files == 2 and summary.chunks > 0
    top = search("GIL thread", k=1, index=Index(home))[0]
    assert Path(top.file).name == "python.md"


def test_a_catalog_damaged_inside_is_one_line_and_a_plain_index_rebuilds_it(tmp_path: Path,
                                                                           knowledge_home: Path) -> None:
    """Junk over a few of the catalog's pages keeps its size, so the refresh's file check passes, and SQLite finds
    the damage only when a query reads those pages: `ask` says so in one line naming `studybot index`, and a plain
    `studybot index` rebuilds from the notes instead of failing."""
    from tests.conftest import run_cli

    home = tmp_path / "home"
    shutil.copytree(knowledge_home, home)
    catalog = store.current_generation(home) / store.CATALOG
    with catalog.open("r+b") as f:
        f.seek(4096)
        f.write(b"JUNK" * 2000)  # pages 2 and 3: the count of chunks still reads
    asked = run_cli("ask", "--no-llm", "KV cache 是什么？", home=home)
    assert asked.returncode == 1 and "Traceback" not in asked.stderr, asked.stderr
    assert len(asked.stderr.strip().splitlines()) == 1 and "run `studybot index`" in asked.stderr
    summary = build_index(home)
    assert summary.recovered and "catalog" in summary.recovered and summary.chunks > 0
    assert Path(search("KV cache 是什么？", k=1, index=Index(home))[0].file).name == "llm-apps.md"


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="root reads any file without setpriv")
def test_a_note_the_user_cannot_read_is_skipped_with_a_warning(tmp_path: Path, notes_dir: Path) -> None:
    """A note without read permission (copied from another account) is skipped and named on stderr, as a binary
    file is, not only counted."""
    secret = notes_dir / "secret.md"
    secret.write_text("# Secret\n\nThe bonus pool is not for the index.\n")
    _index(tmp_path / "home", [notes_dir])  # indexed while it could be read: then it leaves, not its old text stays
    secret.chmod(0)
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    done = subprocess.run([*drop, sys.executable, "-m", "studybot", "index", "--no-bundled", str(notes_dir), "--home",
                           str(tmp_path / "home"), "--json"], capture_output=True, text=True, timeout=300, cwd=REPO,
                          env={k: v for k, v in os.environ.items() if k != "STUDYBOT_HOME"})
    assert done.returncode == 0, done.stderr
    assert f"skipped {secret}: Permission denied" in done.stderr
    summary = json.loads(done.stdout)
    assert summary["removed"] == 1 and summary["files"] == summary["unchanged"] == 2
    assert not [h for h in search("bonus pool", k=5, index=Index(tmp_path / "home")) if h.file == str(secret)]


def test_a_symlinked_folder_is_followed_and_conflict_copies_and_named_non_notes_are_not_indexed(tmp_path: Path) -> None:
    """A vault's shared folder linked in (as Obsidian follows it) was skipped without a word; Syncthing's and
    Dropbox's conflict copies were indexed and cited before the note; a `paper.pdf` named was indexed as text."""
    shared = tmp_path / "elsewhere" / "shared"
    shared.mkdir(parents=True)
    (shared / "precision.md").write_text("# Mixed precision\n\nV100 has no bf16: use fp16 with a GradScaler.\n")
    (shared / "up").symlink_to(tmp_path / "vault", target_is_directory=True)  # a loop back up: read once
    (tmp_path / "outside.md").write_text("# Outside\n\nbeta2 pretraining notes beside the vault, not in it.\n")
    (shared / "above").symlink_to(tmp_path, target_is_directory=True)  # a folder above the vault: not walked into
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Shared").symlink_to(shared, target_is_directory=True)
    (vault / "Adam.md").write_text("# Adam\n\nbeta2 = 0.95 for pretraining.\n")
    (vault / "Adam.sync-conflict-20240503-101010-ABCDEF.md").write_text("# Adam\n\nbeta2 = 0.999 for pretraining.\n")
    (vault / "Adam (conflicted copy 2024-05-03).md").write_text("# Adam\n\nbeta2 = 0.9 for pretraining.\n")
    (tmp_path / "paper.pdf").write_bytes(b"%PDF-1.4 1 0 obj<</Type/Catalog>>endobj\n")
    said: list[str] = []
    summary = _index(tmp_path / "home", [vault, tmp_path / "paper.pdf"], warn=said.append)
    assert summary.files == 2
    files = {Path(h.file).name for h in search("beta2 bf16 fp16 pretraining", k=5, index=Index(tmp_path / "home"))}
    assert files == {"Adam.md", "precision.md"}
    assert [w for w in said if "paper.pdf is no note file" in w]
    from studybot.index.sources import read_sources  # said, and not remembered: no warning at every later refresh

    assert read_sources(tmp_path / "home").paths == [str(vault.resolve())]
    shared.rename(tmp_path / "elsewhere" / "moved")  # the linked folder moved: its notes leave, and that is said
    summary = _index(tmp_path / "home", warn=said.append)
    assert summary.removed == 1 and [w for w in said if "Shared links to" in w and "which is gone" in w]


def test_a_notes_front_matter_aliases_find_it(tmp_path: Path) -> None:
    """Obsidian users name a note by its aliases: "What is Project Kestrel?" found nothing in the note aliased so.
    An alias changed later is found, and the old one is not."""
    from studybot.answer.pipeline import NothingFound, answer_question

    notes = tmp_path / "notes"
    notes.mkdir()
    router = notes / "router.md"
    router.write_text("---\naliases: [Project Kestrel]\n---\n# Ticket router\n\nThe ticket router classifies support "
                      "tickets with a fine-tuned classifier and sends each to the right queue.\n", encoding="utf-8")
    (notes / "dropout.md").write_text("# Dropout\n\nDropout zeroes activations at random while training.\n")
    home = tmp_path / "home"
    _index(home, [notes])
    answer = answer_question("What is Project Kestrel?", Index(home))
    assert Path(answer.citations[0].file).name == "router.md" and "classifies support tickets" in answer.answer
    router.write_text(router.read_text().replace("Project Kestrel", "Falcon Desk"), encoding="utf-8")
    _index(home)
    assert search("Falcon Desk", k=1, index=Index(home))[0].file == str(router)
    rows = Index(home).catalog.execute("SELECT tokens FROM chunks WHERE path = ?", (str(router),)).fetchall()
    assert len(rows) == 1 and "kestrel" not in rows[0][0]  # the old rows left with their alias
    with pytest.raises(NothingFound):
        answer_question("What is Project Kestrel?", Index(home))
    # the bundled notes' front matter lists topic words as aliases: none of them enters a bundled chunk's tokens (each
    # chunk then matched every topic word, and bundled passages led where the user's should)
    from studybot.index.expansion import lexical_tokens

    build_index(home, bundled=True)
    index = Index(home)
    rows = index.catalog.execute("SELECT heading, heading_tokens FROM chunks WHERE path LIKE '%normalization.md'").fetchall()
    assert rows and all(tokens == " ".join(lexical_tokens(" > ".join(json.loads(heading)), index.glossary))
                        for heading, tokens in rows)


def test_a_remembered_path_can_be_forgotten(tmp_path: Path, notes_dir: Path) -> None:
    """A folder indexed by mistake could only be forgotten by deleting it (then warned about at every refresh)."""
    from studybot.index.sources import read_sources

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "scratch.md").write_text("# Scratch\n\nA note indexed by mistake.\n")
    home = tmp_path / "home"
    _index(home, [notes_dir, extra])
    summary = build_index(home, forget=[extra], bundled=False)
    assert summary.removed == 1 and read_sources(home).paths == [str(notes_dir.resolve())]
    assert not [h for h in search("indexed by mistake", k=5, index=Index(home)) if "scratch" in h.file]
    with pytest.raises(StudybotError, match="is not a remembered path; remembered: "):
        build_index(home, forget=[extra], bundled=False)


def test_a_mistyped_path_leaves_no_home_behind(tmp_path: Path) -> None:
    """`studybot index ~/notse` is one line, and makes no home folder for an index that was never built."""
    with pytest.raises(StudybotError, match="path not found"):
        build_index(tmp_path / "home", [tmp_path / "notse"])
    assert not (tmp_path / "home").exists()


def test_a_note_inside_a_remembered_folder_is_not_remembered_twice(tmp_path: Path, notes_dir: Path) -> None:
    """`index ~/notes/a.md` after `index ~/notes` adds nothing to remember: remembered on its own, its later deletion
    warned "remembered path ... is gone" on every refresh. A folder added around remembered notes takes their place;
    a note in a hidden folder, which the folder's walk skips, is remembered on its own."""
    from studybot.index.sources import read_sources

    home = tmp_path / "home"
    (notes_dir / ".drafts").mkdir()
    (notes_dir / ".drafts" / "gelu.md").write_text("# GELU\n\nGELU weights its input by the normal CDF.\n")
    _index(home, [notes_dir / "python.md"])
    _index(home, [notes_dir])
    _index(home, [notes_dir / "norms.md", notes_dir / ".drafts" / "gelu.md"])
    assert read_sources(home).paths == [str(notes_dir.resolve()), str((notes_dir / ".drafts" / "gelu.md").resolve())]

    (notes_dir / "norms.md").unlink()
    warnings: list[str] = []
    summary = _index(home, warn=warnings.append)
    assert summary.removed == 1 and summary.files == 2 and warnings == []


def test_a_note_garbled_through_latin1_is_indexed_as_written_and_named(tmp_path: Path) -> None:
    """UTF-8 read as Latin-1 by an export ("å½ä¸å" for 归一化) was indexed garbled and the summary said nothing."""
    notes = tmp_path / "notes"
    notes.mkdir()
    text = "# 归一化\n\n## LayerNorm 适合什么模型\n\nLayerNorm 在特征维度上归一化，不依赖 batch，适合 RNN 和 Transformer。\n"
    (notes / "norm.md").write_text(text.encode("utf-8").decode("latin-1"), encoding="utf-8")
    summary = _index(tmp_path / "home", [notes], repair="jieba")
    assert [(Path(r["path"]).name, r["damaged"]) for r in summary.repaired] == [("norm.md", 0)]
    assert summary.repaired[0]["decoded"] > 20
    top = search("LayerNorm 适合什么模型", k=1, index=Index(tmp_path / "home"))[0]
    assert top.heading_path == ["归一化", "LayerNorm 适合什么模型"] and "不依赖 batch" in top.text


def test_what_an_apostrophe_adds_to_an_english_word_is_no_token() -> None:
    """"What's SMOTE?" was searched as "what" and "s", and a heading "XGBoost: what's different from GBDT?" led the
    answer: a contraction or a possessive is its word alone, with a straight or a curly apostrophe."""
    from studybot.text.tokens import tokenize

    assert tokenize("What's SMOTE?") == tokenize("What’s SMOTE?") == tokenize("What is SMOTE?") == ["smote"]
    assert tokenize("Adam's bias correction") == tokenize("Adam’s bias correction") == tokenize("Adam bias correction")
    assert tokenize("GANs' mode collapse") == tokenize("GAN mode collapse")
    assert tokenize("it's the model's fault, isn't it? Don't, can't, won't") == ["model", "fault"]
    assert tokenize("rock'n'roll")[0] == "rocknroll"  # an apostrophe inside a word joins it as before


def test_a_colloquial_question_word_is_its_standard_form() -> None:
    """"GAN 的 mode collapse 是啥" quoted a note's "没啥用" (啥 was a word where 什么 is a stop word), the segmenter glued
    咋 to the verb after it ("交叉熵咋算" had no 算) and "过拟合咋整" named no fix: 啥, 咋 and 为啥 are read as 什么, 怎么
    and 为什么, in words, character pairs and aspects alike, and what to do about a problem (咋整, 咋办, 怎么办) as
    怎么解决."""
    from studybot.text.aspects import aspects, defines, question_parts
    from studybot.text.tokens import cjk_bigrams, tokenize

    for colloquial, standard in [("GAN 的 mode collapse 是啥", "GAN 的 mode collapse 是什么"),
                                 ("SVM 的核函数咋选", "SVM 的核函数怎么选"), ("交叉熵咋算", "交叉熵怎么算"),
                                 ("dropout 是啥意思", "dropout 是什么意思"), ("为啥要 warmup", "为什么要 warmup"),
                                 ("学习率 warmup 有啥用", "学习率 warmup 有什么用"), ("BN 咋样", "BN 怎么样"),
                                 ("过拟合咋整", "过拟合怎么解决"), ("梯度爆炸咋办", "梯度爆炸怎么办")]:
        assert tokenize(colloquial) == tokenize(standard) and cjk_bigrams(colloquial) == cjk_bigrams(standard), colloquial
        assert aspects(colloquial) == aspects(standard) and defines(colloquial) == defines(standard), colloquial
    assert tokenize("GAN 的 mode collapse 是啥") == ["gan", "mode", "collapse"]
    assert "解决" in tokenize("过拟合咋整") and tokenize("交叉熵咋算")[-1] == "算"
    assert not {"啥", "咋"} & set(tokenize("NSP 后来证明没啥用，咋看都多余"))
    assert tokenize("为何用 BN，batch 多大、多少步合适，咋样") == ["用", "bn", "batch", "步", "合适"]
    assert aspects("为啥要 warmup") == ["reason"] and defines("BN 是啥") and defines("啥是 BN")
    assert len(question_parts("BN 是啥，咋用？")) == 2


def test_a_note_deleted_since_the_index_is_never_cited_and_an_edited_one_is_named(tmp_path: Path) -> None:
    """`rm resnet.md` left search citing resnet.md:8-11, and two lines inserted above a section left it cited at
    its old lines, both in silence until the next `studybot index`."""
    from studybot.answer.pipeline import answer_question

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "resnet.md").write_text("# ResNet\n\n## 残差连接\n\n残差连接让梯度沿恒等映射直接回传，缓解深层网络的退化。\n",
                                     encoding="utf-8")
    (notes / "cnn.md").write_text("# CNN\n\n## 1x1 卷积\n\n1x1 卷积在通道之间做线性组合，用来升维或降维。\n",
                                  encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    index = Index(tmp_path / "home")
    assert search("残差连接为什么有效？", k=1, index=index)[0].file == str(notes / "resnet.md")
    (notes / "resnet.md").unlink()
    cnn = notes / "cnn.md"
    cnn.write_text(cnn.read_text(encoding="utf-8").replace("# CNN\n", "# CNN\n\n> 复习日期：12月7日\n"), encoding="utf-8")
    hits = search("残差连接为什么有效？", k=5, index=index)
    assert str(notes / "resnet.md") not in [h.file for h in hits]
    assert index.changed_notes([str(cnn), str(notes / "resnet.md")]) == {str(cnn): False, str(notes / "resnet.md"): True}
    answer = answer_question("1x1 卷积有什么作用？", index)
    assert answer.citations[0].file == str(cnn)
    assert answer.to_dict()["changed_since_index"] == [str(cnn)]
    build_index(tmp_path / "home")
    assert answer_question("1x1 卷积有什么作用？", Index(tmp_path / "home")).changed == []


def test_an_index_stopped_in_a_pass_goes_on_from_there_and_counts_what_it_computed(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C in the third embedding pass of a long note lost that pass's vectors, each pass said its own time left as
    if the index's ("about 0:00:06 left" with 90 s to go), and the summary counted cache hits as embedded: the next run
    computes only the vectors not yet kept, each pass says which of three it is, and the summary tells the chunks it
    embedded from those whose vectors were all cached."""
    import studybot.index.embedders as embedders

    monkeypatch.setattr(embedders, "CACHED_EVERY", 2)  # the note's six chunks are three batches
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "kestrel.md").write_text("# Kestrel gauges\n\n" + "\n".join(
        f"## Gauge {i}\n\nThe kestrel gauge {i} reads the tank's pressure every {i + 2} minutes.\n" for i in range(6)),
        encoding="utf-8")

    def stop_after_one_batch_of_pass_3(task: str, done: int, total: int) -> None:
        if task.startswith("pass 3 of 3") and done > 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _index(tmp_path / "home", [notes], progress=stop_after_one_batch_of_pass_3)
    gc.collect()  # the stopped run's catalog, held by its traceback, closed as when its process ends
    said: list[tuple[str, int, int]] = []
    again = _index(tmp_path / "home", [notes], progress=lambda task, done, total: said.append((task, done, total)))
    passes = {(task, total) for task, _, total in said if "embedding" in task}
    assert passes == {("pass 3 of 3, embedding across languages", again.chunks - 2)}, passes
    assert (again.embedded, again.cached) == (again.chunks - 2, 2) and again.chunks == 6
    rebuilt = _index(tmp_path / "home", rebuild=True)
    assert (rebuilt.embedded, rebuilt.cached) == (0, rebuilt.chunks)
