"""How often search puts a quiz question's source section in the top k (issue 4's acceptance).

    python benchmarks/quiz_sources.py [-k 5] [--with ../shared/seeds]

With `--with PATH` the home also holds those notes (a user's), as every user has it: the bundled
sources must stay in the top k while the user's passages are promoted; it also prints, per topic,
how often a user passage comes first (wanted where the user's notes cover the topic, not elsewhere).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--with", dest="notes", type=Path, help="also index these notes (a user's) in the home")
    args = parser.parse_args()
    from studybot.content.schema import load_quizzes
    from studybot.home import bundled_dir
    from studybot.index.build import build_index
    from studybot.index.search import Index, rank_of_source, search

    questions = load_quizzes(bundled_dir("quizzes"))
    with tempfile.TemporaryDirectory(prefix="studybot-quiz-") as home:
        build_index(home, [args.notes] if args.notes else None)
        index = Index(home)
        for lang in ("zh", "en"):
            ranks, own_first, topics = [], Counter(), Counter()
            for q in questions:
                hits = search(getattr(q.question, lang), k=args.k, index=index)
                ranks.append(rank_of_source(hits, q.source.file, q.source.heading))
                topics[q.topic] += 1
                own_first[q.topic] += bool(hits) and index.own(hits[0].file)
            found = sum(r is not None for r in ranks)
            print(f"{lang}: {found}/{len(ranks)} = {found / len(ranks):.3f} in the top {args.k}; "
                  f"MRR {sum(1 / r for r in ranks if r) / len(ranks):.3f}")
            if args.notes:
                print("  a user passage first, by topic: "
                      + ", ".join(f"{t} {own_first[t]}/{topics[t]}" for t in sorted(topics)))
            for q, r in zip(questions, ranks):
                if r is None:
                    print(f"  miss {q.id}: {getattr(q.question, lang)}  ->  {q.source.file} # {q.source.heading}")


if __name__ == "__main__":
    main()
