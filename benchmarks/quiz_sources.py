"""How often search puts a quiz question's source section in the top k (issue 4's acceptance).

    python benchmarks/quiz_sources.py [-k 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args()
    from studybot.content.schema import load_quizzes
    from studybot.home import bundled_dir
    from studybot.index.build import build_index
    from studybot.index.search import Index, source_rank

    questions = load_quizzes(bundled_dir("quizzes"))
    with tempfile.TemporaryDirectory(prefix="studybot-quiz-") as home:
        build_index(home)
        index = Index(home)
        for lang in ("zh", "en"):
            ranks = [source_rank(getattr(q.question, lang), q.source.file, q.source.heading, args.k, index)
                     for q in questions]
            found = sum(r is not None for r in ranks)
            print(f"{lang}: {found}/{len(ranks)} = {found / len(ranks):.3f} in the top {args.k}; "
                  f"MRR {sum(1 / r for r in ranks if r) / len(ranks):.3f}")
            for q, r in zip(questions, ranks):
                if r is None:
                    print(f"  miss {q.id}: {getattr(q.question, lang)}  ->  {q.source.file} # {q.source.heading}")


if __name__ == "__main__":
    main()
