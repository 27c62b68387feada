"""`studybot chat`: many questions over one loaded index and model, follow-ups included."""

from __future__ import annotations

import sys

from studybot.cli.common import (HomeOption, JsonOption, LlmModelOption, LlmOption, MaxTokensOption, ModelOption,
                                 UrlOption, app, console, print_json, report_warning)
from studybot.cli.render import escape, live_draft, measured_json, render_answer, run_and_render

CHAT_HELP = "Ask a question; /sources shows the last answer's sources, /demo runs its demo, /quit leaves."


@app.command()
def chat(
    model: ModelOption = None,
    llm_url: UrlOption = None,
    llm_model: LlmModelOption = None,
    llm: LlmOption = None,
    max_tokens: MaxTokensOption = 320,
    home: HomeOption = None,
    json_out: JsonOption = False,
) -> None:
    """An interactive session: models stay loaded, follow-ups build on the last question, history is kept.

    Reads questions from stdin; with --json, prints the whole session as one JSON document at the end.
    """
    from studybot.answer.chat import open_session
    from studybot.errors import StudybotError

    session = open_session(home, llm=llm, model=model, llm_url=llm_url, llm_model=llm_model,
                           max_tokens=max_tokens)
    interactive = sys.stdin.isatty() and not json_out
    out = console()
    turns: list[dict] = []
    warned = False
    if not json_out:
        out.print(f"[dim]{escape(CHAT_HELP)} Model: {escape(session.generator.name if session.generator else 'none')}.[/dim]")
        if session.model_note:
            out.print(f"[dim]{escape(session.model_note)}[/dim]")
    while True:
        try:
            line = input("you> " if interactive else "").strip()
        except EOFError:
            break
        if not line:
            continue
        if not interactive and not json_out:  # questions piped in: the transcript shows each, or answers run together
            out.print(f"\n[bold]you> {escape(line)}[/bold]")
        command = line.lower() if line.startswith("/") else line  # /QUIT, /Sources
        if command in ("/quit", "/exit", "/q"):
            break
        if command == "/help":
            if json_out:  # stdout holds the one JSON document
                report_warning(CHAT_HELP)
            else:
                out.print(CHAT_HELP)
        elif command == "/sources":
            _render_sources(session.last, json_out, turns)
        elif command == "/demo" and session.last is None:
            report_warning("ask a question first: /demo runs the demo behind the last answer")
        elif command == "/demo":
            name = session.last.demos[0] if session.last.demos else None
            demo = run_and_render(name, json_out)
            if json_out and demo:
                turns.append({"command": "/demo", "demo_run": demo})
        elif line.startswith("/"):
            report_warning(f"unknown command {line}: {CHAT_HELP}")
        else:
            try:
                with live_draft(not json_out and session.generator is not None) as on_token:
                    answer = session.ask(line, on_token=on_token)
            except StudybotError as exc:
                if json_out:
                    turns.append({"question": line, "error": str(exc)})
                else:
                    out.print(f"[yellow]{escape(str(exc))}[/yellow]")
                continue
            if json_out:
                turns.append({**answer.to_dict(), "resolved_question": answer.resolved_question,
                              "measured": measured_json(answer.demos)})
            else:
                render_answer(answer)
            if session.history_error and not warned:
                report_warning(session.history_error)
                warned = True
    if json_out:
        print_json({"turns": turns, "history": str(session.history_path)})


def _render_sources(answer, json_out: bool, turns: list[dict]) -> None:
    if answer is None:
        report_warning("ask a question first")
        return
    if json_out:
        turns.append({"command": "/sources", "sources": [{**s.citation(), "text": s.text} for s in answer.citations]})
        return
    from studybot.ingest.notes import shown

    out = console()
    for s in answer.citations:
        text = shown(s.text)
        body = text if len(text) <= 500 else text[:500] + " …"
        out.print(f"[bold]\\[{s.n}][/bold] [cyan]{escape(s.file)}:{s.line_start}-{s.line_end}[/cyan]  {escape(s.path)}")
        out.print(f"[dim]{escape(body)}[/dim]")
