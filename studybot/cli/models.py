"""`studybot models`: the GGUF language models studybot can find, and downloading one."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from studybot.cli.common import (HomeOption, JsonOption, LlmModelOption, UrlOption, app, console, print_json,
                                 progress_bar)
from studybot.cli.render import escape


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
    console().print(f"{escape(info.name)}: {_size(info.size_bytes)}, {info.quantization}, saved to {escape(info.path)}\n"
                    f"use it with --model {escape(info.name)}, or set it as the default in config.toml:"
                    f" \\[llm] model = \"{escape(info.name)}\"")


@models_app.command("check")
def models_check(
    model: Annotated[Optional[str], typer.Argument(help="A GGUF file or a name in <home>/models/ (default: config.toml, else bundled).",
                                                   show_default=False)] = None,
    llm_url: UrlOption = None,
    llm_model: LlmModelOption = None,
    home: HomeOption = None,
    json_out: JsonOption = False,
) -> None:
    """Measure whether a model is worth waiting for: answer the bundled check questions with it and store
    the share of answers that pass verification. `ask` uses a model by default only at 60% or more."""
    from dataclasses import asdict

    from studybot.answer.backends import generator_target
    from studybot.answer.checks import USEFUL_PASS_RATE
    from studybot.evaluation.answers import check_model
    from studybot.home import resolve_home

    home = resolve_home(home, create=True)
    target = generator_target(home, model, llm_url, llm_model)
    with progress_bar(not json_out) as progress:
        check = check_model(home, target, progress=progress)
    if json_out:
        print_json({**asdict(check), "useful": check.useful, "useful_pass_rate": USEFUL_PASS_RATE})
        return
    verdict = ("`studybot ask` will use it by default" if check.useful else
               f"below {USEFUL_PASS_RATE:.0%}: `studybot ask` answers from your notes without it (--llm forces it)")
    console().print(f"{escape(check.name)}: {round(check.pass_rate * check.n)}/{check.n} answers passed verification "
                    f"({check.pass_rate:.0%}), key-point coverage {check.coverage:.2f}, "
                    f"{check.seconds_per_answer:.1f} s an answer\n{verdict}")
