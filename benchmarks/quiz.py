"""Grading: agreement with the hand-labelled calibration set for each lexical threshold, and latency per answer.

    python benchmarks/quiz.py

Prints agreement (share of answers whose score falls in its band) for lexical key-point matching
at several token-share thresholds, and the grading latency per answer. The calibration set holds
bank questions, whose key points are written to be said in any words, so it grades by words alone;
grading note cards by meaning is measured by benchmarks/note_cards.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from studybot.study.cards import load_deck
from studybot.content.glossary import load_glossary
from studybot.study.grading import Grader, agreement

CALIBRATION = Path(__file__).resolve().parents[1] / "tests" / "data" / "grading_calibration.yaml"


def main() -> None:
    cases = yaml.safe_load(CALIBRATION.read_text(encoding="utf-8"))
    cards = load_deck(None).by_id()
    glossary = load_glossary(None)
    print(f"{len(cases)} calibration answers over {len({c['id'] for c in cases})} questions")
    print(f"{'lexical':>8} {'agree':>6}  by kind")
    grader = Grader(glossary)
    for lexical in (0.5, 0.6, 0.75, 1.0):
        grader.lexical_threshold = lexical
        result = agreement(grader, cases, cards)
        kinds = " ".join(f"{k}={v:.2f}" for k, v in sorted(result["by_kind"].items()))
        print(f"{lexical:>8.2f} {result['agreement']:>6.3f}  {kinds}")
    answers = [(cards[c["id"]], c.get("answer") or getattr(cards[c["id"]].answer, c["lang"])) for c in cases]
    grader = Grader(glossary)
    started = time.perf_counter()
    for card, answer in answers:
        grader.grade(card, answer)
    print(f"{(time.perf_counter() - started) / len(answers) * 1000:.2f} ms per answer")


if __name__ == "__main__":
    main()
