"""Does `ask` answer the question asked, from the user's notes? First citation, key points, length.

    python benchmarks/answer_quality.py --corpora DIR [--split dev|held|all] [--sets imhuay_zh ...] [--homes DIR]

Each set of benchmarks/questions/ (written by hand before any answer was seen; see
retrieval_quality.py for where each corpus comes from) is asked over a home that holds the set's
notes *and* the bundled knowledge/, as every user has it: the set's notes play the user's own
notes, and none of them is written in the bundled format (no interview-answer blocks), so the
answer must find the user's passage and open with it. Figures per set, extractive answers:

    first cited  share of answers whose first citation is an accepted passage (the `accept` rules)
    top-1 hit    the same-run baseline: share of questions whose first search hit is accepted
    own first    share of answers opening with the user's note (not the bundled notes)
    coverage     mean key-point coverage (an answer over 800 characters covers nothing)
    chars        median answer length

The ratio column is first cited / top-1 hit: above 1 the answer opens with a better passage than
retrieval ranked first. Then, per home, how many of the questions off the subject
(benchmarks/questions/offtopic.jsonl: everyday ones and near-domain ones on Redis, TCP, JVM, CSS ...,
written by hand, 80 dev and 40 held, half of them Chinese) `ask` answers rather than saying it found
nothing, per question language. Some collections do hold a near-domain answer (the Chinese
interview book has a chapter on C++ and operating systems); most answered ones are not answers.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

from question_sets import REPO, questions, set_parser

SHARED = REPO.parent / "shared"
SETS = ["seeds_new", "dl500_zh", "imhuay_zh", "hosni_en", "devint_en", "dl500_en", "amusi_zh", "mlq_en", "obsai_en", "rasbt_en", "d2lzh_zh", "shuaiw_en", "daily_zh"]


def _home(name: str, corpora: Path, homes: Path) -> Path:
    """The set's notes plus the bundled knowledge, indexed once into homes/<name> (reused when there)."""
    from studybot.index.build import build_index

    home = homes / name
    notes = SHARED / "seeds" if name.startswith("seeds") else corpora / name
    if not (home / "index").is_dir():
        build_index(home, [notes], bundled=True, repair="jieba")
    return home


def run_set(name: str, corpora: Path, homes: Path, split: str) -> dict:
    from studybot.answer.pipeline import NothingFound, answer_question
    from studybot.evaluation.answers import covered
    from studybot.evaluation.retrieval import answers
    from studybot.index.search import Index, search

    index = Index(_home(name, corpora, homes))
    rows = []
    for item in questions(name, split):
        hits = search(item["question"], k=1, index=index)
        try:
            result = answer_question(item["question"], index)
            text, cited = result.answer, result.citations
        except NothingFound:
            text, cited = "", []
        points = item.get("key_points") or []
        hit = covered(text, points)
        rows.append({
            "id": item["id"], "lang": item.get("lang"),
            "first": bool(cited) and answers(cited[0], item["accept"]),
            "top1": bool(hits) and answers(hits[0], item["accept"]),
            "own": bool(cited) and cited[0].own,
            "coverage": sum(hit) / len(hit) if hit else None,
            "chars": len(text),
        })
    off_topic = {"zh": 0, "en": 0}
    for item in questions("offtopic", split):
        try:
            answer_question(item["question"], index)
            off_topic[item["lang"]] += 1
        except NothingFound:
            pass
    return {"set": name, "rows": rows, "off_topic_answered": off_topic}


def summary(rows: list[dict]) -> dict:
    n = len(rows) or 1
    scored = [r["coverage"] for r in rows if r["coverage"] is not None]
    return {
        "n": len(rows),
        "first_cited": sum(r["first"] for r in rows) / n,
        "top1_hit": sum(r["top1"] for r in rows) / n,
        "own_first": sum(r["own"] for r in rows) / n,
        "coverage": statistics.mean(scored) if scored else None,
        "median_chars": statistics.median(r["chars"] for r in rows) if rows else 0,
        "over_800": sum(r["chars"] > 800 for r in rows),
    }


def main() -> None:
    parser = set_parser(__doc__, SETS)
    parser.add_argument("--json", action="store_true", help="Print every row as JSON.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="studybot-answers-") as tmp:
        homes = args.homes or Path(tmp)
        results = [run_set(name, args.corpora, homes, args.split) for name in args.sets
                   if questions(name, args.split)]  # the later sets are all held
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
        return
    print(f"split={args.split}")
    print(f"{'set':<12} {'n':>3} {'first cited':>11} {'top-1 hit':>9} {'ratio':>6} {'own first':>9} {'coverage':>8} "
          f"{'chars':>6} {'>800':>4}")
    for label, rows in [(r["set"], r["rows"]) for r in results] + [("all", [x for r in results for x in r["rows"]])]:
        s = summary(rows)
        ratio = s["first_cited"] / s["top1_hit"] if s["top1_hit"] else float("nan")
        coverage = f"{s['coverage']:.3f}" if s["coverage"] is not None else "-"
        print(f"{label:<12} {s['n']:>3} {s['first_cited']:>11.3f} {s['top1_hit']:>9.3f} {ratio:>6.2f} "
              f"{s['own_first']:>9.3f} {coverage:>8} {s['median_chars']:>6.0f} {s['over_800']:>4}")
    asked = {lang: sum(q["lang"] == lang for q in questions("offtopic", args.split)) for lang in ("zh", "en")}
    print(f"off-topic questions answered (of {asked['zh']} Chinese / {asked['en']} English per home):")
    for r in results:
        print(f"{r['set']:<12} {r['off_topic_answered']['zh']:>3} / {r['off_topic_answered']['en']:>3}")
    print(f"{'all':<12} {sum(r['off_topic_answered']['zh'] for r in results):>3} / "
          f"{sum(r['off_topic_answered']['en'] for r in results):>3}")

if __name__ == "__main__":
    main()
