"""Nothing the user set up is lost: a damaged index is rebuilt with every remembered folder, and a refresh heals it.

Real indexes over small generated notes; the command under test runs as the user runs it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from studybot.index import store
from studybot.index.build import build_index
from studybot.index.search import Index, search
from studybot.index.sources import read_sources, sources_file
from tests.conftest import one_line_error, run_cli

QUOKKA_NOTE = "# Marsupials\n\n## What does a quokka eat?\n\nThe quokka eats leaves, grasses and shrubs on Rottnest Island.\n"


def _ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and not result.stderr.strip(), result.stderr
    return result


def _index_json(home: Path, *args: str) -> dict:
    return json.loads(_ok(run_cli("index", *args, "--json", home=home)).stdout)


@pytest.fixture
def two_folders(tmp_path: Path, notes_dir: Path) -> tuple[Path, Path, Path]:
    """A home indexing two note folders (3 files), and the folders."""
    other = tmp_path / "more-notes"
    other.mkdir()
    (other / "quokka.md").write_text(QUOKKA_NOTE, encoding="utf-8")
    home = tmp_path / "home"
    summary = build_index(home, [notes_dir, other], bundled=False, repair="jieba")
    assert summary.files == 3
    return home, notes_dir, other


def _both_folders_indexed(home: Path, first: Path, second: Path) -> None:
    index = Index(home)
    assert index.manifest["counts"]["files"] == 3
    assert Path(search("BatchNorm LayerNorm", k=1, index=index)[0].file).parent == first.resolve()
    assert Path(search("What does a quokka eat", k=1, index=index)[0].file).parent == second.resolve()


def test_corrupt_manifest_rebuild_keeps_every_folder(two_folders) -> None:
    home, first, second = two_folders
    remembered = sources_file(home).read_bytes()
    assert json.loads(remembered) == {"version": 1, "paths": [str(first.resolve()), str(second.resolve())],
                                      "bundled": False, "repair": "jieba", "embed_model": "all-MiniLM-L6-v2"}
    (store.current_generation(home) / store.MANIFEST).write_bytes(b"\x00garbage\xff" * 10)
    line = one_line_error(run_cli("search", "quokka", home=home), "manifest.json is corrupt")
    fix = line.split("run `")[1].split("`")[0]
    assert fix == "studybot index --rebuild"
    assert sources_file(home).read_bytes() == remembered
    summary = _index_json(home, *fix.split()[2:])
    assert summary["files"] == 3 and summary["rebuilt"] and "manifest.json is corrupt" in summary["recovered"]
    assert sources_file(home).read_bytes() == remembered
    _both_folders_indexed(home, first, second)


def test_lost_current_is_named_and_index_rebuilds_with_the_remembered_folders(two_folders) -> None:
    home, first, second = two_folders
    old = store.current_generation(home)
    (store.index_root(home) / "CURRENT").unlink()
    for command in (["search", "quokka"], ["ask", "What does a quokka eat?", "--no-llm"]):
        line = one_line_error(run_cli(*command, home=home), f"the index pointer {store.index_root(home) / 'CURRENT'} "
                               "is missing: run `studybot index` to rebuild it (your note folders are remembered)")
        assert "nothing is indexed" not in line
    assert old.is_dir()
    result = _ok(run_cli("index", home=home))
    assert "repaired the index: the index pointer" in result.stdout and "rebuilt from your notes" in result.stdout
    assert store.current_generation(home) != old and not old.exists()  # deleted once the new one was live
    _both_folders_indexed(home, first, second)


def test_a_failed_rebuild_keeps_the_last_good_generation(two_folders, monkeypatch) -> None:
    home, first, second = two_folders
    old = store.current_generation(home)

    def publish_fails(self, manifest):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.NewGeneration, "publish", publish_fails)
    with pytest.raises(OSError):
        build_index(home, rebuild=True)  # a healthy index: CURRENT still names the old generation
    assert store.current_generation(home) == old
    _both_folders_indexed(home, first, second)
    (store.index_root(home) / "CURRENT").unlink()
    with pytest.raises(OSError):
        build_index(home)  # a lost pointer: the old generation is all there is, and it stays
    assert (old / store.CATALOG).is_file() and (old / store.DENSE).is_file()
    assert read_sources(home).paths == [str(first.resolve()), str(second.resolve())]
    monkeypatch.undo()
    summary = build_index(home)
    assert summary.files == 3 and "CURRENT is missing" in summary.recovered
    assert [p.name for p in store.index_root(home).glob("gen-*")] == [store.current_generation(home).name]
    _both_folders_indexed(home, first, second)


def _truncate_dense(folder: Path) -> str:
    path = folder / store.DENSE
    path.write_bytes(path.read_bytes()[:100])
    return "dense.faiss is 100 bytes"


def _delete_bm25(folder: Path) -> str:
    import shutil

    shutil.rmtree(folder / store.BM25_DIR)
    return "bm25/ids.json is missing"


@pytest.mark.parametrize("damage", [_truncate_dense, _delete_bm25], ids=["truncated-dense", "deleted-bm25"])
def test_plain_index_heals_a_damaged_generation(two_folders, damage) -> None:
    home, first, second = two_folders
    old = store.current_generation(home)
    said = damage(old)
    result = _ok(run_cli("index", home=home))
    lines = [line for line in result.stdout.splitlines() if "repaired the index" in line]
    assert len(lines) == 1 and said in lines[0] and "rebuilt" in lines[0], result.stdout
    assert "indexed 3 files" in result.stdout
    assert store.current_generation(home) != old and not old.exists()
    _both_folders_indexed(home, first, second)
    _ok(run_cli("search", "quokka", home=home))


def test_plain_index_of_a_healthy_home_changes_nothing(two_folders) -> None:
    home, first, second = two_folders
    live = store.current_generation(home)
    before = {p: p.stat().st_mtime_ns for p in live.rglob("*")}
    summary = _index_json(home)  # --repair jieba was remembered: no re-chunking with another scorer
    assert (summary["new"], summary["changed"], summary["removed"], summary["unchanged"]) == (0, 0, 0, 3)
    assert not summary["rebuilt"] and summary["recovered"] is None and summary["embedded"] == 0
    assert store.current_generation(home) == live and list(store.index_root(home).glob("gen-*")) == [live]
    assert {p: p.stat().st_mtime_ns for p in live.rglob("*")} == before


def _as_the_previous_version_wrote_it(home: Path) -> None:
    """No sources.json, and a manifest without file sizes: what studybot wrote before either existed."""
    sources_file(home).unlink()
    path = store.current_generation(home) / store.MANIFEST
    manifest = json.loads(path.read_text())
    del manifest["sizes"]
    path.write_text(json.dumps(manifest))


def test_a_home_of_the_previous_version_is_migrated(two_folders) -> None:
    home, first, second = two_folders
    _as_the_previous_version_wrote_it(home)
    live = store.current_generation(home)
    summary = _index_json(home)
    assert summary["unchanged"] == 3 and not summary["rebuilt"] and summary["recovered"] is None
    assert store.current_generation(home) == live
    migrated = read_sources(home)
    assert migrated.paths == [str(first.resolve()), str(second.resolve())]
    assert (migrated.bundled, migrated.repair) == (False, "jieba")
    _both_folders_indexed(home, first, second)


def test_a_home_of_the_previous_version_that_lost_current_keeps_its_folders(two_folders) -> None:
    home, first, second = two_folders
    _as_the_previous_version_wrote_it(home)
    (store.index_root(home) / "CURRENT").unlink()
    summary = _index_json(home)  # the folders come from the newest generation's own manifest
    assert summary["files"] == 3 and "CURRENT is missing" in summary["recovered"]
    assert read_sources(home).paths == [str(first.resolve()), str(second.resolve())]
    _both_folders_indexed(home, first, second)


def test_an_unreadable_sources_file_is_an_error_and_is_kept(two_folders) -> None:
    home, _, _ = two_folders
    sources_file(home).write_bytes(b"{not json")
    one_line_error(run_cli("index", home=home), str(sources_file(home)), "unreadable", "delete it")
    assert sources_file(home).read_bytes() == b"{not json"
