"""`studybot ask`: a cited interview answer from the notes."""

from __future__ import annotations

from typing import Annotated

import typer

from studybot.cli.common import (HomeOption, JsonOption, LlmModelOption, LlmOption, MaxTokensOption, ModelOption,
                                 UrlOption, app, print_json)
from studybot.cli.render import live_draft, measured_json, render_answer, run_and_render


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="An interview question, Chinese or English.")],
    model: ModelOption = None,
    llm_url: UrlOption = None,
    llm_model: LlmModelOption = None,
    llm: LlmOption = None,
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
    from studybot.answer.pipeline import NothingFound, ask as answer, plan_model
    from studybot.home import resolve_home

    plan = plan_model(resolve_home(home), llm, model, llm_url, llm_model)
    try:
        with live_draft(not json_out and plan.target is not None) as on_token:
            result = answer(question, home, plan=plan, max_tokens=max_tokens, temperature=temperature, seed=seed,
                            on_token=on_token)
    except NothingFound as exc:  # --json still prints one document (then the one line on stderr, exit code 3)
        if json_out:
            print_json({"question": question, "answer": None, "message": str(exc), "unwritten": exc.unwritten})
        raise
    if not json_out:
        render_answer(result)
    demo = run_and_render(result.demos[0] if result.demos else None, json_out) if run_demo else None
    if json_out:
        print_json({**result.to_dict(), "measured": measured_json(result.demos),
                    **({"demo_run": demo} if run_demo else {})})
