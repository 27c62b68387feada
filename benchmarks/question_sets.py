"""The question sets the benchmarks ask (benchmarks/questions/*.jsonl), read one way: a set's questions in a split."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from studybot.evaluation.retrieval import read_jsonl  # noqa: E402

QUESTIONS = REPO / "benchmarks" / "questions"


def questions(name: str | Path, split: str = "all") -> list[dict]:
    """The questions of a set (a name under benchmarks/questions, or a file) in a split: "dev", "held" or "all"
    (a question without one is dev)."""
    path = name if isinstance(name, Path) else QUESTIONS / f"{name}.jsonl"
    return [q for q in read_jsonl(path, ("id", "question"), "a question line")
            if split == "all" or q.get("split", "dev") == split]


def translations() -> dict[str, str]:
    """{question id: our translation} for the questions asked in the other language than their notes'."""
    return {item["id"]: item["translation"]
            for item in read_jsonl(QUESTIONS / "translations.jsonl", ("id", "translation"), "a translation line")}


def set_parser(doc: str, sets: list[str]) -> argparse.ArgumentParser:
    """The options of a benchmark that asks question sets over homes built from outside corpora: --corpora, --split,
    --sets and --homes."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--corpora", type=Path, required=True, help="One folder per set (see the script's docstring).")
    parser.add_argument("--split", default="dev", choices=["dev", "held", "all"])
    parser.add_argument("--sets", nargs="*", default=sets)
    parser.add_argument("--homes", type=Path, help="Keep the built homes here (default: a temporary folder).")
    return parser
