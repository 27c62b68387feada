"""The README stays true: its command reference is the commands' own help, its test command is CI's."""

from __future__ import annotations

import re

from studybot.cli.reference import command_reference
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _generated() -> str:
    match = re.search(r"^\]\]\] -->\n(.*?)^<!-- \[\[\[end\]\]\] -->", README, re.S | re.M)
    assert match, "README.md lost its cog markers around the command reference"
    return match.group(1)


def test_the_command_reference_matches_the_commands() -> None:
    assert _generated() == command_reference(), "the README's command reference is stale: run `cog -r README.md`"


def test_the_reference_covers_every_command_and_option() -> None:
    reference = command_reference()
    for usage in ("studybot index [OPTIONS] [PATHS...]", "studybot ask [OPTIONS] QUESTION", "studybot models pull",
                  "studybot eval retrieval", "studybot export anki"):
        assert f"### `{usage}" in reference
    assert "`--no-llm`" in reference and "`--repair REPAIR`" in reference
    assert "\\<home>" in reference and "<home>" not in reference.replace("\\<home>", "")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    quickstart = re.search(r"Set up and run the tests.*?\n\n    (.+?)\n", README, re.S)
    assert quickstart, "README.md lost its test quickstart"
    setup, _, test = quickstart.group(1).rpartition(" && ")
    assert setup in ci and test in ci


def test_the_readme_rates_grades_as_the_grader_does() -> None:
    """"3-4 Good, 5 Easy" read as every 5/5 rated Easy, while a right choice or cloze is Good by design (rnn-011:
    "score 5/5 good"): the README names both rules, each as the grader's tables hold it."""
    from studybot.study.grading import EXACT_RATING, EXACT_SCORE, RATING_BY_SCORE

    said = " ".join(README.split())
    assert f"3-4 {RATING_BY_SCORE[3].title()}, 5 {RATING_BY_SCORE[5].title()}" in said and RATING_BY_SCORE[4] == "good"
    right = f"graded {EXACT_SCORE[True]} or {EXACT_SCORE[False]}, a right one is {EXACT_RATING[True].title()}, not Easy"
    assert f"except a choice or cloze: {right}" in said
