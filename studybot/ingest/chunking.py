"""Cut a parsed note into retrievable chunks along its heading hierarchy.

A chunk is one section (the text under a heading, up to the next heading), split at
paragraph boundaries when long. Code fences and blockquotes are never split, and an
interview-answer section stays whole so it can be quoted back as it was written.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from studybot.ingest.notes import (FOOTNOTE, INDENTED_CODE, UNSPOKEN_LINE, Heading, Note, callout_title, closes_fence,
                                   fence_opening, file_title, folder_title, footnote_marks)
from studybot.text.sentences import BOLD_LINE, names_a_part, names_a_point, sentence_runs, without_lead_label
from studybot.text.tokens import word_keys

ANSWER_HEADING = re.compile(r"面试|回答|答法|答题|interview answer|answer template", re.IGNORECASE)
MAX_CHARS = 1200
OVERLAP_CHARS = 300
# A line that writes nothing up: a placeholder, or a label in bold ("**参考资料**"); bold that makes a point, with a
# clause in it or longer than a label ("**SVM使用Hinge Loss，目标是最大化分类间隔**" under "## 核心答案"), is written.
# So is a collection's "Answer here" under the questions nobody answered yet (a chunk of its own, it led answers).
_NOTHING_YET = re.compile(r"^\s*[-*+]?\s*[\[(（*_]*\s*(?:TODO|TBD|WIP|待补充|待完善|待更新|待补|待写|未完待续|"
                          r"(?:your )?answer (?:goes )?here|(?:to be|will be) (?:added|written|filled in|completed|continued)"
                          r"|coming soon)?\s*[\])）*_.。…!！]*\s*$", re.IGNORECASE)
# A quote that opens with a label ("> **Note:**", "> 作者：", "> 文章来源：", "> **Resource:**", "> [!tip]") is a callout:
# a side note, a credit or a source beside the section, not its answer ("> 答：" and "> A:" are answers).
_CALLOUT = re.compile(r"^\s*>\s*(?:\[!(?P<kind>[\w-]+)\]|\*\*(?P<bold>[^*]{1,30}?)(?:\s*[:：]\s*\*\*|\*\*\s*(?:[:：]|$))|"
                      r"(?P<label>[^\s>*:：][^:：。，,.!?！？]{0,11})[:：])")
_ANSWER_LABEL = re.compile(r"^(?:(?:English|Chinese|中文|英文)\s*)?(?:A|Ans|Answer|答|回答|解答|答案)\s*[:：]?$", re.IGNORECASE)


@dataclass
class Chunk:
    file: str
    heading_path: list[str]
    line_start: int  # 1-based, inclusive, in the original file
    line_end: int
    text: str
    kind: str = "section"  # "answer" for interview-answer blocks
    titled: bool = False  # heading_path starts with the note's name, which the note does not write there

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)

    @property
    def hash(self) -> str:
        """Identity of the content that gets embedded: heading path and text."""
        return hashlib.sha256(f"{self.heading}\n{self.text}".encode()).hexdigest()


@dataclass
class Block:
    start: int  # index into note.lines
    end: int  # exclusive
    quote: bool

    def size(self, lines: list[str]) -> int:
        return sum(len(line) + 1 for line in lines[self.start:self.end])


def _is_callout(line: str) -> bool:
    """Whether a quoted line opens a callout (`_CALLOUT`), not an answer."""
    match = _CALLOUT.match(line)
    if match is None:
        return False
    label = (match.group("kind") or match.group("bold") or match.group("label")).strip()
    return not _ANSWER_LABEL.match(label)


def paragraph_blocks(lines: list[str], start: int, end: int) -> list[Block]:
    """Paragraphs of lines[start:end]; a code fence or a blockquote run is one block."""
    blocks: list[Block] = []
    i = start
    while i < end:
        if not lines[i].strip():
            i += 1
            continue
        j = i
        fence = fence_opening(lines[i])
        if fence:
            j = i + 1
            while j < end and not closes_fence(lines[j], fence):
                j += 1
            j = min(j + 1, end)
            blocks.append(Block(i, j, quote=False))
        elif lines[i].lstrip().startswith(">"):
            # A quote run continues over blank lines as long as the next text line is quoted too.
            while j < end and (lines[j].lstrip().startswith(">") or (not lines[j].strip() and _next_text_quoted(lines, j, end))):
                j += 1
            blocks.append(Block(i, j, quote=True))
        else:
            while j < end and lines[j].strip() and not fence_opening(lines[j]) and not lines[j].lstrip().startswith(">"):
                j += 1
            blocks.append(Block(i, j, quote=False))
        i = j
    return blocks


def _next_text_quoted(lines: list[str], j: int, end: int) -> bool:
    for k in range(j, end):
        if lines[k].strip():
            return lines[k].lstrip().startswith(">")
    return False


def _pack(blocks: list[Block], lines: list[str], max_chars: int, overlap_chars: int) -> list[list[Block]]:
    """Greedy packing of blocks into pieces of at most max_chars, carrying a short last block over."""
    pieces: list[list[Block]] = []
    current: list[Block] = []
    size = 0
    for block in blocks:
        block_size = block.size(lines)
        if current and size + block_size > max_chars:
            pieces.append(current)
            carry = current[-1]
            current = [carry] if carry.size(lines) <= overlap_chars and len(current) > 1 else []
            size = sum(b.size(lines) for b in current)
        current.append(block)
        size += block_size
    if current:
        pieces.append(current)
    return pieces


def note_title(note: Note) -> str:
    """The note's name when no `# Title` line gives one (numbered `# ` parts give none): its front matter's
    title, else its file name.

    Obsidian shows the file name as the title, so most of a vault's notes ("Adapter Layers.md",
    "2021 - CLIP.md") never write it: their text would belong to no heading at all. A numbering
    prefix ("2021 - ", "01_") is not part of the name; a name that says nothing (Untitled, an export's hash)
    gives none, and a README or index is named by its folder (`_folder_page_title`).
    """
    title = str(note.metadata.get("title") or "").strip()
    if title or _titled_inside(note):
        return title
    return file_title(note.path) or _folder_page_title(note)


def _folder_page_title(note: Note) -> str:
    """A folder's README or index names the folder's subject when its own headings do not: "12.2 LSTM/README.md"
    that opens with "## 目录" and "## 1. 什么是LSTM" is LSTM's note; one whose first heading names the folder
    already ("深度学习500问-第四章 经典网络" in ch04_经典网络/) needs no second name."""
    name = folder_title(note.path)
    words = {w for w in word_keys(name) if not any(c.isdigit() for c in w)}  # "ch04" numbers the folder
    return name if words and not words & word_keys(next((h.title for h in note.headings), "")) else ""


def _titled_inside(note: Note) -> bool:
    """Whether a `# ` heading names the note. Numbered ones (`# 1. 动态掩码`, `# 2. 去掉NSP` in RoBERTa.md,
    `# 一、线性代数`) and ones any note may have (`# 总结`, `# Overview`) are the parts of one note, its sections:
    the note's name roots them, as it does a note with no `# ` heading, one that opens with `# Overview`
    (an Obsidian note whose name is its title) and a Logseq page (its headings are bullets). Measured: rooting
    every note with several `# ` headings by its name cost dev MRR 0.849 to 0.843, its name's words in every
    path of a long file."""
    level_one = [h for h in note.headings if h.level == 1]
    if not level_one or any(h.in_outline for h in note.headings):  # an outliner's page is titled by its name alone
        return False
    numbered = [without_lead_label(h.title) != h.title for h in level_one]
    part = [n or names_a_part(h.title) for n, h in zip(numbered, level_one)]
    several = len(level_one) >= 2
    return not (names_a_part(level_one[0].title)
                or several and sum(numbered) >= len(level_one) - 1
                or several and part[0] and sum(part) >= len(level_one) - 1)  # "# Title" then "# Summary" keeps its title


def _sections(note: Note) -> list[tuple[Heading | None, list[str], int, int, bool]]:
    """(heading, heading path, body start, body end, titled) of each section, the text before the first heading first.

    A note whose `# ` headings do not name it (none, or only numbered parts) has its title (`note_title`) at the
    root of every path; `titled` says it was put there (the path the note writes is the rest: quiz cards keep their ids by it)."""
    title = note_title(note)
    root = [title] if title and not _titled_inside(note) else []
    front = str(note.metadata.get("title") or "").strip()  # front matter names the text before a heading
    bounds = [h.line - 1 for h in note.headings] + [len(note.lines)]
    stack: list[tuple[int, str]] = []
    sections = []
    for heading, body_start, body_end in [(None, 0, bounds[0])] + [(h, h.line, bounds[i + 1])
                                                                   for i, h in enumerate(note.headings)]:
        if heading is not None:
            while stack and stack[-1][0] >= heading.level:
                stack.pop()
            stack.append((heading.level, heading.title))
        written = [t for _, t in stack] or ([front] if front else [])
        titled = bool(root) and not (written and written[0].casefold() == title.casefold())
        sections.append((heading, root + written if titled else written, body_start, body_end, titled))
    return sections


def _says_nothing(line: str) -> bool:
    """A placeholder, a to-do mark, or a bold label."""
    bold = BOLD_LINE.match(line)
    return bool(_NOTHING_YET.match(line) or (bold and names_a_point(bold.group("bold"))))


def unwritten_sections(note: Note) -> list[tuple[list[str], int]]:
    """(heading path, line) of each heading the note has not written up: no subsection, and nothing under
    it but blank lines, to-do items, labels and placeholders. A list of topics still to write (a user's
    "大模型知识点" with fourteen bare headings) is what a coach reminds them of when they ask. A note with no
    heading and no text is one such topic under its name: Obsidian makes "ANOVA.md" at a click on a link."""
    def says_nothing(start: int, end: int, heading: int | None = None) -> bool:
        """Nothing but blank lines, to-dos and labels; no links either (a list of links, or a heading that is
        one, says where to read)."""
        return not note.links.intersection(range(start if heading is None else heading, end)) and all(
            _says_nothing(line) or UNSPOKEN_LINE.match(line) for line in note.lines[start:end])

    title = note_title(note)
    if title and not note.headings and says_nothing(0, len(note.lines)):
        return [([title], 1)]
    sections = _sections(note)[1:]
    unwritten = []
    for i, (heading, path, body_start, body_end, _) in enumerate(sections):
        has_subsection = i + 1 < len(sections) and sections[i + 1][0].level > heading.level
        if not has_subsection and says_nothing(body_start, body_end, heading.line - 1):
            unwritten.append((path, heading.line))
    return unwritten


@dataclass
class _Part:
    """Blocks of a note that make chunks under one heading path: a section's text between its callouts, a titled
    callout's text, a footnote's text."""

    path: list[str]
    blocks: list[Block]
    line: int | None  # the 1-based line its first chunk starts at when not its first block's: its heading, a callout's title
    titled: bool
    answer: bool = False  # an interview-answer section: kept whole, an answer block
    callout: bool = False  # a callout's text under its title: a section of its own, never a quoted answer


def _callouts(lines: list[str], block: Block) -> list[tuple[Block, str]]:
    """A quote block cut where each callout opens, (block, title) of each run; the title is "" for a run that is no
    titled callout with text under its title (a plain quote, "> [!tip]" with no title, a title alone), and the block
    of a titled callout is its text, below its title."""
    opens = [i for i in range(block.start, block.end) if callout_title(lines[i]) is not None]
    bounds = sorted({block.start, *opens}) + [block.end]
    runs: list[tuple[Block, str]] = []
    for start, end in zip(bounds, bounds[1:]):
        said = [i for i in range(start + 1, end) if lines[i].lstrip().lstrip(">").strip()]
        title = callout_title(lines[start]) if start in opens and said else ""
        runs.append((Block(start + 1, said[-1] + 1, quote=True), title) if title else (Block(start, end, quote=True), ""))
    return runs


def _footnotes(lines: list[str], block: Block) -> list[tuple[str, Block]]:
    """(id, block) of each footnote's text in a paragraph of them ("[^1]: …", "[^2]: …", a line under one going on)."""
    opens = [i for i in range(block.start, block.end) if FOOTNOTE.match(lines[i])]
    return [(FOOTNOTE.match(lines[start]).group("id"), Block(start, end, quote=False))
            for start, end in zip(opens, opens[1:] + [block.end])]


def _parts(note: Note) -> list[_Part]:
    """The note's parts in file order. A titled callout is a part of its section under its title, as a heading would
    head it: a note made only of callouts was one passage of six lists, the fixes for vanishing and for exploding
    gradients run together without their labels, and "> [!question] 面试题：sigmoid 的导数最大是多少？" under "## Sigmoid"
    was neither the answer that opened nor a card. A footnote's text is a part under the heading of the part that
    marks it: written at the note's end, "[^1]: 5 层 sigmoid 的梯度上界是 …" was the last section's, on GELU."""
    lines = note.lines
    parts: list[_Part] = []
    footnotes: list[tuple[str, _Part]] = []
    for heading, path, body_start, body_end, titled in _sections(note):
        is_answer = heading is not None and bool(ANSWER_HEADING.search(heading.title))
        run = _Part(path, [], heading.line if heading is not None else None, titled, is_answer)
        parts.append(run)
        for block in paragraph_blocks(lines, body_start, body_end):
            if FOOTNOTE.match(lines[block.start]):
                for name, written in _footnotes(lines, block):
                    footnotes.append((name, _Part(path, [written], None, titled)))
                    parts.append(footnotes[-1][1])
                run = _Part(path, [], None, titled, is_answer)
                parts.append(run)
                continue
            # an interview-answer section is quoted back as it was written, its callouts too
            for piece, title in _callouts(lines, block) if block.quote and not is_answer else [(block, "")]:
                if not title:
                    run.blocks.append(piece)
                    continue
                parts.append(_Part([*path, title], [piece], piece.start, titled, bool(ANSWER_HEADING.search(title)), True))
                run = _Part(path, [], None, titled, is_answer)
                parts.append(run)
    owner = {i: part for part in parts for b in part.blocks for i in range(b.start, b.end)}
    marks = footnote_marks(lines)
    for name, part in footnotes:
        marked = owner.get(marks.get(name, -1))
        if marked is not None:
            part.path, part.titled = marked.path, marked.titled
    return [part for part in parts if part.blocks]


def chunk_note(note: Note, max_chars: int = MAX_CHARS, overlap_chars: int = OVERLAP_CHARS) -> list[Chunk]:
    """All chunks of a note, in file order; heading-only sections, and those holding only a placeholder, produce none."""
    lines = note.lines
    chunks: list[Chunk] = []
    for part in _parts(note):
        limit = 10**9 if part.answer else max_chars
        for piece in _pack(part.blocks, lines, limit, overlap_chars):
            first = piece[0].start
            last = piece[-1].end
            if all(_NOTHING_YET.match(line) for line in lines[first:last]):
                continue  # a placeholder says nothing to find: its heading is an unwritten one
            text = "\n".join(lines[first:last])
            # code indented as Markdown's code is keeps its indent
            text = text.strip("\n").rstrip() if INDENTED_CODE.match(lines[first]) else text.strip()
            starts_part = piece[0] is part.blocks[0]
            # A piece mostly quoted is an answer to its heading (a note quoting its answers), callouts aside: a
            # tutorial's "> **Note:**" under "PyTorch training loop" won the answer's place from the table of steps.
            quoted = not part.callout and (sum(b.size(lines) for b in piece if b.quote and not _is_callout(lines[b.start]))
                                           > 0.5 * sum(b.size(lines) for b in piece))
            one_line = len(piece) == 1 and last - first == 1 and not piece[0].quote and not fence_opening(text)
            for n, said in enumerate(_line_parts(text, limit) if one_line else [text]):
                chunks.append(Chunk(
                    file=note.path,
                    heading_path=list(part.path),
                    line_start=part.line if (part.line is not None and starts_part and n == 0) else first + 1,
                    line_end=max(i for i in range(first, last) if lines[i].strip()) + 1,
                    text=said,
                    kind="answer" if (part.answer or quoted) else "section",
                    titled=part.titled,
                ))
    return chunks


def _line_parts(text: str, max_chars: int) -> list[str]:
    """A paragraph written on one line (a WeChat or web export, a transcript: 30 KB) in runs of whole sentences of
    at most max_chars, each a chunk on that line: as one chunk, it was embedded by its first sentences and a fact
    in its middle was found by nothing."""
    if len(text) <= max_chars:
        return [text]
    parts = [""]
    for run in sentence_runs(text):
        while len(run) > max_chars:  # a sentence without a stop: cut at the last space that fits, else where it must
            cut = run.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            parts += [run[:cut], ""]
            run = run[cut:]
        if parts[-1] and len(parts[-1]) + len(run) > max_chars:
            parts.append("")
        parts[-1] += run
    return [part.strip() for part in parts if part.strip()]
