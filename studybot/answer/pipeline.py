"""Answer a question from the notes: retrieve, pack, generate, verify, else answer extractively.

    question ─► hybrid search (16 passages, plus the interview answers of their sections)
             ─► relevant at all? else "I found nothing ..."
             ─► extractive answer (always: cheap, and the fallback)
             ─► with a model: best passages packed by token count ─► prompt ─► streamed
                generation ─► citations resolved ─► verification.py ─► shown, or replaced by
                the extractive answer with the reason in one line

Returns plain data; tokens reach the caller through `on_token`, so the CLI decides how to draw.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from studybot.content.glossary import Glossary
from studybot.errors import StudybotError
from studybot.answer.extractive import BUDGET_CHARS, extractive_answer
from studybot.answer.backends import GenerationError, Generator, Target, generator_target
from studybot.index.search import Hit, Index, search, translation, with_answer_blocks
from studybot.answer.sources import Source, make_sources, pack, resolve_citations
from studybot.answer.verification import verify
from studybot.text.language import has_cjk, language
from studybot.text.sentences import without_lead_label
from studybot.text.tokens import word_keys

CANDIDATES = 16
ANSWER_BLOCKS_FOR = 3  # the top sections whose interview answers join the candidates right after them (others' last)
PROMPT_SOURCES = 4  # a small model reads a few good passages better than many ...
PROMPT_SOURCE_TOKENS = 1200  # ... and a short prompt keeps the first token quick on a CPU
MAX_TOKENS = 320
PROMPT_RESERVE = 200  # system prompt, question and chat template
# Relevance: a question is about the notes when one of the top passages names a glossary concept
# the question names (in either language); or has a heading path close to the question in the
# multilingual model's space, alone or, a little less close, with most of the question's words
# (weighted by rarity in the index, as asked or as search translated it) or with a title the
# question names whole; or, in English (as asked or translated), is close in MiniLM's space.
# Words alone let through a sixth of Chinese questions
# nobody would ask of these notes ("怎样提高睡眠质量？", "法国的首都是哪里？": generic words
# such as 区别, 哪里 meet everywhere): measured on 162 development questions over six outside corpora
# and the seeds, each home with the bundled notes, against 80 questions off the subject (everyday
# and near-domain ones: Redis, TCP, JVM, CSS ...) in the same seven homes, Chinese / English
# questions found 75 / 78 of 80 / 82 and let 48 / 16 of 280 off-topic ones through; with the
# heading test 78 / 80 and 27 / 16 (the Chinese threshold at 0.87: 76 and 17). Chinese questions
# sit higher in e5's space than English ones (off-topic medians 0.84 / 0.81), hence two thresholds.
RELEVANCE_TOP = 5
MIN_WORD_COVERAGE = 0.5
MIN_CHINESE_TERM = 4  # characters of a Chinese term a question names and a passage writes as it is ("彩票假说")
CHINESE_TERM = 0.4  # `specificity` of a Chinese word that can name a subject: 彩票 0.45, 假说 0.46; 处理 0.22, 首都 0.27
MIN_DENSE_SIMILARITY = 0.45
MIN_HEADING_SIMILARITY = 0.89  # e5 cosine of the question and a top heading path that says enough alone
# The question as search translated it into the notes' language: a heading that says enough alone, and one hit
# holding most of its words (translations of everyday questions come as close as 0.886 to a Chinese heading).
TRANSLATED_WORD_COVERAGE = 0.75
HEADING_SIMILARITY_WITH_WORDS = {"zh": 0.86, "en": 0.82}  # ... and that confirms covered words
NOTHING_FOUND_EXIT = 3
_VARIABLE = re.compile(r"[a-z]")  # a one-letter word names a formula's variable (x, W, c), not a subject
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+")  # a word in Latin letters as written: Megatron and LM of "Megatron-LM"

SYSTEM_PROMPT = (
    "You are a machine-learning interview coach. Answer the question as a concise interview answer "
    "of 2 to 5 sentences, in {language}, using only the numbered sources. After each sentence, cite the "
    "source it comes from as [n]. If the sources do not contain the answer, say so."
)
LANGUAGE_NAMES = {"zh": "Chinese (简体中文)", "en": "English"}


class NothingFound(StudybotError):
    """No indexed passage is about the question: say so instead of answering from nowhere, and point to
    the user's own heading on it that has no text yet, if there is one."""

    def __init__(self, question: str, unwritten: list[dict] | None = None) -> None:
        subject = question.strip().rstrip("?？。.!！")
        self.unwritten = unwritten or []
        if self.unwritten:
            first = self.unwritten[0]
            hint = (f"your heading \"{first['heading']}\" ({first['path']}:{first['line']}) has no text yet: "
                    "write it up, then `studybot index`")
        else:
            hint = "add notes on it with `studybot index PATH`"
        super().__init__(f"I found nothing in your notes about \"{subject}\": {hint}", exit_code=NOTHING_FOUND_EXIT)


@dataclass
class Answer:
    question: str
    answer: str
    mode: str  # "llm" or "extractive"
    fallback_reason: str | None
    model: str | None
    citations: list[Source]
    sources: list[Source]
    demos: list[str]
    timings: dict
    resolved_question: str = ""
    draft: str | None = field(default=None, repr=False)  # the rejected generation, for --json debugging
    model_note: str | None = None  # why no model ran by default, and how to get one
    unwritten: list[dict] = field(default_factory=list)  # the user's headings on the subject with no text yet
    changed: list[str] = field(default_factory=list)  # cited notes edited since the index read them: stale lines
    moved: str | None = None  # where the bundled notes lay when the index was built, if studybot has moved since

    def to_dict(self) -> dict:
        """The `--json` contract of `studybot ask`."""
        return {
            "question": self.question, "answer": self.answer, "mode": self.mode,
            "fallback_reason": self.fallback_reason, "model": self.model, "model_note": self.model_note,
            "citations": [s.citation() for s in self.citations], "demos": self.demos, "timings": self.timings,
            "unwritten": self.unwritten, "changed_since_index": self.changed,
            "bundled_moved_from": self.moved,
        }


def is_relevant(question: str, hits: list[Hit], index: Index, translated: str | None = None) -> bool:
    """Whether a top hit names a concept of the question in its sense (hits naming it only in another sense need a
    heading close enough to say so alone), has a heading close to it in meaning (in any language), covers its rarer
    words or has a title the question names whole under a heading not far from it (or, as asked or translated, with
    most of its words in one hit, however far its heading path), has a heading close to the question
    as translated into the notes' language and most of the translation's words ("What metrics are used to
    evaluate a classification model?" is 0.81 from "分类模型评价指标", its translation 0.93), or is close in
    meaning to the question in English: as asked, or as search translated it (`translated`, when the caller
    has it)."""
    from studybot.index.expansion import embed_query

    top = hits[:RELEVANCE_TOP]
    if not top:
        return False
    named = names_a_concept(question, top, index)
    if named or heading_names_its_terms(question, top, index):
        return True
    if names_what_no_hit_says(question, top, index):
        return False
    if text_names_its_terms(question, top, index):
        return True
    if named is False:  # the hits share the question's concept in another sense: only a heading that says enough
        # alone is about it ("DeepSeek-R1 用到的拒绝采样是怎么回事？" under "What is rejection sampling in LLM alignment?",
        # 0.89); MiniLM read "What is Megatron-LM?" as close to a reward model "as the LM" (0.55)
        return heading_similarity(question, top, index) >= MIN_HEADING_SIMILARITY
    if translated is None:
        translated = translation(question, index)
    similarities = heading_similarities(question, top, index)
    # a heading in the other language comes less close to the question than one in its own ("矩阵分解在推荐系统里
    # 怎么用？" is 0.84 from "Matrix Factorization"): it is held to the lower of the two languages' bars
    bars = [HEADING_SIMILARITY_WITH_WORDS[language(question)] if language(h.path) == language(question)
            else min(HEADING_SIMILARITY_WITH_WORDS.values()) for h in top]
    close = [hit for hit, similarity, bar in zip(top, similarities, bars) if similarity >= bar]
    if max(similarities) >= MIN_HEADING_SIMILARITY or close and (
        max(word_coverage(asked, top, index) for asked in (question, translated) if asked) >= MIN_WORD_COVERAGE
        or names_a_heading(f"{question}\n{translated or ''}", close, index)
    ):
        return True
    if translated and (heading_similarity(translated, top, index) >= MIN_HEADING_SIMILARITY
                       and word_coverage(translated, top, index) >= TRANSLATED_WORD_COVERAGE):
        return True
    # ... or names a hit's own title whole, as asked or as translated, and one hit holds most of its words: "model
    # merging" over Chinese notes, translated 模型合并, met "8.4 模型合并" at a heading cosine of 0.81, the translation at 0.88
    if (names_a_heading(f"{question}\n{translated or ''}", top, index)
            and max(word_coverage(asked, top, index) for asked in (question, translated) if asked) >= MIN_WORD_COVERAGE):
        return True
    english = question if language(question) == "en" else translated
    return (bool(english) and language(english) == "en"
            and dense_similarity(embed_query(english, index.glossary), top, index) >= MIN_DENSE_SIMILARITY)


def unwritten_headings(question: str, index: Index, translated: str = "") -> list[dict]:
    """The user's headings with nothing under them yet that name what the question asks about: every
    glossary concept the heading names is asked about, and so is each of its other words ("LLM基本原理"
    is not what "How does function calling work in LLMs?" asks). A coach says "you meant to write this
    up" where a search engine says nothing."""
    if not index.unwritten:
        return []
    names = _topic_test(f"{question}\n{translated}", index)
    return [{"path": path, "line": line, "heading": " > ".join(heading)}
            for path, heading, line in index.unwritten if names(heading[-1])]


def _topic_test(text: str, index: Index) -> Callable[[str], bool]:
    """Whether the text names a topic of a heading: every glossary concept the topic names, and each of its other
    words ("CoT/PoT" is two topics). The text is read once, however many headings it is tested against."""
    concepts, words = {e.id for e in index.glossary.find(text)}, word_keys(text)

    def names(heading: str) -> bool:
        for topic in _topics(heading):
            entries = index.glossary.find(topic)
            named = frozenset().union(*(index.glossary.name_words(e) for e in entries))
            rest = word_keys(topic) - named
            if (entries or rest) and {e.id for e in entries} <= concepts and rest <= words:
                return True
        return False

    return names


def _topics(heading: str) -> list[str]:
    """The topics a heading names: its parts between slashes, and each language's half of a part written in both
    ("模型水印 watermark": an English question cannot also say 模型水印, and found nothing to remind of)."""
    topics = []
    for part in re.split(r"\s*[/、]\s*", without_lead_label(heading)):  # "8.4 模型合并" is named by "model merging"
        topics.append(part)
        halves = [h.strip() for h in re.split(r"(?<=[\u4e00-\u9fff])\s+(?=[A-Za-z])|(?<=[A-Za-z])\s+(?=[\u4e00-\u9fff])",
                                              part)]
        if len(halves) == 2 and has_cjk(halves[0]) != has_cjk(halves[1]):
            topics += halves
    return topics


def still_unwritten(unwritten: list[dict], cited: list[Source], index: Index) -> list[dict]:
    """The unwritten headings the answer's own citations do not write up: a map of contents whose empty
    "Speculative decoding 投机解码" the user wrote up as a note of its own, which the answer cites, is no reminder."""
    tests = [_topic_test(f"{Path(c.file).stem}\n{c.path}\n{c.text}", index) for c in cited if c.own] if unwritten else []
    return [u for u in unwritten if not any(names(u["heading"].split(" > ")[-1]) for names in tests)]


def names_a_concept(question: str, hits: list[Hit], index: Index) -> bool | None:
    """Whether a hit's heading or text names one of the glossary concepts the question names in the question's sense
    (True), or hits name one only in another sense (False), or none names one (None). In the question's sense: the hit
    names another of the question's concepts too, or holds one of the other names it writes (`_other_names`), or it
    writes none. Hits that do neither share a word with the question, not its subject: "How does garbage collection
    work in the JVM?" was answered from PagedAttention's reference counts, "nginx 怎么配置反向代理？" from LLM agents (代理),
    "What is Megatron-LM?" from a reward model's "same architecture as the LM", "SVM 的核函数咋选" from a loss table's row
    naming SVM and from CUDA's 核函数. Less a concept the question names only by a rare name in Latin letters that is not
    its first (`_named_by_a_kind_of_it`)."""
    mentioned = index.glossary.find(question)
    asked = {e.id for e in mentioned if not _named_by_a_kind_of_it(question, e, hits, index)}
    concepts = [{e.id for e in index.glossary.find(f"{hit.path}\n{hit.text}")} for hit in hits]
    others = _other_names(question, mentioned, set().union(*concepts), index) if asked else {}
    shared = False
    for hit, named in zip(hits, concepts):
        named = named & asked & others.keys()
        if not named:
            continue
        if len(named) > 1 or any(not others[concept] for concept in named):
            return True
        said = set().union(*_stored_tokens([hit], index, "tokens"), *_stored_tokens([hit], index, "heading_tokens"))
        if any(others[concept] & said for concept in named):
            return True
        shared = True
    return False if shared else None


def _other_names(question: str, concepts: list, named: set[str], index: Index) -> dict[str, set[str]]:
    """For each concept the question names that a hit names (`named`), the other names the question writes, each a word
    few passages hold: in Latin letters, all a Chinese question writes and those an English one writes with a capital or
    a digit that are no everyday English (JVM, Megatron, Hamiltonian, F1; not "learnable", nor "What"); in Chinese, the
    other concepts' names (核函数 beside SVM; everyday Chinese is no name, and 局限性 is in no English passage on what a
    Chinese question asks). Not the name of a concept no hit names: no hit can hold it ("How does tensor parallelism
    split the work across GPUs?" over notes that never say GPU), and `names_what_no_hit_says` judges it."""
    from studybot.content.glossary import mention
    from studybot.study.keypoints import specificity
    from studybot.text.tokens import tokenize

    chinese = language(question) == "zh"
    written = [w for w in _LATIN_WORD.findall(question) if chinese or w != w.lower() or any(c.isdigit() for c in w)]
    names = {t for w in written for t in tokenize(w) if chinese or specificity(t) >= 1.0}
    own = {e.id: set(tokenize(found.group(0))) if (found := mention(e, question)) else set() for e in concepts}
    names |= {w for words in own.values() for w in words if has_cjk(w)}
    names -= set().union(*(words for concept, words in own.items() if concept not in named))
    names = {t for t in names if len(t) >= 2 and not _VARIABLE.fullmatch(t) and index.rare(t)}
    return {concept: names - words for concept, words in own.items() if concept in named}


def _named_by_a_kind_of_it(question: str, entry, hits: list[Hit], index: Index) -> bool:
    """Whether the question names a concept by one of its other names, in Latin letters, that few passages and no hit
    hold: a kind of it, as a glossary lists kinds among a concept's names ("How does DBSCAN decide which points are
    noise?" is about "clustering", and was answered with a note's passing "聚类"). Its first name is the concept."""
    from studybot.content.glossary import mention
    from studybot.text.tokens import tokenize

    found = mention(entry, question)
    if found is None or not found.group(0).isascii() or found.group(0).lower() in {n.lower() for n in entry.en[:1]}:
        return False
    said = set().union(*(tokenize(f"{h.path}\n{h.text}") for h in hits))  # as written: the index adds every name
    words = set(tokenize(found.group(0)))
    return bool(words) and all(index.rare(w) and w not in said for w in words)


def names_what_no_hit_says(question: str, hits: list[Hit], index: Index) -> bool:
    """Whether the question names a concept that no hit names, in any language, and at most half the words of that name
    are in them: the hits are about a neighbour ("How does gradient accumulation work?" met "How does gradient clipping
    work?" at a heading cosine of 0.87, and was answered with it), however close in meaning their headings come. Most of
    its words is the concept named in part ("Bias / Variance (Underfitting/Overfitting)" for "What is the bias-variance
    tradeoff?")."""
    from studybot.content.glossary import mention
    from studybot.text.tokens import tokenize

    asked = index.glossary.find(question)
    if not asked:
        return False
    said = set().union(*_stored_tokens(hits, index, "tokens"), *_stored_tokens(hits, index, "heading_tokens"))
    # a passage holding every word of another of its names, in any order, says it: the glossary lists "imbalanced
    # classes", a note asks "What if the classes are imbalanced?"
    spoken = {entry.id for hit in hits for entry in index.glossary.find_words(word_keys(f"{hit.path}\n{hit.text}"))}
    for entry in asked:
        tokens = set(tokenize(found.group(0))) if (found := mention(entry, question)) is not None else set()
        words = [w for w in tokens if not any(o != w and o in w for o in tokens)]  # "bias-variance": bias, variance
        if words and sum(word in said for word in words) <= len(words) / 2 and entry.id not in spoken:
            return True
    return False


def heading_names_its_terms(question: str, hits: list[Hit], index: Index) -> bool:
    """Whether the question writes names in Latin letters that few passages hold ("DiT 是什么结构？", "BYOL"), and
    one hit's heading path holds them all: the notes' own section on what the question names."""
    from studybot.text.tokens import tokenize

    rare = {t for t in tokenize(question) if t.isascii() and len(t) >= 2 and index.rare(t)}
    if not rare:
        return False
    return any(rare <= tokens for tokens in _stored_tokens(hits, index, "heading_tokens"))


def names_a_heading(question: str, hits: list[Hit], index: Index) -> bool:
    """Whether the question names the whole title of a hit's heading (`_topic_test`), a word of it one few headings
    hold: the notes' section on what it asks about, however many other words it says ("Does a higher temperature make
    the output more random?" under "Temperature", which writes three of its six words and was refused for "output";
    not "How it Works", a title many notes have)."""
    from studybot.text.tokens import tokenize

    names = _topic_test(question, index)
    return any(names(hit.heading) and any(index.rare(t, "heading") for t in tokenize(hit.heading)) for hit in hits)


def text_names_its_terms(question: str, hits: list[Hit], index: Index) -> bool:
    """Whether the question writes names (in Latin letters, or Chinese terms) that few passages hold, and one note's
    hits hold them all and most of the question's words: "What is SMOTE?" found the list item that explains it under
    "Resampling", a heading nothing like the question, "What role does the temperature play in the InfoNCE loss?" a
    note's sections on each, "什么是彩票假说？" a pruning note's sentence; all were told the notes say nothing about it."""
    from studybot.study.keypoints import specificity
    from studybot.text.tokens import tokenize
    from studybot.text.variants import simplified

    asked = {t for t in tokenize(question) if not _VARIABLE.fullmatch(t)}
    # a name, not "role" or "play"; a Chinese term of art or a word rare in Chinese at large ("彩票假说", not "处理"); a
    # Chinese question writes in Latin letters only names ("accuracy 什么时候会骗人" over a table's Accuracy row was
    # refused: "accuracy" is everyday English)
    latin_names = language(question) == "zh"
    rare = {t for t in asked if len(t) >= 2 and index.rare(t) and (
        t.isascii() and (latin_names or specificity(t) >= 1.0) or has_cjk(t) and specificity(t) >= CHINESE_TERM)}
    if not rare:
        return False
    # Chinese words meet in passages on other things ("分布式数据库的最终一致性" in a note on LLM serving): the question's
    # run of them from the first rare word to the last is written as it is, and is a term, not a word ("定理"); beside
    # a name in Latin letters they are words its note holds too ("骗人"; "什么是 CAP 定理？" over notes on CAP in English)
    chinese = [t for t in rare if has_cjk(t)]
    if len(chinese) == len(rare):
        written = simplified(question)
        starts = [written.find(t) for t in chinese]
        span = written[min(starts):max(start + len(t) for start, t in zip(starts, chinese))] if min(starts) >= 0 else ""
        if len(span) < MIN_CHINESE_TERM or not any(span in simplified(f"{hit.path}\n{hit.text}") for hit in hits):
            return False
    weights = _idf(index, asked)
    notes: dict[str, set[str]] = {}
    for hit in hits:
        for column in ("tokens", "heading_tokens"):
            notes.setdefault(hit.file, set()).update(*_stored_tokens([hit], index, column))
    return any(rare <= said and sum(w for t, w in weights.items() if t in said) >= MIN_WORD_COVERAGE * sum(weights.values())
               for said in notes.values())


def _idf(index: Index, tokens: set[str]) -> dict[str, float]:
    """Each token's inverse document frequency over the indexed passages: how much holding it says."""
    bm25, total = index.lexical["text"], len(index.lexical["ids"])
    return {t: math.log(1 + total / (1 + bm25.chunks_with(t))) for t in tokens}


def _stored_tokens(hits: list[Hit], index: Index, column: str) -> list[set[str]]:
    """The tokens the index stored for each hit: of its text ("tokens") or of its heading path ("heading_tokens")."""
    rows = index.catalog.execute(
        f"SELECT {column} FROM chunks WHERE id IN ({','.join('?' * len(hits))})", [h.id for h in hits]
    )
    return [set(tokens.split()) for (tokens,) in rows]


def word_coverage(question: str, hits: list[Hit], index: Index) -> float:
    """The largest share of the question's words (IDF-weighted over the index) that one hit contains."""
    from studybot.text.tokens import tokenize

    asked = {t for t in tokenize(question) if not _VARIABLE.fullmatch(t)}
    if not asked:
        return 0.0
    weights = _idf(index, asked)
    stored = _stored_tokens(hits, index, "tokens")
    return max(sum(w for t, w in weights.items() if t in tokens) for tokens in stored) / sum(weights.values())


def heading_similarity(question: str, hits: list[Hit], index: Index) -> float:
    """Highest cosine between the question and the hits' heading paths in the multilingual model's
    space (search has embedded the question already)."""
    return max(heading_similarities(question, hits, index))


def heading_similarities(question: str, hits: list[Hit], index: Index) -> list[float]:
    """The cosine between the question and each hit's heading path in the multilingual model's space."""
    return _cosines(index.heading_query(question), index.headings, hits)


def dense_similarity(query: str, hits: list[Hit], index: Index) -> float:
    """Highest cosine between the query and the hits' stored passage vectors."""
    return max(_cosines(index.embedder.encode([query])[0], index.dense, hits))


def _cosines(vector: np.ndarray, vectors, hits: list[Hit]) -> list[float]:
    """The cosine between a unit vector and each hit's unit vector in a FAISS index."""
    return [float(c) for c in np.stack([vectors.reconstruct(int(h.id)) for h in hits]) @ vector]


def demos_for(question: str, cited: list[Source], glossary: Glossary, translated: str = "") -> list[str]:
    """The demos that measure a claim about a concept the question names (as asked or as search translated it)
    or the heading path of the passage the answer opens with. Topics and notes' front matter named one for
    every answer that quoted their passages: byte-pair encoding and BLEU answers were 'backed by: studybot demo
    lora', one on CLIP by four demos."""
    from studybot.demos.runner import demos_for_concepts

    lead = {entry.id for entry in glossary.find(f"{cited[0].path}\n{cited[0].text}")} if cited else set()
    # a translation is rough: its concepts count where the answer's first passage names them too ("Why do we scale the
    # dot product by the square root of d_k?" came back as a question on quantizing kernels, and named that demo)
    concepts = [entry.id for entry in glossary.find(question)]
    concepts += [entry.id for entry in glossary.find(translated) if entry.id in lead] if translated else []
    concepts += [entry.id for entry in glossary.find(cited[0].path)] if cited else []
    return demos_for_concepts(concepts)


def _messages(question: str, sources: list[Source]) -> list[dict[str, str]]:
    system = SYSTEM_PROMPT.format(language=LANGUAGE_NAMES[language(question)])
    blocks = "\n\n".join(s.prompt_block() for s in sources)
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"Sources:\n\n{blocks}\n\nQuestion: {question}"}]


def _generate(
    generator: Generator, messages: list[dict[str, str]], max_tokens: int, temperature: float, seed: int,
    on_token: Callable[[str], None] | None, clock: Callable[[], float],
) -> tuple[str, float | None, int, float]:
    """(text, seconds to the first piece, pieces, seconds generating)."""
    started = clock()
    first: float | None = None
    pieces: list[str] = []
    for piece in generator.stream(messages, max_tokens, temperature, seed):
        if first is None:
            first = clock() - started
        pieces.append(piece)
        if on_token:
            on_token(piece)
    return "".join(pieces), first, len(pieces), clock() - started


def answer_question(
    question: str,
    index: Index,
    generator: Generator | None = None,
    *,
    retrieval_query: str | None = None,
    max_tokens: int = MAX_TOKENS,
    temperature: float = 0.0,
    seed: int = 0,
    budget_chars: int = BUDGET_CHARS,
    on_token: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Answer:
    """A cited answer to the question; without a generator (or when its answer fails), the extractive one.

    `retrieval_query` is what to search and answer (chat passes a follow-up merged with the
    previous question); `question` keeps what the user typed and sets the answer's language.
    """
    started = clock()
    query = retrieval_query or question
    translated = translation(query, index)  # once: search, the relevance test and the answer all read it
    hits = search(query, k=CANDIDATES, index=index, translate=translated)
    unwritten = unwritten_headings(query, index, translated)
    if not is_relevant(query, hits, index, translated):
        raise NothingFound(question, unwritten)
    sources = make_sources(with_answer_blocks(hits, index, ANSWER_BLOCKS_FOR), index)
    timings = {"retrieve_s": round(clock() - started, 4), "first_token_s": None, "total_s": None, "tokens_per_s": None}
    extractive = extractive_answer(query, sources, index.glossary, budget_chars, translated)

    model, reason, draft = None, None, None
    if generator is not None:
        room = generator.context_tokens - max_tokens - PROMPT_RESERVE - generator.count_tokens(question)
        budget = min(PROMPT_SOURCE_TOKENS, room)
        packed = pack(sources[:PROMPT_SOURCES], budget, generator.count_tokens)
        try:
            draft, first, pieces, seconds = _generate(generator, _messages(question, packed), max_tokens, temperature,
                                                      seed, on_token, clock)
        except GenerationError as exc:  # the server failed: its one line is the reason for the extractive answer
            reason = str(exc)
        model = generator.name  # after generating: a server names its model on first use
        if reason is None:
            timings["first_token_s"] = round(first + timings["retrieve_s"], 4) if first is not None else None
            timings["tokens_per_s"] = round(pieces / seconds, 2) if seconds > 0 and pieces else None
            text, cited = resolve_citations(draft, packed)
            reason = verify(text, question, packed)
            if reason is None:
                timings["total_s"] = round(clock() - started, 4)
                demos = demos_for(query, cited, index.glossary, translated)
                return Answer(question, text, "llm", None, model, cited, packed, demos, timings, query, draft,
                              unwritten=still_unwritten(unwritten, cited, index), changed=edited(cited, index),
                              moved=index.bundled_moved)
    text, cited = resolve_citations(extractive, sources, at_line_ends=True)
    if not text:
        raise NothingFound(question, unwritten)
    if timings["first_token_s"] is None:
        timings["first_token_s"] = round(clock() - started, 4)  # the extractive answer appears all at once
    timings["total_s"] = round(clock() - started, 4)
    demos = demos_for(query, cited, index.glossary, translated)
    return Answer(question, text, "extractive", reason, model, cited, sources, demos, timings, query, draft,
                  unwritten=still_unwritten(unwritten, cited, index), changed=edited(cited, index),
                  moved=index.bundled_moved)


def edited(cited: list[Source], index: Index) -> list[str]:
    """The cited note files edited since the last index, whose cited lines may have moved (two lines inserted
    above a section cited it at 37-42, its heading now at 39)."""
    return sorted(path for path, deleted in index.changed_notes(s.file for s in cited).items() if not deleted)


@dataclass
class ModelPlan:
    """Which model answers (None: the extractive answer at once) and, when none runs by default, why."""

    target: Target | None
    note: str | None = None


def plan_model(home: Path | None, llm: bool | None = None, model: str | None = None, llm_url: str | None = None,
               llm_model: str | None = None) -> ModelPlan:
    """`llm` False: no model. True, or a model named on the command line: that model. Otherwise the
    default model (config.toml, else bundled) only when `studybot models check` found it useful, since a
    generation that fails verification is only a wait for the extractive answer."""
    from studybot.answer.checks import USEFUL_PASS_RATE, find_check, model_key
    from studybot.answer.gguf import read_config

    if llm is False:
        return ModelPlan(None)
    read_config(home)  # a broken config.toml is an error to fix, not a reason to answer without a model
    try:
        target = generator_target(home, model, llm_url, llm_model)
    except StudybotError as exc:
        if llm or model or llm_url or llm_model:
            raise
        return ModelPlan(None, f"answered from your notes: {exc}")
    if llm or target.explicit:
        return ModelPlan(target)
    check = find_check(home, model_key(target))
    if check is not None and check.useful:
        return ModelPlan(target)
    name = target.target if target.kind == "openai" else Path(target.target).name
    if check is None:
        return ModelPlan(None, f"answered from your notes without {name}, which is not checked yet: "
                               "`studybot models check` measures it, --llm uses it anyway")
    return ModelPlan(None, f"answered from your notes without {name}: it passed {check.pass_rate:.0%} of the answer "
                           f"checks (under {USEFUL_PASS_RATE:.0%}); for generated answers pull a stronger model "
                           "(`studybot models pull`) or use --model FILE or --llm-url URL; --llm forces it")


def ask(
    question: str,
    home: Path | str | None = None,
    *,
    llm: bool | None = None,
    model: str | None = None,
    llm_url: str | None = None,
    llm_model: str | None = None,
    plan: ModelPlan | None = None,
    **options,
) -> Answer:
    """Open the index and the model `plan_model` picks (or `plan`, when the caller planned already to
    draw the wait), then `answer_question`."""
    index = Index(home)
    plan = plan or plan_model(index.home, llm, model, llm_url, llm_model)
    result = answer_question(question, index, plan.target.open() if plan.target else None, **options)
    result.model_note = plan.note
    return result
