"""A chat session: the index, embedder and model stay loaded; follow-ups lean on the previous turn.

A follow-up ("那 RMSNorm 呢？", "why does that help?") names too little to be searched alone, so
it is searched and answered together with the previous question. Each turn is appended to
`<home>/chat/history.jsonl`.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

from studybot.answer.pipeline import NOTHING_FOUND_EXIT, Answer, answer_question
from studybot.clock import utc_now
from studybot.answer.backends import Generator
from studybot.content.glossary import Entry, mention
from studybot.index.search import Index
from studybot.errors import StudybotError
from studybot.text.aspects import ASPECTS, aspects, compares, without_aspects
from studybot.text.language import language
from studybot.text.tokens import ENGLISH_STOP, tokenize, word_key, word_keys
from studybot.text.variants import simplified

HISTORY = Path("chat") / "history.jsonl"
_ASPECTS = frozenset(ASPECTS)  # what a question asks of its subject (why, pros, cons), not a subject
FOLLOW_UP_MAX_WORDS = 2  # a question this short, without a concept of its own, leans on the last one
# an opening that continues the previous turn ("那 RMSNorm 呢？", "and for RNNs?", "what about GRU?")
_CONTINUATION = re.compile(
    r"^\s*(?:那|那么|还有|再|举个例子|展开|and\b|but\b|so\b|what about|how about|then\b)", re.IGNORECASE
)
# what a continuation ends with besides its subject ("那 LSTM 呢？", "what about the KV cache?")
_ASKED_OF = re.compile(r"\s*(?:呢)?\s*[?？。.!！]*\s*$")
_ARTICLE = re.compile(r"^(?:a|an|the)\s+", re.IGNORECASE)  # the subject's own article, when the question has one
_PREPOSITION = r"(?:in|on|with|for|during|at|of|to|from|by|without)"
_BARE_NAME = re.compile(rf"(?!{_PREPOSITION}\b)[A-Za-z][\w+.\-]*(?:\s+[A-Za-z0-9][\w+.\-]*){{0,2}}",
                        re.IGNORECASE)  # a name of up to three words, not a phrase opening with a preposition
# a setting the last subject is asked in ("in RNNs", "during inference", "在 RNN 里"), and the name inside it
_CONTEXT = re.compile(rf"^(?:{_PREPOSITION}\s+(?P<en>.+)|在\s*(?P<zh>.+?)\s*(?:里面|里|中|上)?)$", re.IGNORECASE)
_ARTICLE_AT_END = re.compile(r"\b(?:a|an|the)\s+$", re.IGNORECASE)
# a pronoun standing for the previous topic ("why does it help?", "它的缺点是什么？")
_PRONOUN = re.compile(r"(?<![A-Za-z])(?:it|its|this|that|they|them|those|these)(?![A-Za-z])|它|这个|那个|其", re.IGNORECASE)
# the word that joins the sides a comparison compares ("GQA 和 MQA", "top-k and top-p sampling", "BN vs LN")
_JOINS = r"(?:\s*(?:和|与|與|跟|同|及|或|、|/)\s*|\s+(?:and|or|vs\.?|versus)\s+)"  # "GQA 與 MQA" too
_QUOTE = '["\'“”‘’]?'  # a side in quotes: "between “GQA” and “MQA”"
# a side the glossary does not list: up to three words, none of them a stop word ("top-k" of "between top-k and …")
_STOP = "|".join(sorted(ENGLISH_STOP, key=len, reverse=True))
_UNLISTED_SIDE = rf"(?:(?!(?:{_STOP})\b)[A-Za-z0-9][\w+.\-]*)(?:\s+(?!(?:{_STOP})\b)[A-Za-z0-9][\w+.\-]*){{0,2}}"

# what is left of a follow-up asking for nothing but an example once its aspect's words are blanked ("give an example",
# "can you give me some examples?", "举个例子", "有例子吗？", "比如呢？")
_ONLY_ASKS = re.compile(r"(?:(?:and|so|then|那|那么)\s*)?(?:(?:can|could|would)\s+you\s+)?(?:please\s+)?"
                        r"(?:(?:give|show|provide)(?:\s+me)?|请|再|举|给|来|给我|有没有|有)*\s*"
                        r"(?:an?|some|one|any|个|一个|几个|什么)?\s*(?:说明)?\s*(?:please|吗|呢|吧)?\s*[?？。.!！]*\s*",
                        re.IGNORECASE)


class NoExample(StudybotError):
    """The notes give no example of the subject a follow-up asks one of: said, not answered with what is none."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"I found no example of \"{subject}\" in your notes (no passage on it says 例如, for example or "
                         "e.g.): add one with `studybot index PATH`", exit_code=NOTHING_FOUND_EXIT)


def asks_an_example(question: str) -> bool:
    """Whether a question asks for nothing but an example ("give an example", "举个例子"), of the subject before it."""
    return aspects(question) == ["example"] and bool(_ONLY_ASKS.fullmatch(without_aspects(question)))


class ChatSession:
    """Keeps one index and one generator for many questions, and remembers the last turn."""

    def __init__(
        self, index: Index, generator: Generator | None = None, *, clock: Callable[[], float] = time.perf_counter,
        now: Callable[[], datetime] = utc_now, **answer_options,
    ) -> None:
        self.index = index
        self.generator = generator
        self.clock = clock
        self.now = now
        self.options = answer_options
        self.last: Answer | None = None
        self.leaned_on: str | None = None  # the question follow-ups lean on: the last one not itself leaning on another
        self.history_path = index.home / HISTORY
        self.model_note: str | None = None  # why no model runs by default (see plan_model)
        self.history_error: str | None = None  # why the history could not be kept (a read-only home): answers go on

    def warm_up(self) -> None:
        """Load the glossary, BM25, FAISS and the query encoder now, so the first question is fast too."""
        from studybot.index.search import search

        _ = (self.index.glossary, self.index.lexical, self.index.dense, self.index.embedder, self.index.headings,
             self.index.heading_embedder)
        search("warm up", k=1, index=self.index)

    def resolve(self, question: str) -> str:
        """The question to search and answer: a follow-up merged with the previous question."""
        if self.last is None:
            return question
        if asks_an_example(question):  # of the subject: "give an example" after Dropout asked "Dropout give an example"
            subject = self._said_subject(self._previous())  # and quoted its drawbacks
            if subject is not None:
                return f"{subject.group(0)} 的例子" if language(question) == "zh" else f"an example of {subject.group(0)}"
        concepts = self.index.glossary.find(question)
        words = tokenize(question)
        short = len(words) <= FOLLOW_UP_MAX_WORDS and self._known(words)
        if (_CONTINUATION.match(question) or self._compared_with_it(question, concepts)
                or (not concepts and (short or _PRONOUN.search(question) or self._a_detail_of_the_last(words)))):
            return (self._another_subject(question) or self._named_subject(question)
                    or self._subject_in_other_language(question) or f"{self._previous()} {question}")
        return question

    @staticmethod
    def _compared_with_it(question: str, concepts: list[Entry]) -> bool:
        """Whether a question compares a pronoun with the one concept it names, nothing but words of comparison between
        them ("compare it with DPO", "它和 DPO 有什么区别？", "how does it differ from DPO?"): "it" is the last subject,
        the other side. Asked alone, "compare it with DPO" after "What is QLoRA?" was answered with "DPO vs PPO". ("How
        does Inception combine filters of different sizes, and why does it use 1x1 convolutions?" says what "it" is.)"""
        pronoun = _PRONOUN.search(question)
        named = mention(concepts[0], question) if len(concepts) == 1 else None
        if pronoun is None or named is None or not compares(question):
            return False
        between = question[min(pronoun.end(), named.end()):max(pronoun.start(), named.start())]
        return all(compares(word) for word in tokenize(between))

    def _a_detail_of_the_last(self, words: list[str]) -> bool:
        """Whether the words of a question that can carry a point are all ones the last answer's passages say: it asks
        about a detail of that answer ("为什么要除以 1-p？" after "Dropout 在训练和推理阶段有什么不同？", whose passages say
        除以), not a new subject. Searched alone, it was answered from √d_k's section, which says 除以 too."""
        from studybot.study.keypoints import worth_asking

        said = frozenset().union(*(word_keys(source.text) for source in self.last.citations))
        carrying = [word for word in words if worth_asking(word)]
        return bool(carrying) and all(word_key(word) in said for word in carrying)

    def _previous(self) -> str:
        """The question a follow-up leans on: the last one asked whole, not the last follow-up merged with it ("那
        RMSNorm 呢？" after "give an example" was searched with the example's words too, and answered on attention)."""
        return self.leaned_on or self.last.resolved_question

    def _named_subject(self, question: str) -> str | None:
        """The follow-up with its pronoun replaced by the previous question's subject, the first concept it names
        ("它有什么缺点？" after "Dropout 为什么能防止过拟合？" is "Dropout有什么缺点？"), else None (no pronoun, or a previous
        question comparing two, where "it" could be either). Appended to the previous question, its why-passage led
        an answer on drawbacks."""
        previous = self._previous()
        found = _PRONOUN.search(question)
        subjects = self._subjects(previous)
        # a comparison of two subjects, not of one subject's two settings ("Dropout 在训练和推理阶段有什么不同？" is dropout's)
        if (found is None or not subjects
                or (compares(previous) and (len(subjects) > 1 or self._sides(previous, subjects[0])))):
            return None
        said = self._said_subject(previous)
        if said is None:
            return None
        return f"{question[:found.start()]}{said.group(0)}{question[found.end():]}"

    def _subject_in_other_language(self, question: str) -> str | None:
        """The previous question's subject with the follow-up, when the follow-up is in the other language ("那怎么解决？"
        after "What is the dying ReLU problem?" is "dying ReLU 怎么解决？"), else None. Appended to the previous question,
        its English words met the follow-up's Chinese ones in another section ("problem" and 解决 in "what problem
        does it solve", on residual connections), which led."""
        previous = self._previous()
        if language(question) == language(previous) or compares(previous) or not tokenize(_CONTINUATION.sub("", question)):
            return None  # a bare "为什么？" after an English question asks that question again, whole
        said = self._said_subject(previous)
        if said is None:
            return None
        return f"{said.group(0)} {_CONTINUATION.sub('', question).strip()}"

    def _subjects(self, text: str) -> list[Entry]:
        """The concepts a text names that are no aspect of another (glossary entries), the first its subject."""
        return [e for e in self.index.glossary.find(text) if e.id not in _ASPECTS]

    def _said_subject(self, previous: str) -> re.Match | None:
        """Where a question names its subject, the first concept it names that is no aspect of another, else None."""
        subjects = self._subjects(previous)
        return mention(subjects[0], previous) if subjects else None

    def _another_subject(self, question: str) -> str | None:
        """The previous question asked of the new subject a continuation names ("那 LSTM 呢？" after "RNN 为什么会梯度
        消失？" is "LSTM 为什么会梯度消失？"), when it names a glossary concept the previous one did not and no pronoun
        points back; else None. Appended to the previous question, its old subject led the answer again."""
        previous = self._previous()
        glossary = self.index.glossary
        before = glossary.find(previous)
        named = {entry.id for entry in before}
        subject = _ASKED_OF.sub("", _CONTINUATION.sub("", question)).strip()
        if not before or _PRONOUN.search(question) or not (any(e.id not in named for e in glossary.find(question))
                                                           or self._a_name_not_in(subject, previous)):
            return None
        found = self._sides(previous, before[0]) or mention(before[0], previous)
        if found is None:
            return None
        if context := _CONTEXT.match(subject):
            # a context of another topic is where the last subject is asked: "what about in RNNs?" after "Dropout 为什么能
            # 防止过拟合？" asked "in RNNs 为什么能防止过拟合？", dropout lost; one of its own topic is a subject in its place
            # ("and in BatchNorm?" after "How does LayerNorm work?" asked "How does in BatchNorm work?")
            topics = {entry.topic for entry in before} - {""}  # "": a concept no bundled note covers
            if not any(entry.topic in topics for entry in glossary.find(subject) if entry.id not in named):
                return f"{previous[:found.end()]} {subject}{previous[found.end():]}"
            subject = context.group("en") or context.group("zh")
        before_it = previous[:found.start()]
        if (article := _ARTICLE_AT_END.search(before_it)) and _ARTICLE.match(subject):  # "and a GAN?" after "What is a
            before_it = before_it[:article.start()]  # VAE?" asked "What is a a GAN?": the follow-up's own article stays
        return f"{before_it}{subject}{previous[found.end():]}"

    def _sides(self, previous: str, subject: Entry) -> re.Match | None:
        """Where a comparison names the sides it compares, the subject one of them ("GQA 和 MQA" of "GQA 和 MQA 的区别是什么？",
        "top-k and top-p sampling"), else None ("between training and inference" are no subjects of dropout's). A new
        subject takes all their place: with one replaced, "那 flash attention 呢？" asked "flash attention 和 MQA 的区别是什么？",
        and the MQA-vs-GQA section led again."""
        said = mention(subject, previous)
        if said is None or not compares(simplified(previous)):  # "GQA 與 MQA 的區別是什麼？" compares too
            return None
        listed = [found.group(0) for entry in self.index.glossary.find(previous) if entry.id not in _ASPECTS
                  and (found := mention(entry, previous))]
        side = "|".join([re.escape(name) for name in sorted(listed, key=len, reverse=True)] + [_UNLISTED_SIDE])
        side = rf"(?<![A-Za-z0-9])(?:(?:the|a|an)\s+)?{_QUOTE}(?:{side}){_QUOTE}(?![A-Za-z0-9])"  # quoted too
        return next((sides for sides in re.finditer(rf"{side}(?:{_JOINS}{side})+", previous, re.IGNORECASE)
                     if sides.start() <= said.start() and said.end() <= sides.end()), None)

    def _a_name_not_in(self, subject: str, previous: str) -> bool:
        """Whether the subject names in Latin letters something the glossary does not list and the previous question
        does not say ("what about SMOTE?" after "What is focal loss?" was answered on focal loss again)."""
        from studybot.study.keypoints import specificity

        # the name alone: "and in PyTorch?" adds a context to the last question, not a subject
        name = _ARTICLE.sub("", subject)
        words = tokenize(name)
        said = set(tokenize(previous))
        return (bool(_BARE_NAME.fullmatch(name))
                and any(t.isalpha() and len(t) >= 3 and specificity(t) >= 1.0 and t not in said for t in words))

    def _known(self, words: list[str]) -> bool:
        """Whether the notes use every one of these words: a short question naming what they never say ("What is
        the capital of France?": capital, france) asks about a new subject, not the last one."""
        text = self.index.lexical["text"]
        return all(text.chunks_with(word) for word in words)

    def ask(self, question: str, on_token: Callable[[str], None] | None = None) -> Answer:
        """Answer one turn (raises NothingFound like `answer_question`) and append it to the history."""
        resolved = self.resolve(question)
        example = self.last is not None and asks_an_example(question)  # the thread stays on the question before it
        leaned_on = (self._previous() if self.last is not None and (example or resolved == f"{self._previous()} {question}")
                     else resolved)
        answer = answer_question(question, self.index, self.generator, retrieval_query=resolved, on_token=on_token,
                                 clock=self.clock, **self.options)
        if example and not self._gives_an_example(answer, leaned_on):
            said = self._said_subject(leaned_on)
            raise NoExample(said.group(0) if said else leaned_on)
        self.last, self.leaned_on = answer, leaned_on
        try:
            self._save(answer)
        except OSError as exc:
            self.history_error = f"chat history not kept: {exc.strerror or exc}: {exc.filename or self.history_path}"
        return answer

    def _gives_an_example(self, answer: Answer, previous: str) -> bool:
        """Whether an answer quotes an example (a line saying 例如, e.g.) of the previous question's subject: under a
        heading naming it, or naming it under one that names no other concept. "give an example" after Dropout quoted
        its drawbacks, and "举个例子" after BatchNorm GroupNorm's "比如检测、分割"."""
        subjects = self._subjects(previous)
        for paragraph in answer.answer.split("\n\n"):
            cited = next((c for c in answer.citations if paragraph.rstrip().endswith(f"[{c.n}]")), None)
            for line in (line for line in paragraph.splitlines() if "example" in aspects(line)):
                if not subjects or cited is None:
                    return True  # no subject to be about, or the line is no quote
                others = [e for e in self._subjects(cited.path) if e is not subjects[0]]
                if mention(subjects[0], cited.path) or (mention(subjects[0], line) and not others):
                    return True
        return False

    def _save(self, answer: Answer) -> None:
        self.history_path.parent.mkdir(parents=True, exist_ok=True)
        record = {"time": self.now().isoformat(timespec="seconds"), "resolved_question": answer.resolved_question,
                  **answer.to_dict()}
        with self.history_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def open_session(
    home: Path | str | None = None, *, llm: bool | None = None, model: str | None = None, llm_url: str | None = None,
    llm_model: str | None = None, **answer_options,
) -> ChatSession:
    """Open the index and the model `plan_model` picks once, touch every lazy part, and return a ready session."""
    from studybot.answer.pipeline import plan_model

    index = Index(home)
    plan = plan_model(index.home, llm, model, llm_url, llm_model)
    session = ChatSession(index, plan.target.open() if plan.target else None, **answer_options)
    session.model_note = plan.note
    session.warm_up()
    return session
