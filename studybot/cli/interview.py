"""`studybot interview`: a mock interview with follow-ups chosen from each graded answer, and a report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from studybot.cli.common import (HomeOption, JsonOption, LlmModelOption, UrlOption, app, console,
                                 print_json, report_warning)
from studybot.cli.quiz import (AnswersOption, BankOption, LangOption, NotesOption, NowOption, SeedOption, clock_from,
                               next_answer, read_answers)

TopicsOption = Annotated[Optional[list[str]], typer.Option(
    "--topic", "-t", help="A topic to be interviewed on (repeatable): a quiz topic, a note's topic or tag, or any "
    "glossary alias. Default: all, those with due or weak cards first.", show_default=False)]
MinutesOption = Annotated[float, typer.Option(
    "--minutes", help="Length of the interview: no new opening question after this many minutes.")]
QuestionsOption = Annotated[Optional[int], typer.Option(
    "--questions", "-n", min=1, help="Opening questions to ask (default: one per 4 minutes).", show_default=False)]
LevelOption = Annotated[int, typer.Option("--level", min=1, max=3, help="Hardest question difficulty, 1-3.")]
PhraserOption = Annotated[Optional[str], typer.Option(
    "--model", help="A GGUF file (or a file name in <home>/models/) that words the probes; default: none, the "
    "questions are the notes' own words.", show_default=False)]
FollowUpsOption = Annotated[int, typer.Option(
    "--follow-ups", min=0, max=3, help="Most follow-up questions after each opening question.")]
HistoryOption = Annotated[bool, typer.Option(
    "--history/--no-history", help="Ask due and weak cards first, by your review history; --no-history: in the "
    "seed's order alone, so a scripted session repeats (answers are still recorded).")]


@app.command()
def interview(
    topic: TopicsOption = None, minutes: MinutesOption = 20, questions: QuestionsOption = None,
    lang: LangOption = None, level: LevelOption = 3, seed: SeedOption = 0, answers_file: AnswersOption = None,
    follow_ups: FollowUpsOption = 2, bank: BankOption = None, notes: NotesOption = True, history: HistoryOption = True,
    model: PhraserOption = None, llm_url: UrlOption = None, llm_model: LlmModelOption = None, home: HomeOption = None,
    json_out: JsonOption = False, now: NowOption = None,
) -> None:
    """A mock interview: opening questions, follow-ups that probe what an answer missed or go deeper when it
    was good, then a report (also saved in <home>/interviews/).

    Each failed follow-up becomes a review card. With --model or --llm-url a model words the probes and the
    deeper questions (a wording that names the answer, or fails, leaves the question as it was). Type :q (or
    Ctrl-D) to stop; Ctrl-C keeps every answer given and still writes the report (exit code 130).
    """
    from studybot.study.interview import Phraser, plan_interview, run_interview

    clock = clock_from(now)
    answers = read_answers(answers_file)
    plan = plan_interview(home, clock(), topics=topic, count=questions, minutes=minutes, level=level, seed=seed,
                          lang=lang, follow_ups=follow_ups, banks=bank, notes=notes, history=history)
    out = console(stderr=json_out)
    for warning in plan.warnings:
        report_warning(warning)

    grading = out.status("grading…") if out.is_terminal else None  # see quiz: a translated answer takes seconds

    def ask(shown: dict) -> str | None:
        _render_question(out, shown)
        answer = next_answer(out, answers, shown["n"])
        if answer is not None and not answer.strip():  # nothing to grade: the session passes the question
            out.print("[dim]skipped: not graded, not scheduled[/dim]")
        elif grading is not None and answer is not None:
            grading.start()
        return answer

    def turn_done(turn: dict) -> None:
        if grading is not None:
            grading.stop()
        _render_turn(out, turn, plan.lang)

    phraser = None
    if model or llm_url or llm_model:
        from studybot.answer.backends import open_generator

        phraser = Phraser(open_generator(plan.home, model, llm_url, llm_model), seed)
    try:
        result = run_interview(plan, ask, clock, on_turn=turn_done, phraser=phraser)
    finally:
        if grading is not None:
            grading.stop()
    if json_out:
        print_json(result.to_dict())
    else:
        _render_report(out, result.to_dict(), plan.lang)
    if result.interrupted:
        saved = len(result.turns)
        report = f"report: {result.report_file}" if result.report_file else "no report"
        sys.stderr.write(f"\nstudybot: stopped: {saved} answer{'s' * (saved != 1)} saved; {report}\n")
        sys.exit(130)  # as Ctrl-C exits, with its own line said above


def _render_question(out, shown: dict) -> None:
    from rich.text import Text

    label = {"opening": "question", "probe": "follow-up", "deeper": "deeper", "predict": "predict, then measure"}
    out.print(Text.assemble((f"\n[{shown['n']}] {label[shown['kind']]} ", "bold"), (shown["topic"], "cyan")))
    if shown["context"]:  # as the quiz shows it: a note's heading may not name its subject
        out.print(Text(f"({shown['context']})", style="dim"))
    out.print(Text(shown["question"]))
    if shown["phrase_note"]:
        out.print(Text(f"(asked as written: {shown['phrase_note']})", style="dim"))


def _render_turn(out, turn: dict, lang: str | None) -> None:
    from rich.text import Text

    from studybot.study.grading import label_in

    style = "green" if turn["score"] >= 4 else "yellow" if turn["score"] >= 2 else "red"
    out.print(Text.assemble(("score ", "bold"), (f"{turn['score']}/5", style), f"  {turn['seconds']:.0f} s"))
    if turn.get("measured") is not None:
        out.print(Text(f"  measured by studybot demo {turn['rung']}: {turn['measured']:.3g}", style="cyan"))
    for point in turn["covered"]:
        out.print(Text(f"  ✓ {label_in(point, lang)}", style="green"))
    for miss in turn["missed"]:
        out.print(Text(f"  ✗ {label_in(miss['point'], lang)}  ({miss['file']}:{miss['line_start']})", style="red"))


def _render_report(out, result: dict, lang: str | None) -> None:
    from rich.table import Table
    from rich.text import Text

    from studybot.study.grading import label_in

    summary = result["summary"]
    score = "-" if summary["score"] is None else f"{summary['score']:.2f}/5"
    answers, openings = summary["answers"], summary["openings"]
    if answers:  # a session with no answer has no score or table to show ("Overall - over 0 answers")
        out.print(Text.assemble(("\nOverall ", "bold"), (score, "bold"), f" over {answers} answer{'s' * (answers != 1)} "
                                f"({openings} opening question{'s' * (openings != 1)})"))
        table = Table(title="per topic")
        for column in ("topic", "openings", "answers", "mean score", "points missed"):
            table.add_column(column, justify="left" if column == "topic" else "right")
        for name, data in summary["by_topic"].items():
            table.add_row(name, str(data["openings"]), str(data["answers"]), str(data["score"]), str(data["missed"]))
        out.print(table)
    if summary["weakest"]:
        out.print(Text("weakest points, with what to re-read:", style="bold"))
    for weak in summary["weakest"]:
        end = f"-{weak['line_end']}" if weak["line_end"] != weak["line_start"] else ""
        out.print(Text(f"  {label_in(weak['point'], lang)}: {weak['file']}:{weak['line_start']}{end}"))
    for demo in summary["demos"]:
        out.print(Text(f"  run: studybot demo {demo}", style="cyan"))
    if summary["expect_next"]:
        out.print(Text("expect next time:", style="bold"))
    for question in summary["expect_next"]:
        out.print(Text(f"  - {question.replace(chr(10), ' / ')}"))
    compare = summary["compare"]
    if compare["sessions_before"]:
        change = f" ({compare['change']:+.2f})" if compare["change"] is not None else ""
        out.print(f"previous session {compare['previous_score']}/5{change}; best before {compare['best_before']}/5")
    out.print(Text(f"report: {Path(result['report_file'])}" if result["report_file"] else
                   "nothing answered: no report written", style="dim"))
