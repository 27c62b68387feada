"""Question translation: an English question meets Chinese notes in their own words, and back.

The glossary bridges the two languages only for the concepts it lists, and the passage embedder
reads English only; a user's notes go far beyond both. Gemma 3 270M (multilingual, shipped for
the repair) translates the question with a few-shot prompt, greedily, in a few hundred
milliseconds; search then runs the question and its translation together. It is a small base
model, so a translation is a rough one: it is used beside the original question, never instead
of it, and an answer that merely repeats one of the prompt's examples is thrown away. Search asks
for it only when the notes are mostly in the other language (see `Index.translation_target`).
Translations are cached by question, so a repeated question costs nothing.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from studybot.cache import ContentCache
from studybot.home import cache_dir
from studybot.text.language import language

# Generic interview questions, none about a topic the notes are likely to ask the same way.
_EXAMPLES = [
    ("What problem does batch normalization solve?", "批归一化解决了什么问题？"),
    ("Why do deep networks suffer from vanishing gradients?", "为什么深层网络会出现梯度消失？"),
    ("How does dropout reduce overfitting?", "Dropout 如何减少过拟合？"),
    ("What is the difference between L1 and L2 regularization?", "L1 正则化和 L2 正则化有什么区别？"),
    ("How is the learning rate chosen?", "如何选择学习率？"),
]
_LABEL = {"zh": "中文：", "en": "English: "}
MAX_CHARS = 300  # a question longer than this is cut: the model's window, and the time to read it
MAX_TOKENS = 48
N_CTX = 1024
VERSION = "1"  # part of the cache namespace: change it when the prompt or decoding changes


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def prompt(question: str, target: str) -> str:
    """The few-shot prompt whose continuation is the question in `target` ("zh" or "en")."""
    source = "en" if target == "zh" else "zh"
    shots = "".join(
        f"{_LABEL[source]}{pair[source == 'zh']}\n{_LABEL[target]}{pair[target == 'zh']}\n" for pair in _EXAMPLES
    )
    return f"{shots}{_LABEL[source]}{' '.join(question.split())[:MAX_CHARS]}\n{_LABEL[target]}".rstrip(" ")


def usable(question: str, translation: str, target: str) -> str:
    """The translation, or "" when it is no translation: empty, in the wrong language, the question
    itself, or a copy of one of the prompt's examples (what a small model says when it is lost)."""
    text = translation.strip()
    echoes = {_squash(question)} | {_squash(p) for pair in _EXAMPLES for p in pair}
    if not text or language(text) != target or _squash(text) in echoes:
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

    def __call__(self, question: str, target: str) -> str:
        out = self._llm.create_completion(prompt(question, target), max_tokens=MAX_TOKENS, temperature=0.0,
                                          stop=["\n"])
        return usable(question, out["choices"][0]["text"], target)


@lru_cache(maxsize=1)
def load_translator() -> Translator | None:
    """The translator, or None when the Gemma model or llama.cpp is not installed (search goes on without)."""
    from studybot.ingest.repair.scoring import ScorerUnavailable

    try:
        return Translator()
    except (ImportError, ScorerUnavailable, OSError, ValueError, RuntimeError):
        return None


def translate(question: str, target: str, translator: Translator | None = None) -> str:
    """`question` in `target` ("zh" or "en"), from the cache or the model; "" when there is none."""
    key = hashlib.sha256(question.encode()).hexdigest()
    cache = ContentCache(cache_dir() / "translations.sqlite")
    namespace = f"gemma3-270m:{VERSION}:{target}"
    found = cache.get_many(namespace, [key])
    if key in found:
        return str(found[key])
    translator = translator or load_translator()
    if translator is None:
        return ""
    text = translator(question, target)
    cache.put_many(namespace, {key: text})
    return text
