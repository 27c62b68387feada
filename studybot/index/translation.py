"""Question translation: an English question meets Chinese notes in their own words, and back.

The glossary bridges the two languages only for the concepts it lists, and the passage embedder
reads English only; a user's notes go far beyond both. Gemma 3 270M (multilingual, shipped for
the repair) translates the question with a few-shot prompt, greedily, in a few hundred
milliseconds; search then runs the question and its translation together. It is a small base
model, so a translation is a rough one: it is used beside the original question, never instead
of it, and an answer that merely repeats one of the prompt's examples is thrown away. Search asks
for it only when the notes are mostly in the other language (see `Index.translation_target`).
Translations are cached by question and translator, so a repeated question costs nothing.

Gemma is the limit: with hand-written translations in place of its own, mean MRR rises from
0.812 to 0.862 on the development questions (0.826 to 0.829 held), all of it in the cells where
question and notes differ in language (benchmarks/retrieval_quality.py, "hand translations"). So
the answer model translates instead when it is a real one: `[search] translator` in config.toml, "auto" (the
default) for the model `ask` runs by default (one `studybot models check` found useful), "model"
for the configured answer model always, "gemma" for Gemma always. A model that fails (a server
that is down) leaves the question to Gemma, and nothing of the failure is cached.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from studybot.cache import ContentCache
from studybot.errors import StudybotError
from studybot.home import cache_dir
from studybot.text.language import language
from studybot.text.tokens import squashed

if TYPE_CHECKING:
    from studybot.answer.backends import Target

# Generic interview questions, none about a topic the notes are likely to ask the same way.
_EXAMPLES = [
    ("What problem does batch normalization solve?", "批归一化解决了什么问题？"),
    ("Why do deep networks suffer from vanishing gradients?", "为什么深层网络会出现梯度消失？"),
    ("How does dropout reduce overfitting?", "Dropout 如何减少过拟合？"),
    ("What is the difference between L1 and L2 regularization?", "L1 正则化和 L2 正则化有什么区别？"),
    ("How is the learning rate chosen?", "如何选择学习率？"),
]
# Answer sentences, for a learner's answer in the other language than the note card it answers (grading).
_ANSWER_EXAMPLES = [
    ("Batch normalization normalizes each layer's inputs over the mini-batch, which keeps training stable.",
     "批归一化在 mini-batch 上对每层的输入做归一化，让训练保持稳定。"),
    ("When gradients are multiplied through many layers they shrink, so the early layers barely learn.",
     "梯度在很多层之间连乘会越来越小，所以靠前的层几乎学不到东西。"),
    ("L2 regularization adds the squared weights to the loss and keeps the weights small.",
     "L2 正则化把权重的平方加到损失里，让权重保持较小。"),
    ("A larger learning rate converges faster but may oscillate or even diverge.",
     "学习率越大收敛越快，但可能震荡甚至发散。"),
]
EXAMPLES = {"question": _EXAMPLES, "answer": _ANSWER_EXAMPLES}
_LABEL = {"zh": "中文：", "en": "English: "}
MAX_CHARS = 300  # a question longer than this is cut: the model's window, and the time to read it
MAX_TOKENS = 48
MODEL_MAX_TOKENS = 160  # an instruct model's translation of a 300-character question, with room
N_CTX = 1024
VERSION = "5"  # part of the cache namespace: change it when the prompt or decoding changes (3: from the examples' state;
# 4: a loop cut to one turn; 5: clauses translated too)
# A phrase said three times or more in a row: a small model's greedy loop ("…随着 d_k 的平方的平方的平方…" to the token
# limit), whose repeated word then outweighed the question's own words in BM25.
_LOOP = re.compile(r"(\D.{1,23}?)(?:\s*\1){2,}")  # not "0.000001"
GEMMA = "gemma3-270m"
_LANGUAGE = {"zh": "Simplified Chinese", "en": "English"}
MODEL_PROMPT = ("Translate the user's machine learning interview {kind} into {language}. Keep names and terms "
                "that are usually written in English (ReLU, LSTM, BatchNorm, Transformer) as they are. "
                "Reply with the translation only, on one line.")


def _shots(target: str, kind: str = "question") -> str:
    """The prompt's examples of a kind of text, translated into `target`: the part every prompt of that kind shares."""
    source = "en" if target == "zh" else "zh"
    return "".join(
        f"{_LABEL[source]}{pair[source == 'zh']}\n{_LABEL[target]}{pair[target == 'zh']}\n" for pair in EXAMPLES[kind]
    )


# Where a question's clauses part: after a mark of punctuation (an ASCII one only before a space: not "0.5" or "(1,)"),
# or at a dash.
_CLAUSE = re.compile(r"\s*[—–]+\s*|(?<=[?.!;,])\s+|(?<=[？。！；，])\s*")
MIN_CLAUSE_CHARS = 4


def clauses(question: str) -> list[str]:
    """The clauses of a question of more than one ("Is a bigger kernel always better? Why did VGG stack 3×3 kernels
    instead?"), else []: Gemma translates each on its own as well as the whole, since a small model translating
    the whole drops a part of it ("What goes wrong if you initialize all the weights to zero, or to the same
    constant?" became "为什么会发生这种情况？")."""
    parts = [part.strip() for part in _CLAUSE.split(" ".join(question.split())[:MAX_CHARS])]
    parts = [part for part in parts if len(part) >= MIN_CLAUSE_CHARS]
    return parts if len(parts) > 1 else []


# Where an answer's sentences end (an ASCII mark only before a space: not "0.5").
_SENTENCE_END = re.compile(r"(?<=[?.!;])\s+|(?<=[？。！；])\s*|\n+")


def sentences(answer: str) -> list[str]:
    """An answer's sentences, each translated on its own: a small model translating a paragraph drops parts of it."""
    return [part.strip() for part in _SENTENCE_END.split(answer) if len(part.strip()) >= MIN_CLAUSE_CHARS]


def prompt(question: str, target: str, kind: str = "question") -> str:
    """The few-shot prompt whose continuation is the text in `target` ("zh" or "en")."""
    source = "en" if target == "zh" else "zh"
    return f"{_shots(target, kind)}{_LABEL[source]}{' '.join(question.split())[:MAX_CHARS]}\n{_LABEL[target]}".rstrip(" ")


def usable(question: str, translation: str, target: str) -> str:
    """The translation, or "" when it is no translation: empty, in the wrong language, the question
    itself, or a copy of one of the prompt's examples (what a small model says when it is lost). A loop is cut to
    one turn of it."""
    text = _LOOP.sub(r"\1", translation).strip()
    echoes = {squashed(question)} | {squashed(p) for pairs in EXAMPLES.values() for pair in pairs for p in pair}
    if not text or language(text) != target or squashed(text) in echoes:
        return ""
    return text


class Translator:
    """Gemma 3 270M on llama.cpp, kept loaded (chat asks many questions)."""

    def __init__(self) -> None:
        from studybot.ingest.repair.gemma import gguf_path
        from studybot.llamacpp import load_llama

        # One thread: a translation is a few tokens decoded one at a time, where two threads mostly wait for each
        # other (measured quiet: 0.13 s a question on one thread, 0.22 s on two), and the heading list's encoder
        # runs beside it on the other core.
        self._llm = load_llama(str(gguf_path()), n_ctx=N_CTX, n_batch=512, swa_full=False, n_threads=1,
                               n_threads_batch=1)
        self._shots_read: tuple[str, str, int] | None = None  # (kind, target, tokens): the examples the model has read

    def __call__(self, question: str, target: str, kind: str = "question") -> str:
        # Every question goes on from the same state, the examples read once: llama.cpp would otherwise reuse as much
        # of the previous question's prompt as matches, computed in other batches, and greedy decoding then took
        # another path for the same question ("…为零，或者为相同的常量？" alone, "为什么会发生这种情况？" after a question on
        # triplet loss): a translation, and so a search, that depended on what chat or an evaluation asked before,
        # and a cache holding whichever came first. Reading the whole prompt afresh each time repeats too, at twice
        # the time (0.55 s a question against 0.27 s); so does restoring a saved state, at 45 ms to copy its logits.
        if self._shots_read is None or self._shots_read[:2] != (kind, target):
            self._llm.reset()
            shots = self._llm.tokenize(_shots(target, kind).encode("utf-8"))
            self._llm.eval(shots)
            self._shots_read = (kind, target, len(shots))
        # A question whole, then each of its clauses (`clauses`): search reads them all. An answer sentence by sentence.
        parts = sentences(question) if kind == "answer" else [question, *clauses(question)]
        translations = [self._translate(text, target, kind) for text in parts]
        return " ".join(dict.fromkeys(t for t in translations if t))

    def _translate(self, text: str, target: str, kind: str) -> str:
        self._llm.n_tokens = self._shots_read[2]  # what follows the examples is read again
        out = self._llm.create_completion(prompt(text, target, kind), max_tokens=MAX_TOKENS, temperature=0.0,
                                          stop=["\n"])
        return usable(text, out["choices"][0]["text"], target)


class ModelTranslator:
    """The answer model (an instruct GGUF or a server) as translator; `name` keys its cached translations."""

    def __init__(self, target: "Target") -> None:
        from studybot.answer.checks import model_key

        self.target = target
        self.name = f"model:{model_key(target)}"

    def __call__(self, question: str, target: str, kind: str = "question") -> str:
        """The translation, or "" when it is none; GenerationError when the model fails."""
        messages = [{"role": "system", "content": MODEL_PROMPT.format(kind=kind, language=_LANGUAGE[target])},
                    {"role": "user", "content": " ".join(question.split())[:MAX_CHARS]}]
        reply = self.target.open().complete(messages, MODEL_MAX_TOKENS, 0.0, 0)
        line = next((line for line in reply.splitlines() if line.strip()), "")
        return usable(question, line.strip().strip("\"'“”「」"), target)


def model_translator(home: Path | None) -> ModelTranslator | None:
    """The answer model as translator when config.toml's `[search] translator` picks it, else None (Gemma).

    "auto" picks the model `ask` runs by default, that is one `studybot models check` found useful:
    a model that cannot answer is no better a translator than Gemma, and loading it costs seconds.
    """
    from studybot.answer.gguf import config_section

    choice = config_section(home, "search").get("translator", "auto")  # one of gguf.TRANSLATORS
    if choice == "gemma":
        return None
    if choice == "model":
        from studybot.answer.backends import generator_target

        return ModelTranslator(generator_target(home))
    from studybot.answer.pipeline import plan_model

    target = plan_model(home).target
    return ModelTranslator(target) if target is not None else None


@lru_cache(maxsize=1)
def load_translator() -> Translator | None:
    """The translator, or None when the Gemma model or llama.cpp is not installed (search goes on without)."""
    from studybot.ingest.repair.scoring import ScorerUnavailable

    try:
        return Translator()
    except (ImportError, ScorerUnavailable, OSError, ValueError, RuntimeError):
        return None


def translate(question: str, target: str, translator: Callable[..., str] | None = None, kind: str = "question") -> str:
    """`question` (or an answer, `kind`) in `target` ("zh" or "en"), from the cache or the translator (Gemma when
    none is given); "" when there is none. A model that fails leaves the text to Gemma."""
    key = hashlib.sha256(question.encode()).hexdigest()
    cache = ContentCache(cache_dir() / "translations.sqlite")
    namespace = f"{getattr(translator, 'name', GEMMA)}:{VERSION}:{target}" + ("" if kind == "question" else f":{kind}")
    found = cache.get_many(namespace, [key])
    if key in found:
        return str(found[key])
    translator = translator or load_translator()
    if translator is None:
        return ""
    from studybot.answer.backends import GenerationError  # only now: a cached translation needs no backend

    try:
        text = translator(question, target, kind)
    except GenerationError:
        return translate(question, target, kind=kind)
    cache.put_many(namespace, {key: text})
    return text
