"""Shared pieces of the CLI: the Typer app, common options, JSON and progress rendering."""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, Optional

import typer

from studybot import __version__
from studybot.progress import ProgressFn


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"studybot {__version__}")
        raise typer.Exit()


app = typer.Typer(
    help="An interview coach over your own deep-learning notes: index, search, ask, quiz, demo.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich would cost --help about 0.15 s of imports and drawing
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """studybot: index your notes, search them, and practise for ML interviews."""


HomeOption = Annotated[
    Optional[Path],
    typer.Option(
        "--home",
        envvar="STUDYBOT_HOME",
        help="Data directory (default: $STUDYBOT_HOME, else the platform's user data dir).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]


def print_json(obj: Any) -> None:
    """Write one JSON document to stdout, keeping Chinese readable; a number that is not finite (a demo's
    interval over an underflowed metric) is null, since NaN and Infinity are not JSON."""
    sys.stdout.write(json.dumps(_finite(obj), ensure_ascii=False, indent=2, allow_nan=False) + "\n")


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: _finite(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(value) for value in obj]
    return obj


def report_error(message: str) -> None:
    """One line on stderr, never a traceback."""
    sys.stderr.write(f"studybot: error: {message}\n")


def report_warning(message: str) -> None:
    sys.stderr.write(f"studybot: warning: {message}\n")


PIPED_WIDTH = 10_000  # no terminal: nothing to fit, and a line cut or wrapped at 80 columns breaks grep and copy


def console(stderr: bool = False):
    """A rich console; imported lazily so plain commands never pay for it. Into a pipe or file, lines are written
    whole (rich would wrap and cut tables at 80 columns: `doctor | cat` lost the end of every path)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPED_WIDTH, soft_wrap=True)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressFn | None]:
    """A rich progress bar on stderr when it is a terminal (and not --json); into a pipe or a file, plain lines
    (`_PlainProgress`: `index | cat` said nothing for minutes); with --json nothing.

    Library code reports progress through a plain callback `(task, done, total)`.
    """
    if not enabled:
        yield None
        return
    if not sys.stderr.isatty():
        update = _PlainProgress(time.monotonic)
        stop = threading.Event()
        threading.Thread(target=_ticking, args=(update, stop), name="studybot-progress", daemon=True).start()
        try:
            yield update
        finally:
            stop.set()
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    tasks: dict[str, int] = {}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("ETA"), TimeRemainingColumn(),
        console=console(stderr=True), transient=True,
    ) as bar:

        def update(task: str, done: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(task, total=total)
            bar.update(tasks[task], completed=done, total=total)

        yield update


SAY_AFTER = 1.0  # seconds a stage goes on before a plain line names it
PLAIN_EVERY = 10.0  # seconds between two plain progress lines of one stage
TICK = 0.25  # how often the plain lines' thread looks whether one is due


class _PlainProgress:
    """Progress as plain lines on stderr: a stage still going on SAY_AFTER seconds after it started says how far it
    is ("embedding 1200/6489, about 0:05:10 left"), then every PLAIN_EVERY seconds; a stage over sooner says nothing.
    A piped index said nothing for its first 14-24 s (a stage spoke only after 10 s, and only once the run had gone
    on for 10 s).

    `tick` says what is due for the stage reported last: each report calls it, and so does a thread while the
    library works between two reports (loading a model, seconds with none). The time left is the stage's, at its own
    rate since its first report (a stage that says `done` 0 first starts then).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._started: dict[str, tuple[float, int]] = {}  # stage -> (when it started, done then)
        self._current: tuple[str, int, int] | None = None  # the stage reported last: (task, done, total)
        self._said: tuple[str, float] | None = None  # the stage the last line named, and when

    def __call__(self, task: str, done: int, total: int) -> None:
        now = self._clock()
        with self._lock:
            self._started.setdefault(task, (now, done))
            self._current = (task, done, total)
        self.tick(now)

    def tick(self, now: float | None = None) -> None:
        with self._lock:
            now = self._clock() if now is None else now
            if self._current is None or self._current[1] >= self._current[2]:
                return
            task, done, total = self._current
            start, first = self._started[task]
            said = self._said[1] if self._said and self._said[0] == task else None
            if now - start < SAY_AFTER or (said is not None and now - said < PLAIN_EVERY):
                return
            self._said = (task, now)
            line = f"{task} {done}/{total}"
            if done > first:
                left = int((now - start) * (total - done) / (done - first))
                line += f", about {left // 3600}:{left // 60 % 60:02d}:{left % 60:02d} left"
            print(line, file=sys.stderr, flush=True)


def _ticking(update: _PlainProgress, stop: threading.Event) -> None:
    while not stop.wait(TICK):
        update.tick()


# --- the model options shared by ask and chat -------------------------------------------------

ModelOption = Annotated[
    Optional[str],
    typer.Option("--model", help="A GGUF file (or a file name in <home>/models/); default: config.toml [llm] model, else "
                 "the bundled model. It beats a config.toml [llm] url, not --llm-url.", show_default=False),
]
UrlOption = Annotated[
    Optional[str],
    typer.Option("--llm-url", help="Use an OpenAI-compatible server instead (llama.cpp server, Ollama, vLLM, hosted "
                 "APIs); default: config.toml [llm] url. API key: $STUDYBOT_LLM_API_KEY, else $OPENAI_API_KEY. "
                 "If the server fails, the answer is the extractive one.", show_default=False),
]
LlmModelOption = Annotated[
    Optional[str],
    typer.Option("--llm-model", help="The model name the server serves; default: config.toml [llm] server_model, "
                 "else the first model of the server's /v1/models.", show_default=False),
]
LlmOption = Annotated[
    Optional[bool],
    typer.Option("--llm/--no-llm", help="--llm: use the model even if `studybot models check` found it weak or never "
                 "ran; --no-llm: answer from the notes only. Default: a model named by --model/--llm-url, else the "
                 "default model when its check passed.", show_default=False),
]
MaxTokensOption = Annotated[int, typer.Option("--max-tokens", min=1, max=4096, help="Most tokens the model may write.")]
