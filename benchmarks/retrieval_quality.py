"""What each retrieval lever buys: BM25 / dense / hybrid, with and without the glossary bridge.

    python benchmarks/retrieval_quality.py [--corpus ../shared/seeds] [--questions FILE] [-k 5]

Prints recall@1, recall@k and MRR per configuration; the baseline is BM25 without the glossary.
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
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "seeds")
    parser.add_argument("--questions", type=Path, default=REPO.parent / "shared" / "eval" / "retrieval-dev.jsonl")
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args()

    from studybot.content import glossary as glossary_module
    from studybot.index import build as indexing
    from studybot.index import search as retrieval
    from studybot.evaluation.retrieval import evaluate_retrieval

    real_loader = glossary_module.load_glossary
    empty = glossary_module.Glossary.from_entries([])
    rows = []
    for with_glossary in (False, True):
        loader = real_loader if with_glossary else (lambda home=None: empty)
        indexing.load_glossary = retrieval.load_glossary = loader  # the one switch this benchmark flips
        with tempfile.TemporaryDirectory(prefix="studybot-quality-") as home:
            indexing.build_index(home, [args.corpus], bundled=False)
            for mode in ("bm25", "dense", "hybrid"):
                result = evaluate_retrieval(args.questions, home=Path(home), k=args.k, mode=mode)
                rows.append((mode, with_glossary, result))
    base = rows[0][2]
    print(f"{'mode':8} {'glossary':8} {'R@1':>6} {'R@' + str(args.k):>6} {'MRR':>6}  {'MRR/base':>8}  misses")
    for mode, with_glossary, r in rows:
        ratio = r["mrr"] / base["mrr"] if base["mrr"] else float("nan")
        print(f"{mode:8} {str(with_glossary):8} {r['recall@1']:6.3f} {r['recall@k']:6.3f} {r['mrr']:6.3f}  "
              f"{ratio:8.2f}  {' '.join(r['misses'])}")


if __name__ == "__main__":
    main()
