"""Text generation backends, in a registry: llama.cpp in-process, or any OpenAI-compatible server.

Both stream: `stream(messages, ...)` yields pieces of text as the model produces them, so the
CLI can draw them live and the pipeline can time the first token. `complete` is the same call
without streaming (at temperature 0 both give the same text; a test holds them to it).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator, Protocol

from studybot.errors import StudybotError
from studybot.llamacpp import load_llama

DEFAULT_CONTEXT = 4096
Messages = list[dict[str, str]]


class Generator(Protocol):
    name: str  # shown to the user and in --json
    context_tokens: int

    def count_tokens(self, text: str) -> int:
        """How many tokens the text costs in this model's context."""

    def stream(self, messages: Messages, max_tokens: int, temperature: float, seed: int) -> Iterator[str]:
        """The reply, piece by piece."""

    def complete(self, messages: Messages, max_tokens: int, temperature: float, seed: int) -> str:
        """The whole reply at once."""


BACKENDS: dict[str, Callable[..., Generator]] = {}


def backend(name: str) -> Callable:
    """Register a generator class under a name; `load_generator(name, target)` builds one."""

    def register(cls: Callable[..., Generator]) -> Callable[..., Generator]:
        BACKENDS[name] = cls
        return cls

    return register


@backend("llama-cpp")
class LlamaCpp:
    """A GGUF model run by llama.cpp inside this process, on every CPU core."""

    def __init__(self, target: str, context_tokens: int = DEFAULT_CONTEXT) -> None:
        from studybot.answer.gguf import describe

        info = describe(Path(target), "path")  # a clear error for a missing or junk file, before llama.cpp
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            raise StudybotError("llama-cpp-python is not installed: pip install llama-cpp-python, or use --no-llm") from None
        context = min(context_tokens, info.context_length or context_tokens)
        try:
            self._llm = load_llama(target, n_ctx=context)
        except (ValueError, RuntimeError) as exc:
            raise StudybotError(f"llama.cpp cannot load {target} ({exc}): pass another --model") from None
        self.name = info.name
        self.context_tokens = context

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _call(self, messages: Messages, max_tokens: int, temperature: float, seed: int, stream: bool):
        # Forget the previous prompt: reusing its cached prefix evaluates the rest in other batch
        # shapes, and the rounding differences flip greedy choices (same question, other answer).
        self._llm.reset()
        self._llm.set_seed(seed)
        return self._llm.create_chat_completion(
            messages=messages, max_tokens=max_tokens, temperature=temperature, seed=seed, stream=stream,
        )

    def stream(self, messages: Messages, max_tokens: int, temperature: float, seed: int) -> Iterator[str]:
        for chunk in self._call(messages, max_tokens, temperature, seed, stream=True):
            piece = chunk["choices"][0]["delta"].get("content")
            if piece:
                yield piece

    def complete(self, messages: Messages, max_tokens: int, temperature: float, seed: int) -> str:
        reply = self._call(messages, max_tokens, temperature, seed, stream=False)
        return reply["choices"][0]["message"]["content"] or ""


@backend("openai")
class OpenAICompatible:
    """A server speaking the OpenAI chat API (llama.cpp's server, Ollama, vLLM), over plain HTTP."""

    timeout = 300.0

    def __init__(self, target: str, context_tokens: int = DEFAULT_CONTEXT, model: str | None = None) -> None:
        self.url = target.rstrip("/")
        if not re.match(r"https?://", self.url):
            raise StudybotError(f"--llm-url {target!r} is not an http(s) URL, e.g. http://127.0.0.1:8080")
        self.base = self.url if self.url.endswith("/v1") else f"{self.url}/v1"
        self.model = model or self._first_model()
        self.name = f"{self.model} @ {self.url}"
        self.context_tokens = context_tokens

    def _request(self, path: str, body: dict | None = None):
        import urllib.error
        import urllib.request

        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base}{path}", data=data, headers={"Content-Type": "application/json"})
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", errors="replace")[:200].replace("\n", " ")
            raise StudybotError(f"{self.base}{path} answered HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise StudybotError(f"cannot reach the model server at {self.url} ({reason}): is it running?") from None

    def _first_model(self) -> str:
        with self._request("/models") as response:
            models = json.load(response).get("data") or []
        return models[0]["id"] if models else "default"

    def count_tokens(self, text: str) -> int:
        """An upper estimate (the API has no tokenizer endpoint): a CJK character or 3 other characters per token."""
        cjk = len(re.findall(r"[\u3400-\u9fff\uf900-\ufaff]", text))
        return cjk + (len(text) - cjk) // 3 + 1

    def _body(self, messages: Messages, max_tokens: int, temperature: float, seed: int, stream: bool) -> dict:
        return {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature,
                "seed": seed, "stream": stream}

    def stream(self, messages: Messages, max_tokens: int, temperature: float, seed: int) -> Iterator[str]:
        with self._request("/chat/completions", self._body(messages, max_tokens, temperature, seed, True)) as response:
            for raw in response:  # server-sent events: `data: {...}` lines, ending with `data: [DONE]`
                line = raw.decode("utf-8").strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    return
                choices = json.loads(payload).get("choices") or [{}]
                piece = (choices[0].get("delta") or {}).get("content")
                if piece:
                    yield piece

    def complete(self, messages: Messages, max_tokens: int, temperature: float, seed: int) -> str:
        with self._request("/chat/completions", self._body(messages, max_tokens, temperature, seed, False)) as response:
            reply = json.load(response)
        return reply["choices"][0]["message"].get("content") or ""


@lru_cache(maxsize=2)
def load_generator(kind: str, target: str, context_tokens: int = DEFAULT_CONTEXT) -> Generator:
    """A loaded backend, kept for the life of the process so chat pays the load once."""
    if kind not in BACKENDS:
        raise StudybotError(f"unknown generation backend {kind!r}: choose from {', '.join(sorted(BACKENDS))}")
    return BACKENDS[kind](target, context_tokens)


def open_generator(home: Path | None, model: str | None = None, url: str | None = None) -> Generator:
    """The generator the options ask for: a server (--llm-url), else a GGUF (--model, config.toml, bundled)."""
    if url:
        return load_generator("openai", url)
    from studybot.answer.gguf import resolve_llm_model

    return load_generator("llama-cpp", resolve_llm_model(home, model).path)
