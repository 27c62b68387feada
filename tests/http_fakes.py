"""A real local HTTP server that plays an OpenAI-compatible model server, well or badly, on purpose.

The first segment of the path picks the behaviour, so one server serves every case: point the
backend at `server.url + "/<scenario>"` and it asks for `/<scenario>/v1/models` and
`/<scenario>/v1/chat/completions`. Every scenario lists MODELS at /v1/models except `website`.

    ok          a streamed grounded answer (the first sentence of source [1], cited [1]), or JSON
                for a request without "stream"
    website     an HTML page for every path (a URL that is not an API at all)
    html        an HTML page for the chat request (a proxy's error page, say)
    garbage     bytes that are neither JSON nor an event stream
    nochoices   a JSON object without choices
    broken      two events of a stream, then the connection closes (no finish_reason, no [DONE])
    badevent    a `data:` line that is not JSON
    error       an event that reports an error instead of a piece
    busy        429 with Retry-After: 1 for the first chat request, then `ok`
    overloaded  503 for every chat request
    hang        reads the chat request and never answers
    auth        401 unless the Authorization header is `Bearer KEY`, then `ok`
    echo        HTTP 500 whose body repeats the request's Authorization header
    translate   JSON whose reply is `server.translations[the user message]` (a translator that knows
                the test's questions), "" for any other
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fake_llm import faithful_reply

MODELS = ["fake-model", "other-model"]
KEY = "sk-test-4f1c9e"  # what the `auth` scenario expects
PAGE = b"<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n"
GARBAGE = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe garbage {{{\n"


@dataclass
class Request:
    scenario: str
    method: str
    endpoint: str  # after the scenario: /v1/models or /v1/chat/completions
    headers: dict[str, str]
    body: Any


class FakeModelServer(ThreadingHTTPServer):
    """The server, in a background thread; `requests` records what it was sent, in order."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.requests: list[Request] = []
        self.translations: dict[str, str] = {}  # what the `translate` scenario answers, by user message
        self.release = threading.Event()  # lets a hanging handler go when the server stops
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "FakeModelServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)

    def chat_requests(self, scenario: str) -> list[Request]:
        return [r for r in self.requests if r.scenario == scenario and r.endpoint.endswith("/chat/completions")]


class _Handler(BaseHTTPRequestHandler):
    server: FakeModelServer
    protocol_version = "HTTP/1.0"  # every response ends by closing the connection, as `broken` needs

    def log_message(self, format: str, *args) -> None:  # quiet: pytest shows failures, not access logs
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        scenario, _, rest = self.path.lstrip("/").partition("/")
        endpoint = "/" + rest
        self.server.requests.append(Request(scenario, self.command, endpoint, dict(self.headers), body))
        if scenario == "website":
            return self._send(200, PAGE, "text/html; charset=utf-8")
        if scenario == "auth" and self.headers.get("Authorization") != f"Bearer {KEY}":
            return self._json(401, {"detail": "Invalid API key"})
        if endpoint.endswith("/models"):
            return self._json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in MODELS]})
        if not endpoint.endswith("/chat/completions"):
            return self._json(404, {"detail": "Not Found"})
        getattr(self, f"_chat_{scenario}", self._chat_ok)(body)

    # --- chat completions, by scenario ----------------------------------------------------------

    def _chat_ok(self, body: dict) -> None:
        reply = faithful_reply(body["messages"])
        if not body.get("stream"):
            return self._json(200, {"object": "chat.completion", "model": body["model"], "choices": [
                {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}]})
        self._start_stream()
        self._event({"role": "assistant"})
        for piece in re.findall(r"\S+\s*", reply):
            self._event({"content": piece})
        self._event({}, finish_reason="stop")
        self.wfile.write(b"data: [DONE]\n\n")

    def _chat_translate(self, body: dict) -> None:
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        reply = self.server.translations.get(user, "")
        self._json(200, {"object": "chat.completion", "model": body["model"], "choices": [
            {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}]})

    def _chat_html(self, body: dict) -> None:
        self._send(200, PAGE, "text/html; charset=utf-8")

    def _chat_garbage(self, body: dict) -> None:
        self._send(200, GARBAGE, "application/octet-stream")

    def _chat_nochoices(self, body: dict) -> None:
        self._json(200, {"object": "chat.completion", "id": "chatcmpl-1", "usage": {"total_tokens": 0}})

    def _chat_broken(self, body: dict) -> None:
        self._start_stream()
        self._event({"role": "assistant"})
        self._event({"content": "Gradient clipping"})
        # and the connection closes: no finish_reason, no [DONE]

    def _chat_badevent(self, body: dict) -> None:
        self._start_stream()
        self._event({"content": "Gradient"})
        self.wfile.write(b"data: {\"choices\": [{\"delta\": {\"content\": \n\n")

    def _chat_error(self, body: dict) -> None:
        self._start_stream()
        self.wfile.write(b'data: {"error": {"message": "CUDA out of memory", "code": 500}}\n\n')

    def _chat_busy(self, body: dict) -> None:
        if len(self.server.chat_requests("busy")) == 1:
            return self._json(429, {"error": {"message": "Too many requests"}}, {"Retry-After": "1"})
        self._chat_ok(body)

    def _chat_overloaded(self, body: dict) -> None:
        self._json(503, {"error": {"message": "Loading model"}})

    def _chat_hang(self, body: dict) -> None:
        self.server.release.wait(timeout=60)

    def _chat_echo(self, body: dict) -> None:
        self._send(500, f"internal error while serving {self.headers.get('Authorization')}".encode(), "text/plain")

    # --- writing ----------------------------------------------------------------------------------

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, doc: dict, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(doc).encode(), "application/json", headers)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()

    def _event(self, delta: dict, finish_reason: str | None = None) -> None:
        chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.flush()
