"""The extractive answer: sentences lifted from the sources themselves, each cited.

It is what the user sees whenever a generation cannot be trusted, so it must stand on its own.
It opens with the passage that best answers the question asked. When the user's own notes answer
it, that is their passage (they wrote it and will be asked about it): the first of the top-ranked
own passages that is about the question. Otherwise it is the passage whose heading and text cover
most of the question's terms (glossary concepts in any language, other words weighted by rarity among
the candidates; a translated question's words, with its own concepts and the Latin-script words
those passages write, in passages written in its translation's language), discounted by retrieval
rank; kind breaks near-ties only. The note's own interview answer to the same question is quoted in
place of the section it closes; a section search cut into chunks is read in the note's order, from
the line that speaks to the question. A passage that is all code leads only a question that asks for
code, and is then quoted as code (notes of code examples opened "What is the difference between bagging
and boosting?" with imports). The rest of the budget goes to the sentences of the other passages that
cover most of the question, skipping anything already said, within a budget well under the 800
characters an interview answer may take. A bare formula (TeX, next to no words) gets what room the
sentences leave, unless the question asks for one.
"""

from __future__ import annotations

import math
import re
import textwrap
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from typing import Callable, TypeVar

from studybot.content.glossary import Glossary, mention
from studybot.ingest.notes import (FOOTNOTE, IMAGE_SUFFIX, INDENTED_CODE, ITALIC, LOST_PICTURE, TO_DO, UNDERSCORED,
                                   closes_fence, fence_opening, outside_code, spoken, without_bold)
from studybot.answer.sources import Source, prose_and_code
from studybot.text.aspects import ASPECTS, COMPARISON, aspects, compares, defines, question_parts, without_aspects
from studybot.text.language import CJK, has_cjk, language
from studybot.text.sentences import (BOLD_LINE, LEADS_IN, names_a_part, names_a_point, is_aside,
                                     speaks_to_reader, split_quotable, without_asides, without_lead_label)
from studybot.text.tables import is_rule, row_cells, row_sentences
from studybot.text.tokens import TEX_COMMAND, first_word_tag, tokenize, word_key, word_keys

T = TypeVar("T")
BUDGET_CHARS = 800  # the most an interview answer may take (the answer evaluation counts nothing longer)
# A unit whose words one quoted unit nearly all holds says it again (a copy in another note). Against all the
# quoted units together, at 0.7, a list's parallel item went ("如果选择较大的K值…" after "如果选择较小的K值…" shares
# 0.78 of its words): answers dev coverage 0.766 to 0.772, first citation unchanged (0.7 to 0.9 alike).
DUPLICATE_SHARE = 0.85
HEADING_WEIGHT = 0.5  # a passage whose heading names the question is about it, not merely mentioning it
TITLE_ONLY_SHARE = 0.5  # ... but a term only the note's title names is in every section's heading path
NEAR_TIE = 0.85  # passages within this share of the best fit answer about equally well
OPENING_NEAR = 0.7  # a note's opening within this share of the lead's fit says what the subject is
OWN_WITHIN = 5  # the user's own passage may lead from this retrieval rank or better ...
OWN_NEAR_TIE = 0.7  # ... the first within this share of the best own fit ...
OWN_MIN_SHARE = 0.3  # ... when it holds this share of the best fit of all (else it is not about the question)
CODE_ONLY_SHARE = 0.3  # prose below this share of a code passage's fit does not answer what the code does
OWN_HEADING_NONE = 0.1  # ... unless its heading path names less than this share of the question ...
OTHER_HEADING_NAMES = 0.4  # ... and another passage's heading at least this share: it only mentions the subject
LEAD_LANGUAGE_WEIGHT = 0.8  # a passage in the question's language reads better as the opening
FOLLOW_UP_WEIGHT = 0.5
ASKS_IT = 0.9  # ... unless one of its questions names this share of the question's terms, and the question names it whole
LEAD_SHARE = 0.85  # the leading passage may take this share of the budget
WHOLE_SECTION = 0.45  # the share of the question's terms a section's own heading holds when it is quoted from the start
# A sentence in the other language than the question's weighs this share: at half, English questions over Chinese
# notes lost their own sentences to bundled English ones that named less (answers dev coverage 0.794 at 0.5, 0.803 at
# 0.75, 0.805 at 1); at 1, a line met only through the translation's one word ("最大" of non-maximum) passed as filler.
OTHER_LANGUAGE_WEIGHT = 0.75
SENTENCE_RELEVANCE = 0.15  # filler below this share of the best sentence's score is left out
# At most this many passages quoted in one answer: the lead, its other side or part, and the best of the rest. Past
# them came padding a reader notices ("Adam 为什么要做偏差修正？" quoted eight, on warm-up, mixed precision and
# AdamW's generalisation). Answers dev: coverage 0.820 unlimited, 0.818 at 4 or 6, 0.814 at 3; mean answer length
# 761 -> 730 characters at 4; first citation the same throughout.
MAX_SOURCES = 4
LEAD_RELEVANCE = 0.08  # ... and below this share of the lead's fit (when no other sentence is about the question)
SUPPORT_FIT = 0.25  # a passage below this share of the lead's fit answers another question: none of its sentences follows
RANK_DECAY = 0.1  # a lower-ranked source's sentence needs to cover a little more of the question
MIN_CHARS = 8
# A Chinese list item says a point in four characters ("集成学习；", "更多数据" of "更多数据 / Data_Augmentation"): under
# "怎么解决过拟合？" both went unquoted among the items they belong to
MIN_ITEM_CHARS = 4
PART_ANSWERED = 0.7  # a section naming this share of a part's terms answers that part of a question
PART_SUBJECT = 0.4  # ... by a section whose heading names this share of the subject the lead's heading names

_LABEL = re.compile(r"^\s*(中文|汉语|Chinese|English|英文)\s*[:：]\s*", re.IGNORECASE)
_LABEL_LANGUAGE = {"中文": "zh", "汉语": "zh", "chinese": "zh", "english": "en", "英文": "en"}
# a list's mark; Chinese notes number without a space ("1、生成器是一种特殊的迭代器", "（2）")
_BULLET = re.compile(r"^\s*(?:(?:[-+*•→]|\d+[.)、]|[（(]?\d+[)）])\s+|\d+、|[（(]\d+[)）])")
_BILINGUAL_SLASH = re.compile(rf"(?<=[{CJK}。！？；.!?;])\s*/\s+|\s*/\s+(?=[{CJK}])")
# "- A: Pooling shrinks …" under "1. **Q: …?**", "**English Answer:**" over the answer's paragraph
_ANSWER_MARK = re.compile(r"^(?:(?:English|Chinese|中文|英文)\s*)?(?:A|Ans|Answer|答|回答)\s*[:：]\s*")
_SYMBOLS = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\uFE0F]")
_LABELLED = re.compile(r"^[^：:]{1,16}[：:]")  # "作用：…", "Note: …"
_MARKUP = re.compile(r"`|\$")  # code and math marks; bold is `without_bold`'s
_FOLLOW_UP = re.compile(r"^\s*Q\s*[:：]\s*(.*?)\s*\bA\s*[:：]\s*(.*)$")
_PLACEHOLDER = re.compile(rf"\b{LOST_PICTURE}\b")  # an image the export lost: the sentence lacks its formula
_PICTURE = re.compile(r"^\s*(?:>\s*)?!\[")  # a picture on a line of its own (its address gone: `![name]`)
_EMPHASIZED = re.compile(r"^\s*(?:>\s*)?([*_])(?!\1)\S.*\S\1\s*$")  # a line all in italics
_PICTURES_ONLY = re.compile(rf"^\s*(?:>\s*)?(?:{_PLACEHOLDER.pattern}[\s,.;]*)+$")  # a line of them, no words
_FOLLOW_UPS = re.compile(r"追问|follow-?ups?", re.IGNORECASE)  # a note's follow-up list answers other questions
# Words that frame a question rather than name its subject: a comparison's (aspects.COMPARISON) and function
# words the stop list keeps, which are rare among the passages and so weighed most ("Why scale features before
# training?" led with "… before …"), in both languages ("位置编码的作用是什么？" led with "虚拟头节点的作用", "NMS 是怎么做的？"
# with "梯度裁剪是怎么做的？"), and the modal verbs a why-question asks with ("为什么要 warmup" led with "为什么要除以根号 dk").
_FRAME = word_keys(" ".join(COMPARISON)) | word_keys(
    "work works mean means explain describe happen happens purpose role matter matters before after during while"
    " also other some any each both more most only very just if because instead rather whether there here need needs"
    " must 作用 用途 用处 目的 意义 含义 原理 工作 解释 描述 介绍 理解 发生 做 要 需要 应该 必须")
CONCEPT = "§"  # marks a glossary concept id among words
_ASPECT_KEYS = frozenset(CONCEPT + name for name in ASPECTS)
# What a question asks of its subject whatever the subject ("Why does X help?"): its reason, unlike an advantage or a
# drawback, which a section on it ("BLEU > Limitations") answers
_SHAPE = frozenset({CONCEPT + "reason"}) | word_keys("help helps")
# Lines an answer leaves out: a table's rule, a heading, code, display math, a picture, references and pointers to
# more ("Read more: …"), a link, a thematic break ("* * *"), a demo's command, and a picture's credit ("Created by …
# licensed as CC BY-SA 4.0. No changes were made").
_SKIP = re.compile(r"^\s*(?:\||#|```|~~~|\$\$|!\[|References?:|Read more:|See also:|参考|https?://|www\.|(?:[-*_]\s*){3,}$)"
                   r"|studybot demo|\blicensed (?:as|under)\b|\bCC[ -]BY\b", re.IGNORECASE)
# What points elsewhere and says nothing itself, when it is the whole line (no sentence stop at its end): a
# caption ("图5.2 Inception模块", "Figure 4.9 GoogLeNet network structure") or a book's section ("《深度学习》 8.7.1 批标准化").
_POINTER = re.compile(r"^(?:(?:图|表)\s*(?:\d+(?:[.\-]\d+)*\s*[:：]?|[:：])|(?:Figure|Fig\.|Table)\s*\d+(?:[.\-]\d+)*\b)"
                      r"|《[^》]+》\s*\d+(?:\.\d+)+\s", re.IGNORECASE)
_QUOTE = re.compile(r"^\s*>\s?")
_MATH = "$$"
_INDENTED = "    "  # the block being read is indented code: after a blank line, in no list (CommonMark's rule)
_CONTINUES = re.compile(r"^\s*(?:>\s?)?\s*[a-z]")  # a line of prose that goes on the sentence above
# ... as does any line of words under one that stops on a comma: "- 图像：随机裁剪、翻转、" over "颜色抖动、Mixup、CutMix。"
# (an export's wrapped list item) was quoted as an item's name and its point, "翻转、：颜色抖动"
_GOES_ON_BELOW = re.compile(r"[、，,]\s*$")
WRAPPED_WIDTH = 56  # columns from which a Chinese line without a stop at its end may have been cut by width (pandoc: 72)
# How a sentence that goes on in the formula or code below it ends: "…的更新公式为", "…m 是", "…如下", "…求导, 得",
# "The loss is", "… as follows".
_STOPS_SHORT = re.compile(r"(?:[为是得即有到如:：,，]|如下|所示|可以?写成|\b(?:is|are|be|as|by|of|to|follows|below|gives|becomes|"
                         r"where|with|using|get|have)|=)\s*$", re.IGNORECASE)
_GOES_ON = re.compile(rf"^(?:[{CJK}A-Za-z0-9“‘\"'(（\\]|\$(?!\$))")  # a line going on the one above: words, inline math
_INLINE_MATH = re.compile(r"\$[^$]+\$")
_ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")  # a word, not a variable (x, f)
_CJK_EDGE = re.compile(f"[{CJK}，、。：；！？（）“”]")  # a cut line meets the next without a space between these
# An address a line ends with ("手撕AUC：https://blog.csdn.net/…", "…试出来的...https://blog.51cto.com/…"): where to
# read more, not what the note says; the citation leads to the note, and the note to it.
_TRAILING_URL = re.compile(r"\s*(?:https?://|www\.)\S+\s*$")
# Where a text came from, not what it says: a linked page's title ("… - 知乎", "…-CSDN博客"), an entry of a
# reference list ("[1] 何之源.https://…", "【3】…"), a copyright line.
_CREDIT = re.compile(r"[-_–|]\s*(?:知乎(?:专栏)?|CSDN(?:博客)?|博客园|简书|掘金|SegmentFault|Medium|Stack Overflow|"
                     r"GitHub|arXiv|Towards Data Science)\s*$|^(?:\[\d+\]|【\d+】)|著作权归|转载请", re.IGNORECASE)
# ... or an entry of one within a line, its authors by their initials, up to its year, with the sentence pointing to it
# ("If you are interested in an empirical comparison: A. M. Martinez and A. C. Kak. PCA versus LDA. Pattern Analysis
# and Machine Intelligence, IEEE Transactions on, 23(2):228–233, 2001)."): cut at each initial, it was quoted as
# "Martinez and A." and "PCA versus LDA."
_AUTHOR = r"(?:[A-Z]\.\s?)+[A-Z][\w'’-]+"
_CITATION = re.compile(rf"(?:^|(?<=[.!?;。！？；]\s))[^.!?;。！？；]*?\b{_AUTHOR}(?:(?:,\s*|,?\s+and\s+|,?\s*&\s*){_AUTHOR})*(?:,?\s+et al\.?)?\.\s.{{0,200}}?"
                       r"\b(?:1[89]|20)\d\d[a-z]?\b\)?\.?")
_STOP = ("。", "！", ".", "!", "；", ";")
_ENDS = (*_STOP, "？", "?", "：", ":", "…")  # how a line ends that does not go on below it
# A note's own mark for its reference list ("LeNet-5 … CNN $^{[1]}$", "推荐使用[3]的工作", "Deep Compression [5],"):
# it points to a list the answer does not show, and quoted it reads as the answer's citation [1]. An index
# (`R[1]`, `dp[0]`) and a list in prose ("Train on [2, 3, 4]") stay.
_MARK = r"[\[【]\s*[1-9]\d*(?:\s*[,，、\-–]\s*[1-9]\d*)*\s*[\]】]"
_REFERENCE_MARK = re.compile(
    rf"\$?\^\s*\{{?\s*{_MARK}\s*\}}?\$?"  # a superscript
    rf"|(?<=[\u3400-\u9fff，。；：、）)》”])\s?{_MARK}(?:\s*[,，、]?\s*{_MARK})*"  # after Chinese
    r"|(?<=[A-Za-z.,;:)])\s+\[[1-9]\d*\](?=\s*(?:[,.;:!?，。；）)\u3400-\u9fff]|$))"  # after a word, before a stop
    r"|(?<=[A-Za-z])\[[1-9]\d*\](?=[，。；：、）》”])")  # on a word, before Chinese punctuation ("比如FCN[1]）中")
# A formula quoted bare (an export dropped its `$$`, or display math): TeX commands and symbols, next to no words.
_WORDS = re.compile(rf"[A-Za-z]{{3,}}|[{CJK}]")
FORMULA_WORDS = 0.4  # a line whose words (after its TeX commands) fill less than this share of it is a formula
_ASKS_FORMULA = re.compile(r"公式|表达式|推导|formula|equation|deriv", re.IGNORECASE)
# A section named as code ("（3） Code", "4. 代码实现"): its prose leads into a listing.
_CODE_HEADING = re.compile(r"^[\W\d_]*(?:code|codes|代码|代码实现|实现代码|源码|源代码|code implementation|implementation)[\W\d_]*$",
                           re.IGNORECASE)
# A question that asks for code: a section of code alone may answer it, and only it.
_ASKS_CODE = re.compile(r"代码|手写|\bcode\b|implement|snippet|keras|pytorch|tensorflow|numpy|sklearn|scikit",
                        re.IGNORECASE)
# A file's name alone: a picture's (RetinaNet-01.png), or the code file a snippet below it is saved as (model.py)
_FILE_NAME = re.compile(r"^(?:\S+(?:\s\S+){0,3}" + IMAGE_SUFFIX + r"|[\w\-./\\]+\.[A-Za-z]\w{0,5})$", re.IGNORECASE)


@dataclass
class _Unit:
    source: Source
    position: int
    text: str
    tokens: frozenset[str]  # its words, to tell what is already said
    language: str
    keys: frozenset[str] = frozenset()  # its words and concepts, to match the question's terms
    opens: bool = False  # the first sentence of its line
    code: bool = False  # a fenced code block, cited on the line below it
    item: bool = False  # on a line of a list
    about: frozenset[str] = frozenset()  # the concepts its section's own heading names, which it need not repeat


def _concepts(text: str, glossary: Glossary) -> tuple[frozenset[str], frozenset[str]]:
    """(a CONCEPT-marked id for each glossary concept a text names, in either language and in any order of a
    name's words, and for each aspect it speaks of; the words of those concepts' names). A word of a concept's
    name counts as the concept, not as a word of its own: "precision" in "mixed-precision training" is not the
    metric a question asks about."""
    concepts = _named_concepts(text, glossary)
    named = frozenset().union(*concepts.values())
    return frozenset(concepts) | {CONCEPT + name for name in aspects(text)}, named


def _named_concepts(text: str, glossary: Glossary) -> dict[str, frozenset[str]]:
    """Each glossary concept a text names (its CONCEPT-marked id) with the word keys of its name as the text says it."""
    words = word_keys(text)
    concepts = {e.id: e for e in [*glossary.find(text), *glossary.find_words(words)]}.values()
    return {CONCEPT + e.id: glossary.name_words(e, words) for e in concepts}


def _keys(text: str, glossary: Glossary) -> frozenset[str]:
    """Concepts and aspects of a text (`_concepts`) and its other words."""
    ids, named = _concepts(text, glossary)
    return ids | (word_keys(text) - named)


def question_terms(question: str, glossary: Glossary) -> frozenset[str]:
    """The question's concepts and aspects (`_concepts`) and its other words, less the words that frame a
    question ("how does X work") rather than name its subject; an aspect's words count once, as the aspect."""
    ids, named = _concepts(question, glossary)
    typed = glossary.typed_in_lowercase(question)  # "crf": the notes' "CRF"
    ids |= {CONCEPT + entry.id for entry in typed}
    named |= frozenset().union(*(glossary.name_words(entry) for entry in typed))
    return ids | (word_keys(without_aspects(question)) - named - _FRAME)


def _clean(line: str) -> str:
    line = _CITATION.sub("", _REFERENCE_MARK.sub("", line))
    line = _SYMBOLS.sub("", spoken(line))
    line = _unmarked(_BULLET.sub("", line))
    line = _ANSWER_MARK.sub("", line)  # after the markup: "**A:**" is a mark too
    return re.sub(r"\s+", " ", _TRAILING_URL.sub("", without_asides(line))).strip()


def _unmarked(line: str) -> str:
    """A line without its emphasis, code and math marks; a code span's text as written (`200W ** 0.25 ≈ 37` keeps
    its power)."""
    plain = lambda text: UNDERSCORED.sub(r"\1", ITALIC.sub(r"\1", _MARKUP.sub("", without_bold(text))))  # noqa: E731
    return outside_code(line, plain, code=str)


def _halves(line: str) -> list[str]:
    """A bilingual line `中文。/ English.` as its two halves (a slash after Chinese or a stop, or before Chinese:
    the one in "J = ( 1 / m )Σ L(ŷ, y)" divides)."""
    parts = [p.strip() for p in _BILINGUAL_SLASH.split(line) if p.strip()]
    if len(parts) > 1 and len({language(p) for p in parts}) > 1:
        return parts
    return [line]


def _in_language(versions: list[T], lang: str, written: Callable[[T], str] = language) -> list[T]:
    """The versions of what a bilingual note says twice (a line's halves, an answer's paragraphs) in `lang` when
    it has one, else all: the other says the same."""
    return [v for v in versions if written(v) == lang] or versions


def _follow_up(line: str) -> list[str] | None:
    """A follow-up `Q: ... A: ...` line as question-and-answer units, one per language (`Q? A.`):
    its answer alone is a fragment ("仍用 LayerNorm" says nothing without "ViT 用什么归一化？").
    None for any other line."""
    qa = _FOLLOW_UP.match(line)
    if not qa:
        return None
    questions = _halves(qa.group(1))
    return [f"{next((q for q in questions if language(q) == language(a)), questions[0])} {a}"
            for a in _halves(qa.group(2))]


def _useful(text: str, least: int = MIN_CHARS) -> bool:
    """A sentence that can stand in an answer: long enough, not a lead-in, a question, a placeholder, a
    link, a caption, a pointer into a book, a file's name, a credit to where it came from, words to the reader or
    about the text, or a lead into what follows."""
    return (len(text) >= least and not text.endswith((":", "：", "?", "？")) and not _SKIP.search(text)
            and not (_PLACEHOLDER.search(text) and language(text) == "zh")
            and not (_POINTER.search(text) and not text.endswith(_STOP)) and not _FILE_NAME.match(text)
            and not _CREDIT.search(text) and not is_aside(text))


def _answer_parts(text: str) -> list[tuple[str, str]]:
    """(language, paragraph) pairs of an interview-answer block; labelled parts keep their label's language, and a
    list its lines. To-dos are left out, as in any passage ("面试准备检查清单", a checklist of "- [ ] …")."""
    lines = [_QUOTE.sub("", line) for line in text.splitlines() if not TO_DO.match(_QUOTE.sub("", line))]
    parts: list[tuple[str, str]] = []
    for paragraph in re.split(r"\n\s*\n", "\n".join(lines)):
        label = _LABEL.match(paragraph)
        lines = _LABEL.sub("", paragraph).split("\n")
        if sum(bool(_BULLET.match(line)) for line in lines) >= 2:  # a list keeps an item a line (" - " joined them)
            items: list[str] = []
            for line in lines:  # a line that is no item goes on the item above it (a wrapped item)
                if items and not _BULLET.match(line):
                    items[-1] += f" {line.strip()}"
                else:
                    items.append(line)
            body = "\n".join(text for item in items if (text := _clean(item)))
        else:
            body = _clean(" ".join(lines))
        if _useful(body):
            lang = _LABEL_LANGUAGE[label.group(1).lower()] if label else language(body)
            parts.append((lang, body))
    return parts


def _prose_lines(text: str) -> list[str]:
    """The lines of a passage outside code, hard-wrapped prose joined: a line that starts
    in lower case goes on the sentence above it ("We stack 256 such kernels" / "so that we get ..."),
    unless that is a table row, a heading, indented code, display math or a line left out of answers. Display math
    written over several lines is one line, its `$$` dropped: quoted whole, or not at all. Code indented after
    a blank line, outside a list, is code, as fenced code is: left out (a Chinese line indented so is a paragraph
    as Word indents it, not code)."""
    lines: list[str] = []
    block: str | None = None  # the fence of the code or display math being read
    formula: list[str] = []
    above = ""  # the line above, as written
    context = ""  # the last line with text above, as written
    written = text.splitlines()
    cut = _cut_by_width(written)
    for i, line in enumerate(written):
        if block == _INDENTED:
            if not line.strip() or INDENTED_CODE.match(line):
                continue
            block = None
        if block is None and INDENTED_CODE.match(line) and not has_cjk(line) and not above.strip() and not _in_list(context):
            block = _INDENTED  # a program's output, as Jupyter exports it: no prose
            lines.append("")
        captioned = bool(_PICTURE.match(above))
        above, context = line, line if line.strip() else context
        if block == _INDENTED:
            continue
        if block is not None:
            if block == _MATH:  # a formula in a quote ("> $$", "> \\alpha …", "> $$") is quoted without its marks
                formula.append(_QUOTE.sub("", line).strip())
            if line.rstrip().endswith(_MATH) if block == _MATH else closes_fence(line, block):
                if block == _MATH:
                    _quote_formula(lines, " ".join(f for f in formula if f).strip("$ "))
                    formula.clear()
                block = None
                lines.append("")  # no sentence goes on across a block
        elif (block := fence_opening(line) or _math_opening(line)) is None:
            if (body := _QUOTE.sub("", line).strip()).startswith(_MATH):  # display math on one line: `$$…$$`
                _leads_into_block(lines)
                _quote_formula(lines, body.strip("$ "))
                lines.append("")
            elif _PICTURES_ONLY.match(line) or (captioned and _EMPHASIZED.match(line)):
                lines.append("")  # pictures the export lost ("image image"), or a caption in italics under a picture
            elif _PICTURE.match(line):
                _leads_into_picture(lines)
                lines.append(line)
            elif (lines and (_CONTINUES.match(line) or i in cut or _comma_goes_on(lines[-1], line))
                  and _wraps(lines[-1], line)):
                upper, lower = lines[-1].rstrip(), _QUOTE.sub("", line).strip()
                gap = "" if _CJK_EDGE.match(upper[-1:]) and _CJK_EDGE.match(lower[:1]) else " "
                lines[-1] = f"{upper}{gap}{lower}"
            else:
                lines.append(line)
        elif block == _MATH:  # display math opens here
            _leads_into_block(lines)
            formula.append(_QUOTE.sub("", line).strip())
        else:  # code opens here
            _leads_into_code(lines)
    _leads_into_block(lines)  # the passage may end where its formula or code begins, in the next chunk
    return lines


def _quote_formula(lines: list[str], formula: str) -> None:
    """Display math as a line of its own, or joined to the lead-in above it ("Focal loss 在交叉熵前面乘了一个调制因子：" and
    its `$$FL(p_t) = …$$`): a lead-in is never quoted alone, and the formula alone does not say what it is of."""
    last = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), None)  # blank lines may come between
    if formula and last is not None and lines[last].rstrip().endswith((":", "：")) and not _left_out(lines[last]):
        lead = lines[last].rstrip()
        lines[last] = f"{lead}{'' if lead.endswith('：') else ' '}{formula}"
        del lines[last + 1:]
    elif formula:
        lines.append(formula)


def _leads_into_block(lines: list[str]) -> None:
    """Mark the line above display math or code as the lead-in it is when its sentence stops short of it ("所以权重 w
    的更新公式为", "定义 12.2 PAC 可学习的核心在于, 需要的样本数目 m 是", "修改后的代码如下"): it ends with a colon, and no answer
    quotes it alone. A note's point without a stop ("此时困惑度相当于交叉熵的指数形式", over its formula) says it whole."""
    last = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), None)  # blank lines may come between
    if last is not None and _STOPS_SHORT.search(lines[last]) and not lines[last].rstrip().endswith((":", "：")):
        lines[last] = lines[last].rstrip() + ("：" if has_cjk(lines[last]) else ":")


# What a line says of the picture below it rather than of the subject ("Here, I plotted FGCU salary dataset from
# OpenData:", "(here, I've drawn 10,000 random samples …):", "… we write it down for completeness:", "如图所示：")
_SHOWS = re.compile(r"\b(?:plot|plots|plotted|draw|drawn|drew|show|shows|shown|illustrat\w*|depict\w*|visuali[sz]\w*|"
                    r"write|writes|wrote|written)\b|"
                    r"如图|下图|图中", re.IGNORECASE)


def _leads_into_picture(lines: list[str]) -> None:
    """The line above a picture, which an answer cannot show: a sentence stopping short of the formula it pictures is
    a lead-in ("In context of pattern classification, we can express it as"), as one above display math is; a point
    that only ends on a colon says it whole ("What makes it "naive" is that we compute the conditional probability
    … as the product of the individual probabilities for each feature:" was never quoted, the picture its only
    continuation), unless it only points at what follows or at the picture ("Below, I plotted some examples:") or
    names only a count or a name ("The update rule:"). A list item that only names a point is the picture's caption
    ("1) UCI Wine Dataset" was quoted as a point)."""
    last = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), None)  # blank lines may come between
    if last is None or _left_out(lines[last]):
        return
    if _title(lines[last]):
        lines[last] = ""
        return
    _said_before(lines, last)


def _leads_into_code(lines: list[str]) -> None:
    """The line above a code block, which an answer leaves out: as above a picture, a point that only ends on a colon
    says it whole ("2. 合并 LoRA 参数到原模型：适用于高效推理，避免额外计算开销：" over the one line that merges them was never
    quoted, and the answer to "LoRA 训练完之后推理会不会变慢？" kept only the other option); a lead-in stays one ("修改后的代码如下：",
    "You can do it with:", a title)."""
    last = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), None)
    if last is None or _left_out(lines[last]) or _title(lines[last]):
        _leads_into_block(lines)
        return
    _said_before(lines, last)


def _said_before(lines: list[str], last: int) -> None:
    """The line `last`, above a picture or code: a lead-in when it stops short of it, a sentence when it says a point of
    its own and only ends on a colon."""
    said = _clean(_QUOTE.sub("", lines[last]))
    if not said.endswith((":", "：")):
        _leads_into_block(lines)
        return
    if _POINTS_AHEAD.search(said) or _SHOWS.search(said):  # anywhere in the line: "… can look as follows, where C1,
        return  # C2, ... Cm shall symbolize the decision tree classifiers:" is cut at "... Cm"
    said = split_quotable(said)[-1]  # the sentence the colon ends ("… criterion function? Let's do the math:")
    if ((len(said) > MAX_LEAD_IN or re.search("[，,；;]", said)) and not _STOPS_SHORT.search(said[:-1])
            and not is_aside(said)):  # a clause of its own, as `_joined_to_lists` tells
        upper = lines[last].rstrip()
        lines[last] = upper[:-1] + ("。" if upper.endswith("：") else ".")


def _in_list(line: str) -> bool:
    """Whether a line is a list item or indented under one: a line indented below it goes on the item."""
    body = _QUOTE.sub("", line)
    return bool(_BULLET.match(body)) or _indent(line) > 0


def _math_opening(line: str) -> str | None:
    """`$$` when a line opens display math that goes on below it."""
    body = _QUOTE.sub("", line).strip()
    return _MATH if body.startswith(_MATH) and (body == _MATH or not body.endswith(_MATH)) else None


def _cut_by_width(lines: list[str]) -> set[int]:
    """The lines that go on a Chinese paragraph cut at a fixed width (pandoc wraps at 72 columns, notes converted
    from PDF keep its lines): most of its lines but the last are wide and end in mid-sentence. A paragraph of
    short lines, each a point of its own without a stop (as notes list them), is no such paragraph; nor does a
    line go on in a quote, a formula or HTML below it ("> ../机器学习/信息论" under a list item)."""
    cut: set[int] = set()
    start = 0
    for end in [i for i, line in enumerate(lines) if not line.strip()] + [len(lines)]:
        paragraph = [_QUOTE.sub("", line).strip() for line in lines[start:end]]
        upper = paragraph[:-1]
        if upper and has_cjk("".join(paragraph)) and sum(
                _width(line) >= WRAPPED_WIDTH and not line.endswith(_ENDS) and not _TRAILING_URL.search(line)
                for line in upper) >= 0.6 * len(upper):
            cut.update(i for i in range(start + 1, end) if _goes_on(paragraph[i - start])
                       and not _BULLET.match(paragraph[i - start])
                       and bool(_QUOTE.match(lines[i].lstrip())) == bool(_QUOTE.match(lines[i - 1].lstrip())))
        start = end + 1
    return cut


def _comma_goes_on(upper: str, line: str) -> bool:
    """Whether a line goes on the line above it that stops on a comma (`_GOES_ON_BELOW`): words, no new item, both
    quoted or neither."""
    lower = _QUOTE.sub("", line).strip()
    return (bool(_GOES_ON_BELOW.search(upper)) and _goes_on(lower) and not _BULLET.match(lower)
            and bool(_QUOTE.match(upper)) == bool(_QUOTE.match(line)))


def _goes_on(line: str) -> bool:
    """Whether a line can go on the sentence above it: it starts with words, or with inline math that words follow (a
    formula alone on its line, as a picture of one is read, is no part of the sentence above)."""
    words = _INLINE_MATH.sub("", line)
    return bool(_GOES_ON.match(line)) and (not line.startswith("$") or has_cjk(words) or bool(_ENGLISH_WORD.search(words)))


def _width(text: str) -> int:
    """Columns a line takes in a terminal or an editor: a Chinese character two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wraps(line: str, below: str) -> bool:
    """Whether a line of prose goes on in the line below it."""
    return (bool(line.strip()) and row_cells(line) is None and not line.lstrip().startswith("#")
            and not _left_out(line) and not (INDENTED_CODE.match(line) and INDENTED_CODE.match(below)))


def _units(source: Source, glossary: Glossary, lang: str) -> tuple[list[_Unit], list[_Unit]]:
    """(answer paragraphs, sentences) of one source; of what a bilingual note says twice, the sentences
    in the question's language `lang` alone (an English question was answered "池化在每个通道的小窗口上做最大
    或平均" from a bilingual answer whose English paragraph did not fit, or with both halves of one line)."""
    in_list = False  # the line being read is a list's item
    # what a section's own heading names is what each of its sentences is about: under "## PPO" the objective and
    # its four models never say "PPO", and "How does PPO work in RLHF?" quoted none of them
    about = frozenset() if source.kind == "answer" else frozenset(
        t for t in _keys(source.heading, glossary) if t.startswith(CONCEPT) and t not in _ASPECT_KEYS)

    def unit(position: int, text: str, written_in: str | None = None, context: frozenset[str] = frozenset(),
             opens: bool = False, own: str | None = None) -> _Unit:
        """`own`: what the unit says that is its own, when part of its text repeats (a table row's column names)."""
        return _Unit(source, position, text, word_keys(text if own is None else own), written_in or language(text),
                     _keys(text, glossary) | context, opens, item=in_list, about=about)

    if source.kind == "answer":
        parts = _answer_parts(source.text)
        heading = _keys(source.path, glossary)  # the question the block answers
        answers = [unit(i, text, part, heading) for i, (part, text) in enumerate(parts)]
        quoted = {part for part, _ in _in_language(parts, lang, lambda p: p[0])}
        sentences = [unit(i * 100 + j, s, part) for i, (part, text) in enumerate(parts) if part in quoted
                     for j, s in enumerate(split_quotable(text)) if _useful(s)]
        return answers, sentences
    sentences: list[_Unit] = []
    table: list[list[str]] = []  # the rows of the table being read: header, rule, body

    def read_table() -> None:
        if len(table) > 2 and is_rule(table[1]):
            context = _keys(" ".join(table[0]), glossary)  # a row is about its columns' names too
            for text, own in row_sentences(table[0], table[2:], has_cjk(" ".join(map(" ".join, table)))):
                if _useful(text := _clean(text)):
                    sentences.append(unit(len(sentences), text, context=context, opens=True, own=_clean(own)))
        table.clear()

    above = ""  # a list item that only names what the lines below it say ("2. 梯度爆炸"), as written
    to_reader = False  # the list being read is under words to the reader

    def said_alone(line: str) -> None:
        # a list item is as short as it says: "1. 按置信度排序" was no step of NMS's four
        item = bool(_BULLET.match(_QUOTE.sub("", line)))
        if line and _useful(text := _clean(_QUOTE.sub("", line)), MIN_ITEM_CHARS if item and has_cjk(line) else MIN_CHARS):
            sentences.append(unit(len(sentences), text, opens=True))

    for line in _joined_to_lists(_prose_lines(source.text), word_keys(source.path)):
        body = _QUOTE.sub("", line)
        in_list = bool(_BULLET.match(body))
        if (cells := row_cells(body)) is not None:  # a table, in a quote or callout too
            said_alone(above)
            above = ""
            table.append(cells)
            continue
        read_table()
        if not line.strip():
            continue
        cleaned = _clean(body)
        if not _BULLET.match(body):
            to_reader = speaks_to_reader(cleaned) and cleaned.endswith(LEADS_IN)
        elif to_reader:  # what the reader will learn, listed under "After reading this tutorial, you will..."
            continue
        written, above = above, ""
        left_out = _left_out(line)
        title = "" if left_out else _title(line)
        if left_out or title or (_BULLET.match(body) and _indent(line) <= _indent(written)):
            said_alone(written)  # it names nothing below it
            written = ""
            if left_out or title:
                above = line if title else ""
                continue
        named = _title(written) if written else ""
        pairs = _follow_up(cleaned)
        if pairs is not None:
            said_alone(written)
            for text in filter(_useful, _in_language(pairs, lang)):
                sentences.append(unit(len(sentences), text, opens=True))
            continue
        for half in _in_language(_halves(cleaned), lang):
            for j, sentence in enumerate(_asked_with_answer(split_quotable(half))):
                if named and j == 0:
                    titled = f"{named}{'：' if has_cjk(named + sentence) else ': '}{sentence}"
                    if _useful(titled) and not _LABELLED.match(sentence):
                        sentence = titled
                    else:  # the sentence cannot be quoted, or has a label of its own: the title goes alone
                        said_alone(written)
                    named = ""
                if _useful(sentence, MIN_ITEM_CHARS if in_list and has_cjk(sentence) else MIN_CHARS):
                    sentences.append(unit(len(sentences), sentence, opens=j == 0))
    said_alone(above)
    read_table()
    return [], sentences


# A lead-in that only points at the list ("可以简要地归为以下几点：", "Here are some notable limitations:", "as follows:"):
# joined to the first item it took the room of the items after it (dev coverage 0.814 with no lead-in joined, 0.810 with
# every one)
MAX_LEAD_IN = 48  # characters of a lead-in joined to its list: a count or a name ("一共 4 个："), not a clause of its own
_POINTS_AHEAD = re.compile(r"以下|如下|下面|下列|几点|几种|几个方面|\b(?:the following|as follows|below|here are|include)\b",
                           re.IGNORECASE)


def _joined_to_lists(lines: list[str], heading: frozenset[str]) -> list[str]:
    """A line that introduces a list ("一共 4 个：", "PPO loads four models:") written on the list's first item: a lead-in
    is never quoted alone, and the list quoted alone lost what it counts ("PPO 阶段需要几个模型？" was answered by the four
    models' names, without "4"). One that mostly says the section's `heading` (its word keys) again adds nothing ("Here
    are some notable limitations of transformers and potential solutions:" took the room of the list's later items)."""
    out = list(lines)
    for i, line in enumerate(out):
        if ":" not in line and "：" not in line:  # no lead-in: not cleaned twice (`_units` cleans every line)
            continue
        body = _QUOTE.sub("", line)
        cleaned = _clean(body)
        keys = word_keys(cleaned)
        if (_BULLET.match(body) or not cleaned.endswith((":", "：")) or _left_out(line) or speaks_to_reader(cleaned)
                or is_aside(cleaned) or _title(line) or len(split_quotable(cleaned)) > 1 or _POINTS_AHEAD.search(cleaned)
                or len(cleaned) > MAX_LEAD_IN or re.search("[，,；;]", cleaned)
                or len(keys & heading) * 3 >= 2 * len(keys)):
            continue  # a line of several sentences keeps its own; a lead-in saying mostly the heading adds nothing
        below = next((j for j in range(i + 1, len(out)) if out[j].strip()), None)
        quote = _QUOTE.match(out[below]) if below is not None else None
        item = out[below][quote.end() if quote else 0:] if below is not None else ""
        if (bullet := _BULLET.match(item)) and bool(quote) == bool(_QUOTE.match(line)):  # both quoted, or neither
            lead = body.strip()
            out[below] = (f"{out[below][:quote.end() if quote else 0]}{item[:bullet.end()]}{lead}"
                          f"{'' if lead.endswith('：') else ' '}{item[bullet.end():]}")
            out[i] = ""
    return out


def _asked_with_answer(sentences: list[str]) -> list[str]:
    """A note's own question goes with the sentence that answers it ("为什么不除以 d_k？因为除以 d_k 后方差变成 1/d_k…"):
    a question is never quoted alone, and its answer alone read as the opposite of the sentence before it."""
    out: list[str] = []
    asked = ""
    for sentence in sentences:
        if sentence.endswith(("?", "？")):
            asked += sentence if not asked or asked.endswith("？") else f" {sentence}"
            continue
        out.append(f"{asked}{'' if not asked or asked.endswith('？') else ' '}{sentence}")
        asked = ""
    return out


def _bare_formula(text: str) -> bool:
    """Whether a unit is a formula rather than a sentence: an interview answer says what it means first."""
    if not (TEX_COMMAND.search(text) or "=" in text):
        return False
    rest = TEX_COMMAND.sub(" ", text)  # the commands' names count for neither side: `\frac{\partial y}` is no words
    return sum(len(w) for w in _WORDS.findall(rest)) < FORMULA_WORDS * len(rest.replace(" ", ""))


def _left_out(line: str) -> bool:
    """A line an answer does not quote: a table's rule, a heading, code, a link, references, a demo's
    command, a to-do item. A footnote's text is a passage of its own where its mark is, quoted as any line ("[^1]: 5 层
    sigmoid 的梯度上界是 …" was found by search and never quoted), its label no part of it ("[^2]: https://…" is a link)."""
    return bool(_SKIP.search(FOOTNOTE.sub("", line)) or TO_DO.match(_QUOTE.sub("", line)))


def _indent(line: str) -> int:
    body = _QUOTE.sub("", line)
    return len(body) - len(body.lstrip())


def _title(line: str) -> str:
    """The text of a list item or a bold line that names a point without making it ("2. 梯度爆炸",
    "**Batch size**"): short, no sentence or clause stop. Empty for any other line."""
    raw = _QUOTE.sub("", line)
    if not (_BULLET.match(raw) or BOLD_LINE.match(raw)):
        return ""
    text = _clean(raw).rstrip(":：").strip()
    return text if names_a_point(text) else ""


class Terms(dict):
    """The question's terms, weighted, and (`parts`) the word keys of each of its concepts' names as the question says
    them: a passage that says two or more of those words apart names the concept in part ("Bias / Variance
    (Underfitting/Overfitting)" for "What is the bias-variance tradeoff?", which a bundled follow-up naming the
    concept whole led: new-user dev 145 to 146 of 172, answers dev unchanged)."""

    def __init__(self, weights: dict[str, float], parts: dict[str, frozenset[str]]) -> None:
        super().__init__(weights)
        self.parts = parts


def _weights(terms: frozenset[str], units: list[_Unit], parts: dict[str, frozenset[str]]) -> Terms:
    """Inverse document frequency of each question term among the candidate units."""
    n = len(units) or 1
    return Terms({t: math.log(1 + n / (1 + sum(t in u.keys for u in units))) for t in terms}, parts)


Weights = dict[str, Terms]  # per language: the question's terms in that language, weighted


def _in(weights: Weights, lang: str, asked: str) -> dict[str, float]:
    """The question's terms for a text in `lang`: its translation's when there is one in that language."""
    return weights.get(lang, weights[asked])


def _coverage(keys: frozenset[str], weights: dict[str, float]) -> float:
    """The weighted share of the terms the keys hold; a concept they lack counts in part when they hold two or more
    words of its name (`Terms.parts`), in proportion."""
    parts = weights.parts if isinstance(weights, Terms) else {}
    total = sum(weights.values()) or 1.0
    held = 0.0
    for term, weight in weights.items():
        if term in keys:
            held += weight
        elif term in parts and len(said := parts[term] & keys) >= 2:
            held += weight * len(said) / len(parts[term])
    return held / total


def _rank_discount(rank: int) -> float:
    return 1 + RANK_DECAY * (rank - 1)


def _mostly_prose(text: str) -> bool:
    """Whether a passage's prose is at least as long as its code blocks."""
    return 2 * sum(len(piece) for code, piece in prose_and_code(text) if not code) >= len(text)


def _source_keys(source: Source, glossary: Glossary,
                 sections: bool = False) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(keys of the heading path, keys of the heading path and the text, keys of the headings below the note's
    title) of a passage; the last is the whole path unless other `sections` of its note were found too, or when
    the passage's question is the note's title."""
    heading = _keys("\n".join([source.path, *source.aliases]), glossary)  # a note's aliases name it as its title does
    below = _question_path(source)[1:] if sections else ()
    return heading, _keys(source.text, glossary) | heading, _keys(" > ".join(below), glossary) if below else heading


def answers_question(source: Source, keys: tuple[frozenset[str], frozenset[str], frozenset[str]], weights: Weights,
                     lang: str, asks: bool = False, about_another: bool = False) -> float:
    """How well a passage answers the question: the question's terms (in the passage's language when
    the question was translated) in its heading path and in its text (`keys`, from `_source_keys`;
    the heading counted apart, so a section *about* the subject beats one that names it once; among sections of
    one note, a term only the note's title names counts TITLE_ONLY_SHARE there, since each of them has it), in
    the question's language, discounted by retrieval rank. A follow-up list answers other questions, unless one of
    them is this one (`asks`, `_asks_it`); a heading on another subject (`about_another`, `_about_another`) asks why of
    it, not of the question's."""
    heading, text, below = keys
    written = language(source.text)
    terms = _in(weights, written, lang)
    if about_another:  # the why its heading asks is its own subject's ("LSTM 为什么能缓解梯度消失" for "RNN 为什么会梯度消失？")
        heading, below = heading - _SHAPE, below - _SHAPE
    named = TITLE_ONLY_SHARE * _coverage(heading, terms) + (1 - TITLE_ONLY_SHARE) * _coverage(below, terms)
    fit = HEADING_WEIGHT * named + (1 - HEADING_WEIGHT) * _coverage(text, terms)
    if written != lang:
        fit *= LEAD_LANGUAGE_WEIGHT
    if _FOLLOW_UPS.search(source.heading) and not asks:
        fit *= FOLLOW_UP_WEIGHT
    return fit / _rank_discount(source.n)


def _about_another(source: Source, glossary: Glossary, weights: Weights, topic: dict[str, str],
                   named_first: str | None = None) -> bool:
    """Whether a passage's own heading is about another subject than the question's: it names one of the question's
    concepts with a sibling of another it asks (of its topic) in its place ("LSTM 为什么能缓解梯度消失" for "RNN
    为什么会梯度消失？"; not "RNN 梯度消失和梯度爆炸", nor "梯度消失和梯度爆炸的原因是什么？"), and not the concept the
    question names first (`named_first`), its subject ("Adam optimization algorithm" is about "How does Adam combine
    momentum and RMSprop?", though it names no momentum and names "optimization algorithm", of their topic). `topic`:
    each concept's topic (`_concept_topics`)."""
    path = _question_path(source)
    if not path:
        return False
    named = {t for t in _keys(path[-1], glossary) if t in topic}
    if named_first in named:
        return False
    asked = {t for t in frozenset().union(*weights.values()) if t in topic}
    return bool(named & asked) and bool({topic[t] for t in named - asked} & {topic[t] for t in asked - named})


def _concept_topics(glossary: Glossary) -> dict[str, str]:
    """Each concept's topic, by its CONCEPT-marked id (concepts no bundled note covers left out)."""
    return {CONCEPT + entry.id: entry.topic for entry in glossary.entries if entry.topic}


def _asks_it(source: Source, weights: Weights, lang: str, glossary: Glossary, said: frozenset[str]) -> bool:
    """Whether a follow-up list asks the question itself: the question names one of its questions (`Q: … A: …`, either
    language's) whole (`_names_whole`), which names ASKS_IT of the question's terms ("How do L1 and L2 regularisation
    differ?" asks "What is the difference between L1 and L2 regularization?"; not "… between weight decay and L2
    regularization?", though the glossary reads that as weight decay alone)."""
    if not _FOLLOW_UPS.search(source.heading):
        return False
    terms = _in(weights, language(source.text), lang)
    return any(_names_whole(half, said) and _coverage(_keys(half, glossary), terms) >= ASKS_IT
               for line in source.text.splitlines() if (qa := _FOLLOW_UP.match(_clean(_QUOTE.sub("", line))))
               for half in _halves(qa.group(1)))


def _question_path(source: Source) -> tuple[str, ...]:
    """The heading path of the question a passage belongs to: an answer block's path without its own heading."""
    return tuple(source.heading_path[:-1] if source.kind == "answer" else source.heading_path)


Keys = dict[int, tuple[frozenset[str], frozenset[str], frozenset[str]]]  # `_source_keys` of each source, by its number


def lead_source(sources: list[Source], keys: Keys, fits: dict[int, float], weights: Weights, lang: str,
                definition: bool = False, heading_fit: dict[int, int] | None = None,
                titled: frozenset[int] = frozenset(), glossary: Glossary | None = None) -> Source | None:
    """The passage the answer opens with.

    The user's own passage leads when retrieval ranks one in the top OWN_WITHIN and it is about the
    question: the best ranked within OWN_NEAR_TIE of the best own fit that, in the question's language, does
    not only mention the subject (`_mentions_only`), or of those within NEAR_TIE of its fit the one whose own heading
    names most of the question (`_own_heading_share`), and, against every passage, at least
    OWN_MIN_SHARE of the best fit, or, when it is in the other language (where words meet only through
    a rough translation, if any), of the best coverage of the question's glossary concepts. Otherwise
    the best fit leads, an interview answer winning near-ties; in both cases near-ties go first to a passage whose own
    heading asks what the question asks (`heading_fit`, `_heading_fit`). For a `definition` question the lead's note
    opens the answer where it says what its subject is (`_opening`); a section below the lead whose own title the
    question names whole (`titled`) takes its place (`_named_below`). An interview answer to the very same
    question replaces the section it closes. `fits`: `answers_question` of each source, by its number.
    """
    best = max((fits[s.n] for s in sources), default=0.0)
    if best <= 0:
        return None
    pool = _naming_the_subject(sources, keys, fits, weights, lang)
    heading_fit = heading_fit or {}
    lead = _own_lead(sources, keys, fits, weights, lang, pool, heading_fit, glossary)
    if lead is None:
        best = max(fits[s.n] for s in pool)
        near = [s for s in pool if fits[s.n] >= NEAR_TIE * best]
        lead = max(near, key=lambda s: (s.kind == "answer", heading_fit.get(s.n, 0), fits[s.n]))
    if definition:
        lead = _opening(lead, sources, fits)
    lead = _named_below(lead, sources, fits, titled)
    if lead.kind != "answer":
        same = [s for s in sources if s.kind == "answer" and s.file == lead.file
                and _question_path(s) == _question_path(lead)]
        lead = same[0] if same else lead
    return lead


def _topics_path(source: Source) -> tuple[str, ...]:
    """The headings of a passage's question, the parts any note has ("Overview") aside: its length is how deep in its
    note the question is, 1 opening the note."""
    return tuple(heading for heading in _question_path(source) if not names_a_part(heading))


def _opening(lead: Source, sources: list[Source], fits: dict[int, float]) -> Source:
    """The retrieved passage above the lead in its note nearest the note's opening (its headings, parts aside, begin
    the lead's), when within OPENING_NEAR of the lead's fit: a note says what its subject is where it opens ("What is
    multi-hop reasoning?" is answered by "Multi-hop Reasoning > Overview", not by "… > When to Consider Alternatives >
    Use Single-Hop RAG if:"). Not a shallower section on something else: "最大熵原理是什么？" opened with the book note's
    "最大熵模型 > 最大熵模型的学习", beside "最大熵模型 > 概念 > 最大熵原理", which answers it."""
    path = _topics_path(lead)
    above = [s for s in sources if s.file == lead.file and fits[s.n] >= OPENING_NEAR * fits[lead.n]
             and len(heads := _topics_path(s)) < len(path) and path[:len(heads)] == heads]
    return min(above, key=lambda s: (len(_topics_path(s)), -fits[s.n]), default=lead)


def _named_below(lead: Source, sources: list[Source], fits: dict[int, float], titled: frozenset[int]) -> Source:
    """The retrieved section below the lead in its note (its heading path goes on the lead's) whose own title the
    question names whole (`titled`), within OPENING_NEAR of the lead's fit, else the lead: a note's opening introduces
    its sections, and a question naming one asks what it says ("How is the reward model trained in RLHF?" and "What is
    WordPiece?" opened with the note's one-line introduction, not its "Reward model" and "WordPiece" sections)."""
    path = _question_path(lead)
    below = [s for s in sources if s.n in titled and s.file == lead.file and len(_question_path(s)) > len(path)
             and _question_path(s)[:len(path)] == path and fits[s.n] >= OPENING_NEAR * fits[lead.n]]
    return max(below, key=lambda s: fits[s.n], default=lead)


def _said(weights: Weights) -> frozenset[str]:
    """The words the question says, as asked or as translated, its concepts' names among them."""
    return frozenset(t for terms in weights.values() for t in terms if not t.startswith(CONCEPT)).union(
        *(words for terms in weights.values() for words in terms.parts.values()))


def _names_whole(title: str, said: frozenset[str]) -> bool:
    """Whether the question (`said`: its words, `_said`) names a title (or a question) whole, in its words: each word
    the title says beyond a question's frame and aspects (a title naming only an aspect, "优点", is every subject's), in
    a concept's name too ("Sinusoidal" of "sinusoidal positional encoding"). Words, not concepts: the glossary calls
    WordPiece a tokenizer, and "What is tokenization?" names no "WordPiece" section."""
    words = word_keys(without_aspects(without_lead_label(title))) - _FRAME
    return bool(words) and words <= said


def _naming_the_subject(sources: list[Source], keys: Keys, fits: dict[int, float], weights: Weights,
                        lang: str) -> list[Source]:
    """The passages that may lead: those that hold one of the question's terms besides what it asks about its
    subject (why, helps: `_SHAPE`), when any does. A passage that shares only the question's shape ("Why do
    residual connections help train deep networks?" for "Why does label smoothing help?") led over the one that
    names the subject, its question in the heading weighing most."""
    def subject(terms: dict[str, float]) -> Terms:
        return Terms({t: w for t, w in terms.items() if t not in _SHAPE}, getattr(terms, "parts", {}))

    naming = [s for s in sources if fits[s.n] > 0 and _coverage(keys[s.n][1], subject(_in(weights, language(s.text), lang)))]
    return naming or sources


def _heading_fit(source: Source, question: str, glossary: Glossary, weights: Weights, keys: Keys,
                 about_another: bool = False) -> int:
    """How a passage's own heading meets the question, for near-ties: -1 when it compares a concept the question asks
    about with one it does not ("DPO vs PPO" led "What is PPO?" over the note's "PPO" section), or asks of a sibling of
    its subject in its place (`_about_another`); 1 when the question
    compares and so does the heading, whose path names two of the question's concepts ("LSTM 和 GRU 有什么区别？"
    opened with the note's "GRU" section, ranked above its "LSTM vs GRU" table; "weight decay and L2 regularization",
    one concept to the glossary, compares no L1 its text names in passing); else 0."""
    path = _question_path(source)
    if not path or not compares(path[-1]):
        return -int(about_another)
    asked = frozenset().union(*weights.values())
    named = {t for t in _keys(path[-1], glossary) if t.startswith(CONCEPT) and t not in _ASPECT_KEYS}
    concepts = {t for t in asked if t.startswith(CONCEPT) and t not in _ASPECT_KEYS}
    if compares(question) and len(concepts & keys[source.n][0]) >= 2:
        return 1
    return -int(bool(named & asked) and bool(named - asked))  # "GPTQ 和 AWQ 的区别" for "GPTQ 和 SmoothQuant …" too


def _own_lead(sources: list[Source], keys: Keys, fits: dict[int, float],
              weights: Weights, lang: str, pool: list[Source], heading_fit: dict[int, int],
              glossary: Glossary | None = None) -> Source | None:
    own = [s for s in sources[:OWN_WITHIN] if s.own and s in pool]
    if not own or all(s.own for s in sources):
        return None
    best_own = max(fits[s.n] for s in own)
    # The first near the best that is about the question: d2l's "Dot Product Attention", ranked first, only mentions
    # what "Why does the scaled dot-product attention divide by sqrt(d)?" asks, its "Scaled Dot Product Attention" answers.
    near = [s for s in own if fits[s.n] >= OWN_NEAR_TIE * best_own
            and not (language(s.text) == lang and _mentions_only(s, sources, keys, weights[lang], glossary))]
    lead = max(near, key=lambda s: heading_fit.get(s.n, 0)) if near else None  # the best ranked of the best
    if lead is not None and glossary is not None:
        # ... or, of those that fit about as well as it, the one whose own heading names most of the question: "Why do
        # we need distributed computing …?" opened with the user's "18.2.7 Horovod", ranked above their "18.1 为什么需要
        # 分布式计算？", and "If you have limited time, which hyperparameters should you tune first?" with a chapter's
        # preface ("14.1 写在前面") above its "14.2.4 超参数的重要性顺序"
        ties = [s for s in near if fits[s.n] >= NEAR_TIE * fits[lead.n]]
        lead = max(ties, key=lambda s: (heading_fit.get(s.n, 0), _own_heading_share(s, weights, lang, glossary)))
    if lead is not None and language(lead.text) != lang:
        # one in the question's language that fits as well and names as many of its concepts comes first ("What is
        # LayerNorm?" opened in Chinese with the note's RMSNorm comparison, ranked above its English one)
        concepts = {t for t in weights[lang] if t.startswith(CONCEPT) and t not in _ASPECT_KEYS}
        lead = next((s for s in near if language(s.text) == lang and fits[s.n] >= fits[lead.n]
                     and len(concepts & keys[s.n][1]) >= len(concepts & keys[lead.n][1])), lead)
    if lead is None:
        return None
    if fits[lead.n] >= OWN_MIN_SHARE * max(fits[s.n] for s in sources):
        return lead
    if language(lead.text) == lang:
        return None
    # In the other language its words meet the question's only through a rough translation, if any: the
    # question's glossary concepts tell instead.
    concepts = {t: w for t, w in weights[lang].items() if t.startswith(CONCEPT)}
    if not concepts:
        return lead

    named = {s.n: _coverage(keys[s.n][1], concepts) for s in sources}
    return lead if named[lead.n] >= OWN_MIN_SHARE * max(named.values()) else None


def _own_heading_share(source: Source, weights: Weights, lang: str, glossary: Glossary) -> float:
    """The share of the question's terms a passage's own heading names: the last of its question's headings that is not
    a part any note has (a "小结" sums up what its note's title names), or an interview answer's own heading when that
    names more (a follow-up's "如果面试官追问「池化和卷积的区别」", where most say "面试回答")."""
    terms = _in(weights, language(source.text), lang)
    path = [heading for heading in _question_path(source) if not names_a_part(heading)]
    own = [source.heading] if source.kind == "answer" else []
    return max((_coverage(_keys(heading, glossary), terms) for heading in [*path[-1:], *own]), default=0.0)


def _only_code_answers(sources: list[Source], prose: list[Source], keys: Keys, fits: dict[int, float],
                       weights: Weights, lang: str) -> bool:
    """Whether the passage that answers the question is code alone, no prose coming near it or naming the
    question's glossary concepts: "How does non-maximum suppression work?" over a note with nothing but
    `python3 nms.py` under its title, where the prose found beside it (a torchrun flag's "最大重啟次數") answers
    nothing and must not lead."""
    concepts = {t for t in weights[lang] if t.startswith(CONCEPT)}
    if any(concepts & keys[s.n][1] for s in prose):
        return False
    best_code = max((fits[s.n] for s in sources if s not in prose), default=0.0)
    return best_code > 0 and max(fits[s.n] for s in prose) < CODE_ONLY_SHARE * best_code


def _mentions_only(lead: Source, sources: list[Source], keys: Keys, terms: dict[str, float],
                   glossary: Glossary | None = None) -> bool:
    """Whether the user's passage only mentions what the question asks (a study plan's "目标：能读懂 Transformer
    的层结构、注意力、位置编码"): its heading path names next to nothing of the question while a bundled passage's
    heading names much of it. Its heading's concepts name what their English names spell: the segmenter holds a
    Chinese name whole, and "学习率调度" named no 学习率 as "learning rate schedule" names the learning rate (a user's
    "## 学习率调度" only mentioned "余弦退火学习率公式是什么？", a bundled passage leading)."""
    heading = keys[lead.n][0]
    if glossary is not None:
        heading |= _keys(glossary.english(lead.path), glossary)
    return (_coverage(heading, terms) < OWN_HEADING_NONE
            and max((_coverage(keys[s.n][0], terms) for s in sources if not s.own), default=0.0) >= OTHER_HEADING_NAMES)


def _other_side(question: str, lead: Source, sources: list[Source], keys: Keys, weights: Weights,
                lang: str) -> Source | None:
    """For a comparison question, the best-ranked passage whose heading names a side of it that the lead
    does not name at all (the lead's own section and follow-up lists aside), else None. A side is a subject, not
    what is asked of it: "深度学习和传统机器学习最大的区别是什么？为什么说它可以不依赖手工特征？" gave half the room to "为什么 GPU
    适合深度学习？" for its "为什么", and the lead's "learn representations directly from raw data" went unquoted."""
    if not compares(question):
        return None
    named = _section_keys(lead, sources, keys)
    terms = _in(weights, language(lead.text), lang)
    return _naming(lead, sources, keys, {t for t in terms if t not in named and t not in _ASPECT_KEYS})


def _other_part(question: str, translation: str, lead: Source, sources: list[Source], keys: Keys,
                weights: Weights, lang: str, glossary: Glossary) -> Source | None:
    """For a question that asks two things ("dropout 为什么能起到正则化的作用？它有什么缺点？", answered under "Disadvantages
    of dropout" and "Understanding dropout regularization"), the best-ranked passage that answers a part the lead's
    section leaves unanswered (naming under PART_ANSWERED of that part's terms), else None: its heading names what
    the part asks beyond an aspect ("为什么" names no subject; "它有什么缺点" asks only an aspect) and PART_SUBJECT of
    the subject the lead's heading names ("dropout"; a heading naming only "neural network" of "How does L1/L2
    regularization affect a neural network?" is about something else), and its text names more of the part than the
    section. The parts are read in the lead's language, the translation's, when they match the question's."""
    parts = question_parts(question)
    if len(parts) < 2 or compares(question):
        return None
    written = language(lead.text)
    translated = question_parts(translation) if written != lang and language(translation) == written else []
    if len(translated) == len(parts):
        parts = translated
    terms = _in(weights, written, lang)
    named = _section_keys(lead, sources, keys)
    subject = {t: w for t, w in terms.items() if t in keys[lead.n][0] and t not in _ASPECT_KEYS}
    for part in parts:
        asked = question_terms(part, glossary)
        part_terms = {t: w for t, w in terms.items() if t in asked}
        answered = _coverage(named, part_terms)
        if not part_terms or answered >= PART_ANSWERED:
            continue
        missing = {t for t in part_terms if t not in named}
        missing = (missing - _ASPECT_KEYS) or missing
        # The subject as the lead's heading names it: the part's words there, else the question's ("它有什么缺点？")
        named_here = {t: w for t, w in subject.items() if t in asked} or subject
        about = [s for s in sources if _coverage(keys[s.n][0], named_here) >= PART_SUBJECT] if subject else sources
        other = _naming(lead, about, keys, missing)
        if other is not None and _coverage(keys[other.n][1], part_terms) > answered:
            return other
    return None


def _naming(lead: Source, sources: list[Source], keys: Keys, missing: set[str]) -> Source | None:
    """The best-ranked passage outside the lead's section and follow-up lists whose heading names a missing term."""
    return next((s for s in sources if s is not lead and s.heading_path != lead.heading_path
                 and not _FOLLOW_UPS.search(s.heading) and missing & keys[s.n][0]), None)


def _section_keys(lead: Source, sources: list[Source], keys: Keys) -> frozenset[str]:
    """What the lead's section names: the keys of its retrieved chunks, heading paths and text."""
    return frozenset().union(*(keys[s.n][1] for s in _section_parts(lead, sources)))


def _section_parts(lead: Source, sources: list[Source]) -> list[Source]:
    """The retrieved chunks of the lead's section, in the note's order: a long section is cut into
    chunks, and the one that ranks first may be its middle."""
    return sorted((s for s in sources if s.kind == lead.kind and s.file == lead.file
                   and s.heading_path == lead.heading_path), key=lambda s: s.line_start)


def _code_block(text: str, room: int) -> str:
    """A passage's first fenced code block, dedented, cut after a line to fit `room` characters (a last line
    `...` marks the cut; "" when it is empty, or cut before its second line)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if fence_opening(_QUOTE.sub("", line))), None)
    if start is None:
        return ""
    if _QUOTE.match(lines[start]):  # a block in a quote or callout (a REPL's `>>>` is code in any other)
        lines = [_QUOTE.sub("", line) for line in lines]
    fence = fence_opening(lines[start])
    end = next((i for i in range(start + 1, len(lines)) if closes_fence(lines[i], fence)), len(lines))
    block = textwrap.dedent("\n".join(lines[start:end])).splitlines()
    opening, body = block[0].strip(), block[1:]
    while body and not body[-1].strip():
        body.pop()
    closing = opening[:len(fence)]
    kept: list[str] = []
    for i, line in enumerate(body):
        more = ["..."] if i + 1 < len(body) else []
        if len("\n".join([opening, *kept, line, *more, closing])) > room:
            kept.append("...")
            break
        kept.append(line)
    written = sum(1 for line in kept if line.strip() and line != "...")
    if written < (2 if kept and kept[-1] == "..." else 1):
        return ""
    return "\n".join([opening, *kept, closing])


def _duplicate(unit: _Unit, said: list[frozenset[str]]) -> bool:
    """Whether one unit already quoted (`said`: each one's tokens) holds nearly all of this unit's words."""
    return bool(unit.tokens) and any(len(unit.tokens & other) / len(unit.tokens) >= DUPLICATE_SHARE for other in said)


def extractive_answer(question: str, sources: list[Source], glossary: Glossary, budget: int = BUDGET_CHARS,
                      translation: str = "") -> str:
    """An answer made of cited passages from the sources, at most `budget` characters long.

    `translation` (the question in the notes' language, as search read it) finds the question's
    words in passages written in that language."""
    lang = language(question)
    answers: dict[int, list[_Unit]] = {}
    sentences: dict[int, list[_Unit]] = {}
    for source in sources:
        answers[source.n], sentences[source.n] = _units(source, glossary, lang)
    units = [u for group in (*answers.values(), *sentences.values()) for u in group]
    asked = question_terms(question, glossary)
    parts = _named_concepts(question, glossary)
    weights = {lang: _weights(asked, units, parts)}
    if translation and language(translation) != lang:
        written = frozenset().union(*(u.keys for u in units if u.language == language(translation)))
        shared = frozenset(t for t in asked
                           if t.startswith(CONCEPT) or (t.isascii() and (lang == "zh" or t in written)))
        weights[language(translation)] = _weights(question_terms(translation, glossary) | shared, units,
                                                  {**parts, **_named_concepts(translation, glossary)})
    chosen: list[_Unit] = []
    said: list[frozenset[str]] = []
    used = 0
    ranks: dict[int, int] = {}  # a source scored at another rank than its own (the lead's note, below)

    def take(unit: _Unit, limit: int = budget) -> bool:
        nonlocal used
        # The sentences of one source are one paragraph, a line each, cited once at its end: another costs a line.
        joins = not unit.code and any(u.source.n == unit.source.n and not u.code for u in chosen)
        cost = len(unit.text) + (1 if joins else len(f" [{unit.source.n}]") + 2)
        if _duplicate(unit, said) or used + cost > limit:
            return False
        chosen.append(unit)
        said.append(unit.tokens)
        used += cost
        return True

    def score(unit: _Unit, about: bool = False) -> float:
        """How much of the question a unit speaks to: by its own words, or `about` also by its section's heading."""
        weight = 1.0 if unit.language == lang else OTHER_LANGUAGE_WEIGHT
        keys = unit.keys | unit.about if about and unit.about else unit.keys
        rank = ranks.get(unit.source.n, unit.source.n)
        return weight * _coverage(keys, _in(weights, unit.language, lang)) / _rank_discount(rank)

    notes = Counter(s.file for s in sources)
    keys = {s.n: _source_keys(s, glossary, notes[s.file] > 1) for s in sources}  # the lead and a comparison's other side read them
    prose = [s for s in sources if answers[s.n] or sentences[s.n]]
    worded = _said(weights)
    asking = frozenset(s.n for s in sources if _asks_it(s, weights, lang, glossary, worded))
    topic = _concept_topics(glossary)
    named_first = next((CONCEPT + entry.id for entry in glossary.find(question)), None)
    another = frozenset(s.n for s in sources if _about_another(s, glossary, weights, topic, named_first))
    fits = {s.n: answers_question(s, keys[s.n], weights, lang, s.n in asking, s.n in another) for s in sources}
    asks_code = bool(_ASKS_CODE.search(question))
    code_only = (asks_code or not prose
                 or _only_code_answers(sources, prose, keys, fits, weights, lang))
    leads = sources if code_only else prose  # a passage of code alone leads when code is asked, or all there is
    if not asks_code:  # nor does a section named as code ("（3） Code") for its one line of lead-in
        leads = [s for s in leads if not _CODE_HEADING.match(s.heading)] or leads
    heading_fit = {s.n: _heading_fit(s, question, glossary, weights, keys, s.n in another) for s in leads}
    titled = frozenset(s.n for s in leads if _question_path(s) and _names_whole(_question_path(s)[-1], worded))
    lead = lead_source(leads, keys, fits, weights, lang, defines(question), heading_fit, titled, glossary)
    if lead is None:
        return ""
    # A lead that sums up or introduces the user's note (a part any note has: "小结", "Summary", "Overview") is explained
    # by the note's other sections, ranked as the lead and taking no room of MAX_SOURCES from other notes: 3.13_dropout.md's
    # "小结" led "丢弃法为什么能缓解过拟合？", and its "3.13.1 方法", 12th, that explains it gave way to bundled
    # regularization.md. Not a section mostly code, whose prose introduces the code ("我们运行几个例子来测试一下dropout函数。").
    ranks = {s.n: lead.n for s in sources if lead.own and names_a_part(lead.heading) and s.file == lead.file
             and s.n > lead.n and _mostly_prose(s.text)}
    lead_limit = int(budget * LEAD_SHARE)
    other = (_other_side(question, lead, leads, keys, weights, lang)
             or _other_part(question, translation, lead, leads, keys, weights, lang, glossary))
    read: set[int] = set()
    unquoted: list[_Unit] = []  # the leading section's sentences its share of the budget left out, in its order of choice
    subject_concepts = frozenset(t for t in asked if t.startswith(CONCEPT) and t not in _ASPECT_KEYS)
    formulas_last = not _ASKS_FORMULA.search(question)  # the budget goes to sentences first, unless asked for one

    def quote(source: Source, limit: int) -> None:
        """A leading passage: an interview answer's paragraphs in the question's language (else all), in
        order; else its section (its retrieved chunks) from the line that speaks to the question, each
        line's opening sentence (a list's items, a paragraph's topic) first, then the rest, those that
        speak to the question most first, shown in order; a section that is all code, its code."""
        before = len(chosen)
        if answers[source.n]:
            parts = _in_language(answers[source.n], lang, lambda u: u.language)
            for part in parts:  # a paragraph too long to fit gives the sentences that do
                if not take(part, limit):
                    for sentence in (s for s in sentences[source.n] if s.position // 100 == part.position):
                        take(sentence, limit)
            read.add(source.n)
            return
        section = _section_parts(source, sources)
        if source.n in asking and sentences[source.n]:  # of a follow-up list, the one that asks it: the others ask others
            take(max(sentences[source.n], key=score), limit)
            return
        if asks_code:  # code asked for ("手写 multi-head attention 的代码"): the section's first listing, then its prose
            for part in section:
                block = _code_block(part.text, limit - used - len(f"\n[{part.n}]") - 2)
                if block and take(_Unit(part, 0, block, word_keys(block), lang, code=True), limit):
                    break
        ordered = [u for s in section for u in sentences[s.n]]
        # a section whose own heading asks the question is its answer from the start ("Acceptance rule (why the output
        # distribution is unchanged)" was quoted from its closing sentence on, without the rule above it)
        # ... or names every concept the question asks about ("How does non-maximum suppression work?" was answered
        # with the drawback under "NMS 非极大值抑制", not the four steps above it that name no word of the question)
        heading = _keys(source.heading, glossary)
        whole = ((_coverage(heading, _in(weights, language(source.text), lang)) >= WHOLE_SECTION
                  or bool(subject_concepts) and subject_concepts <= heading)
                 and sum(len(u.text) + 1 for u in ordered) <= limit - used)  # ... and it fits whole: a long one
        first = 0 if whole else next((i for i, u in enumerate(ordered) if score(u) > 0), 0)  # spent it on its start
        while first > 0 and not ordered[first].opens:  # from the start of its line
            first -= 1
        while first > 0 and ordered[first].item and ordered[first - 1].item:  # from its list's first item: "1. 梯度
            first -= 1  # 直通…" went unquoted when only items 2 and 3 named the question's words
        for sentence in sorted(ordered[first:], key=lambda u: (formulas_last and _bare_formula(u.text), not u.opens,
                                                                0.0 if u.opens else -score(u))):
            if not take(sentence, limit):
                unquoted.append(sentence)
        chosen[before:] = sorted(chosen[before:], key=lambda u: (u.source.line_start, u.position))
        read.update(s.n for s in section)
        if len(chosen) > before:
            return
        for part in section:  # all code ("show how you would define ..."): its first block, cut to fit
            block = _code_block(part.text, limit - used - len(f"\n[{part.n}]") - 2)
            if block and take(_Unit(part, 0, block, word_keys(block), lang, code=True), limit):
                return

    # A comparison whose two sides are two sections of the notes ("CBOW 和 skip-gram 有什么区别？"), or a question of
    # two parts that two sections answer, gives each half of the lead's room, the other after the lead.
    quote(lead, lead_limit // 2 if other else lead_limit)
    if other and not chosen:  # the lead's first sentence needs more than half: it keeps the room
        read.clear()
        quote(lead, lead_limit)
    elif other:
        quote(other, lead_limit)
    start = len(chosen)
    rest = [u for n, units in sentences.items() if n not in read for u in units]
    ranked = sorted(rest, key=lambda u: (formulas_last and _bare_formula(u.text), -score(u, True), len(u.text)))
    floor = max(SENTENCE_RELEVANCE * max((score(u, True) for u in ranked), default=0.0), LEAD_RELEVANCE * fits[lead.n])
    quoted = {u.source.n for u in chosen}
    # what the question asks about (its concepts, not its aspect): a sentence that names none of them adds words the
    # question shares with something else ("投机解码为什么不会改变输出分布？" went on with top-p sampling and RoPE)
    subject = subject_concepts or _named_words(question)
    for unit in ranked:  # the lead's own note is on the subject, and a word of a concept's name names it in part
        keys = unit.keys | unit.about
        if subject and unit.source.file != lead.file and not any(t in keys or parts.get(t, frozenset()) & keys
                                                                 for t in subject):
            continue
        # ... nor one from a passage that answers another question and shares a word with this one: "What is a p-value?"
        # went on with Bobo the amoeba's lineage (0.08 of the lead's fit), a section of the same note of questions
        if unit.source.n not in ranks and fits[unit.source.n] < SUPPORT_FIT * fits[lead.n]:
            continue
        if score(unit, True) > 0 and score(unit, True) >= floor and (
                unit.source.n in quoted or unit.source.n in ranks or len(quoted) < MAX_SOURCES) and take(unit):
            quoted.add(unit.source.n)
    chosen[start:] = sorted(chosen[start:], key=lambda u: (not u.source.own, u.source.n, u.position))
    # The room the other passages leave goes to the leading section's own sentences that its share left out, in the
    # section's place and order: "Why do people call k-NN a lazy learner?" ended 200 characters short, without "The
    # "prediction" step in K-NN is relatively expensive!" (answers dev coverage 0.7826 -> 0.7839 over 222 questions:
    # four answers longer, one key point gained, no other answer changed). Not for a comparison's two sides, which
    # share the lead's room.
    if not other:
        more = len(chosen)
        for unit in unquoted:
            take(unit)
        if len(chosen) > more:
            lead_units = sorted(chosen[:start] + chosen[more:], key=lambda u: (u.source.line_start, u.position))
            chosen[:] = lead_units + chosen[start:more]
    return _paragraphs(_with_subjects(chosen, sentences, subject_concepts, budget - used, glossary))


# what may come before the name a sentence opens with: marks, an article ("The encoder reads…")
_BEFORE_NAME = r"[\W_]*(?:(?:the|a|an)\s+)?"


def _subject(unit: _Unit, glossary: Glossary) -> tuple[str, str] | None:
    """(the CONCEPT-marked id, the name as written) of the concept a sentence opens with, its subject ("RMSNorm 认为…");
    None for one whose subject is a pronoun ("它和 batch 无关…") or elided ("只有可学习的缩放 g…")."""
    for entry in glossary.find(unit.text)[:1]:
        for alias in sorted(entry.aliases, key=len, reverse=True):
            if found := re.match(_BEFORE_NAME + re.escape(alias), unit.text, re.IGNORECASE):
                return CONCEPT + entry.id, unit.text[found.end() - len(alias):found.end()]
    return None


# a sentence opening with a pronoun for its subject ("它和 batch 无关…", "It has no bias term.")
_PRONOUN_OPENING = re.compile(r"^[\W_]*(?:(?:it|its|this|they|their|these|those)\b|它|其|该|此)", re.IGNORECASE)
_NO_SUBJECT = ("v", "c", "d")  # ... or a Chinese one opening with a verb, conjunction or adverb (jieba's tags)


def _leans_on_a_subject(text: str) -> bool:
    """Whether a sentence's subject is a pronoun or elided ("只有可学习的缩放 g…", "保留了 LN 的关键性质", "通常没有偏置"):
    it says something of a subject said before it."""
    if _PRONOUN_OPENING.match(text):
        return True
    return bool(re.match(f"[{CJK}]", text)) and first_word_tag(text).startswith(_NO_SUBJECT)


def _with_subjects(chosen: list[_Unit], sentences: dict[int, list[_Unit]], asked: frozenset[str], room: int,
                   glossary: Glossary) -> list[_Unit]:
    """The quoted units with the subject of each whose own is a pronoun or elided, when that subject is not what the
    question asks (`asked`): "和 LayerNorm 比呢？" quoted "只有可学习的缩放 g，通常没有偏置 β。计算更少：不需要算均值…"
    under "LayerNorm 做两件事…", without "RMSNorm 认为起主要作用的是缩放，于是去掉减均值" between them, and taught that
    LayerNorm needs no mean; "它和 batch 无关…" did not say it was GroupNorm. The nearest sentence above it in its
    passage that opens with a subject comes with it when it fits in the `room` left; else it is marked with that
    subject as its heading names it ("RMSNorm：只有可学习的缩放 g…"), else it goes. With no sentence above, one under a
    heading naming none of what is asked is marked with what it names ("GroupNorm：它和 batch 无关…"), when that fits.
    The leading passage answers the question: what it says is about that."""
    kept = list(chosen)
    leaning: dict[int, tuple[_Unit, list[_Unit]]] = {}  # the sentence above naming their subject, and those leaning on it

    def quoted_above(unit: _Unit, concepts: set[str]) -> bool:
        marks = tuple(f"{name}{colon}" for name in _names(unit.source.heading, concepts, glossary) for colon in "：:")
        return any(u.source.n == unit.source.n and u.position < unit.position and (
            (said := _subject(u, glossary)) and said[0] in concepts or u.text.startswith(marks)) for u in kept)

    def mark(unit: _Unit, concepts: set[str]) -> bool:
        """Whether the unit is now marked with the subject its heading names, in the room left."""
        nonlocal room
        names = _names(unit.source.heading, concepts, glossary)
        at = kept.index(unit)
        label = f"{names[0]}{'：' if has_cjk(unit.text) else ': '}" if names else ""
        if not label or len(label) > room:
            return False
        kept[at] = replace(unit, text=label + unit.text)
        room -= len(label)
        return True

    def drop(unit: _Unit) -> None:
        nonlocal room
        kept.remove(unit)
        room += len(unit.text) + 1

    for unit in chosen[1:]:
        if unit.code or unit.source.n == chosen[0].source.n or not _leans_on_a_subject(unit.text):
            continue
        # a labelled line ("NLP：利用机器翻译生成新数据") names the subject of its own point only
        above = next((u for u in reversed(sentences[unit.source.n])
                      if u.position < unit.position and _subject(u, glossary) and not _LABELLED.match(u.text)), None)
        if above is None and unit.about & asked:
            continue  # a section on what is asked
        concepts = {_subject(above, glossary)[0]} if above else set(unit.about)
        if not concepts - asked or quoted_above(unit, concepts):
            continue  # about what is asked, or its subject is quoted above it
        if above is not None:
            leaning.setdefault(id(above), (above, []))[1].append(unit)
        else:  # with no room for it, as it was: "Weights must not all be zero" under Xavier's heading is no Xavier's
            mark(unit, concepts - asked)
    for above, units in leaning.values():
        concepts = {_subject(above, glossary)[0]}
        if len(above.text) + 1 > room and concepts <= units[0].about and mark(units[0], concepts):
            continue
        while units and len(above.text) + 1 > room:  # the last of those leaning on it give their room to it: read
            drop(units.pop())  # without their subject, they would say something of another
        if units:
            at = next(i for i, u in enumerate(kept) if u.source.n == above.source.n and u.position > above.position)
            kept.insert(at, above)
            room -= len(above.text) + 1
    return kept


def _names(heading: str, concepts: set[str], glossary: Glossary) -> list[str]:
    """The names a heading gives these concepts, as it writes them."""
    return [found.group(0) for entry in glossary.find(heading)
            if CONCEPT + entry.id in concepts and (found := mention(entry, heading))]


def _named_words(question: str) -> frozenset[str]:
    """The names in Latin letters a question asks about when it names no glossary concept ("HNSW", "efSearch"): words
    no everyday English vocabulary holds whole."""
    from studybot.study.keypoints import specificity

    return frozenset(word_key(t) for t in tokenize(question)
                     if t.isascii() and t.isalpha() and len(t) >= 3 and specificity(t) >= 1.0)


def _paragraphs(units: list[_Unit]) -> str:
    """The quoted units as the answer's text: the sentences of one source in a row as one paragraph, a line each,
    cited once at its end; a code block on its own, cited on the line below it. (A citation after every sentence
    took a tenth of the budget: answers dev coverage 0.803 to 0.812 with the room it leaves.)"""
    paragraphs: list[list[_Unit]] = []
    for unit in units:
        if paragraphs and not unit.code and not paragraphs[-1][-1].code and paragraphs[-1][-1].source.n == unit.source.n:
            paragraphs[-1].append(unit)
        else:
            paragraphs.append([unit])
    return "\n\n".join(f"{p[0].text}\n[{p[0].source.n}]" if p[0].code
                       else "\n".join(u.text for u in p) + f" [{p[0].source.n}]" for p in paragraphs)
