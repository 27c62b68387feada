"""Parse an Obsidian-style Markdown note into clean lines, headings and front-matter metadata.

The cleaned note keeps exactly one line per source line, so every chunk can cite the
line numbers of the original file.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Callable
from urllib.parse import unquote, unquote_plus

from studybot.text.language import has_cjk
from studybot.text.sentences import without_question_label
from studybot.text.tokens import squashed

_FENCE = re.compile(r"^((?:\s{0,3}>[ \t]?)*)\s{0,3}(`{3,}|~{3,})")  # in a quote or callout ("> ```python") too
_QUOTED = re.compile(r"^(?:\s{0,3}>[ \t]?)+")
# "2021 - CLIP", "01_intro", "3.2 Attention", "2023-03-14 - Overfitting" (a lecture's date): the numbering that
# orders a folder, not the note's name.
_FOLDER_ORDER = re.compile(r"^(?:\d{4}([-_.])\d{1,2}\1\d{1,2}|\d+(?:\.\d+)*)(?:\s*[-_.、)]\s*|\s+)(?=\S)")
# A status mark before the name ("(x) Q-Learning", "[WIP] LoRA"): the writer's to-do list, not the note's name.
_STATUS_MARK = re.compile(r"^[(\[]\s*(?:x|✓|✔|done|wip|draft|todo)\s*[)\]]\s*(?:[-–—_]\s*)?(?=\S)", re.IGNORECASE)
# File names that name nothing: README, index, Untitled 2, an export's hash (6375e6d4f22e2dad), digits,
# Excalidraw's "Drawing 2023-04-26 13.50.28".
_NAMELESS = re.compile(r"^(?:readme|index|untitled(?: \d+)?|未命名(?: ?\d+)?|[0-9a-f -]*\d[0-9a-f -]*|drawing[\d .:-]*|)$",
                       re.IGNORECASE)
_FOLDER_PAGE = re.compile(r"^(?:readme|index)$", re.IGNORECASE)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
# ... and one an export wrote without the space after its marks ("##数据增强", "##Early Stopping": Evernote's and Word's
# converters, old Markdown): read as text, a note of them was one passage with "##…" in it. Two marks at least and a
# word after them: one mark is Obsidian's tag ("#标签") or code ("#include", "#fff"), a line of marks a rule ("####").
_UNSPACED_HEADING = re.compile(r"^\s{0,3}(#{2,6})(?=\*{0,2}\w)(.*?)\s*#*\s*$")
# A `# …` line that is a whole note a phone memo or an export wrote on one line ("# 大模型杂记 ## 为什么需要梯度裁剪 …",
# 2 KB): read as a heading, its text was a title with no section under it, and nothing of it was searched. It holds
# the next heading's marks, or runs past any title; a Q&A file's question headings run to 450 characters with their
# links ("#### 8) Given stride S and kernel sizes … [receptive field](…)"), and at 200 lost their sections.
_ONE_LINE_NOTE = re.compile(r"^(?=.{100}).*?\s#{1,6}\s\S|^.{1000}", re.DOTALL)
# The border of a pandoc grid table ("+------+-----+", "+======+=====+" under its header): its rows are `| … |` lines
# between such borders. Quoted as they were, answers opened with three lines of "+---+".
_GRID_BORDER = re.compile(r"^\s*\+(?:[-=:]+\+)+\s*$")
# A line of Python: an assignment, an import, a definition or block opener, a call. A `# …` line next to one is
# that code's comment where an export lost the fence ("lstm = nn.LSTM(…)" / "# Dummy input: batch of 3 …").
_CODE_LINE = re.compile(r"^\s*(?:[A-Za-z_][\w.]*(?:\[[^\]]*\])?(?:\s*,\s*[A-Za-z_][\w.]*)*\s*(?:[-+*/%@]|//|\*\*)?=(?!=)\s*\S"
                        r"|(?:import|from)\s+[\w.]+|(?:def|class)\s+\w+.*:\s*$|(?:for|while|if|elif|with)\b.*:\s*$"
                        r"|[A-Za-z_][\w.]*\(.*\)\s*$)")
_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")  # a setext heading's second line: === for level 1, --- for 2
# A question set in bold on a line of its own ("**2.1 为什么要除以根号 d_k？**"): notes that keep many questions under
# one heading write them so, and each is a section of its own, one level below that heading. So is a numbered item
# that is a question in bold ("1. **Q: What is the kernel trick?**") with its answer indented below it; "Q:" is no
# part of its title (its d_k is), nor a difficulty badge after its question mark ("**What is regularization? Why do
# we need it? 👶**", "**What is the curse of dimensionality? ‍⭐️**": a collection's questions were one section a topic).
_BADGE = "\u200d\ufe0f\u2600-\u27bf\u2b50\U0001f300-\U0001faff"
_BOLD_QUESTION = re.compile(r"^\s{0,3}(?P<item>\d{1,3}[.)]\s+)?(\*\*|__)(?:Q\d*\s*[:：.]\s*)?"
                            rf"(?P<title>(?:(?!\2)[^*\n]){{2,150}}?[？?])[\s{_BADGE}]*\2\s*$")
# A question over its answer folded away in HTML ("> 3、卷积层的输出尺寸、参数量和计算量。" over "<details><summary>答案
# </summary>…"): numbered, or asking, in a quote or not; the `<details>` block is its section.
_FOLDED_QUESTION = re.compile(r"^\s{0,3}(?:>\s*)*(?P<title>(?:\d{1,3}\s*[、.)．]|Q\d*\s*[:：.]).{2,150}|.{2,150}[？?])\s*$")
_DETAILS = re.compile(r"^\s*<details\b", re.IGNORECASE)
# A question kept as a task item, ticked when studied, with its answer under it ("- [ ] [1-17 生成式模型和判别式模型的区别？]
# (#1-17)" over its paragraphs): a collection's every answer of a chapter was one section, each question a to-do in it.
_TASK_QUESTION = re.compile(r"^\s{0,3}[-*+]\s+\[[ xX]\]\s+\[?(?P<title>[^\[\]\n]{2,150}?[？?])(?:\]\(#[^)\s]*\))?\s*$")
# A Logseq flashcard: a block tagged #card over its answer, the blocks nested below it ("- Why clip by norm? #card").
_LOGSEQ_CARD = re.compile(r"^(?P<indent>\s*)[-*+]\s+(?P<title>.+?)\s+#card\s*$", re.IGNORECASE)
# ... or the question on the fold itself, its answer below: "<details><summary>Q3: What is a stride?</summary>"
_SUMMARY_LINE = re.compile(r"^\s*(?:<details\b[^>]*>\s*)?<summary>\s*(?P<title>[^<]+?)\s*</summary>\s*$", re.IGNORECASE)
# The label on the fold ("<summary>答案</summary>", "<summary>Show answer</summary>"): it names no content
_ANSWER_SUMMARY = re.compile(r"<summary>\s*[^<]{0,8}?(?:答案|解答|回答|answer|solution)s?\s*</summary>", re.IGNORECASE)
_NOT_PARAGRAPH = re.compile(r"^\s*(?:[-+*>|]|\d+[.)]\s|<!--)|^\s{4}")  # list items, quotes, tables, comments, code
HEADING_MAX_CHARS = 100  # a longer line is prose: above a --- it is followed by a rule; atop a note it is no title
_SUBTITLE = re.compile(r"^\s*[:：\-—|｜]\s*\S")  # "RoBERTa：更大更多更强" after the name "RoBERTa"
_FULL_STOP_END = re.compile(r"[。.!?！？]\s*$")
_TOC_OPEN = re.compile(r"^\s*<!--\s*(?:Markdown)?TOC\b.*-->\s*$", re.IGNORECASE)  # and Sublime's MarkdownTOC
_TOC_CLOSE = re.compile(r"^\s*<!--\s*(?:/\s*(?:Markdown)?TOC|tocstop)\s*-->\s*$", re.IGNORECASE)
_TOC_MARKER = re.compile(r"^\s*(?:\[\[?_?TOC_?\]\]?|\$\{toc\})\s*$", re.IGNORECASE)  # Typora's [TOC], [[_TOC_]], ${toc}
_LIST_ITEM = re.compile(r"^\s*(?:[-+*]|\d+[.)])\s+")
# "- 10.2 FlashAttention v1: Eliminating the IO Bottleneck": a book's contents written as a list of numbered titles
_CONTENTS_ITEM = re.compile(r"^\s*(?:[-+*]|\d+[.)])\s+(?:\*\*|__)?(?P<number>\d+(?:\.\d+)+)\s*[:：.、]?\s+\S")
CONTENTS_RUN = 3  # numbered titles in a row, in order, that are a table of contents rather than a list of points
# - [Title](#title) in a table of contents, or a line of its own linking into the page: "[back to top](#top)"
_ANCHOR_ITEM = re.compile(r"^\s*(?:(?:[-+*]|\d+[.)])\s+)?\[[^\]]*\]\(#[^)]*\)\s*$")
_BLOCK_TAG = re.compile(r"<\s*(script|style)\b[^>]*>|<!--", re.IGNORECASE)  # and a comment: never shown
# A flashcard of Obsidian's spaced-repetition plugin, "question::answer" (":::" both ways), read as the question and
# its answer (`_card`). Its question asks, is Chinese or runs to three words: a Dataview field ("status:: done") is none.
_CARD = re.compile(r"^(?P<lead>\s*(?:[-*+]\s+)?)(?P<question>[^`:：|]+?)\s*:{2,3}\s*(?P<answer>[^:`\s].*)$")
_NAMESPACE = re.compile(r"[A-Za-z0-9_]::[A-Za-z_]")  # C++'s torch::Tensor, not a card
_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)]*?)>?(?:\s+\"[^\"]*\")?\s*\)")
_LINK = re.compile(r"(?<!!)\[((?:[^\[\]]|\[[^\[\]]*\])+)\]\([^)]*\)")  # "[Feature Extractor[ResNet v2]](…)" too
# A link that only says where a passage came from: bracketed, "…variance? [[src](http://…)]", "…data. [[src]](…)",
# or closing its line, "…possible consequences / [source](https://github.com/…)".
_SOURCE_WORD = r"\s*(?:src|source|sources|ref|refs|reference|link|原文|来源|出处|链接)\s*"
_SOURCE_MARK = re.compile(rf"\s*\[\[{_SOURCE_WORD}\](?:\([^)]*\)\]|\]\([^)]*\))"
                          rf"|(?:\s*(?:[/|·–—-]\s*)?\(?\[{_SOURCE_WORD}\]\([^)]*\)\)?)+\s*$", re.IGNORECASE)
# A list item (or a line, or a quoted one) that is nothing but a link to another page: a reference list's
# entry, with the site or author after a dash ("> [池化的不变性](http://…) - Ufldl", "- [深入理解BN](…) - 郭耀华 -
# 博客园", "[Issue #1](…) · owner/repo"), a table of contents with the note's full address, an Obsidian list of
# [[notes]] or of [[#headings]]. It points to an explanation and gives none. A site's name is three words at
# most and no sentence ("- [[BatchNorm]] - normalises over the batch" describes, and stays).
_CREDIT_WORD = r"[^\s。.!！?？，,；;:：\[\]()]+"
_LINK_ITEM = re.compile(r"^\s*(?:>\s*)*(?:(?:[-+*]|\d+[.)])\s+)?(?:\[(?:[^\[\]]|\[[^\[\]]*\])+\]\((?!#)[^)\s]+(?:\s+\"[^\"]*\")?\)"
                        rf"(?:\s*[-–—|·]\s*{_CREDIT_WORD}(?:\s+{_CREDIT_WORD}){{0,2}})?|\[\[[^\[\]]+\]\])\s*$")
# ... and a line of several [[notes]], after a label or a pointing word ("Compare: [[WordPiece]], [[SentencePiece]]",
# "相关：[[BPE]]、[[WordPiece]]", "见 [[Pruning]]"): Obsidian's way to say where else to read, quoted as an answer's line.
# A link to a note, or an embed of one (`![[Runbook]]` shows another note's text, read where that note is); an
# embedded picture is a figure (`_FIGURE_LINE`).
IMAGE_SUFFIX = r"\.(?:png|jpe?g|gif|svg|webp|bmp)"  # the picture files notes show
_MEDIA_SUFFIX = rf"(?:{IMAGE_SUFFIX}|\.(?:pdf|heic|tiff?|avif|mp4|mov|webm|mp3|wav|m4a))"  # ... and other files embedded
_NOTE_LINK = rf"(?:(?<!!)|!(?!\[\[[^\[\]]*{_MEDIA_SUFFIX}\s*(?:[#|][^\[\]]*)?\]\]))\[\[[^\[\]]+\]\]"
_NOTE_LINKS = rf"{_NOTE_LINK}(?:\s*(?:[,，、/|·;；]|\band\b|\bor\b|和|与|及)?\s*{_NOTE_LINK})*"
_WIKILINKS_LINE = re.compile(
    r"^\s*(?:>\s*)*(?:(?:[-+*]|\d+[.)])\s+)?(?:(?:[^\s:：\[\]]{1,20}(?:\s[^\s:：\[\]]{1,20}){0,2}\s*[:：]|详见|见|参见|参考|相关|"
    rf"(?:→|->)?\s*see(?:\s+also)?|cf\.?|compare(?:\s+with)?)\s*)?{_NOTE_LINKS}\s*[。.]?\s*$",
    re.IGNORECASE)
# ... and such a pointer after a sentence or an arrow, at the end of a line that says something first ("Why divide by
# sqrt(d_k)? → see [[Attention]] and ![[Attention#^why]]" was quoted as "… → see Attention and Attention"); "…, see
# [[DBSCAN]]." names what it points to, and stays.
_POINTER_TAIL = re.compile(rf"(?:(?<=[.。?？!！])(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bcf\.)\s*|\s*(?:→|->)\s*)(?:see(?:\s+also)?|参见|详见|见)\s*{_NOTE_LINKS}\s*[。.]?\s*$",
                           re.IGNORECASE)
_EMBED = re.compile(r"!?\[\[([^\]|#]*)(?:#([^\]|]*))?(?:\|([^\]]*))?\]\]")  # ![[file]], [[note#heading|alias]]
# A line of nothing but pictures: their names caption a figure ("![过拟合/欠拟合分析](…/analysis.png)"), kept as
# `![name]` so that search reads the names and an answer quotes none as a sentence.
_PICTURE = rf"(?:{_IMAGE.pattern}|!\[\[[^\]]+\]\])"
_FIGURE_LINE = re.compile(rf"^\s*(?:>\s*)*(?:{_PICTURE}\s*)+$")
# ... and so are the pictures that end a line after its last sentence: "见 [[attention]] 里的公式。![[transformer_arch.png]]"
# read "…里的公式。transformer_arch.png", the file's name a sentence of the note. One inside a sentence is a word of it
# ("见![架构图](1.png)。").
_FIGURE_TAIL = re.compile(rf"(?<=[。！？.!?])\s*(?:{_PICTURE}\s*)+$")
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?/?>")
_BOLD = re.compile(r"\*\*|__")
# A line break written in HTML inside a line (Notion writes a Shift+Enter so, and any break in a table's cell), with the
# tags beside it: the line stays one line of the note, so the break is a stop between what it parts (`_line_break`);
# deleted as a tag, "x &lt; 0 时输出 0<br>梯度为 0" read "0梯度为 0".
_LINE_BREAK = re.compile(rf"(?:\s*{_HTML_TAG.pattern})*?\s*</?br\s*/?>(?:\s*{_HTML_TAG.pattern})*\s*", re.IGNORECASE)
_FULL_WIDTH_STOP = "。！？；，、："
# Inline code, whose text is code as written, never markup: "For `List<int>`-style generics" lost its "<int>" as a
# tag, "`**kwargs`" its stars as bold
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")
# *word*, not 2*3*4 or a * b, nor a formula's w^{*}, b^{*}; after a Chinese word too ("通常用在*校正幾何失真*上")
ITALIC = re.compile(r"(?<![A-Za-z0-9_*\\{}^)\]])\*(?=[^\s*}])([^*]+?)(?<=[^\s*\\{])\*(?![A-Za-z0-9_*{}])")
# _word_ (Markdown's other emphasis), not x_t, max_id, h_{t-1}, __init__ or a formula's \boldsymbol{x}_{i}-y_{i}
UNDERSCORED = re.compile(r"(?<![A-Za-z0-9_\\{}^)\]])_(?=[^\s_{])([^_]+?)(?<=[^\s_\\])_(?![A-Za-z0-9_{])")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
LOST_PICTURE = "image"  # what a picture that names nothing reads as: the answer knows the figure is lost
# What a note writes for itself and nobody says aloud: an Obsidian callout's marker ("> [!tip] …", once
# the ">" is off), a %% comment %%, a highlight's ==, a tag, a footnote's mark [^1] and the label before its text
# ("[^1]: "); and whole lines: a to-do item ("- [ ] 看论文"). A footnote's text is said where its mark is (its
# passage, `ingest.chunking`), never as a line of the section it is written under (`UNSPOKEN_LINE`), and one that
# only names a source ("[^1]: Srivastava et al., 2014.") is an aside (`text.sentences.is_aside`).
_CALLOUT = re.compile(r"^\s*\[![\w-]+\][+-]?\s*")
_SAID = re.compile(r"[。！？；.!?;]\W*$")  # a title that is a sentence, said as one
_PRIVATE = re.compile(r"\s*%%.*?%%")
# An Excalidraw drawing's Markdown file: the plugin's warning line and its sections (drawing JSON and all).
_DRAWING_WARNING = re.compile(r"^\s*==⚠.*⚠==")  # newer versions go on: "… ⚠== You can decompress Drawing data …"
_DRAWING_SECTION = re.compile(r"^#{1,2}\s+(Excalidraw Data|Text Elements|Element Links|Embedded Files|Drawing)\s*$",
                              re.IGNORECASE)
# Logseq, an outliner, writes every paragraph as a bullet and keeps settings in `key:: value` lines: a page's
# first lines name it (title::, alias::, tags::), a block's own (collapsed::, id::) are the app's. A heading is a
# bullet that is one ("- ## At inference"); a block reference, ((6512a3b1-…)), shows another block where the app
# runs; {{embed …}} and {{query …}} are its widgets, {{cloze …}} hides words on a card.
_PROPERTY = re.compile(r"^\s*(?:[-*]\s+)?(?P<key>[a-z][a-z0-9_.-]*)::(?:\s+(?P<value>.*?))?\s*$")
_APP_PROPERTY = re.compile(r"^(?:collapsed|id|heading|background-color|card-[\w-]+|query-[\w-]+|template(?:-including-parent)?"
                           r"|logseq\.[\w.-]+|hl-[\w-]+|ls-type|filters|icon|public|exclude-from-graph-view)$")
_PAGE_PROPERTY = re.compile(r"^(?:title|alias|tags|type|public|icon|template|filters|exclude-from-graph-view|id)$")
_BULLET_HEADING = re.compile(r"^\s*[-*+]\s+(#{1,6})\s+(.*?)\s*#*\s*$")
_BLOCK_REF = re.compile(r"\s*\(\([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\)\)")
# Pandoc's and Quarto's markup (and Hugo's, Docusaurus's): how the page is laid out, never what it says. A fenced
# div's fence (`::: {.callout-note}`, `:::`, Docusaurus's `:::tip Title`), the attributes after a heading, a picture,
# a link or a bracketed span (`{#sec-intro}`, `{width=60%}`, `[words]{.underline}`), a shortcode
# (`{{< include _x.qmd >}}`) and an executable code cell's options (`#| echo: false`).
_DIV_FENCE = re.compile(r"^\s{0,3}:{3,}\s*(?:\{[^{}]*\}|[A-Za-z][\w-]*(?:\[[^\]]*\])?(?:\s.*?)?)?\s*:*\s*$")
_ATTRIBUTES = r"\{\s*(?:[#.][\w-]|[\w-]+=|-\s*\})[^{}]*\}"
_HEADING_ATTRIBUTES = re.compile(rf"\s*{_ATTRIBUTES}\s*$")
_SPAN = re.compile(rf"(?<!!)\[([^\[\]]*)\]{_ATTRIBUTES}")
_AFTER_LINK = re.compile(rf"(?<=[)\]]){_ATTRIBUTES}")
_SHORTCODE = re.compile(r"\{\{[<%].*?[%>]\}\}")
# An Obsidian plugin's query written as a code block: Dataview's and Tasks' tables, an embedded search. What they show
# is other notes' text, read there; the query itself ("TABLE status FROM #optimization") was searched as a passage.
_QUERY_FENCE = re.compile(r"^\s{0,3}(?:`{3,}|~{3,})\s*(?:dataview|dataviewjs|tasks|query)\s*$", re.IGNORECASE)
_CELL = re.compile(r"^\s{0,3}(?:`{3,}|~{3,})\s*\{")  # ```{python}, ```{r setup}: a cell Quarto or knitr runs
_CELL_OPTION = re.compile(r"^\s*#\|")
_MACRO = re.compile(r"\{\{\s*(?P<name>cloze|embed|video|youtube|query|renderer|tweet|twitter|pdf|namespace|function|iframe)\b"
                    r"\s*(?P<body>[^{}]*)\}\}", re.IGNORECASE)
# A Notion export: "Transformer 3f5e9c1a2b4d4e6f8a0b1c2d3e4f5a6b.md" (the page's id after its name), and under
# its `# Title` the page's properties, one "Key: value" line each, up to a blank line ("Created time: June 18, 2023
# 9:32 PM", "Tags: NLP"), read as metadata when one of them is a property Notion's pages have.
_NOTION_ID = re.compile(r"\s+[0-9a-f]{32}$")
_NOTION_PROPERTY = re.compile(r"^(?P<key>[^\s:：#>|*-][^:：]{0,39}?)\s*[:：]\s+(?P<value>\S.*?)\s*$")
_NOTION_KEYS = re.compile(r"^(?:created(?: time| by| at)?|last edited(?: time| by)?|tags?|owner|status|type|category|"
                          r"date(?: created)?|url|创建时间|创建者|最后编辑时间|上次编辑时间|标签|状态|类型|分类|日期)$",
                          re.IGNORECASE)
_TAG_WORD = r"#(?=[^\s#\d])[^\s#]*"  # "#regularization", not "C#", "#1" or a heading
_TAG = re.compile(rf"(?<![^\s。，；！？、]){_TAG_WORD}")
_TRAILING_TAGS = re.compile(rf"(?<=\S)(?:\s+{_TAG_WORD})+\s*$")
_HIGHLIGHT = re.compile(r"==(?=\S)(.+?)(?<=\S)==")
_FOOTNOTE_MARK = re.compile(r"\[\^(?P<id>[^\]\s]+)\](?!:)")
# The line a footnote's text opens, "[^1]: 5 层 sigmoid 的梯度上界是 …", wherever the note writes it (Obsidian: at its end)
FOOTNOTE = re.compile(r"^\s{0,3}\[\^(?P<id>[^\]\s]+)\]:\s*")
# "… ^d1a2b3": what Obsidian links to a block by, never read; not an exponent ("\Vert w\Vert ^2", "A ^T")
_BLOCK_ID = re.compile(r"(?:\s|(?<=[\u3000-\u303f\uff00-\uffef]))\^(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9-]{2,}\s*$")  # "…维度。^id" too
# Sphinx and MyST roles, as notes built with d2l-book write them: ":label:`sec_gru`", ":begin_tab:`pytorch`",
# ":end_tab:" on lines of their own (a cross-reference's target, a tab's start and end), and ":cite:`Ioffe.Szegedy.2015`",
# ":numref:`sec_lstm`" inside a sentence. Said aloud, a parenthetical citation is nothing, a textual one (:citet:) its
# key's names, and any other role its text.
_ROLE_NAME = r":[a-z][\w-]*:"
_ROLES_ONLY = re.compile(rf"^\s*(?:{_ROLE_NAME}(?:`[^`]*`)?\s*)+$")
_CITATION = re.compile(r"\s*:cite(?:p|alp)?:`[^`]*`")
# Pandoc's citations ([@vaswani2017], [see @a; @b, p. 3]) and Quarto's cross-references (@fig-grid), which the page
# shows as "Figure 2": the answer cannot show the figure, so it names what kind of thing is meant.
_PANDOC_CITATION = re.compile(r"\s*\[[^\[\]@]*?(?<![\w./])-?@[A-Za-z_][^\[\]]*\](?![(\[{])")
_CROSS_REFERENCE = re.compile(r"(?<![\w@])@(fig|tbl|eq|sec|lst)-[\w-]*\w")
_REFERENCED = {"fig": "Figure", "tbl": "Table", "eq": "Equation", "sec": "Section", "lst": "Listing"}
_TEXTUAL_CITATION = re.compile(r":citet:`([^`]*)`")
_INLINE_ROLE = re.compile(rf"{_ROLE_NAME}`([^`]*)`")
# Markdown's backslash escapes: "\*\* KV 缓存\*\*" (an export that escaped the bold it meant) shows its marks, which are
# no more words than the bold's own (a backslash before a letter or another backslash is TeX's, and stays).
_ESCAPE = re.compile(r"\\([*_`#~<>+\-.])")  # not TeX's \{ \| \! \( \[, which a formula means
# WordPress shortcodes, as a blog's Markdown export keeps them (its brackets escaped): "\[latex\]x\_t\[/latex\]" is the
# formula it wraps; a table of contents' marker on a line of its own ("\[toc\]", Markdown extensions' "[TOC]",
# "[[toc]]") says nothing.
_LATEX_SHORTCODE = re.compile(r"\\?\[latex\\?\](.*?)\\?\[/latex\\?\]", re.IGNORECASE)
_TOC_ONLY = re.compile(r"^\s*\\?\[\\?\[?toc\\?\]?\\?\]\s*$", re.IGNORECASE)
TO_DO = re.compile(r"^\s*[-*+]\s+\[[ xX]\](?:\s|$)")
UNSPOKEN_LINE = re.compile(rf"{TO_DO.pattern}|^\s*\[\^[^\]\s]+\]:")  # a to-do, and a footnote's text where it is written
# A file embedded as a picture is: Obsidian's ![[paper.pdf]] and ![[talk.mp3]] were read as words, "paper.pdf", where
# Markdown's ![](paper.pdf) is a picture's name (a caption after a line's last sentence, "image" naming nothing)
_MEDIA_FILE = re.compile(_MEDIA_SUFFIX + "$", re.IGNORECASE)
# Formula images that carry their LaTeX in the address (Zhihu's exports, CodeCogs, GitHub's math
# renderer): `![](https://www.zhihu.com/equation?tex=n+%5Ctimes+c)` is the formula $n \times c$.
_FORMULA_URL = (r"(?:https?:)?//(?:(?P<plus>www\.zhihu\.com/equation\?tex=|chart\.googleapis\.com/chart\?cht=tx&(?:amp;)?chl=)"
                r"|(?:latex\.codecogs\.com/[\w.]*?(?:latex|image)\?|(?:www\.)?codecogs\.com/eqnedit\.php\?latex="
                r"|render\.githubusercontent\.com/render/math\?math=))")
_FORMULA_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?" + _FORMULA_URL + r"(?P<tex>(?:[^()\s>]|\([^()\s]*\))+)>?\s*\)")
_FORMULA_TAGS = (re.compile(r"<a\s[^>]*?href=[\"']" + _FORMULA_URL + r"(?P<tex>[^\"']+)[\"'][^>]*>.*?</a\s*>", re.IGNORECASE),
                  re.compile(r"<img\s[^>]*?src=[\"']" + _FORMULA_URL + r"(?P<tex>[^\"']+)[\"'][^>]*>", re.IGNORECASE))
_RENDER_SETTINGS = re.compile(r"^(?:\s*\\(?:dpi\{\d+\}|fn_\w+|bg_\w+|inline|tiny|small|normalsize|large|Large|LARGE|huge|Huge))+\s*")
_GENERIC_IMAGE_WORDS = {"image", "img", "pic", "picture", "photo", "screenshot", "screen", "shot", "pasted", "figure",
                        "fig", "untitled", "clipboard", "alt", "text", "图片", "图", "截图", "屏幕截图", "微信图片",
                        # screenshot tools' names: TIM截图20180611215923.png, QQ截图…, Snipaste_2023-…, WechatIMG12
                        "tim截图", "qq截图", "微信截图", "钉钉截图", "屏幕快照", "snipaste", "wechatimg",
                        "hd",  # Zhihu's pictures: v2-72c0ca9eafee4e818f55c464aa60e2ff_hd.jpg
                        # how Obsidian (with a theme or CSS snippet) places a picture: ![[Pasted image ….png|center]]
                        "center", "centre", "centered", "centred", "left", "right", "inline", "float", "invert"}


@dataclass
class Heading:
    level: int
    title: str
    line: int  # 1-based line in the source file
    in_outline: bool = False  # a bullet that is a heading ("- ## At inference"): an outliner's page, titled by its name


@dataclass
class Note:
    path: str
    lines: list[str]
    headings: list[Heading]
    metadata: dict = field(default_factory=dict)
    # 0-based lines left out as links or a table of contents: a section of them was written, just not as prose
    links: set[int] = field(default_factory=set)


def _file_label(target: str) -> str:
    """`E:\\pics\\a b.png` or `https://x/y/z.png?x=1` -> `a b.png` / `z.png`."""
    target = target.split("?")[0].split("#")[0].rstrip("/\\")
    name = re.split(r"[\\/]", target)[-1]
    return name


def _names_something(name: str) -> bool:
    """Whether an image's alt text or file name says what it shows: `vgg16.png`, `架构图` do;
    `image-20240516164546935`, `Pasted image 20240516.png`, `1.png` and UUIDs do not."""
    stem = _MEDIA_FILE.sub("", name.strip())
    for token in re.split(r"[\s\-_.()（）]+", stem):
        letters = re.sub(r"\d", "", token)
        hexadecimal = letters != token and re.fullmatch(r"[0-9a-fA-F]+", token)
        if len(letters) > (1 if letters.isascii() else 0) and not hexadecimal \
                and letters.lower() not in _GENERIC_IMAGE_WORDS:
            return True
    return False


def _image_name(*candidates: str) -> str:
    """The first candidate that names the picture, else LOST_PICTURE."""
    return next((c for c in candidates if c and _names_something(c)), LOST_PICTURE)


def _image_text(match: re.Match[str]) -> str:
    return _image_name(match.group(1).strip(), _file_label(match.group(2)))


def _caption(name: str) -> str:
    """The name of a picture on a line of pictures only: `![name]` (LOST_PICTURE as it is)."""
    return name if name == LOST_PICTURE else f"![{name}]"


def _embed_text(match: re.Match[str], figure: bool = False) -> str:
    """An embed or wiki link as Obsidian shows it: its alias, else the note's name, else the heading it
    points to in the same note ([[#Training]]); a block id ([[#^a1b2c3]]) names nothing. A picture's name is
    a caption (`_caption`) on a line of pictures only (`figure`)."""
    alias, target = (match.group(3) or "").strip(), _file_label(match.group(1).strip())
    if _MEDIA_FILE.search(target):
        name = _image_name(alias, target)
        return _caption(name) if figure else name
    section = (match.group(2) or "").strip()
    return alias or target or ("" if section.startswith("^") else section)


def _pictures(text: str, figure: bool) -> str:
    """Embeds, wiki links and pictures by their names, a picture's as a caption when it is a `figure` (`_caption`)."""
    text = _EMBED.sub(lambda match: _embed_text(match, figure), text)
    return _IMAGE.sub(lambda match: _caption(_image_text(match)) if figure else _image_text(match), text)


def _formula(match: re.Match[str]) -> str:
    """The LaTeX a formula image's address carries, as inline math (`$…$`)."""
    tex = html.unescape(match.group("tex").replace("&space;", " "))  # CodeCogs writes a space as &space;, + as &plus;
    tex = unquote_plus(tex) if match.group("plus") else unquote(tex)
    tex = _RENDER_SETTINGS.sub("", tex).strip()
    return f"${tex}$" if tex else ""


INDENTED_CODE = re.compile(r"^(?: {4}|\t)")  # Markdown's indented code (after a blank line, outside a list)


def fence_opening(line: str) -> str | None:
    """The marker (```, ~~~~ ...) when the line opens a code fence, else None; ">```" for one in a quote or
    callout (an Obsidian `> [!example]- 代码` folding a code block), whose code was read as the quote's prose."""
    match = _FENCE.match(line)
    return (">" if match.group(1).strip() else "") + match.group(2) if match else None


def closes_fence(line: str, marker: str) -> bool:
    """Whether the line closes the fence opened by `marker`: the same character, at least as many,
    and nothing after them (CommonMark's rule); a fence in a quote also ends where the quote does."""
    if marker.startswith(">"):
        quoted = _QUOTED.match(line)
        if not quoted:
            return True
        line, marker = line[quoted.end():], marker[1:]
    found = fence_opening(line)
    return bool(found) and found[0] == marker[0] and len(found) >= len(marker) and not line.strip()[len(found):].strip()


def clean_inline(line: str) -> str:
    """Replace formula images by their LaTeX, other images by their alt text or file name (`![name]` on a line
    of their own: a figure's caption), links and
    embeds by their names, drop source marks ([[src](…)]), block ids (^d1a2b3), Obsidian comments (%% … %%, outside
    code), HTML tags and a fold's answer label, decode HTML entities (`&emsp;` indents a Chinese paragraph) and drop
    zero-width characters."""
    line = _SOURCE_MARK.sub("", _BLOCK_ID.sub("", _BLOCK_REF.sub("", line)))  # before embeds: [[src]](…) is no wiki link
    if "`" not in line:  # R's `x %% 2` is code
        line = _PRIVATE.sub("", line)
    line = _SHORTCODE.sub("", line)
    line = _MACRO.sub(lambda m: m.group("body").strip() if m.group("name").lower() == "cloze" else "", line)
    for formula in (_FORMULA_IMAGE, *_FORMULA_TAGS):
        line = formula.sub(_formula, line)
    tail = 0 if _FIGURE_LINE.match(line) else (found.start() if (found := _FIGURE_TAIL.search(line)) else len(line))
    line = _pictures(line[:tail], figure=False) + _pictures(line[tail:], figure=True)
    line = _LINK.sub(lambda m: m.group(1), line)
    line = outside_code(_ANSWER_SUMMARY.sub("", line),
                        lambda text: html.unescape(_HTML_TAG.sub("", _LINE_BREAK.sub(_line_break, text))))
    return _ZERO_WIDTH.sub("", line)


def _line_break(match: re.Match[str]) -> str:
    """What an HTML line break inside a line reads as: nothing at the line's ends but its indent, a space at a table
    cell's edge or after a stop ("训练慢。<br>归一化…" needs none), else a semicolon, "；" in a Chinese line."""
    left, right = match.string[:match.start()][-1:], match.string[match.end():][:1]
    if not left or not right:
        return "" if left else re.match(r"\s*", match.group()).group()
    if left in _FULL_WIDTH_STOP:
        return ""
    if "|" in (left, right) or left in ".!?;,:":
        return " "
    return "；" if has_cjk(match.string) else "; "


def outside_code(line: str, change: Callable[[str], str], code: Callable[[str], str] | None = None) -> str:
    """A line with `change` made to its text outside inline code; a code span is kept as written, backticks and all, or
    its text (without them) is what `code` makes of it."""
    return "".join((part if code is None else code(part[1:-1])) if i % 2 else change(part)
                   for i, part in enumerate(_CODE_SPAN.split(line)))


def without_bold(text: str, code: Callable[[str], str] | None = None) -> str:
    """Text without its bold marks (`**`, `__`) outside inline code, whose "`**kwargs`" is Python; a code span as
    written, backticks and all, or what `code` makes of its text (`outside_code`)."""
    return outside_code(text, lambda part: _BOLD.sub("", part), code)


def _private_toggle(line: str) -> bool:
    """Whether a line opens or closes an Obsidian comment that spans lines ("%%" alone, "%% start…",
    "…end %%"): an odd count of its marks outside code spans (R's `x %% 2`)."""
    return re.sub(r"`[^`]*`", "", line).count("%%") % 2 == 1


def spoken(line: str) -> str:
    """A line of a note (its quote marker off) as it is said aloud: without Obsidian's callout marker (nor a
    callout's title, unless it is a sentence), comments, highlight marks, tags, or footnote marks (block ids are
    gone when the note is read), nor Sphinx's
    and MyST's roles (`_ROLE_NAME`), nor a blog's WordPress shortcodes (`_LATEX_SHORTCODE`, `_TOC_ONLY`); Markdown's
    backslash escapes as the characters they escape."""
    if _ROLES_ONLY.match(line) or _TOC_ONLY.match(line):
        return ""
    title = bool(_CALLOUT.match(line))
    line = _LATEX_SHORTCODE.sub(r"\1", line)
    line = _HIGHLIGHT.sub(r"\1", _PRIVATE.sub("", _CALLOUT.sub("", _ESCAPE.sub(r"\1", line))))
    line = _TEXTUAL_CITATION.sub(lambda m: m.group(1).replace(".", " "), _CITATION.sub("", line))
    line = _CROSS_REFERENCE.sub(lambda m: _REFERENCED[m.group(1)], _PANDOC_CITATION.sub("", line))
    said = _TAG.sub("", _FOOTNOTE_MARK.sub("", FOOTNOTE.sub("", _INLINE_ROLE.sub(r"\1", line)))).strip()
    # a callout's title ("> [!note] 与 DPO 的比较", "> [!example]- 代码") names its box, as a heading would
    return "" if title and not _SAID.search(said) else said


_CALLOUT_OPENING = re.compile(r"^(?P<quote>\s{0,3}>\s*)\[![\w-]+\][+-]?\s*(?P<title>.*)$")  # a callout's first line


def callout_title(line: str) -> str | None:
    """The title of the callout a quoted line opens ("> [!faq]- 按值裁和按范数裁有啥区别？"), read as a heading's; "" for
    a callout without one ("> [!tip]", which Obsidian labels by its type), None for a line that opens none. A label
    before its question is no part of it, as "Q:" is none of a question in bold: "面试题：" named an answer's heading
    (面试), whose question no card asked."""
    opening = _CALLOUT_OPENING.match(line)
    return without_question_label(heading_title(opening.group("title"))) if opening else None


def footnote_marks(lines: list[str]) -> dict[str, int]:
    """The index of the first line that marks each footnote ("…层数一多梯度就没了[^1]"), by the footnote's id."""
    marks: dict[str, int] = {}
    for i, line in enumerate(lines):
        if "[^" in line:
            for mark in _FOOTNOTE_MARK.finditer(line):
                marks.setdefault(mark.group("id"), i)
    return marks


def shown(text: str) -> str:
    """A passage of a note as Obsidian shows it, its quote markers kept: a callout's title without the callout's marker
    ("> [!tip]- ReLU 的优缺点" is "> ReLU 的优缺点"), a highlight without its ==, a footnote's text without its label
    and its mark nowhere. A search result showed them as written."""
    lines = [_CALLOUT_OPENING.sub(r"\g<quote>\g<title>", line) for line in text.split("\n")]
    return "\n".join(_FOOTNOTE_MARK.sub("", _HIGHLIGHT.sub(r"\1", FOOTNOTE.sub("", line))) for line in lines)


def heading_title(raw: str) -> str:
    """A heading's readable text: no emphasis markers or backticks, code spans kept literally, no tags after it
    ("Inference #card": Logseq's flashcard mark)."""
    parts = _TRAILING_TAGS.sub("", clean_inline(_HEADING_ATTRIBUTES.sub("", raw))).split("`")
    text = "".join(part if i % 2 else without_bold(part).replace("*", "") for i, part in enumerate(parts))
    return re.sub(r"\s+", " ", text).strip()


def _code_comment(lines: list[str], index: int) -> bool:
    """Whether the `# …` at lines[index] comments code whose fence an export lost: the nearest line above or
    below it is code (a mid-note title in its place would make every section after it a part of it)."""
    for step in (-1, 1):
        j = index + step
        while 0 <= j < len(lines) and not lines[j].strip():
            j += step
        if 0 <= j < len(lines) and _CODE_LINE.match(lines[j]):
            return True
    return False


def _card(line: str) -> str:
    """A flashcard line as a question and its answer ("What is dropout?::Zeroing …" as "Q: What is dropout? A:
    Zeroing …"), or as a point and what it says ("BatchNorm 的作用::…" as "BatchNorm 的作用：…"); any other line
    as it is."""
    card = _CARD.match(line)
    if card is None:
        return line
    question, answer, lead = card.group("question"), card.group("answer"), card.group("lead")
    if question.endswith(("?", "？")):
        return f"{lead}Q: {question} A: {answer}"
    if (has_cjk(question) or len(question.split()) >= 3) and not _NAMESPACE.search(line):
        return f"{lead}{question}{'：' if has_cjk(question) else ': '}{answer}"
    return line


def _question_title(line: str, lines: list[str], index: int) -> str:
    """The title of a question line that is a section one level below its heading, "" for any other line: a
    question in bold (a numbered one with its answer indented below it), a task item asking a question over its
    answer, a question over its answer folded in `<details>`, or the question on the fold itself."""
    bold = _BOLD_QUESTION.match(line)
    if bold and (not bold.group("item") or _indented_below(lines, index)) and (title := heading_title(bold.group("title"))):
        return title
    task = _TASK_QUESTION.match(line)
    below = _next_written(lines, index) if task else ""
    if task and below and not TO_DO.match(below) and not _HEADING.match(below) and (title := heading_title(task.group("title"))):
        return title  # a list of such questions, each over the next, is a list of to-dos (or their table of contents)
    folded = _FOLDED_QUESTION.match(line)
    if folded and _DETAILS.match(_next_written(lines, index)) and (title := heading_title(folded.group("title"))):
        return title
    fold = _SUMMARY_LINE.match(line)
    asked = _FOLDED_QUESTION.match(fold.group("title")) if fold else None
    return heading_title(asked.group("title")) if asked else ""


def _next_written(lines: list[str], index: int) -> str:
    """The first line after `lines[index]` that is not blank ("" at the end)."""
    return next((line for line in lines[index + 1:] if line.strip()), "")


def _level_below(level: int) -> int:
    """The level of a section one below the heading above (level 0: none yet)."""
    return min(max(level, 1) + 1, 6)


def _indent_width(indent: str) -> int:
    return len(indent.expandtabs(2))


def _nested_below(lines: list[str], index: int, depth: int) -> bool:
    """Whether an outline's next block after `lines[index]` is nested deeper than `depth` (its children), the
    app's `key:: value` lines aside."""
    below = next((line for line in lines[index + 1:] if line.strip() and not _PROPERTY.match(line)), "")
    return bool(below) and _indent_width(below[: len(below) - len(below.lstrip())]) > depth


def _indented_below(lines: list[str], index: int) -> bool:
    """Whether the first line after `lines[index]` that is not blank is indented: a list item's own body (a list
    of questions to study, one item after another, answers none of them)."""
    return _next_written(lines, index)[:1] in (" ", "\t")


def split_front_matter(lines: list[str]) -> tuple[str, int]:
    """The YAML between a note's leading `---` lines, and how many lines the block spans (0: none)."""
    if not lines or lines[0].strip() != "---":
        return "", 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            return "\n".join(lines[1:end]), end + 1
    return "", 0


def _front_matter(lines: list[str]) -> tuple[dict, int]:
    """Parse leading YAML front matter leniently: a user's broken front matter is just no metadata."""
    block, span = split_front_matter(lines)
    if not span:
        return {}, 0
    import yaml

    try:
        data = yaml.safe_load(block) or {}
    except yaml.YAMLError:
        data = {}
    return (data if isinstance(data, dict) else {}), span


def _settings(lines: list[str], start: int, line: re.Pattern[str], known: re.Pattern[str]) -> tuple[dict, list[int]]:
    """The settings an app writes as a block of `key: value` lines from `start` (blank lines before it skipped),
    lowercase keys, and their line indexes; none unless one key is a setting the app itself writes: a Logseq
    page's `title:: …` atop it ("dropout:: zeroes random units" alone is a flashcard), a Notion page's "Created
    time: …" under its title (a note's own "作用：…" there is what the note says)."""
    i = start
    while i < len(lines) and not lines[i].strip():
        i += 1
    rows: list[tuple[int, re.Match[str]]] = []
    while i < len(lines) and (match := line.match(lines[i])) is not None:
        rows.append((i, match))
        i += 1
    found = {match.group("key").strip().lower(): match.group("value") or "" for _, match in rows}
    if not any(map(known.match, found)):
        return {}, []
    return found, [i for i, _ in rows]


def _setext_title(lines: list[str], index: int, skip: int) -> str:
    """The heading a `===` / `---` line at `index` underlines: the one-line paragraph right above it
    (CommonMark's setext heading), else "" (a rule after a blank line, a list, a table ...)."""
    above = lines[index - 1] if index - 1 >= skip else ""
    before = lines[index - 2] if index - 2 >= skip else ""
    if (not above.strip() or _NOT_PARAGRAPH.match(above) or _HEADING.match(above) or _UNDERLINE.match(above)
            or fence_opening(above) or len(above.strip()) > HEADING_MAX_CHARS):
        return ""
    if before.strip() and not (_HEADING.match(before) or _UNDERLINE.match(before)):
        return ""  # a paragraph of several lines: prose, whatever follows it
    if not re.search(r"\w", _HTML_TAG.sub("", _IMAGE.sub("", above))):
        return ""  # a picture over a stray ===: a heading without words would put the rest of the note under a file name
    return heading_title(above)


def _drawing_data(lines: list[str], skip: int) -> set[int]:
    """Lines of an Obsidian Excalidraw drawing (`*.excalidraw.md`) that are the plugin's, not the user's:
    its warning, its section headings, the element links, embedded files and the drawing itself (JSON).
    The words written on the drawing ("Text Elements") and any Markdown above them stay."""
    hidden: set[int] = set()
    kept = True
    for i in range(skip, len(lines)):
        section = _DRAWING_SECTION.match(lines[i])
        if section:
            kept = section.group(1).casefold() in ("excalidraw data", "text elements")
        if section or not kept or _DRAWING_WARNING.match(lines[i]):
            hidden.add(i)
    return hidden


def _contents(lines: list[str], skip: int) -> set[int]:
    """Lines of a table of contents written as list items of numbered section titles ("- 9.5 Positional Encoding:
    …", "- 9.6 …"), CONTENTS_RUN or more in a row (a chapter's heading between them), their numbers in order:
    they name sections and answer nothing."""
    found: set[int] = set()
    run: list[tuple[int, tuple[int, ...]]] = []
    for i in range(skip, len(lines) + 1):
        line = lines[i] if i < len(lines) else ""
        item = _CONTENTS_ITEM.match(line)
        if item and (number := tuple(map(int, item.group("number").split(".")))) and (not run or number > run[-1][1]):
            run.append((i, number))
            continue
        if run and i < len(lines) and (not line.strip() or _HEADING.match(line)):
            continue  # a chapter's heading between its sections' titles does not end the contents
        if len(run) >= CONTENTS_RUN:
            found.update(index for index, _ in run)
        run = [(i, number)] if item else []
    return found


def file_title(path: str | PurePath) -> str:
    """The note's name as Obsidian shows it, from its file name: without a folder's numbering ("2021 - ", "01_",
    a date) or a status mark ("(x) "); "" for a name that says nothing (README, index, Untitled, an export's hash)."""
    return _name(PurePath(path).stem.removesuffix(".excalidraw"))


def folder_title(path: str | PurePath) -> str:
    """The name of the folder a README or index page stands for, as GitHub shows it ("12.2 LSTM/README.md":
    LSTM); "" for any other file."""
    path = PurePath(path)
    return _name(path.parent.name) if _FOLDER_PAGE.match(path.stem) else ""


def _name(stem: str) -> str:
    """A file's or folder's name as the name of a note: decoded, its numbering, page id and status mark left out."""
    stem = unquote(stem).replace("___", "/")  # Logseq's ML___LoRA: ML/LoRA
    stem = _NOTION_ID.sub("", stem)
    stem = _FOLDER_ORDER.sub("", stem)
    stem = _STATUS_MARK.sub("", stem).replace("_", " ").strip()
    return "" if _NAMELESS.match(stem) else stem


def _name_line(lines: list[str], headings: list[Heading], metadata: dict, path: str | PurePath) -> int | None:
    """The index of the note's first written line when it is the note's name written as text, as an article
    exported from a blog has it ("RoBERTa：更大更多更强" atop RoBERTa.md, "NLP任务中，layer-norm比BatchNorm好在哪里"
    atop "NLP任务中-layer-norm比BatchNorm好在哪里.md"): the file's name again, punctuation aside, or the name
    and a subtitle after a colon or dash. None when the note names itself otherwise (a `# Title`, a front
    matter title, a heading above it) or its first line is anything else: prose that opens with the name goes on
    to a full stop."""
    name = file_title(path)
    if not squashed(name) or metadata.get("title"):
        return None
    index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if index is None or any(h.line <= index + 1 for h in headings):
        return None
    line = lines[index].strip()
    if len(line) > HEADING_MAX_CHARS or _NOT_PARAGRAPH.match(line):
        return None
    if squashed(line) == squashed(name):
        return index
    rest = line[len(name):] if line.casefold().startswith(name.casefold()) else ""
    return index if _SUBTITLE.match(rest) and not _FULL_STOP_END.search(line) else None


def parse_note(text: str, path: str | PurePath = "") -> Note:
    """Clean a note line by line; headings inside code fences are not headings, nor is a `# comment` beside
    code whose fence an export lost, `Title` over a line of `===` or `---` is one (setext), so is a question in
    bold on a line of its own (one level below the heading above it), and a generated
    table of contents (`<!-- TOC -->` blocks, lists of links to the note's own anchors) is left out: it names
    every section and answers none. So are Obsidian comments over several lines (`%%` … `%%`, hidden when the
    note is read), a drawing's data and a Notion page's properties."""
    lines = text.split("\n")
    metadata, skip = _front_matter(lines)
    properties, shown = _settings(lines, skip, _PROPERTY, _PAGE_PROPERTY)  # a Logseq page's
    metadata, skip = {**properties, **metadata}, shown[-1] + 1 if shown else skip
    out: list[str] = [""] * skip
    headings: list[Heading] = []
    fence: str | None = None
    cell = False  # the fence open is an executable cell's: its `#|` lines are options
    query = False  # the fence open is a plugin's query (Dataview, Tasks, an embedded search): no text of the note
    in_block: str | None = None  # what ends the script, style or comment being read
    in_toc = False
    private = False  # inside an Obsidian comment over several lines: the reader never sees it
    links: set[int] = set()
    level = 0  # the level of the last heading written as one: a question in bold is a section below it
    unread = _drawing_data(lines, skip) if metadata.get("excalidraw-plugin") else set()  # nobody's sentences
    contents = _contents(lines, skip)
    first = next((i for i in range(skip, len(lines)) if lines[i].strip()), None)
    if first is not None and (top := _HEADING.match(lines[first])) and top.group(1) == "#":
        notion, shown = _settings(lines, first + 1, _NOTION_PROPERTY, _NOTION_KEYS)  # a Notion page's
        metadata = {**notion, **metadata}
        unread.update(shown)
    for number, line in enumerate(lines[skip:], start=skip + 1):
        if fence is not None:
            out.append("" if query or (cell and _CELL_OPTION.match(line)) else line)
            if closes_fence(line, fence):
                fence = None
            continue
        toggles = _private_toggle(line)
        if private or toggles or number - 1 in unread:
            private = private != toggles
            out.append("")
            continue
        if in_block is not None:
            close = re.search(in_block, line, re.IGNORECASE)
            if close:
                in_block = None
                out.append(clean_inline(line[close.end():]))
            else:
                out.append("")
            continue
        if in_toc:  # a table of contents holds list items up to its closing marker; anything else ends it
            closes = bool(_TOC_CLOSE.match(line))
            in_toc = not closes and (not line.strip() or bool(_LIST_ITEM.match(line)))
            if in_toc or closes:
                links.add(len(out))
                out.append("")
                continue
        # a span's words without its attributes; a badge with `{fig-align="left"}` after it: a line of nothing but a link
        line = _AFTER_LINK.sub("", _SPAN.sub(r"\1", line))
        if "[[" in line and not _WIKILINKS_LINE.match(line):  # the test first: a regex over every line cost a tenth
            line = _POINTER_TAIL.sub("", line)
        opens = bool(_TOC_OPEN.match(line))
        if (opens or number - 1 in contents or _ANCHOR_ITEM.match(line) or _LINK_ITEM.match(line)
                or _WIKILINKS_LINE.match(line) or _TOC_MARKER.match(line)):
            in_toc = opens
            links.add(len(out))
            out.append("")
            continue
        fence = fence_opening(line)
        if fence:
            cell, query = bool(_CELL.match(line)), bool(_QUERY_FENCE.match(line))
            out.append("" if query else line)
            continue
        if _DIV_FENCE.match(line):
            out.append("")
            continue
        while (opened := _BLOCK_TAG.search(line)) is not None:
            end = rf"</\s*{opened.group(1)}\s*>" if opened.group(1) else "-->"
            close = re.search(end, line[opened.end():], re.IGNORECASE)
            if close is None:
                break
            line = line[: opened.start()] + line[opened.end() + close.end():]
        if opened is not None:
            in_block = end
            out.append(clean_inline(line[: opened.start()]))
            continue
        prop = _PROPERTY.match(line)
        if prop and _APP_PROPERTY.match(prop.group("key")):
            out.append("")
            continue
        if _GRID_BORDER.match(line):  # pandoc's grid table: its top border is no text, the rest are rules
            out.append("| --- |" if number > 1 and lines[number - 2].lstrip().startswith("|") else "")
            continue
        heading = _HEADING.match(line)
        if heading and heading.group(1) == "#" and headings and _code_comment(lines, number - 1):
            heading = None
        # a guess, so no long line and no comment ("##dasou: …") of code an export left unfenced
        if heading is None and (unspaced := _UNSPACED_HEADING.match(line)) and len(line) <= HEADING_MAX_CHARS \
                and not _code_comment(lines, number - 1):
            heading = unspaced
        if heading and _ONE_LINE_NOTE.search(heading.group(2)):  # a note exported as one line: its text, not a title
            line, heading = heading.group(2), None
        bullet = heading is None and (heading := _BULLET_HEADING.match(line)) is not None
        if heading:
            title = heading_title(heading.group(2))
            if title:
                headings.append(Heading(level=len(heading.group(1)), title=title, line=number, in_outline=bullet))
                level = len(heading.group(1))
            if _LINK.search(heading.group(2)):  # "### Recently added: [NLP questions](NLP/README.md)" points there
                links.add(len(out))
        elif (card := _LOGSEQ_CARD.match(line)) and _nested_below(lines, number - 1, _indent_width(card.group("indent"))):
            # a card at the top of the outline is a section of the page; one nested in a block, of the heading above
            headings.append(Heading(level=_level_below(level) if card.group("indent") else 1,
                                    title=heading_title(card.group("title")), line=number, in_outline=True))
        elif title := _question_title(line, lines, number - 1):
            headings.append(Heading(level=_level_below(level), title=title, line=number))
        underline = _UNDERLINE.match(line)
        title = _setext_title(lines, number - 1, skip) if underline else ""
        if title:
            level = 1 if underline.group(1)[0] == "=" else 2
            headings.append(Heading(level=level, title=title, line=number - 1))
            out.append("")
            continue
        out.append(clean_inline(_card(line)))
    name = _name_line(out, headings, metadata, path)
    if name is not None and (title := heading_title(out[name])):
        headings.insert(0, Heading(level=1, title=title, line=name + 1))
    _checklists_written(out, headings)
    return Note(path=str(path), lines=out, headings=headings, metadata=metadata, links=links)


# A heading that names a checklist: its task items are what the section says, not the note's to-dos
_CHECKLIST_HEADING = re.compile(r"check\s*-?\s*list|检查清单|检查项|自查|自检|清单", re.IGNORECASE)
_TASK_BOX = re.compile(r"^(\s*[-*+]\s+)\[[ xX]\](?:\s+|$)")
_PLACEHOLDER_TASK = re.compile(r"^\s*[-*+]\s+\[[ xX]\]\s*(?:TODO|TBD|WIP|待补充|待完善|待更新)?\W*$", re.IGNORECASE)


def _checklists_written(lines: list[str], headings: list[Heading]) -> None:
    """The task items under a heading that names a checklist ("Checklist before deploy", "上线检查清单") as plain
    items: reported as "not written up yet" and never quoted, they were the section's whole answer."""
    for i, heading in enumerate(headings):
        if _CHECKLIST_HEADING.search(heading.title):
            end = next((h.line - 1 for h in headings[i + 1:] if h.level <= heading.level), len(lines))
            for n in range(heading.line, end):
                if not _PLACEHOLDER_TASK.match(lines[n]):  # "- [ ] TODO" is still a to-do
                    lines[n] = _TASK_BOX.sub(r"\1", lines[n])


def note_aliases(metadata: dict) -> list[str]:
    """A note's other names, as its front matter's `aliases` (or `alias`) lists them: a list or one string."""
    found = metadata.get("aliases", metadata.get("alias")) if isinstance(metadata, dict) else None
    names = [found] if isinstance(found, str) else found if isinstance(found, list) else []
    return [str(name).strip() for name in names if isinstance(name, (str, int, float)) and str(name).strip()]
