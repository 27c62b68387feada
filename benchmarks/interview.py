"""Interview follow-ups: how often a probe targets a point the answer really missed, and how fast it comes.

    python benchmarks/interview.py

Over the scripted answers of benchmarks/data/interview_answers.yaml (good, partial and wrong, in
Chinese and English, each labelled by hand with the key points it really states), every answer is
graded as the opening answer of an interview and the first follow-up is chosen. Printed:

- targeting: among answers that really miss a point, the share whose follow-up is a probe of a
  point really missed; the baseline, measured on the same answers, is a follow-up on a uniformly
  random key point of the question (no measurement of the answer), whose expected hit rate is
  the share of the question's points the answer missed;
- the share of complete answers that earned a deeper question, and of wrong ones that did (should be 0);
- time to the next question (grading plus choosing and phrasing the follow-up, no LLM), as
  seconds and as a ratio to grading the answer alone, measured in the same run.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import yaml

from studybot.content.glossary import load_glossary
from studybot.study.cards import load_deck
from studybot.study.grading import Grader
from studybot.study.interview import Asked, Interviewer, Thread, card_section

ANSWERS = Path(__file__).resolve().parent / "data" / "interview_answers.yaml"
REPEATS = 5
TARGETING_GOAL = 0.9
SECONDS_GOAL = 0.3


def _follow_up(grader: Grader, card, answer: str) -> tuple[Asked | None, float, float]:
    """The first follow-up after an opening answer, the seconds to it, and the seconds of grading alone."""
    started = time.perf_counter()
    grade = grader.grade(card, answer)
    graded = time.perf_counter()
    interviewer = Interviewer(grader, measure=lambda prediction: 0.0)  # a predict question is chosen, never run
    thread = Thread(n=1, card=card, section=card_section(card))
    interviewer.answered(thread, Asked("opening", card), grade, answer)
    asked = interviewer.follow_up(thread)
    return asked, time.perf_counter() - started, graded - started


def main() -> None:
    cases = yaml.safe_load(ANSWERS.read_text(encoding="utf-8"))
    cards = load_deck(None).by_id()
    grader = Grader(load_glossary(None))
    _follow_up(grader, cards[cases[0]["id"]], cases[0]["answer"])  # load jieba and the demo registry once
    hits, baseline, deeper_after_complete, deeper_after_wrong = [], [], [], []
    partial_hits, partial_baseline = [], []
    by_lang: dict[str, list[bool]] = {}
    next_times, grade_times, first_times = [], [], []
    for case in cases:
        card = cards[case["id"]]
        missed = set(range(len(card.key_points))) - set(case["covers"])
        runs = [_follow_up(grader, card, case["answer"]) for _ in range(REPEATS)]
        asked = runs[0][0]
        next_times.append(statistics.median(r[1] for r in runs))
        first_times.append(runs[0][1])  # the first time includes reading and parsing the note
        grade_times.append(statistics.median(r[2] for r in runs))
        kind = asked.kind if asked else None
        if case["kind"] == "wrong":
            deeper_after_wrong.append(kind in ("deeper", "predict"))
        if not missed:
            deeper_after_complete.append(kind in ("deeper", "predict"))
            continue
        target = card.key_points.index(asked.target) if kind == "probe" else None
        hit = target in missed
        hits.append(hit)
        by_lang.setdefault(case["lang"], []).append(hit)
        baseline.append(len(missed) / len(card.key_points))
        if case["covers"]:  # some points right, some missed: where choosing the point matters
            partial_hits.append(hit)
            partial_baseline.append(baseline[-1])
        if not hit:
            print(f"  miss: {case['id']} ({case['lang']}, {case['kind']}): follow-up {kind}"
                  f"{f' on point {target}' if target is not None else ''}, really missed {sorted(missed)}")
    rate, base = sum(hits) / len(hits), sum(baseline) / len(baseline)
    kinds = ", ".join(f"{k} {sum(c['kind'] == k for c in cases)}" for k in ("good", "partial", "wrong"))
    langs = ", ".join(f"{k} {sum(c['lang'] == k for c in cases)}" for k in ("zh", "en"))
    print(f"{len(cases)} scripted answers over {len({c['id'] for c in cases})} questions ({kinds}; {langs})")
    print(f"targeting: {rate:.3f} of {len(hits)} answers that miss a point are probed on a point they missed "
          f"(goal {TARGETING_GOAL}); random-point baseline {base:.3f}; ratio {rate / base:.2f}x")
    part, part_base = sum(partial_hits) / len(partial_hits), sum(partial_baseline) / len(partial_baseline)
    print(f"  answers with some points right and some missed ({len(partial_hits)}): {part:.3f}, baseline "
          f"{part_base:.3f}, ratio {part / part_base:.2f}x")
    print("  by language: " + ", ".join(f"{lang} {sum(v) / len(v):.3f} ({len(v)})" for lang, v in sorted(by_lang.items())))
    print(f"complete answers followed by a deeper question: {sum(deeper_after_complete)}/{len(deeper_after_complete)}; "
          f"wrong answers followed by one: {sum(deeper_after_wrong)}/{len(deeper_after_wrong)}")
    p50, worst = statistics.median(next_times), max(next_times)
    grade = statistics.median(grade_times)
    print(f"time to the next question (grade + choose + phrase, no LLM): p50 {p50 * 1000:.1f} ms, max "
          f"{worst * 1000:.1f} ms, slowest first time (note read and parsed) {max(first_times) * 1000:.1f} ms "
          f"(goal {SECONDS_GOAL * 1000:.0f} ms); grading alone p50 {grade * 1000:.1f} ms; ratio {p50 / grade:.2f}x")


if __name__ == "__main__":
    main()
