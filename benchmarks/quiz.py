"""Grading: agreement with the hand-labelled calibration set for each threshold, and latency per answer.

    python benchmarks/quiz.py

Prints agreement (share of answers whose score falls in its band) for lexical key-point matching
at several token-share thresholds, with and without embedding similarity at several cosine
thresholds, and the grading latency per answer of each method as a ratio to lexical grading.
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
    print(f"{'lexical':>8} {'embed':>6} {'agree':>6}  by kind")
    grader = Grader(glossary, use_embeddings=False)  # one grader: embeddings are computed once for the sweep
    for embed in (None, 0.5, 0.6, 0.7, 0.8):
        for lexical in (0.5, 0.6, 0.75, 1.0):
            grader.use_embeddings, grader.embed_threshold, grader.lexical_threshold = embed is not None, embed, lexical
            result = agreement(grader, cases, cards)
            kinds = " ".join(f"{k}={v:.2f}" for k, v in sorted(result["by_kind"].items()))
            print(f"{lexical:>8.2f} {embed or '-':>6} {result['agreement']:>6.3f}  {kinds}")
    answers = [(cards[c["id"]], c.get("answer") or getattr(cards[c["id"]].answer, c["lang"])) for c in cases]
    timings = {}
    for name, use in (("lexical", False), ("lexical+embeddings", True)):
        grader = Grader(glossary, use_embeddings=use)
        started = time.perf_counter()
        for card, answer in answers:
            grader.grade(card, answer)
        timings[name] = (time.perf_counter() - started) / len(answers)
        print(f"{name}: {timings[name] * 1000:.2f} ms per answer (model already loaded, new answers)")
    print(f"embeddings / lexical latency ratio: {timings['lexical+embeddings'] / timings['lexical']:.1f}x")


if __name__ == "__main__":
    main()
