"""Cards from notes as people write them: coverage of question sections, grading fairness, deck build time.

    python benchmarks/note_cards.py --corpora ../devsets/corpora            # held-out: dl500_zh, devint_en
    python benchmarks/note_cards.py --corpora ../devsets/corpora --split dev   # tuned on: imhuay_zh, hosni_en
    python benchmarks/note_cards.py ... --sample 50     # also print 50 card questions (and their hashes) to check by hand

Each corpus is indexed with the bundled notes, as a user has them (`--homes DIR` keeps the homes for
the next run). The baseline is the extraction before this change (interview-answer blocks only),
loaded from git (`--base REV`) and run on the same index in the same run.

- Coverage: the share of question-headed sections (headings the detector calls questions; and, as
  a check on the detector, headings with a question mark) whose card is in the deck.
- Grading (the quiz's Grader, given each card's rivals as a quiz gives them): each card's own
  reference; the reference of its nearest card on the same topic (the next one in the same note);
  nonsense; the hand-written paraphrases of benchmarks/data/note_card_paraphrases.yaml (written
  before any score was seen), its wrong but plausible answers (`kind: wrong`, about a neighbouring
  concept: at most 2), and each paraphrase given to the card's rivals (another card's answer in
  other words, which no reference text gives away: at most 2). Beside it, the same
  cards graded by words alone (no meaning: `Grader(semantic=False)`) and with the baseline's key
  points (the reference's sentences). Latency: seconds to grade each paraphrase with a new session's
  grader (model loaded, nothing else cached), by meaning and by words alone.
- Deck build: seconds to build the whole deck (banks and notes): the first time after indexing (nothing
  cached), then as every later quiz does, and with the baseline code.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from studybot.content.glossary import load_glossary  # noqa: E402
from studybot.content.schema import Bilingual  # noqa: E402
from studybot.home import CACHE_ENV_VAR  # noqa: E402
from studybot.index.build import build_index  # noqa: E402
from studybot.index.search import Index  # noqa: E402
from studybot.ingest.notes import parse_note  # noqa: E402
from studybot.ingest.reading import read_text  # noqa: E402
from studybot.study.cards import load_deck, note_card_id, rivals, sentence_points  # noqa: E402
from studybot.study.grading import Grader  # noqa: E402
from studybot.study.questions import is_question, trim_answer  # noqa: E402

SPLITS = {"held": ["dl500_zh", "devint_en"], "dev": ["imhuay_zh", "hosni_en"]}
PARAPHRASES = REPO / "benchmarks" / "data" / "note_card_paraphrases.yaml"
CHECKED = REPO / "benchmarks" / "data" / "note_card_questions_checked.tsv"
NONSENSE = ["今天天气很好，我们去公园散步，然后吃了一碗面。", "The cat sat on the mat and watched the rain all afternoon.",
            "不知道", "I don't know."]


def baseline_module(rev: str):
    """studybot/study/cards.py as it was at `rev`: today's answer-block extraction, run on the same index."""
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:studybot/study/cards.py"], check=True,
                            capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("baseline_cards", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:studybot/study/cards.py", "exec"), module.__dict__)
    return module


def question_sections(index: Index) -> list[tuple[str, list[str], str, bool]]:
    """Every heading of the user's notes as (path, heading path, title, answered), read from the files themselves.

    Answered: the heading's text, its subsections included, holds something an interview answer can say
    (prose, a list or a table, not only code, images or an empty "Answer:").
    """
    found = []
    for (path,) in index.catalog.execute("SELECT path FROM files ORDER BY path"):
        if not index.own(path):
            continue
        note = parse_note(read_text(Path(path), "jieba").text, path)
        stack: list[tuple[int, str]] = []
        for i, heading in enumerate(note.headings):
            while stack and stack[-1][0] >= heading.level:
                stack.pop()
            stack.append((heading.level, heading.title))
            end = next((h.line - 1 for h in note.headings[i + 1:] if h.level <= heading.level), len(note.lines))
            body = "\n".join(line for line in note.lines[heading.line:end] if not line.lstrip().startswith("#"))
            found.append((path, [t for _, t in stack], heading.title, len(trim_answer(body)) >= 20))
    return found


def coverage(index: Index, ids: set[str]) -> dict:
    headings = question_sections(index)
    counts = {"headings": len(headings)}
    for name, wanted in (("question", lambda t: is_question(t)), ("marked", lambda t: "?" in t or "？" in t)):
        asked = [(p, hp, answered) for p, hp, title, answered in headings if wanted(title)]
        counts[name] = len(asked)
        counts[f"{name}_answered"] = sum(answered for _, _, answered in asked)
        counts[f"{name}_carded"] = sum(note_card_id(p, hp) in ids for p, hp, _ in asked)
        counts[f"{name}_answered_carded"] = sum(note_card_id(p, hp) in ids for p, hp, answered in asked if answered)
    return counts


def neighbours(cards: list) -> list[tuple]:
    """Each card with the next card on the same topic in the same note (the nearest other answer it could be)."""
    pairs = []
    for i, card in enumerate(cards):
        note = card.source.rsplit(":", 1)[0]
        other = next((c for c in cards[i + 1:] + cards[:i] if c.source.rsplit(":", 1)[0] == note and c.topic == card.topic
                      and c.id != card.id), None)
        if other is not None:
            pairs.append((card, other))
    return pairs


def old_points(card):
    """The card graded the way answer blocks were: its reference's sentences as key points."""
    return replace(card, key_points=sentence_points(Bilingual(zh=card.answer.zh, en=card.answer.zh)) or card.key_points)


def question_sha256(question: str) -> str:
    """How the paraphrases file names a card: a hash of its question, so no text of the outside notes is kept."""
    return hashlib.sha256(question.encode()).hexdigest()[:12]


def fairness(cards: list, graders: dict[str, Grader], paraphrases: list[dict]) -> tuple[dict, list]:
    """Share of each check passed, per grader label, and the paraphrases whose card is missing. The label
    "old key points" grades with the first grader, on the baseline's key points."""
    by_question = {question_sha256(c.question.zh): c for c in cards}
    first = next(iter(graders.values()))
    runs = [(label, grader, lambda c: c) for label, grader in graders.items()] + [("old key points", first, old_points)]
    rows = {label: {"reference>=4": [], "other<=2": [], "nonsense<=1": [], "paraphrase>=3": [], "wrong<=2": [],
                    "rival's paraphrase<=2": []} for label, _, _ in runs}
    told = rivals(cards)
    for label, grader, points in runs:
        out = rows[label]
        grade = lambda card, answer: grader.grade(points(card), answer, told.get(card.id, ())).score  # noqa: E731
        for card in cards:
            out["reference>=4"].append(grade(card, card.answer.zh) >= 4)
            out["nonsense<=1"].extend(grade(card, n) <= 1 for n in NONSENSE)
        for card, other in neighbours(cards):
            out["other<=2"].append(grade(card, other.answer.zh) <= 2)
        for item in paraphrases:
            if item["question_sha256"] in by_question:
                card = by_question[item["question_sha256"]]
                if item.get("kind") == "wrong":
                    out["wrong<=2"].append(grade(card, item["answer"]) <= 2)
                else:
                    out["paraphrase>=3"].append(grade(card, item["answer"]) >= 3)
                    out["rival's paraphrase<=2"].extend(grade(rival, item["answer"]) <= 2 for rival in told.get(card.id, []))
    missing = [item["question_sha256"] for item in paraphrases if item["question_sha256"] not in by_question]
    share = lambda oks: (sum(oks) / len(oks), len(oks)) if oks else (None, 0)  # noqa: E731
    return {label: {k: share(v) for k, v in checks.items()} for label, checks in rows.items()}, missing


def grading_seconds(cards: list, paraphrases: list[dict], semantic: bool, prepared: bool = False) -> list[float]:
    """Seconds to grade each paraphrase with a new session's grader (no vector cached; the first also loads the
    model, which the median leaves out); `prepared`: as a quiz does, the card and its rivals embedded while the
    learner answered (waited for here, not timed)."""
    by_question = {question_sha256(c.question.zh): c for c in cards}
    told = rivals(cards)
    grader = Grader(load_glossary(None), semantic=semantic)
    seconds = []
    for item in paraphrases:
        if item["question_sha256"] in by_question and item.get("kind") != "wrong":
            card = by_question[item["question_sha256"]]
            if prepared:
                grader.prepare(card, told.get(card.id, ()))
                if card.id in grader._preparing:
                    grader._preparing[card.id].join()  # the learner's typing time
            started = time.perf_counter()
            grader.grade(card, item["answer"], told.get(card.id, ()))
            seconds.append(time.perf_counter() - started)
    return seconds


def deck_seconds(home: Path, load, runs: int = 3) -> tuple[float, float, int]:
    """Mean wall and CPU seconds of building the deck (CPU time is what other processes on the cores do not blur)."""
    load(home)  # warm: imports, jieba, the catalog in the page cache, the token cache
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(runs):
        deck = load(home)
    return (time.perf_counter() - wall) / runs, (time.process_time() - cpu) / runs, len(deck.cards)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, required=True)
    parser.add_argument("--split", choices=sorted(SPLITS), default="held")
    parser.add_argument("--homes", type=Path, help="keep the indexed homes here (reused when present)")
    parser.add_argument("--base", default="081ff13", help="the commit whose extraction is the baseline")
    parser.add_argument("--sample", type=int, default=0, help="print this many card questions to check by hand")
    args = parser.parse_args()
    homes = args.homes or Path(tempfile.mkdtemp(prefix="note-cards-"))
    baseline = baseline_module(args.base)
    graders = {"now": Grader(load_glossary(None)), "words only": Grader(load_glossary(None), semantic=False)}
    paraphrases = yaml.safe_load(PARAPHRASES.read_text(encoding="utf-8")) if PARAPHRASES.exists() else []
    sampled, shorts_by = [], {}
    for name in SPLITS[args.split]:
        home = homes / name
        if not (home / "index").exists():
            build_index(home, [args.corpora / name], repair="jieba")
        index = Index(home)
        deck, old = load_deck(home), baseline.load_deck(home)
        own = [c for c in deck.cards if c.origin != "bank" and index.own(c.source.rsplit(":", 1)[0])]
        old_own = [c for c in old.cards if c.origin != "bank" and index.own(c.source.rsplit(":", 1)[0])]
        shorts = [c for c in own if c.kind == "short"]
        cov, old_cov = coverage(index, {c.id for c in own}), coverage(index, {c.id for c in old_own})
        print(f"\n== {name}: {cov['headings']} headings, {cov['question']} ask a question, {cov['marked']} with a "
              f"question mark; {len(shorts)} question cards and {len(own) - len(shorts)} clozes "
              f"(baseline: {len([c for c in old_own if c.kind == 'short'])} and "
              f"{len([c for c in old_own if c.kind != 'short'])})")
        for kind in ("question", "marked"):
            for key, total in ((f"{kind}_answered_carded", f"{kind}_answered"), (f"{kind}_carded", kind)):
                now, before = cov[key] / max(cov[total], 1), old_cov[key] / max(cov[total], 1)
                print(f"coverage of {total.replace('_', '-headed, ')} sections: {now:.3f} ({cov[key]}/{cov[total]}); "
                      f"baseline {before:.3f}")
        mine = [p for p in paraphrases if p["corpus"] == name]
        shares, missing = fairness(shorts, graders, mine)
        for key, (share, n) in shares["now"].items():
            if n:
                print(f"grading {key:21} {share:.3f} of {n:5}  (words only: {shares['words only'][key][0]:.3f}; "
                      f"baseline key points: {shares['old key points'][key][0]:.3f})")
        if missing:
            print(f"paraphrases whose card is missing: {missing}")
        if any(p["question_sha256"] not in missing for p in mine):
            meaning, words = grading_seconds(shorts, mine, True), grading_seconds(shorts, mine, False)
            prepared = grading_seconds(shorts, mine, True, prepared=True)
            print(f"grading a paraphrase: p50 {statistics.median(meaning):.3f} s, max {max(meaning):.3f} s by meaning; "
                  f"p50 {statistics.median(prepared):.3f} s, max {max(prepared):.3f} s by meaning after the card was "
                  f"embedded while the learner answered (as a quiz does); p50 {statistics.median(words):.3f} s by words alone")
        with tempfile.TemporaryDirectory() as empty:  # the first deck after indexing: nothing cached yet
            os.environ[CACHE_ENV_VAR], cache = empty, os.environ.get(CACHE_ENV_VAR)
            wall, cpu = time.perf_counter(), time.process_time()
            load_deck(home)
            print(f"deck build (now, first after indexing): {time.perf_counter() - wall:.3f} s wall, "
                  f"{time.process_time() - cpu:.3f} s CPU")
            os.environ.pop(CACHE_ENV_VAR) if cache is None else os.environ.update({CACHE_ENV_VAR: cache})
        timings = {label: deck_seconds(home, load) for label, load in (("now", load_deck), ("baseline", baseline.load_deck))}
        for label, (wall, cpu, count) in timings.items():
            print(f"deck build ({label}): {wall:.3f} s wall, {cpu:.3f} s CPU for {count} cards")
        print(f"deck build CPU ratio now/baseline: {timings['now'][1] / timings['baseline'][1]:.2f}")
        shorts_by[name] = shorts
    names = sorted(shorts_by, key=lambda n: len(shorts_by[n]))  # the smaller corpus gives all it has if short
    for i, name in enumerate(names):
        want = (args.sample - len(sampled)) // (len(names) - i)
        sampled += random.Random(0).sample(shorts_by[name], min(len(shorts_by[name]), want))
    if CHECKED.exists() and args.split == "held":
        rows = [line.split("\t") for line in CHECKED.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
        print(f"\nhand check ({CHECKED.name}): {sum(r[0] == 'yes' for r in rows)} of {len(rows)} card questions "
              "accepted as questions")
    for card in sampled:  # to check by hand: a verdict per hash goes into note_card_questions_checked.tsv
        print(f"{question_sha256(card.question.zh)}\t{card.question.zh}")


if __name__ == "__main__":
    main()
