"""Deterministic stand-ins for a language model, so the `mode == "llm"` path is tested exactly.

Each fake implements the `Generator` protocol of studybot.answer.backends (name, context_tokens,
count_tokens, stream, complete) and reads the prompt the pipeline built, as a model would:

    fake-grounded        the first sentence of source [1], cited: "<sentence> [1]"
    fake-looping         that grounded answer said six times over (a loop, otherwise faultless)
    fake-wrong-language  the first sentence of the first source in the *other* language, cited

`registered_fakes()` puts them in the real backend registry with the `backend` decorator, exactly
as the real backends register themselves, and takes them out again afterwards, so no other test
sees them (and `load_generator`'s cache forgets the instances it built).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

from studybot.answer.backends import BACKENDS, DEFAULT_CONTEXT, backend, load_generator

Messages = list[dict[str, str]]

_HEADER = re.compile(r"^\[(\d+)\] .*$", re.MULTILINE)
_SENTENCE = re.compile(r"[^\n。！？.!?]+[。！？.!?]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def prompt_sources(messages: Messages) -> dict[int, str]:
    """{n: passage text} of the numbered sources in the user message, quote markers removed."""
    user = next(m["content"] for m in messages if m["role"] == "user")
    body = user.split("\n\nQuestion:", 1)[0]
    headers = list(_HEADER.finditer(body))
    sources = {}
    for header, following in zip(headers, headers[1:] + [None]):
        text = body[header.end():following.start() if following else len(body)]
        lines = [re.sub(r"^\s*>\s?", "", line).strip() for line in text.splitlines()]
        sources[int(header.group(1))] = "\n".join(line for line in lines if line)
    return sources


def prompt_question(messages: Messages) -> str:
    user = next(m["content"] for m in messages if m["role"] == "user")
    return user.rsplit("Question:", 1)[1].strip()


def is_chinese(text: str) -> bool:
    cjk, words = len(_CJK.findall(text)), len(_LATIN_WORD.findall(text))
    return bool(cjk) and cjk >= 0.3 * (cjk + words)


def first_sentence(text: str) -> str:
    match = _SENTENCE.search(text)
    assert match, f"no sentence in {text!r}"
    return match.group(0).strip()


def faithful_reply(messages: Messages) -> str:
    """What a good model answers: the first sentence of the sources, in order, that is in the question's
    language, cited with its source's number."""
    chinese_question = is_chinese(prompt_question(messages))
    for n, text in sorted(prompt_sources(messages).items()):
        for sentence in _SENTENCE.findall(text):
            if is_chinese(sentence) == chinese_question and len(sentence.strip()) >= 12:
                return f"{sentence.strip()} [{n}]"
    return f"{first_sentence(prompt_sources(messages)[1])} [1]"


class FakeGenerator:
    """The protocol's plumbing; subclasses say what to answer for a prompt."""

    kind = "fake"

    def __init__(self, target: str = "test", context_tokens: int = DEFAULT_CONTEXT) -> None:
        self.name = f"{self.kind}:{target}"
        self.context_tokens = context_tokens
        self.calls: list[Messages] = []  # every prompt it was given, to check what the pipeline sent

    def count_tokens(self, text: str) -> int:
        return len(_CJK.findall(text)) + len(re.findall(r"[^\s\u4e00-\u9fff]+", text))

    def reply(self, messages: Messages) -> str:
        raise NotImplementedError

    def stream(self, messages: Messages, max_tokens: int, temperature: float, seed: int) -> Iterator[str]:
        self.calls.append(messages)
        # piece by piece, as a model streams: words with their following space
        yield from re.findall(r"\S+\s*", self.reply(messages))

    def complete(self, messages: Messages, max_tokens: int, temperature: float, seed: int) -> str:
        self.calls.append(messages)
        return self.reply(messages)


class GroundedFake(FakeGenerator):
    """A good answer: the first sentence of source [1], in its words, cited [1]."""

    kind = "fake-grounded"

    def reply(self, messages: Messages) -> str:
        return f"{first_sentence(prompt_sources(messages)[1])} [1]"


class LoopingFake(GroundedFake):
    """The grounded answer, then the same again and again: the loop a small model falls into."""

    kind = "fake-looping"

    def reply(self, messages: Messages) -> str:
        return " ".join([super().reply(messages)] * 6)


class WrongLanguageFake(FakeGenerator):
    """A cited sentence copied from the sources, but from one in the other language than the question's."""

    kind = "fake-wrong-language"

    def reply(self, messages: Messages) -> str:
        chinese_question = is_chinese(prompt_question(messages))
        for n, text in sorted(prompt_sources(messages).items()):
            for sentence in _SENTENCE.findall(text):
                if is_chinese(sentence) != chinese_question:
                    return f"{sentence.strip()} [{n}]"
        raise AssertionError("no source in the other language to copy from")


FAKES = {cls.kind: cls for cls in (GroundedFake, LoopingFake, WrongLanguageFake)}


@contextmanager
def registered_fakes() -> Iterator[dict[str, type[FakeGenerator]]]:
    """The fakes in the backend registry for the duration, registered by the `backend` decorator."""
    for kind, cls in FAKES.items():
        assert kind not in BACKENDS, f"{kind} is already registered"
        assert backend(kind)(cls) is cls  # the decorator hands the class back unchanged
    load_generator.cache_clear()
    try:
        yield FAKES
    finally:
        for kind in FAKES:
            BACKENDS.pop(kind, None)
        load_generator.cache_clear()
