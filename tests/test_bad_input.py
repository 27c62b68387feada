"""The bad-input matrix: each case gives one line on stderr, a non-zero exit, no traceback, and
changes none of the user's files or remembered settings.

One home with a small note of its own is built per case (copied from one built once), each case
damages what it needs, runs one command, and compares a snapshot of everything the user cannot
rebuild: the notes, sources.json, config.toml, the review history and the glossary folder.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Callable

import pytest

from tests.conftest import one_line_error, run_cli

NOTE = "# Dropout\n\nDropout 在训练时随机丢弃神经元，推理时关闭并缩放输出。\n\nDropout randomly zeroes activations during training.\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad-input")
    (root / "notes").mkdir()
    (root / "notes" / "dropout.md").write_text(NOTE, encoding="utf-8")
    result = run_cli("index", str(root / "notes"), "--no-bundled", "--repair", "jieba", home=root / "home")
    assert result.returncode == 0, result.stderr
    (root / "home" / "config.toml").write_text('[llm]\nserver_model = "x"\n', encoding="utf-8")
    quiz = run_cli("quiz", "--topic", "residual", "-n", "1", "--no-notes", "--answers-file", "/dev/null", home=root / "home")
    assert quiz.returncode == 0, quiz.stderr
    return root


def _snapshot(root: Path) -> dict[str, str]:
    """Hashes of the files a user cannot rebuild (the index and caches are rebuildable, so not here)."""
    home = root / "home"
    kept = [*sorted((root / "notes").rglob("*")), home / "sources.json", home / "config.toml",
            home / "reviews.sqlite", *sorted((home / "glossary").rglob("*"))]
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in kept if p.is_file()}


def _generation(home: Path) -> Path:
    return home / "index" / (home / "index" / "CURRENT").read_text().strip()


def _truncate(name: str) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        path = _generation(root / "home") / name
        path.write_bytes(path.read_bytes()[:100])
    return damage


def _write(relative: str, data: bytes) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    return damage


def _nothing(root: Path) -> None:
    pass


CASES = {
    "index a missing path": (_nothing, ["index", "{root}/no-such-notes"], "path not found"),
    "search with an empty query": (_nothing, ["search", " "], "empty query"),
    "ask with nothing but punctuation": (_nothing, ["ask", "？？"], "empty query"),
    "search a truncated dense index": (_truncate("dense.faiss"), ["search", "dropout"], "--rebuild"),
    "search a truncated catalog": (_truncate("catalog.sqlite"), ["search", "dropout"], "--rebuild"),
    "ask with a garbage model file": (_write("junk.gguf", b"not a model" * 50),
                                      ["ask", "What is dropout?", "--model", "{root}/junk.gguf"], "GGUF"),
    "ask with a model file that is missing": (_nothing, ["ask", "What is dropout?", "--model", "{root}/gone.gguf"],
                                              "not found"),
    "ask with a URL that is not one": (_nothing, ["ask", "What is dropout?", "--llm-url", "ftp:/x"], "http"),
    "ask with a broken config.toml": (_write("home/config.toml", b"[llm\nmodel = "), ["ask", "What is dropout?"],
                                      "config.toml"),
    "ask with a typo in config.toml": (_write("home/config.toml", b'[llm]\nmodle = "q.gguf"\n[serach]\ntranslator = "x"\n'),
                                       ["ask", "What is dropout?"], "unknown [serach], [llm] modle"),
    "index with an unreadable sources.json": (_write("home/sources.json", b"{not json"), ["index"], "sources.json"),
    "demo seed out of range": (_nothing, ["demo", "sigmoid-saturation", "--seed", "99999999999999999999999"], "seed"),
    "unknown demo": (_nothing, ["demo", "no-such-demo"], "no-such-demo"),
    "quiz in an unknown language": (_nothing, ["quiz", "--lang", "fr"], "--lang"),
    "quiz on an unknown topic": (_nothing, ["quiz", "--topic", "knitting"], "knitting"),
    "quiz with a strict broken bank": (_write("bank.yaml", b"topic: x\nquestions: [\n"),
                                       ["quiz", "--bank", "{root}/bank.yaml", "--strict"], "malformed YAML"),
    "interview on an unknown topic": (_nothing, ["interview", "--topic", "knitting"], "knitting"),
    "interview of no minutes": (_nothing, ["interview", "--minutes", "0"], "--minutes"),
    "plan for a day gone by": (_nothing, ["plan", "--until", "2020-01-15"], "not after today"),
    "plan for a date that is not one": (_nothing, ["plan", "--until", "next friday"], "2027-01-15"),
    "plan of no minutes a day": (_nothing, ["plan", "--until", "2027-01-15", "--now", "2026-12-01T09:00:00+00:00",
                                            "--minutes-per-day", "0"], "--minutes-per-day"),
    "plan for a date years away": (_nothing, ["plan", "--until", "9999-12-31"], "more than 366 days"),
    "review with a damaged plan": (_write("home/plan.json", b'{"version": 1, "days": ['), ["review"], "plan.json"),
    # valid JSON of another shape: a day without its topics was a KeyError, one whose topics are empty but whose cards
    # are a number a TypeError
    **{f"review with a plan day of {shape}": (
        _write("home/plan.json", b'{"version": 1, "until": "2027-01-20", "days": [{"date": "2027-01-07", %s}]}' % day),
        ["review", "--answers-file", "/dev/null", "--now", "2027-01-07T10:00:00+00:00"], "plan --until DATE` again")
       for shape, day in (("no topics", b'"cards": 5'), ("cards a number", b'"topics": [], "cards": 5'))},
    "stats plotted into a JPEG": (_nothing, ["stats", "--plot", "{root}/progress.jpg"], ".png"),
    "repair a missing file": (_nothing, ["repair", "{root}/gone.md", "--scorer", "jieba"], "gone.md"),
    "eval with neither questions nor --self": (_nothing, ["eval", "retrieval"], "give a questions FILE or --self"),
    "eval with malformed questions": (_write("q.jsonl", b'{"id": 1, "question": \n'),
                                      ["eval", "retrieval", "{root}/q.jsonl"], "q.jsonl"),
    "eval of a folder as its questions": (_nothing, ["eval", "retrieval", "{root}"], "is a folder"),
    "eval questions that are not UTF-8": (_write("q.jsonl", b'\xff\xfe{"id": 1}\n'),
                                          ["eval", "retrieval", "{root}/q.jsonl"], "not UTF-8"),
    "eval questions whose accept is a string": (
        _write("q.jsonl", b'{"id": "q1", "question": "What is dropout?", "accept": "dropout.md"}\n'),
        ["eval", "retrieval", "{root}/q.jsonl"], "accept must be a list"),
    "eval questions whose heading is a string": (
        _write("q.jsonl", b'{"id": "q1", "question": "What is dropout?", "accept": [{"source": "a.md", "heading": "x"}]}\n'),
        ["eval", "retrieval", "{root}/q.jsonl"], "accept must be a list"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_changes_nothing_of_the_users(built: Path, tmp_path: Path, case: str) -> None:
    damage, args, needle = CASES[case]
    root = tmp_path / "root"
    shutil.copytree(built, root)
    damage(root)
    before = _snapshot(root)
    home = [] if args[0] in ("demo", "repair") else ["--home", str(root / "home")]  # they keep no data
    result = run_cli(*[a.format(root=root) for a in args], *home)
    assert one_line_error(result, needle).startswith("studybot: error: ")
    assert _snapshot(root) == before


def test_a_damaged_cache_file_is_one_line_that_says_it_can_go(tmp_path: Path) -> None:
    """Caches hold only what studybot computes again; a damaged one is named, never a traceback."""
    (tmp_path / "demo-results.sqlite").write_bytes(b"not a database" * 300)
    result = run_cli("demo", "sigmoid-saturation", "--quick", env={"STUDYBOT_CACHE": str(tmp_path)})
    one_line_error(result, "demo-results.sqlite is damaged", "delete it")
