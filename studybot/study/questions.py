"""Which parts of a note ask an interview question, and the answer each one holds.

Real notes rarely mark their answers: a section is headed by its question ("为什么深层神经网络难以
训练？", "Q4: Why would you clip gradients?"), or its body holds question-answer pairs
(`Q:`/`A:`, `问：`/`答：`, a bold question line followed by its answer). This module recognises
both and trims a section to what an interview answer holds, so cards can be made of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from studybot.ingest.chunking import paragraph_blocks
from studybot.ingest.notes import (IMAGE_SUFFIX, UNDERSCORED, UNSPOKEN_LINE, closes_fence, fence_opening, spoken,
                                   without_bold)
from studybot.text.aspects import compares
from studybot.text.language import has_cjk
from studybot.text.sentences import is_aside, split_sentences, without_lead_label
from studybot.text.tables import read_tables, row_cells
from studybot.text.tokens import normalize

# Words that make a heading a question without a question mark. Chinese ones may sit anywhere
# ("1×1 卷积作用"), English question words must open the heading, comparison words may sit anywhere.
_ZH_ASKS = re.compile(
    r"为什么|为何|如何|怎么|怎样|什么|是否|哪些|哪个|哪种|多少|优缺点|优点|缺点|优势|"
    r"劣势|作用|意义|原理|好处|坏处|有何|何时|简述|介绍一下|解释|谈谈|说说|能否|可否|吗$|呢$")
_EN_ASKS = re.compile(
    r"^(why|how|what|when|which|where|who|whom|whose|explain|describe|define|discuss|contrast|name|list(?! of)|"
    r"outline|summari[sz]e|is|are|can|could|does|do|did|should|would|will|has|have)\b"
    r"|\b(pros and cons|advantages?|disadvantages?|trade-?offs?)\b",
    re.IGNORECASE)
# A pair's question line: "Q: ...", "问：...", "- **Q: ...** A: ...", "**问题：...**"
_Q_LINE = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?(?:\*\*)?\s*(?:Q|问|问题|Question)\s*\d*\s*[:：]\s*(.+)$",
                     re.IGNORECASE)
_A_MARK = re.compile(r"(?:^|\s|\*\*)(?:A|答|回答|Answer)\s*[:：]\s*", re.IGNORECASE)
# A bold line that may be a question: "**为什么要用学习率预热？**", "1. **What is dropout?** It ..."
_BOLD_LINE = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?\*\*(.+?)\*\*\s*[:：]?\s*(.*)$")
_IMAGE = re.compile(r"[^\s()（）]*" + IMAGE_SUFFIX + r"\)?", re.IGNORECASE)  # what is left of one
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
URL = re.compile(r"<?(?:https?://|www\.)\S+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\ufeff\u3000\t]+")
ANSWER_TARGET = 150  # characters: the paragraphs that hold the substance of an answer (300 took in details
# a recall leaves out: on the development corpora 0.55 of paraphrases scored 3+, 0.64 at 150)
ANSWER_MAX = 800  # the most an interview answer may take (as `ask` budgets it)


@dataclass
class Pair:
    """A question asked inside a section's body, with its answer and the source line of the question."""

    question: str
    answer: str
    line: int


def question_text(title: str) -> str:
    """A question line as it should be asked: numbering, labels and emphasis dropped, inline code as written
    ("What does `__init__` do?")."""
    return _heading_question(without_bold(title, code=str))


def _heading_question(title: str) -> str:
    """A heading as it should be asked: numbering, labels and _emphasis_ dropped. Its bold and code marks are off
    already (`heading_title`), so what looks like bold in it is code ("`*args` 和 `**kwargs` 怎么用？" was asked as
    "*args 和 kwargs 怎么用？")."""
    text = without_lead_label(UNDERSCORED.sub(r"\1", title).strip())
    return re.sub(r"\s+", " ", text).strip(" #:：")


# A heading that names only a numbered formula, figure or table of a book ("式(9.36)的解释", "图4.5的解释", "Equation 3"):
# which one is known only in its chapter.
_POINTER_HEADING = re.compile(r"^(?:式|公式|图|表|Eq\.?|Equation|Fig\.?|Figure|Table)\s*[（(]?\d+(?:[.\-]\d+)*[)）]?"
                              r"(?:\s*(?:和|与|、|至|到|and|to|,)\s*(?:式|图|表)?\s*[（(]?\d+(?:[.\-]\d+)*[)）]?)*"
                              r"\s*(?:的)?(?:解释|推导|证明|说明|注解|理解)?$", re.IGNORECASE)


def section_question(heading_path: list[str]) -> str:
    """The question a section's heading asks; a bare one (不同点, 优缺点, Pros and cons, 式(9.36)的解释) is asked with
    its parent heading, the subject it is about."""
    question = _heading_question(heading_path[-1])
    asks = "?" in question or "？" in question
    bare = not asks and (len(question) <= 5 if has_cjk(question) else len(question.split()) <= 3)
    bare = bare or bool(_POINTER_HEADING.match(question))
    if bare and len(heading_path) > 1:
        subject = _heading_question(heading_path[-2])
        return f"{subject}：{question}" if has_cjk(subject + question) else f"{subject}: {question}"
    return question


def question_key(text: str) -> str:
    """A question without its punctuation, spacing, numbering and case: two questions with one key are one."""
    return re.sub(r"[\W_]+", "", normalize(question_text(text)).lower())


def same_question(a: str, b: str) -> bool:
    """Whether two questions are one, written with other punctuation or spacing ("问: 何时用早停?" under
    "1.5.3 何时用早停")."""
    return question_key(a) == question_key(b)


def is_question(title: str) -> bool:
    """Whether a heading (or a bold line) asks something: a question mark, or a question or comparison word."""
    text = normalize(question_text(title))  # 𝐇𝐨𝐰 and full-width marks read as plain ones
    if len(text) < 3 or len(text) > 200:
        return False
    if "?" in text or "？" in text:
        return True
    return compares(text) or (bool(_ZH_ASKS.search(text)) if has_cjk(text) else bool(_EN_ASKS.search(text)))


def _starts_pair(line: str) -> str | None:
    """The question a line opens, if it opens a Q/A pair or is a bold question."""
    marked = _Q_LINE.match(line)
    if marked:
        return marked.group(1)
    bold = _BOLD_LINE.match(line)
    if bold and is_question(bold.group(1)):
        return line.strip()
    return None


def _split_pair_line(opening: str) -> tuple[str, str]:
    """A question line cut into its question and the start of its answer on the same line."""
    bold = _BOLD_LINE.match(opening)
    if bold and is_question(bold.group(1)):
        return bold.group(1), _A_MARK.sub("", bold.group(2), count=1) if _A_MARK.match(bold.group(2)) else bold.group(2)
    mark = _A_MARK.search(opening)
    if mark:
        return opening[:mark.start()], opening[mark.end():]
    return opening, ""


def qa_pairs(lines: list[tuple[int, str]]) -> list[Pair]:
    """The question-answer pairs in a section's lines ((line number, text) in order).

    A pair runs from its question line to the next question line; its answer is what follows
    the question on the same line (after `A:`/`答：`, or after a bold question) and the lines below.
    """
    starts = [(i, q) for i, (_, text) in enumerate(lines) if (q := _starts_pair(text)) is not None]
    pairs: list[Pair] = []
    for n, (i, opening) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        question, first = _split_pair_line(opening)
        body = [first] + [_A_MARK.sub("", text, count=1) if k == i + 1 else text for k, (_, text) in
                          enumerate(lines[i + 1:end], start=i + 1)]
        answer = trim_answer("\n".join(body))
        question = question_text(question)
        if answer and len(question) >= 3:
            pairs.append(Pair(question=question, answer=answer, line=lines[i][0]))
    return pairs


_GOES_ON = re.compile(r"^[a-z(]")  # a line of English going on the sentence above it (hard-wrapped at some width)
_SENTENCE_ENDS = ("。", "！", "？", "；", ".", "!", "?", ";", ":", "：")


def _prose(paragraph: str) -> str:
    """A paragraph without what an interview answer does not say aloud: image names, table rows, markers."""
    lines: list[str] = []
    fence: str | None = None
    for line in paragraph.splitlines():
        if fence is not None:  # code in a quote or callout ("> ```python"), which paragraphs do not part from its prose
            fence = None if closes_fence(line, fence) else fence
            continue
        if (fence := fence_opening(line)) is not None:
            continue
        line = _INVISIBLE.sub(" ", line).strip()
        line = re.sub(r"^>\s?", "", line)
        if not UNSPOKEN_LINE.match(line):
            lines.append(_IMAGE.sub("", URL.sub("", spoken(line))).strip())
    kept: list[str] = []
    math = False  # inside a display formula written over lines ("$$", its TeX, "$$")
    for written, line in zip(lines, read_tables(lines)):  # a table row a line, with its columns' names
        if not line or line in ("<br>", "---"):
            continue
        line = without_bold(line)
        goes_on = kept and _GOES_ON.match(line) and not kept[-1].endswith(_SENTENCE_ENDS)
        if row_cells(written) is None and (math or goes_on):  # a table's row is a line of its own
            kept[-1] = f"{kept[-1]} {line}"  # hard-wrapped prose: a cloze blanked "… acts like averaging an"
        else:
            kept.append(line)
        # a display formula over lines is one line of `$$…$$`, as one written on a line is: without its `$$` its TeX
        # read as words, and "sigmag" was a key point
        math ^= line.count("$$") % 2 == 1 and (line.startswith("$$") or line.endswith("$$"))  # not "the $$$ tier"
    return "\n".join(kept).strip()


def _paragraphs(text: str) -> list[str]:
    """Paragraphs of a section, as chunking sees them, code fences and HTML comments left out."""
    lines = _COMMENT.sub("", _A_MARK.sub("", text, count=1) if _A_MARK.match(text) else text).splitlines()
    return ["\n".join(lines[b.start:b.end]) for b in paragraph_blocks(lines, 0, len(lines))
            if not fence_opening(lines[b.start])]


def _all_asides(paragraph: str) -> bool:
    """Whether every sentence of a paragraph that has words is an aside (`is_aside`)."""
    worded = [s for s in split_sentences(paragraph) if re.search(r"\w", s)]
    return bool(worded) and all(is_aside(s.strip()) for s in worded)


def trim_answer(text: str, target: int = ANSWER_TARGET, limit: int = ANSWER_MAX) -> str:
    """The first paragraphs of a section, without code or images, up to what an interview answer holds.

    Paragraphs are added until `target` characters are reached; none makes it exceed `limit`,
    except the first, which is cut at the last sentence end before `limit`. A paragraph that leads
    into what follows ("Here are the key advantages:") does not count: the answer is what it introduces; one that
    only speaks to the reader is left out.
    """
    kept: list[str] = []
    size = substance = 0
    for paragraph in filter(None, map(_prose, _paragraphs(text))):
        if _all_asides(paragraph):  # "All right, let's go! 😄": the author's, not the answer's
            continue
        if kept and size + len(paragraph) > limit:
            break
        kept.append(paragraph)
        size += len(paragraph) + 1
        substance += 0 if paragraph.endswith((":", "：")) else len(paragraph) + 1
        if substance >= target:
            break
    answer = "\n".join(kept)
    if len(answer) > limit:
        cut = max(answer.rfind(stop, 0, limit) for stop in "。！？；.!?;\n")
        answer = answer[:cut + 1] if cut > limit // 3 else answer[:limit]
    return answer.strip()
