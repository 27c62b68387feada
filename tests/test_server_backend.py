"""The `--llm-url` backend over real HTTP: every way a server fails is one line, and the answer falls back.

A local fake server (tests/http_fakes.py) misbehaves in each way a real one can; llama-cpp-python's
own server checks the API key and the model name for real (slow).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from studybot.answer.backends import GenerationError, OpenAICompatible, _retry_delay, load_generator, open_generator
from studybot.answer.pipeline import answer_question
from studybot.errors import StudybotError
from studybot.index.search import Index
from tests.conftest import free_port, llama_server, run_cli
from tests.http_fakes import KEY, MODELS, FakeModelServer

QUESTION = "Why clip gradients?"
SENTENCE = ("Gradient clipping rescales the gradient when its norm exceeds a threshold, which stops exploding "
            "gradients in RNNs.")
MESSAGES = [{"role": "system", "content": "Answer from the sources."},
            {"role": "user", "content": f"Sources:\n\n[1] Notes > Why clip gradients?\n{SENTENCE}\n\nQuestion: {QUESTION}"}]


@pytest.fixture
def server():
    with FakeModelServer() as fake:
        yield fake


@pytest.fixture(autouse=True)
def no_api_key(monkeypatch):
    """No key from the environment unless a test sets one (and no generator kept from another test)."""
    for name in ("STUDYBOT_LLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    load_generator.cache_clear()


def _failure(generator: OpenAICompatible, streaming: bool = True) -> str:
    """The GenerationError's message, checked to be one line that names the server."""
    with pytest.raises(GenerationError) as info:
        if streaming:
            list(generator.stream(MESSAGES, 64, 0.0, 0))
        else:
            generator.complete(MESSAGES, 64, 0.0, 0)
    message = str(info.value)
    assert "\n" not in message and generator.url in message, message
    return message


# --- the backend, case by case ------------------------------------------------------------------

def test_a_good_server_streams_and_completes_with_the_first_model_it_lists(server: FakeModelServer) -> None:
    generator = OpenAICompatible(f"{server.url}/ok/")
    assert server.requests == [] and generator.name == f"{server.url}/ok"  # building it contacts nothing
    pieces = list(generator.stream(MESSAGES, 64, 0.0, 0))
    assert len(pieces) > 3 and "".join(pieces) == f"{SENTENCE} [1]"
    assert generator.complete(MESSAGES, 64, 0.0, 0) == f"{SENTENCE} [1]"
    assert generator.name == f"{MODELS[0]} @ {server.url}/ok"
    assert [(r.method, r.endpoint) for r in server.requests] == [
        ("GET", "/v1/models"), ("POST", "/v1/chat/completions"), ("POST", "/v1/chat/completions")]  # listed once
    assert [r.body["model"] for r in server.chat_requests("ok")] == [MODELS[0]] * 2
    assert "Authorization" not in server.requests[0].headers  # no key set, none sent


def test_a_named_model_is_checked_against_the_servers_list(server: FakeModelServer) -> None:
    assert "".join(OpenAICompatible(f"{server.url}/ok", model=MODELS[1]).stream(MESSAGES, 64, 0.0, 0))
    assert server.chat_requests("ok")[-1].body["model"] == MODELS[1]
    message = _failure(OpenAICompatible(f"{server.url}/ok", model="nope"))
    assert message == f"the model server at {server.url}/ok does not serve model 'nope': it serves fake-model, other-model"
    assert len(server.chat_requests("ok")) == 1  # it never asked for the unknown model


@pytest.mark.parametrize("scenario, streaming, needle", [
    ("website", True, "answered HTML, not the OpenAI API: is the URL right?"),
    ("html", True, "answered HTML, not the OpenAI API: is the URL right?"),
    ("html", False, "answered HTML, not the OpenAI API: is the URL right?"),
    ("garbage", True, "answered neither JSON nor an event stream: '"),
    ("garbage", False, "answered something that is not JSON: '"),
    ("nochoices", True, 'answered JSON without choices: {"object": "chat.completion"'),
    ("nochoices", False, 'answered JSON without choices: {"object": "chat.completion"'),
    ("badevent", True, "sent an event that is not JSON: 'data: {\"choices\""),
    ("error", True, "reported an error: CUDA out of memory"),
    ("overloaded", True, "was still busy (HTTP 503) after 3 retries: try again later"),
])
def test_each_bad_answer_is_one_line_that_says_what_the_server_did(server: FakeModelServer, scenario: str,
                                                                   streaming: bool, needle: str) -> None:
    waits: list[float] = []
    message = _failure(OpenAICompatible(f"{server.url}/{scenario}", sleep=waits.append), streaming)
    assert message.startswith(f"the model server at {server.url}/{scenario} ") and needle in message, message
    assert len(message) < 300
    if scenario == "overloaded":  # 1 + 3 tries, waiting 1, 2, 4 s in between
        assert waits == [1.0, 2.0, 4.0] and len(server.chat_requests(scenario)) == 4


def test_a_stream_cut_mid_answer_is_an_error_after_the_pieces_it_sent(server: FakeModelServer) -> None:
    pieces: list[str] = []
    with pytest.raises(GenerationError, match="closed the event stream mid-answer") as info:
        for piece in OpenAICompatible(f"{server.url}/broken").stream(MESSAGES, 64, 0.0, 0):
            pieces.append(piece)
    assert pieces == ["Gradient clipping"] and f"{server.url}/broken" in str(info.value)


def test_a_busy_server_is_retried_after_its_retry_after(server: FakeModelServer) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    started = time.monotonic()
    text = "".join(OpenAICompatible(f"{server.url}/busy", sleep=sleep).stream(MESSAGES, 64, 0.0, 0))
    assert text == f"{SENTENCE} [1]" and waits == [1.0] and time.monotonic() - started >= 0.95
    assert len(server.chat_requests("busy")) == 2


def test_retry_waits_follow_retry_after_but_are_capped() -> None:
    assert [_retry_delay(None, attempt) for attempt in range(5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert (_retry_delay("1", 2), _retry_delay("120", 0), _retry_delay("-3", 0)) == (1.0, 10.0, 0.0)
    assert _retry_delay("Wed, 21 Oct 2015 07:28:00 GMT", 1) == 2.0  # the date form: our own backoff


def test_a_server_that_never_answers_times_out_by_the_read_timeout(server: FakeModelServer) -> None:
    started = time.monotonic()
    message = _failure(OpenAICompatible(f"{server.url}/hang", read_timeout=1.0))
    assert time.monotonic() - started < 3
    assert message.startswith(f"the model server at {server.url}/hang did not answer within 1 s"), message


def test_nothing_listening_is_cannot_reach() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    message = _failure(OpenAICompatible(url))
    assert message.startswith(f"cannot reach the model server at {url} (") and message.endswith("is it running?")


def test_the_api_key_comes_from_the_environment_and_never_shows(server: FakeModelServer, monkeypatch) -> None:
    url = f"{server.url}/auth"
    assert "wants an API key (HTTP 401): set STUDYBOT_LLM_API_KEY" in _failure(OpenAICompatible(url))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # the fallback variable
    assert "".join(OpenAICompatible(url).stream(MESSAGES, 64, 0.0, 0)) == f"{SENTENCE} [1]"
    assert server.chat_requests("auth")[-1].headers["Authorization"] == f"Bearer {KEY}"

    monkeypatch.setenv("STUDYBOT_LLM_API_KEY", "sk-wrong-77aa")  # wins over OPENAI_API_KEY
    wrong = OpenAICompatible(url)
    message = _failure(wrong)
    assert "rejected the API key (HTTP 401): set STUDYBOT_LLM_API_KEY" in message
    assert "sk-wrong-77aa" not in message + wrong.name + repr(wrong) and KEY not in message
    echoed = _failure(OpenAICompatible(f"{server.url}/echo"))  # a server that repeats the header in its error
    assert "answered HTTP 500 to POST /echo/v1/chat/completions: internal error while serving Bearer ***" in echoed
    assert "sk-wrong-77aa" not in echoed


def test_only_a_malformed_url_fails_at_once() -> None:
    for bad in ("localhost:8080", "ftp://example.com", "http://", "http://host:99999"):
        with pytest.raises(StudybotError, match="is not an http\\(s\\) URL") as info:
            OpenAICompatible(bad)
        assert not isinstance(info.value, GenerationError)
    OpenAICompatible(f"http://127.0.0.1:{free_port()}")  # nobody there, and that is only found out on first use


# --- where the URL, model and timeout come from ----------------------------------------------------

def _config(home: Path, text: str) -> Path:
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text(f"[llm]\n{text}\n", encoding="utf-8")
    return home


def test_options_beat_config_toml_which_beats_the_defaults(tmp_path: Path) -> None:
    home = _config(tmp_path / "home", 'url = "http://10.0.0.5:8000"\nserver_model = "qwen"\nread_timeout = 5')
    configured = open_generator(home)
    assert (configured.url, configured.name, configured.read_timeout) == ("http://10.0.0.5:8000", "qwen @ http://10.0.0.5:8000", 5.0)
    flagged = open_generator(home, url="http://127.0.0.1:9", llm_model="smol")
    assert (flagged.name, flagged.read_timeout) == ("smol @ http://127.0.0.1:9", 5.0)
    with pytest.raises(StudybotError, match="model file not found"):  # --model beats the config's url
        open_generator(home, model=str(tmp_path / "gone.gguf"))
    plain = open_generator(tmp_path, url="http://127.0.0.1:9")  # no config.toml
    assert (plain.name, plain.read_timeout) == ("http://127.0.0.1:9", 60.0)
    with pytest.raises(StudybotError, match="--llm-model names a model on a server: give --llm-url too"):
        open_generator(tmp_path, llm_model="smol")
    with pytest.raises(StudybotError, match=r"\[llm\] read_timeout must be a positive number of seconds, not 'soon'"):
        open_generator(_config(tmp_path / "bad", 'url = "http://h:1"\nread_timeout = "soon"'))


def test_a_wrong_server_setting_in_config_toml_is_named_by_a_plain_ask(tmp_path: Path, tiny_home: Path) -> None:
    """`[llm] url = 42` or `server_model = 3` was taken as it was and failed only when the server was used; a plain
    `ask` (which does not use an unchecked server) answered without a word on it."""
    from studybot.answer.backends import generator_target

    with pytest.raises(StudybotError, match=r"\[llm\] url must be an http\(s\) URL .*, not 42"):
        generator_target(_config(tmp_path / "number", "url = 42"))
    with pytest.raises(StudybotError, match=r"\[llm\] server_model must be a model's name in quotes, not 3"):
        generator_target(_config(tmp_path / "name", 'url = "http://h:1"\nserver_model = 3'))
    home = tmp_path / "home"
    shutil.copytree(tiny_home, home)
    (home / "config.toml").write_text('[llm]\nurl = "localhost:8080"\n', encoding="utf-8")
    asked = run_cli("ask", "BatchNorm 和 LayerNorm 有什么区别？", home=home)
    assert asked.returncode == 0 and asked.stdout.strip(), asked.stderr
    assert "[llm] url must be an http(s) URL" in asked.stderr and "not 'localhost:8080'" in asked.stderr
    assert "Traceback" not in asked.stderr


# --- the answer falls back ------------------------------------------------------------------------

def test_a_failing_server_gives_the_extractive_answer_with_the_reason(server: FakeModelServer, tiny_home: Path) -> None:
    index = Index(tiny_home)
    generator = OpenAICompatible(f"{server.url}/broken")
    seen: list[str] = []
    result = answer_question(QUESTION, index, generator, on_token=seen.append)
    assert seen == ["Gradient clipping"]  # drawn live before the cut; the extractive answer replaces it
    assert result.mode == "extractive" and result.answer == answer_question(QUESTION, index).answer
    assert result.fallback_reason.startswith(f"the model server at {server.url}/broken closed the event stream")
    assert result.timings["first_token_s"] is not None and result.timings["tokens_per_s"] is None
    assert result.timings["total_s"] >= result.timings["first_token_s"]


def _ask(home: Path, *args: str) -> dict:
    result = run_cli("ask", QUESTION, *args, "--json", home=home)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("scenario, needle", [
    ("website", "answered HTML, not the OpenAI API"),
    ("garbage", "answered neither JSON nor an event stream"),
    ("broken", "closed the event stream mid-answer"),
])
def test_ask_falls_back_when_the_server_fails(server: FakeModelServer, tiny_home: Path, scenario: str,
                                              needle: str) -> None:
    url = f"{server.url}/{scenario}"
    doc = _ask(tiny_home, "--llm-url", url)
    assert doc["mode"] == "extractive" and SENTENCE in doc["answer"] and doc["citations"]
    assert doc["fallback_reason"].startswith(f"the model server at {url} ") and needle in doc["fallback_reason"]


def test_ask_shows_the_servers_failure_above_the_extractive_answer(server: FakeModelServer, tiny_home: Path) -> None:
    url = f"{server.url}/badevent"
    result = run_cli("ask", QUESTION, "--llm-url", url, home=tiny_home)  # text output, not a terminal
    assert result.returncode == 0 and "Traceback" not in result.stdout + result.stderr, result.stderr
    first, *rest = result.stdout.splitlines()
    assert first.startswith(f"[extractive answer: the model server at {url} sent an event that is not JSON: ")
    assert SENTENCE in rest[0] and result.stderr == ""


def test_ask_reads_the_server_and_its_timeout_from_config_toml(server: FakeModelServer, tiny_home: Path,
                                                              tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(tiny_home, home)
    _config(home, f'url = "{server.url}/hang"\nread_timeout = 1')
    started = time.monotonic()
    doc = _ask(home, "--llm")  # a configured server is a default: without a passed check only --llm runs it
    assert time.monotonic() - started < 30
    assert doc["mode"] == "extractive" and SENTENCE in doc["answer"]
    assert doc["fallback_reason"].startswith(f"the model server at {server.url}/hang did not answer within 1 s")


def test_ask_and_chat_with_a_good_server_give_its_answer(server: FakeModelServer, tiny_home: Path) -> None:
    doc = _ask(tiny_home, "--llm-url", f"{server.url}/busy", "--llm-model", MODELS[1])
    assert (doc["mode"], doc["fallback_reason"], doc["answer"]) == ("llm", None, f"{SENTENCE} [1]")
    assert doc["model"] == f"{MODELS[1]} @ {server.url}/busy" and len(server.chat_requests("busy")) == 2
    chat = run_cli("chat", "--llm-url", f"{server.url}/ok", "--llm-model", MODELS[1], "--json", home=tiny_home,
                   input=f"{QUESTION}\n")
    assert chat.returncode == 0, chat.stderr
    (turn,) = json.loads(chat.stdout)["turns"]
    assert (turn["mode"], turn["model"]) == ("llm", f"{MODELS[1]} @ {server.url}/ok")


# --- llama-cpp-python's own server, with an API key and a model alias ------------------------------

@pytest.fixture(scope="module")
def secured_server():
    with llama_server("--api_key", "sekrit", "--model_alias", "smol") as url:
        yield url


@pytest.mark.slow
def test_llama_cpp_server_with_its_key_and_model_name(secured_server: str, tiny_home: Path) -> None:
    run = {"env": {"STUDYBOT_LLM_API_KEY": "sekrit"}}
    result = run_cli("ask", QUESTION, "--llm-url", secured_server, "--llm-model", "smol", "--json", "--max-tokens", "64",
                     home=tiny_home, **run)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    doc = json.loads(result.stdout)
    assert doc["model"] == f"smol @ {secured_server}" and doc["citations"]
    assert doc["mode"] == "llm" or "model server" not in doc["fallback_reason"], doc["fallback_reason"]
    assert doc["timings"]["tokens_per_s"] > 0  # it generated: the fallback, if any, is the checks' verdict

    unknown = json.loads(run_cli("ask", QUESTION, "--llm-url", secured_server, "--llm-model", "nope", "--json",
                                 home=tiny_home, **run).stdout)
    # llama.cpp's server answers any model name with its one model; the backend checks /v1/models itself
    assert unknown["fallback_reason"] == f"the model server at {secured_server} does not serve model 'nope': it serves smol"

    wrong = run_cli("ask", QUESTION, "--llm-url", secured_server, "--json", home=tiny_home,
                    env={"STUDYBOT_LLM_API_KEY": "not-sekrit"})
    reason = json.loads(wrong.stdout)["fallback_reason"]
    assert reason.startswith(f"the model server at {secured_server} rejected the API key (HTTP 401)")
    assert "not-sekrit" not in wrong.stdout + wrong.stderr
