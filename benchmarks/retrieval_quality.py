"""Recall@1, recall@5 and MRR of each retrieval lever, on notes and questions it was not tuned on.

    python benchmarks/retrieval_quality.py --corpora DIR [--split held] [--sets dl500_zh hosni_en ...]

Question sets live in benchmarks/questions/ (written by hand, as an interviewer asks, before any
result was seen; `split` is "dev" or "held", and the held questions were scored only at the end).
Each set is named after the notes it asks about; DIR holds one folder per set:

    dl500_zh   the Chinese chapters (ch*/) of github.com/scutan90/DeepLearning-500-questions @6087a06
    imhuay_zh  A-深度学习/ and B-自然语言处理/ of github.com/imhuay/Algorithm_Interview_Notes-Chinese @523fcbc
    hosni_en   "Deep Learning Questions & Answers for Data Scientists.md" of
               github.com/youssefHosni/Data-Science-Interview-Questions-Answers @20ebf4e
    devint_en  README.md of github.com/Devinterview-io/deep-learning-interview-questions @fa18423
    dl500_en   "English version/*/Chapter*.md" of scutan90/DeepLearning-500-questions @6087a06
    amusi_zh   the Markdown files (README.md, docs/*.md) of github.com/amusi/Deep-Learning-Interview-Book @03fcd44
    mlq_en     README.md and NLP/README.md of github.com/andrewekhalel/MLQuestions @222816d
    obsai_en   AI/**/*.md of github.com/Lawrence-Godfrey/obsidian-ai-notes @a81c3a9 (an Obsidian vault)
    rasbt_en   faq/*.md of github.com/rasbt/python-machine-learning-book @7d91687 (an English ML FAQ)
    d2lzh_zh   docs/chapter*/*.md of github.com/ShusenTang/Dive-into-DL-PyTorch @09c8bac (a Chinese textbook)
    shuaiw_en  README.md of github.com/ShuaiW/data-science-question-answer @fecefcf (English data-science Q&A)
    daily_zh   docs/04-ai-algorithms/{machine-learning/**,nlp/*}.md of github.com/datawhalechina/daily-interview @f35e8d5

amusi_zh and mlq_en came later (stop 33): every question of theirs is held, written before any
result was seen, and reported once; nothing was tuned on them. obsai_en came in stop 34: its first
30 questions were read to find what an Obsidian vault needs, so they are dev; 20 more, written
after that, are held. rasbt_en and d2lzh_zh came in stop 62, like amusi_zh and mlq_en: 36 questions each
(20 in the notes' language, 16 in the other), all held, written by someone who never saw a result;
shuaiw_en and daily_zh came in stop 63 the same way.

The seed sets need no DIR: `seeds` is ../shared/seeds with ../shared/eval/retrieval-dev.jsonl,
`seeds_new` the same notes with questions of ours, and `+bundled` adds the bundled knowledge to the
home (the user's passage must then still be found). Each lever is switched off on its own; the
ratio column is each configuration's mean MRR over the mean MRR of "all levers" in the same run.
"hand translations" replaces Gemma's translations by ours (questions/translations.jsonl, written
before any result was seen): what a strong translator, a real instruct model, would give.
--traditional asks the Chinese sets (*_zh) over the same notes written in Taiwan's traditional characters
(OpenCC's s2twp conversion: characters and Taiwan's words, 網路, 資料), the questions as they are: notes
from Taiwan or Hong Kong.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from question_sets import REPO, questions, translations

SHARED = REPO.parent / "shared"
OUTSIDE = ["dl500_zh", "imhuay_zh", "hosni_en", "devint_en", "dl500_en", "amusi_zh", "mlq_en", "obsai_en", "rasbt_en", "d2lzh_zh", "shuaiw_en", "daily_zh"]
SEEDS = ["seeds", "seeds+bundled", "seeds_new", "seeds_new+bundled"]


def _questions(name: str, split: str) -> list[dict]:
    base = name.removesuffix("+bundled")
    return questions(SHARED / "eval" / "retrieval-dev.jsonl" if base == "seeds" else base, split)


def _traditional(notes: Path, questions: list[dict], folder: Path) -> tuple[Path, list[dict]]:
    """The notes written in Taiwan's traditional characters into `folder`, and the questions with their
    accepted headings written so too (the questions themselves stay as they are)."""
    from opencc_purepy import OpenCC

    converter = OpenCC("s2twp")
    for path in notes.rglob("*.md"):
        target = folder / path.relative_to(notes)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(converter.convert(path.read_text(encoding="utf-8")), encoding="utf-8")
    return folder, [{**q, "accept": [{**rule, "heading": [converter.convert(h) for h in rule["heading"]]}
                                      for rule in q["accept"]]} for q in questions]


def _hand_translations() -> dict[str, str]:
    """{question: our translation} for every question asked in the other language than its notes'."""
    by_id = translations()
    return {q["question"]: by_id[q["id"]] for name in SEEDS + OUTSIDE for q in _questions(name, "all") if q["id"] in by_id}


def _levers():
    """(name, apply, undo) for each configuration: every lever on, then each one off alone."""
    import studybot.index.search as search
    from studybot.content import glossary

    real_glossary, saved = search.Index.__dict__["glossary"], (dict(search.WEIGHTS), search.PROMOTE_TO, search.PROMOTE_FIRST)
    real_target, real_translation = search.Index.translation_target, search.translation

    def reset() -> None:
        search.WEIGHTS.clear()
        search.WEIGHTS.update(saved[0])
        search.PROMOTE_TO, search.PROMOTE_FIRST = saved[1], saved[2]
        search.Index.glossary = real_glossary
        search.Index.translation_target = real_target
        search.translation = real_translation

    def no_headings() -> None:
        search.WEIGHTS["headings"] = 0.0

    def no_crosslingual() -> None:
        search.WEIGHTS["crosslingual"] = 0.0

    def no_promotion() -> None:
        search.PROMOTE_TO = search.PROMOTE_FIRST = ()

    def never_first() -> None:
        search.PROMOTE_FIRST = search.PROMOTE_TO

    def no_glossary() -> None:  # at query time only: chunks keep the expansion they were indexed with
        search.Index.glossary = property(lambda self: glossary.Glossary.from_entries([]))

    def no_translation() -> None:
        search.Index.translation_target = lambda self, question: None

    def bm25_only() -> None:
        search.WEIGHTS.update({"dense": 0.0, "headings": 0.0, "crosslingual": 0.0})

    def no_chars() -> None:
        search.WEIGHTS["chars"] = 0.0

    def hand_translations() -> None:
        by_question = _hand_translations()
        # a question with no hand translation (one the notes' language did not call for when they were written) keeps Gemma's
        search.translation = lambda question, index: (
            (by_question.get(question) or real_translation(question, index)) if index.translation_target(question) else "")

    return reset, [("all levers", None), ("hand translations", hand_translations),
                   ("- query translation", no_translation), ("- character pairs", no_chars),
                   ("- multilingual headings", no_headings), ("- cross-language passages", no_crosslingual),
                   ("- user promotion", no_promotion),
                   ("- user first", never_first),
                   ("- glossary at query time", no_glossary), ("BM25 only", bm25_only)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, help="folder with one subfolder of notes per outside set")
    parser.add_argument("--sets", nargs="*", help="which sets (default: the seed sets, and the outside ones with --corpora)")
    parser.add_argument("--split", default="dev", choices=["dev", "held", "all"])
    parser.add_argument("--repair", default="gemma", help="repair scorer for the damaged seeds")
    parser.add_argument("--traditional", action="store_true",
                        help="the Chinese sets' notes in traditional characters (OpenCC s2twp)")
    args = parser.parse_args()
    from studybot.evaluation.retrieval import _score
    from studybot.index.build import build_index
    from studybot.index.search import Index

    names = [name for name in args.sets or (SEEDS + (OUTSIDE if args.corpora else []))
             if _questions(name, args.split)]  # the shared dev set has no held questions
    if args.traditional:
        names = [name for name in names if name.endswith("_zh")]
    asked = {name: _questions(name, args.split) for name in names}
    reset, levers = _levers()
    with tempfile.TemporaryDirectory(prefix="studybot-quality-") as tmp:
        homes = {}
        for name in names:
            base = name.removesuffix("+bundled")
            notes = SHARED / "seeds" if base.startswith("seeds") else args.corpora / base
            home = Path(tmp) / name.replace("+", "-")
            if args.traditional:
                notes, asked[name] = _traditional(notes, asked[name], Path(tmp) / f"{name}-notes")
            started = time.perf_counter()
            build_index(home, [notes], bundled=name.endswith("+bundled"), repair=args.repair)
            size = sum(p.stat().st_size for p in notes.rglob("*") if p.is_file() and p.suffix in (".md", ".txt"))
            print(f"indexed {name}: {size / 1024:.0f} KB in {time.perf_counter() - started:.1f} s", flush=True)
            homes[name] = Index(home)
        print(f"\nsplit: {args.split}; per set R@1 / R@5 / MRR, then the same per question language")
        baseline = None
        for label, apply in levers:
            reset()
            if apply:
                apply()
            mrrs = []
            for name in names:
                index = homes[name]
                index.__dict__.pop("glossary", None)  # the lever may swap the index's glossary
                result = _score(asked[name], index, 5, "hybrid")
                mrrs.append(result["mrr"])
                langs = "  ".join(f"{lang} (n={f['n']}) {f['recall@1']:.2f}/{f['recall@k']:.2f}/{f['mrr']:.2f}"
                                  for lang, f in result["by_language"].items())
                print(f"{label:26} {name:18} n={result['n']:3} {result['recall@1']:.3f} / {result['recall@k']:.3f} / "
                      f"{result['mrr']:.3f}   {langs}", flush=True)
            mean = sum(mrrs) / len(mrrs)
            baseline = baseline or mean
            print(f"{label:26} mean MRR {mean:.3f}  ratio {mean / baseline:.2f}\n", flush=True)
        reset()


if __name__ == "__main__":
    main()
