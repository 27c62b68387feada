"""Text generation backends, in a registry: llama.cpp in-process, or any OpenAI-compatible server.

Both stream: `stream(messages, ...)` yields pieces of text as the model produces them, so the
CLI can draw them live and the pipeline can time the first token. `complete` is the same call
without streaming (at temperature 0 both give the same text; a test holds them to it).
"""

from __future__ import annotations

import json
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator, Protocol
from urllib.parse import urlsplit

from studybot.errors import StudybotError
from studybot.llamacpp import load_llama

DEFAULT_CONTEXT = 4096
Messages = list[dict[str, str]]

# The server backend: a dead host fails in seconds, a live one may think for a while per piece.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0  # seconds between two pieces of the reply; config.toml [llm] read_timeout
RETRY_STATUSES = (429, 503)  # busy, or still loading its model
RETRIES = 3
BACKOFF_S = 1.0  # 1, 2, 4 s, unless the server says otherwise in Retry-After ...
MAX_BACKOFF_S = 10.0  # ... but never longer than this per wait
API_KEY_VARIABLES = ("STUDYBOT_LLM_API_KEY", "OPENAI_API_KEY")
SNIPPET_CHARS = 120
MODELS_SHOWN = 8


class GenerationError(StudybotError):
    """The generator failed; the answer falls back to the extractive one (the message is its reason)."""


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
    """A GGUF model run by llama.cpp inside this process, on the CPU cores free when it loads."""

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
    """A server speaking the OpenAI chat API (llama.cpp's server, Ollama, vLLM, hosted APIs), over httpx.

    Building one contacts nothing, so a server that is down or misconfigured never stops studybot
    from starting: the first question finds out, and every failure is a one-line GenerationError
    (the answer then falls back to the extractive one).
    """

    def __init__(
        self, target: str, context_tokens: int = DEFAULT_CONTEXT, model: str | None = None,
        read_timeout: float = READ_TIMEOUT, sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = _server_url(target)
        self.base = self.url if self.url.endswith("/v1") else f"{self.url}/v1"
        self.context_tokens = context_tokens
        self.read_timeout = read_timeout
        self._model = model
        self._checked = False  # the model name was checked against (or taken from) GET /v1/models
        self._key = api_key()
        self._sleep = sleep
        self._client = None

    @property
    def name(self) -> str:
        """`model @ url`; just the url until the server has named its model."""
        return f"{self._model} @ {self.url}" if self._model else self.url

    def count_tokens(self, text: str) -> int:
        """An upper estimate (the API has no tokenizer endpoint): a CJK character or 3 other characters per token."""
        cjk = len(re.findall(r"[\u3400-\u9fff\uf900-\ufaff]", text))
        return cjk + (len(text) - cjk) // 3 + 1

    def stream(self, messages: Messages, max_tokens: int, temperature: float, seed: int) -> Iterator[str]:
        response = self._send("POST", "/chat/completions", self._body(messages, max_tokens, temperature, seed, True))
        try:
            if "json" in response.headers.get("content-type", ""):  # a server that answers at once, or explains
                reply = self._reply(self._read_json(response))
                if reply:
                    yield reply
                return
            yield from self._events(response)
        finally:
            response.close()

    def complete(self, messages: Messages, max_tokens: int, temperature: float, seed: int) -> str:
        response = self._send("POST", "/chat/completions", self._body(messages, max_tokens, temperature, seed, False))
        try:
            return self._reply(self._read_json(response))
        finally:
            response.close()

    # --- the model name ---------------------------------------------------------------------------

    def _served_model(self) -> str:
        """The model to ask for, checked once against GET /v1/models (llama.cpp's server would answer
        any name with its one model, so a typo would go unnoticed)."""
        if not self._checked:
            served = self._served_models()
            if self._model is None:
                if not served:
                    raise GenerationError(f"{self._where} lists no models at /v1/models (is the URL right?): name one "
                                          "with --llm-model or [llm] server_model in config.toml")
                self._model = served[0]
            elif served and self._model not in served and f"{self._model}:latest" not in served:
                more = f" and {len(served) - MODELS_SHOWN} more" if len(served) > MODELS_SHOWN else ""
                raise GenerationError(f"{self._where} does not serve model {self._model!r}: it serves "
                                      f"{', '.join(served[:MODELS_SHOWN])}{more}")
            self._checked = True
        return self._model

    def _served_models(self) -> list[str] | None:
        """The model ids the server lists, or None when it has no list (HTTP 404 or 405)."""
        response = self._send("GET", "/models", missing_ok=True)
        if response is None:
            return None
        try:
            listed = self._read_json(response).get("data")
        finally:
            response.close()
        return [m["id"] for m in listed if isinstance(m, dict) and m.get("id")] if isinstance(listed, list) else []

    def _body(self, messages: Messages, max_tokens: int, temperature: float, seed: int, stream: bool) -> dict:
        return {"model": self._served_model(), "messages": messages, "max_tokens": max_tokens,
                "temperature": temperature, "seed": seed, "stream": stream}

    # --- HTTP ---------------------------------------------------------------------------------------

    @property
    def _where(self) -> str:
        return f"the model server at {self.url}"

    def _http(self):
        import httpx

        if self._client is None:
            headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
            self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(self.read_timeout, connect=CONNECT_TIMEOUT))
        return self._client

    @contextmanager
    def _network(self) -> Iterator[None]:
        """httpx's transport errors (refused, DNS, timeouts, cut connections) as one line naming the server."""
        import httpx

        try:
            yield
        except httpx.ConnectTimeout:
            raise GenerationError(f"{self._where} did not answer within {CONNECT_TIMEOUT:g} s: is it reachable?") from None
        except httpx.TimeoutException:
            raise GenerationError(f"{self._where} did not answer within {self.read_timeout:g} s: it may be overloaded "
                                  "(raise [llm] read_timeout in config.toml for a slow one)") from None
        except httpx.ConnectError as exc:
            raise GenerationError(f"cannot reach the model server at {self.url} ({_reason(exc)}): is it running?") from None
        except httpx.HTTPError as exc:
            raise GenerationError(f"the connection to the model server at {self.url} broke ({_reason(exc)})") from None

    def _send(self, method: str, path: str, body: dict | None = None, missing_ok: bool = False):
        """The open (streaming) response to one request, after waiting out a busy server; None for a missing
        endpoint when `missing_ok`; any other error status raises."""
        client = self._http()
        for attempt in range(RETRIES + 1):
            with self._network():
                response = client.send(client.build_request(method, self.base + path, json=body), stream=True)
            if response.status_code not in RETRY_STATUSES or attempt == RETRIES:
                break
            response.close()
            self._sleep(_retry_delay(response.headers.get("retry-after"), attempt))
        if not response.is_error:
            return response
        try:
            with self._network():
                text = response.read().decode("utf-8", errors="replace")
        finally:
            response.close()
        html = _is_html(response, text)
        if missing_ok and response.status_code in (404, 405) and not html:
            return None
        raise self._status_error(response.status_code, f"{method} {response.request.url.path}", html, text)

    def _status_error(self, status: int, request: str, html: bool, text: str) -> GenerationError:
        """What an error status means for the user, in one line."""
        if status in (401, 403):
            if self._key:
                return GenerationError(f"{self._where} rejected the API key (HTTP {status}): set STUDYBOT_LLM_API_KEY "
                                       "to the key it expects")
            return GenerationError(f"{self._where} wants an API key (HTTP {status}): set STUDYBOT_LLM_API_KEY "
                                   "(or OPENAI_API_KEY)")
        if status in RETRY_STATUSES:
            return GenerationError(f"{self._where} was still busy (HTTP {status}) after {RETRIES} retries: try again later")
        if html:
            return self._html(f" (HTTP {status})")
        hint = " (is the URL right?)" if status == 404 else ""
        return GenerationError(f"{self._where} answered HTTP {status} to {request}{hint}: {self._snippet(text)}")

    # --- reading replies ----------------------------------------------------------------------------

    def _read_json(self, response) -> dict:
        with self._network():
            text = response.read().decode("utf-8", errors="replace")
        if _is_html(response, text):
            raise self._html()
        doc = _json_object(text)
        if doc is None:
            raise GenerationError(f"{self._where} answered something that is not JSON: {self._snippet(text)!r}")
        return doc

    def _reply(self, doc: dict) -> str:
        choice = self._choice(doc)
        if choice is None:
            raise GenerationError(f"{self._where} answered JSON without choices: {self._snippet(json.dumps(doc))}")
        return (choice.get("message") or {}).get("content") or ""

    def _choice(self, doc: dict) -> dict | None:
        """The first choice of a reply or event; an error the server reports inside it raises."""
        if doc.get("error"):
            error = doc["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise GenerationError(f"{self._where} reported an error: {self._snippet(str(message))}")
        choices = doc.get("choices")
        return choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None

    def _events(self, response) -> Iterator[str]:
        """The pieces of a server-sent event stream: `data: {...}` lines, ending with `data: [DONE]`."""
        finished = False  # a finish_reason was sent: the answer is whole even if [DONE] is missing
        with self._network():
            for line in response.iter_lines():
                if not line or line.startswith(":"):
                    continue
                field, _, value = line.partition(":")
                if field in ("event", "id", "retry"):
                    continue
                if field != "data":
                    if line.lstrip().startswith("<"):
                        raise self._html()
                    raise GenerationError(f"{self._where} answered neither JSON nor an event stream: "
                                          f"{self._snippet(line)!r}")
                if value.strip() == "[DONE]":
                    return
                event = _json_object(value)
                if event is None:
                    raise GenerationError(f"{self._where} sent an event that is not JSON: {self._snippet(line)!r}")
                choice = self._choice(event) or {}
                finished = finished or bool(choice.get("finish_reason"))
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    yield piece
        if not finished:
            raise GenerationError(f"{self._where} closed the event stream mid-answer (no finish_reason, "
                                  "no data: [DONE])")

    def _html(self, status: str = "") -> GenerationError:
        """A web page where the API should be: most often a wrong URL or port."""
        return GenerationError(f"{self._where} answered HTML{status}, not the OpenAI API: is the URL right?")

    def _snippet(self, text: str) -> str:
        """The first characters of what the server said, on one line, never with the API key in it."""
        if self._key:
            text = text.replace(self._key, "***")
        printable = "".join(c if c.isprintable() else " " for c in text)
        return " ".join(printable.split())[:SNIPPET_CHARS]


def api_key() -> str | None:
    """The server's API key: $STUDYBOT_LLM_API_KEY, else $OPENAI_API_KEY (never shown anywhere)."""
    return next((os.environ[name].strip() for name in API_KEY_VARIABLES if os.environ.get(name, "").strip()), None)


def is_server_url(url: str) -> bool:
    """Whether `url` is http(s)://host[:port]."""
    try:
        parts = urlsplit(url.strip().rstrip("/"))
        return parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:  # a bad port or bracketed host
        return False


def _server_url(target: str) -> str:
    """The URL without a trailing slash; anything but http(s)://host is an error now, not at the first question."""
    url = target.strip().rstrip("/")
    if not is_server_url(url):
        raise StudybotError(f"the model server URL {target!r} is not an http(s) URL such as http://127.0.0.1:8080: "
                            "fix --llm-url or [llm] url in config.toml")
    return url


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _retry_delay(retry_after: str | None, attempt: int) -> float:
    """Seconds before retry `attempt` (0-based): the server's Retry-After (seconds form), else 1, 2, 4; at most 10."""
    try:
        wanted = float(retry_after) if retry_after else BACKOFF_S * 2 ** attempt
    except ValueError:  # the HTTP-date form
        wanted = BACKOFF_S * 2 ** attempt
    return min(max(wanted, 0.0), MAX_BACKOFF_S)


def _json_object(text: str) -> dict | None:
    """The JSON object `text` holds, or None (not JSON, or JSON of another shape)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _is_html(response, text: str) -> bool:
    return "html" in response.headers.get("content-type", "") or text.lstrip()[:1] == "<"


@lru_cache(maxsize=2)
def load_generator(kind: str, target: str, context_tokens: int = DEFAULT_CONTEXT, **options: object) -> Generator:
    """A loaded backend, kept for the life of the process so chat pays the load once.

    `options` go to the backend (a server's model name and read timeout) and are part of the cache key.
    """
    if kind not in BACKENDS:
        raise StudybotError(f"unknown generation backend {kind!r}: choose from {', '.join(sorted(BACKENDS))}")
    return BACKENDS[kind](target, context_tokens, **options)


@dataclass(frozen=True)
class Target:
    """Which generator to open, decided before anything loads (so a model check can be looked up first)."""

    kind: str  # a BACKENDS name
    target: str  # a GGUF path or a server URL
    model: str | None = None  # the server's model name
    read_timeout: float | None = None
    explicit: bool = False  # named on the command line, not a default

    def open(self) -> Generator:
        options = {"model": self.model, "read_timeout": self.read_timeout} if self.kind == "openai" else {}
        return load_generator(self.kind, self.target, **options)


def generator_target(
    home: Path | None, model: str | None = None, url: str | None = None, llm_model: str | None = None,
) -> Target:
    """The generator the options and `<home>/config.toml` ask for.

    A server: --llm-url, else (unless --model names a GGUF) config's [llm] url; its model: --llm-model,
    else [llm] server_model, else the first the server lists. Otherwise a GGUF: --model, [llm] model, bundled.
    """
    from studybot.answer.gguf import config_section, resolve_llm_model

    config = config_section(home, "llm")  # every setting checked, one no server uses too: a plain `ask` names it
    explicit = bool(model or url)
    url = url or (None if model else config.get("url"))
    if url:
        read_timeout = float(config.get("read_timeout", READ_TIMEOUT))
        return Target("openai", _server_url(url), llm_model or config.get("server_model"), read_timeout, explicit)
    if llm_model:
        raise StudybotError("--llm-model names a model on a server: give --llm-url too (or [llm] url in config.toml)")
    return Target("llama-cpp", resolve_llm_model(home, model).path, explicit=explicit)


def open_generator(
    home: Path | None, model: str | None = None, url: str | None = None, llm_model: str | None = None,
) -> Generator:
    """The generator of `generator_target`, loaded."""
    return generator_target(home, model, url, llm_model).open()
