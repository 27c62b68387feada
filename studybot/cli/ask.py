"""`studybot ask`, `studybot chat` and `studybot models`: cited answers from the notes and a local model."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Annotated, Any, Callable, Iterator, Optional

import typer

from studybot.cli.common import HomeOption, JsonOption, app, console, print_json, progress_bar, report_warning

ModelOption = Annotated[
    Optional[str],
    typer.Option("--model", help="A GGUF file (or a file name in <home>/models/); default: config.toml, else the bundled model.",
                 show_default=False),
]
UrlOption = Annotated[
    Optional[str],
    typer.Option("--llm-url", help="Use an OpenAI-compatible server instead (llama.cpp server, Ollama, vLLM).",
                 show_default=False),
]
NoLlmOption = Annotated[bool, typer.Option("--no-llm", help="Skip the model: answer extractively from the notes.")]
MaxTokensOption = Annotated[int, typer.Option("--max-tokens", min=1, max=4096, help="Most tokens the model may write.")]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@contextmanager
def _live_draft(enabled: bool) -> Iterator[Callable[[str], None] | None]:
    """A live Markdown view of the tokens on a terminal, cleared when done (the verified answer follows)."""
    if not enabled or not sys.stdout.isatty():
        yield None
        return
    from rich.live import Live
    from rich.markdown import Markdown

    pieces: list[str] = []
    with Live(Markdown(""), console=console(), refresh_per_second=10, transient=True) as live:

        def on_token(piece: str) -> None:
            pieces.append(piece)
            live.update(Markdown("".join(pieces)))

        yield on_token


def _render_answer(answer) -> None:
    """The verified answer, its citations, the demos behind it and the timings."""
    if not sys.stdout.isatty():
        if answer.fallback_reason:
            print(f"[extractive answer: {answer.fallback_reason}]")
        print(answer.answer)
        print()
        for s in answer.citations:
            print(f"[{s.n}] {s.file}:{s.line_start}-{s.line_end}  {s.path}")
        if answer.demos:
            print("backed by: " + ", ".join(f"studybot demo {d}" for d in answer.demos))
        return
    from rich.markdown import Markdown

    out = console()
    if answer.fallback_reason:
        out.print(f"[yellow]The model's answer was not shown: {_escape(answer.fallback_reason)}. "
                  "Here is the answer taken from your notes.[/yellow]")
    out.print(Markdown(answer.answer))
    out.print()
    for s in answer.citations:
        out.print(f"[bold]\\[{s.n}][/bold] [cyan]{_escape(s.file)}:{s.line_start}-{s.line_end}[/cyan]  {_escape(s.path)}")
    if answer.demos:
        out.print("backed by: " + ", ".join(f"[green]studybot demo {d}[/green]" for d in answer.demos))
    t = answer.timings
    speed = f", {t['tokens_per_s']:.1f} tokens/s" if t.get("tokens_per_s") else ""
    out.print(f"[dim]{answer.mode} · {answer.model or 'no model'} · retrieval {t['retrieve_s']:.2f} s · "
              f"first token {t['first_token_s']:.2f} s · total {t['total_s']:.2f} s{speed}[/dim]")


def _run_demo(name: str | None, json_out: bool) -> dict[str, Any] | None:
    """Run the first demo behind an answer, drawn the way `studybot demo` draws it."""
    if name is None:
        report_warning("no demo backs this answer")
        return None
    from studybot.demos import run_demo

    result = run_demo(name)
    if not json_out:
        from studybot.cli.demo import _render_result

        _render_result(result, None)
    return result


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="An interview question, Chinese or English.")],
    model: ModelOption = None,
    llm_url: UrlOption = None,
    no_llm: NoLlmOption = False,
    max_tokens: MaxTokensOption = 320,
    temperature: Annotated[float, typer.Option(min=0.0, max=2.0, help="Sampling temperature (0: greedy).")] = 0.0,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    run_demo: Annotated[bool, typer.Option("--run-demo", help="Run the first demo that backs the answer.")] = False,
    home: HomeOption = None,
    json_out: JsonOption = False,
) -> None:
    """A concise, cited answer from your notes; a generation that fails the checks is replaced by an extractive one.

    Exit code 3 when nothing in the notes is about the question.
    """
    from studybot.answer.pipeline import ask as answer

    with _live_draft(not json_out and not no_llm) as on_token:
        result = answer(question, home, use_llm=not no_llm, model=model, llm_url=llm_url, max_tokens=max_tokens,
                        temperature=temperature, seed=seed, on_token=on_token)
    if not json_out:
        _render_answer(result)
    demo = _run_demo(result.demos[0] if result.demos else None, json_out) if run_demo else None
    if json_out:
        print_json({**result.to_dict(), **({"demo_run": demo} if run_demo else {})})


CHAT_HELP = "Ask a question; /sources shows the last answer's sources, /demo runs its demo, /quit leaves."


@app.command()
def chat(
    model: ModelOption = None,
    llm_url: UrlOption = None,
    no_llm: NoLlmOption = False,
    max_tokens: MaxTokensOption = 320,
    home: HomeOption = None,
    json_out: JsonOption = False,
) -> None:
    """An interactive session: models stay loaded, follow-ups build on the last question, history is kept.

    Reads questions from stdin; with --json, prints the whole session as one JSON document at the end.
    """
    from studybot.answer.chat import open_session
    from studybot.errors import StudybotError

    session = open_session(home, use_llm=not no_llm, model=model, llm_url=llm_url, max_tokens=max_tokens)
    interactive = sys.stdin.isatty() and not json_out
    out = console()
    turns: list[dict] = []
    if not json_out:
        out.print(f"[dim]{_escape(CHAT_HELP)} Model: {_escape(session.generator.name if session.generator else 'none')}.[/dim]")
    while True:
        try:
            line = input("you> " if interactive else "").strip()
        except EOFError:
            break
        if not line:
            continue
        if line in ("/quit", "/exit", "/q"):
            break
        if line == "/help":
            out.print(CHAT_HELP)
        elif line == "/sources":
            _render_sources(session.last, json_out, turns)
        elif line == "/demo":
            name = session.last.demos[0] if session.last and session.last.demos else None
            demo = _run_demo(name, json_out)
            if json_out and demo:
                turns.append({"command": "/demo", "demo_run": demo})
        elif line.startswith("/"):
            report_warning(f"unknown command {line}: {CHAT_HELP}")
        else:
            try:
                with _live_draft(not json_out and session.generator is not None) as on_token:
                    answer = session.ask(line, on_token=on_token)
            except StudybotError as exc:
                if json_out:
                    turns.append({"question": line, "error": str(exc)})
                else:
                    out.print(f"[yellow]{_escape(str(exc))}[/yellow]")
                continue
            if json_out:
                turns.append({**answer.to_dict(), "resolved_question": answer.resolved_question})
            else:
                _render_answer(answer)
    if json_out:
        print_json({"turns": turns, "history": str(session.history_path)})


def _render_sources(answer, json_out: bool, turns: list[dict]) -> None:
    if answer is None:
        report_warning("ask a question first")
        return
    if json_out:
        turns.append({"command": "/sources", "sources": [{**s.citation(), "text": s.text} for s in answer.citations]})
        return
    out = console()
    for s in answer.citations:
        body = s.text if len(s.text) <= 500 else s.text[:500] + " …"
        out.print(f"[bold]\\[{s.n}][/bold] [cyan]{_escape(s.file)}:{s.line_start}-{s.line_end}[/cyan]  {_escape(s.path)}")
        out.print(f"[dim]{_escape(body)}[/dim]")


models_app = typer.Typer(help="The GGUF language models studybot can use.", no_args_is_help=True)
app.add_typer(models_app, name="models")


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n < 2**30 else f"{n / 2**30:.1f} GiB"


@models_app.command("list")
def models_list(home: HomeOption = None, json_out: JsonOption = False) -> None:
    """Models found: bundled, named in <home>/config.toml, and in <home>/models/ (size and quantization from the GGUF)."""
    from studybot.answer.gguf import list_models

    models = list_models(home)
    if json_out:
        print_json({"models": [m.to_dict() for m in models]})
        return
    from rich.table import Table

    table = Table(title="studybot models")
    for column in ("name", "source", "size", "quantization", "architecture", "context", "path"):
        table.add_column(column, overflow="fold")
    for m in models:
        table.add_row(m.name, m.source, _size(m.size_bytes), m.quantization, m.architecture,
                      str(m.context_length or "?"), m.path)
    console().print(table)


@models_app.command("pull")
def models_pull(
    repo: Annotated[str, typer.Argument(help="Model repository, e.g. Qwen/Qwen2.5-1.5B-Instruct-GGUF.")],
    file: Annotated[str, typer.Argument(help="GGUF file in it, e.g. qwen2.5-1.5b-instruct-q4_k_m.gguf.")],
    home: HomeOption = None,
    json_out: JsonOption = False,
) -> None:
    """Download a GGUF from the Hugging Face hub into <home>/models/ (a partial download resumes)."""
    from studybot.answer.gguf import pull_model

    with progress_bar(not json_out) as progress:
        info = pull_model(home, repo, file, progress=progress)
    if json_out:
        print_json(info.to_dict())
        return
    console().print(f"{_escape(info.name)}: {_size(info.size_bytes)}, {info.quantization}, saved to {_escape(info.path)}\n"
                    f"use it with --model {_escape(info.name)}, or set it as the default in config.toml:"
                    f" \\[llm] model = \"{_escape(info.name)}\"")
