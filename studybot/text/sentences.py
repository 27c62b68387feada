"""Splitting text into sentences, for the two jobs that need it.

Checking (grading key points, verifying a generation) wants every clause: a break after Chinese
and ASCII stops and semicolons, after a period followed by white space (so 0.25 stays whole),
and at line breaks. Quoting (the extractive answer) wants sentences a reader can lift whole:
an ASCII stop ends one only before a capital, a Chinese character, a bracket or a quote, so
"e.g. the" and "x!y" stay inside their sentence, and never after "et al." or "vs."; a Chinese
semicolon joins two clauses of one sentence, so it ends none ("小 batch：统计量噪声大，精度下降；
检测、分割常见。" was quoted as "检测、分割常见。", in the answer to the quickstart's question).
"""

from __future__ import annotations

import re

from studybot.text.language import CJK, has_cjk

SENTENCE_BREAK = re.compile(r"(?<=[。！？；;!?])|(?<=\.)\s+|\n+")
# "Goodfellow et al. (2015) 认为…", "SGD vs. Adam", "…, i.e. N/B steps" go on after their abbreviation's stop; a
# Chinese sentence that ends a quotation ends after its closing mark ("…再激活。”").
_ASCII_END = (r"(?<=[.!?;])(?<!\bet al\.)(?<!\bvs\.)(?<!\bi\.e\.)(?<!\be\.g\.)(?<!\bcf\.)(?<!\bFig\.)(?<!\bEq\.)"
              rf"\s+(?=[A-Z{CJK}(\"'])")
_QUOTABLE_END = re.compile(rf"(?<=[。！？])(?![”」』])|(?<=[。！？][”」』])|{_ASCII_END}")
# a chunk of a paragraph written on one line may also end at a Chinese semicolon: it is cut for length, not quoted
_RUN_END = re.compile(rf"(?<=[。！？；])(?![”」』])|(?<=[。！？；][”」』])|{_ASCII_END}")


def split_sentences(text: str) -> list[str]:
    """Clauses of a text, stripped, empty ones dropped."""
    return [part.strip() for part in SENTENCE_BREAK.split(text) if part and part.strip()]


def sentence_runs(line: str) -> list[str]:
    """A line cut after each sentence, nothing dropped or stripped: the runs put together are the line."""
    cuts = [0, *(m.end() for m in _RUN_END.finditer(line)), len(line)]
    return [line[a:b] for a, b in zip(cuts, cuts[1:]) if b > a]


def split_quotable(line: str) -> list[str]:
    """Whole sentences of one line, stripped, empty ones dropped; none ends inside parentheses that close later
    ("… than Xavier initialization (Kumar, 2017; Yang, 2017)." is one sentence, not one that stops at "2017;")."""
    sentences: list[str] = []
    group: list[str] = []  # parts inside parentheses not yet closed
    for part in (p.strip() for p in _QUOTABLE_END.split(line) if p and p.strip()):
        group.append(part)
        joined = "".join(p if i == 0 or group[i - 1].endswith(_CJK_STOPS) else f" {p}" for i, p in enumerate(group))
        if not _unclosed(joined):
            sentences.append(joined)
            group = []
    found = [_unquoted(s) for s in sentences + group]  # parentheses that never close: the parts as they were split
    for i in range(len(found) - 2, -1, -1):  # a bare yes or no ("没有。训练完可以…") opens the sentence that follows
        if _REPLY.match(found[i]):
            found[i:i + 2] = [found[i] + ("" if found[i].endswith(_CJK_STOPS) else " ") + found[i + 1]]
    return found


# A reply of a word or two, which alone is too short to quote and was dropped, losing the answer to a yes-no question
_REPLY = re.compile(r"^(?:yes|no|nope|not really|not necessarily|没有|有|会|不会|是|不是|是的|对|不对|能|不能|可以|不可以|"
                    r"不一定|否)\s*[。.!！,，;；]$", re.IGNORECASE)


_CJK_STOPS = ("。", "！", "？", "；")
_QUOTES = {"“": "”", "「": "」", "『": "』", '"': '"'}


def _unquoted(sentence: str) -> str:
    """A sentence without the quotation mark a quoted paragraph opens or closes with beyond it ("“RAG and fine-tuning
    solve different problems." … "In production, they are often used together.”")."""
    for opening, closing in _QUOTES.items():
        if opening == closing:
            if sentence.count(opening) % 2:
                sentence = sentence.removeprefix(opening).removesuffix(closing)
        elif sentence.startswith(opening) and closing not in sentence:
            sentence = sentence.removeprefix(opening)
        elif sentence.endswith(closing) and opening not in sentence:
            sentence = sentence.removesuffix(closing)
    return sentence.strip()


def _unclosed(text: str) -> bool:
    return text.count("(") + text.count("（") > text.count(")") + text.count("）")


# The label that says a question follows: "Q17: ", "问题 3：", "面试题：" ("> [!question] 面试题：sigmoid 的导数最大是多少？")
_QUESTION_LABEL = r"(?:Q|问题|问|Question|面试题|面试问题|Interview question)\s*\d*\s*[:：.、]\s*"
_ASKING_LABEL = re.compile(rf"^\s*{_QUESTION_LABEL}", re.IGNORECASE)
# Numbering and labels before what a line says: "3.1.4 ", "Q17: ", "1. ", "1.ResNet", "一、", "(2) ", "问题 3："
_LEAD_LABEL = re.compile(
    rf"^\s*(?:{_QUESTION_LABEL}|\d+(?:\.\d+)*(?:[.、)）]\s*|\s+)|[一二三四五六七八九十]+[、.．]\s*|"
    r"[(（]\d+[)）]\s*)", re.IGNORECASE)


def without_lead_label(text: str) -> str:
    """The text without its numbering or label: a heading as it is asked, a bold title as it names its point."""
    return _LEAD_LABEL.sub("", text, count=1).strip()


def without_question_label(text: str) -> str:
    """The text without a label that says a question follows ("面试题：", "Q3:"), its numbering kept ("2015 年 ResNet")."""
    return _ASKING_LABEL.sub("", text, count=1).strip()


# A heading any note may have, naming no subject ("# Overview", "# 总结", "# References"): a part of a note, never its title.
# (the idea of a note's subject is where it says what the subject is: "What is a variational autoencoder?" opened with
# "VAE > Variants", ranked above "VAE > Idea")
_PART_NAME = re.compile(r"^(?:overview|introduction|intro|summary|conclusions?|background|motivation|intuition|"
                        r"definitions?|(?:the |basic |main |core |big )?ideas?|key (?:ideas|concepts|takeaways)|tl;?dr|"
                        r"notes|references|resources|further reading|"
                        r"概述|概览|简介|介绍|引言|前言|背景|定义|总结|小结|摘要|其他|参考|参考资料|参考文献|基本思想|核心思想|主要思想|"
                        r"概覽|簡介|介紹|定義|總結|參考|參考資料|參考文獻|others?|misc)[\s:：]*$",
                        re.IGNORECASE)


def names_a_part(heading: str) -> bool:
    """Whether a heading names a part any note may have ("Overview", "3. 总结", "References"), not a subject."""
    return bool(_PART_NAME.match(without_lead_label(heading)))


# A section that lists where to read more ("参考文献", "18.7 参考资料", "三、参考链接", "References", "Further reading"):
# its lines are titles and quotations of other pages, and answer nothing ("参考答案" is an answer).
_REFERENCES = re.compile(r"^[\W\d_]*(?:参考|参考文献|参考资料|参考链接|参考文章|相关阅读|延伸阅读|扩展阅读|推荐阅读|相关链接|references?"
                         r"|further reading|see also|links|resources|bibliography|reading list|sources?)[\W\d_]*$", re.IGNORECASE)


def lists_references(heading: str) -> bool:
    """Whether a section's heading says it lists where to read more: search ranks it after every other section,
    answers quote none of it (its link titles name the note's subjects and explain none of them)."""
    return bool(_REFERENCES.match(without_lead_label(heading)))


# A line that asks: it ends with a question mark, markup and a closing bracket aside ("- What is X?", "**Q3: 为什么…？**")
_ASKS = re.compile(r"[?？]\s*(?:\*\*|__|[)）])?\s*$")
_NOT_PROSE = ("#", "```", "~~~", "|", "![")
ASKING_SHARE = 0.6  # a passage this share of whose text is in lines that ask (three at least) is a list of questions


def asks_only(text: str) -> bool:
    """Whether a passage is a list of questions with no answers (an interview-question bank, a textbook's
    exercises): most of its text is in lines that ask. It answers none of them: answers quote none of it (a list of
    sample questions opened "What is the bias-variance tradeoff?" with "Compare K-means and KNN algorithms."). Its
    text, not its lines: a paragraph that gives three rewritten queries as examples explains, and is an answer."""
    lines = [line for line in map(str.strip, text.splitlines()) if line and not line.startswith(_NOT_PROSE)]
    asking = [line for line in lines if _ASKS.search(line)]
    return len(asking) >= 3 and sum(map(len, asking)) >= ASKING_SHARE * sum(map(len, lines))


LABEL_CHARS = 24  # a list item or bold line this short, with no clause stop in it, names a point without making it
LABEL_WORDS = 6  # ... and so does an English one of this many words ("Residual Connections (ResNets)")
CLAUSE_STOP = re.compile(r"[。！？；，.!?;,]")  # not 、, which lists the names a label gives ("优点、缺点")
BOLD_LINE = re.compile(r"^\s*\*\*(?P<bold>[^*]+)\*\*\s*[:：]?\s*$")  # "**Batch size**", "**参考资料：**"


def names_a_point(text: str) -> bool:
    """Whether a list item's or bold line's text names a point ("2. 梯度爆炸", "Batch size", "1.ResNet意义")
    rather than making one: short, and no clause stop once its numbering is set aside. An answer reads such a
    line as the title of what follows it; a section holding nothing else is not written yet."""
    named = without_lead_label(text)
    short = len(named) <= LABEL_CHARS or (not has_cjk(named) and len(named.split()) <= LABEL_WORDS)
    return bool(named) and short and not CLAUSE_STOP.search(named)


# A quotation's source on a line of its own: "Pascanu et al. (2013)", "HuggingFace (n.d.)", "Kumar, 2017".
_SOURCE_LINE = re.compile(r"^[A-Z][\w.'’-]*(?: (?:et al\.?|&|and|[A-Z][\w.'’-]*))*"
                          r"(?: \((?:(?:1[89]|20)\d\d[a-z]?|n\. ?d\.)\)|, (?:1[89]|20)\d\d[a-z]?)\.?$"
                          # or a book's section it comes from: "《深度学习》 8.5 自适应学习率算法" (a cloze blanked it)
                          r"|^《[^》]{1,40}》\s*(?:第\s*)?\d+(?:\.\d+)*\s*[章节]?\s*[^。！？；.!?;]{0,40}$")
# Words to the reader, not about the subject, as an article exported from a blog or WeChat has them ("大家好，我是…",
# "文章比较短，适合大家碎片化阅读", "点个在看再走呗", "欢迎大家关注微信公众号", "Thanks for reading").
# Also an author's words about the text itself ("This article will focus on …", "Let's take a look!", "值得我们探究一下",
# "下面阐述下…", a lecture's "下节中我们会讲到…") or a picture it shows ("The image below visualizes …"): what it is about,
# not what it says.
_TO_READER = re.compile(r"大家好|点个?在看|点赞|欢迎(?:大家|大佬|关注|拍砖|留言|交流)|关注(?:我|微信|公众号)|公众号|碎片化阅读|"
                        r"感谢阅读|鞠躬感谢|thanks for reading|hope (?:this|it) helps|happy learning|follow me\b|"
                        r"\b(?:this|today's|the following|in this|our) (?:article|blog post|blog|post|tutorial)\b|"
                        r"\b(?:after|by) reading (?:this|it)\b|\bthank you for reading\b|\bI hope (?:that )?(?:this|it|you)\b|"
                        r"\bwe(?:['’]ll| will| are going to|['’]re going to| shall)(?: \w+){0,2} (?:take a look|look at|cover|"
                        r"discuss|explore|find out|show you|start by|move on|be using|see how)\b|\b(?:don['’]t|not to) worry\b|"
                        r"\b(?:the|this) (?:image|figure|picture|diagram|chart) (?:below|above)\b|"
                        r"\bin (?:this|the next|the last|the previous|a later|an earlier) (?:video|lecture|lesson)\b|"
                        r"这篇文章|本篇文章|值得我们?探究|我们便?具体讨论|着重补充|(?:上|下|这|本)一?节(?!点)|(?:这|上|下|本)个?视频|"
                        r"(?:我们)?再?来看(?:看|一下|几个|一个)|接下来，?(?:我们?)?(?:会|将|来)?(?:告诉|讲|看看|介绍|讨论)|"
                        r"如果你们?(?:对.{0,12})?感兴趣|我们(?:继续|接着)(?:讨论|讲|看|介绍)|现在你们?(?:已经)?(?:了解|知道|学会)了|"
                        r"\bif you(?:['’]re| are) interested\b|"
                        # where to read more: "如果想了解更多，我强烈建议您阅读这本由 Michael Nielsen 写的书" was quoted as an answer
                        r"如果(?:你|您)?想(?:要)?(?:了解|深入了解|学习|知道)更多|(?:强烈)?(?:建议|推荐)(?:您|你|大家)(?:去)?(?:阅读|看看?|读)|"
                        r"\bif you (?:want|wish|would like) to (?:learn|know|read|find out) more\b|"
                        r"\bI (?:strongly |highly )?recommend (?:reading|you read|that you read)\b|"
                        r"之前的整理|下面(?:我们)?来?(?:简单)?(?:阐述|介绍|讨论|看一?看|说一?说|讲一?讲)",
                        re.IGNORECASE)
# Words that narrate the text rather than say what it teaches: an aside in a sentence, but, unlike the words above,
# no lead-in whose list to leave out ("Let us talk about the advantages of BN:" lists them).
_NARRATES = re.compile(
    # a tutorial narrating its code: "Now let's setup some device-agnostic code", "it's time to
    # learn about tensors", "These will come soon.", "If you guessed …, you'd be right!"
    r"^(?:(?:now|so|first|next|then|finally|and|but|ok(?:ay)?|alright|great|nice|woohoo)[,!]?\s+)*"
    r"let(?:['’]s| us)\b(?! (?:say|suppose|assume|consider|imagine|denote|define|call|write|recall))|"
    r"\blet['’]s(?: \w+){0,2} (?:take a look|look|go|get (?:started|moving)|dive|find out|see|start|explore|move on)\b|"
    r"\bit['’]s (?:now )?time to\b|\bwill come (?:soon|later)\b|\bwe(?:['’]ll| will)(?: \w+){0,2} (?:get to|set ?up)\b|"
    r"\byou(?:['’]d| would) be right\b|\bmore on (?:this|that|these) later\b|\b(?:head|go) back to (?:section|chapter)\b|"
    # a blog's words about itself: "今天分享一个Bert的改进工作", "本文主要是讲一下", "分享给大家，希望有帮助",
    # "记录下来，以备后用", "我觉得这个讲的很好", "总结在下面", "没看懂没关系，一会详细讲", "说一下为什么…"
    r"今天(?:先|再)?来?(?:给|和|跟)?(?:大家)?(?:分享|介绍|聊|讲|说|谈)|本文(?:主要)?(?:是)?(?:讲|聊|谈|说|分享|记录|整理)|"
    r"分享给大家|希望(?:能)?(?:对(?:大家|你))?有(?:所)?帮助|以备后用|记录(?:一下|下来)|"
    r"(?:讲|写)(?:的|得)(?:很|非常|挺)(?:好|清楚|不错)|(?:总结|整理|记录|放|贴|附)在(?:了)?(?:下面|下方|后面|文末)|"
    r"没看懂没关系|一会儿?(?:再)?(?:详细)?(?:讲|说|介绍|解释)|后面(?:会|再)(?:详细)?(?:讲|说|介绍|解释)|"
    r"^(?:我们)?(?:先|再|来|简单)*(?:说|聊|谈|讲)一(?:下|说|谈|讲)|"
    # a Chinese tutorial narrating its code: "下面我们来调用反向传播函数", "下面做一个简单的操作", "以上就是一个…的简单样例了",
    # "在这一章里面，我们将…", "在本文中，我们讨论了…" ("下面的例子中" and "下面是" stay: what follows is the point)
    r"(?:^|[，,；;])\s*下面(?:我们|就|来|做|定义|再|先|会|将|用|使用|调用)|^以上就是|(?:这|本|上|下)(?:一?章|篇|文)(?:里面?|中)?[，,]?我们|"
    # a book's words about its own chapters: "在前面的章节中，我们已经…", "In the previous section, we discussed …",
    # "In this section, we focus only on …", "To answer this question, we need to start from …"
    r"前面(?:的)?(?:章节|几?[章节])|(?:^|[，,])\s*前面我们|"
    r"\bin (?:the )?(?:previous|last|next|following|earlier|later|this|that) (?:sections?|chapters?|parts?)\b|"
    r"\bto answer (?:this|that|the) question, (?:we|let)|"
    # a learner's words about the note itself: "> 自己整理的 RAG 笔记，面试前复习用" under its title led an answer
    r"(?:自己|个人)(?:整理|总结|记录)的.{0,12}笔记|笔记[，,]?\s*(?:面试前|考前)?复习用|\bmy (?:own |personal )?(?:study )?notes "
    r"(?:on|for|about)\b|\bnotes (?:for|to) (?:review|revise|myself)\b",
    re.IGNORECASE)
LEADS_IN = (":", "：", "...", "…")  # how a line that introduces what follows ends
_TRAILS_OFF = re.compile(r"[A-Za-z,]\s*(?:\.\.\.|…)$")  # "However, he also argues that..." leads into a quotation


def speaks_to_reader(text: str) -> bool:
    """Whether a sentence speaks to the reader or of the text itself, not of its subject ("Let's take a look!")."""
    return _TO_READER.search(text) is not None


# an aside about the figure may take a clause ("(note that LD 2 would be a very bad linear discriminant in the figure
# above)", 74 characters, left its sentence an aside, and LDA's "maximizes class separability" went unquoted)
_PARENTHESIS = re.compile(r"\s*[（(]([^（）()]{1,120})[）)]")


def without_asides(text: str) -> str:
    """The text without its parenthetical words to the reader ("…保持一致（这句话没看懂没关系，一会详细讲）")."""
    return _PARENTHESIS.sub(lambda m: "" if speaks_to_reader(m.group(1)) or _NARRATES.search(m.group(1))
                            else m.group(0), text)


def is_aside(sentence: str) -> bool:
    """Whether a sentence is an aside that says nothing an answer, a card or a grader could use: words to the reader
    or about the text, a quotation's source on its own, or a lead-in that trails off into what follows."""
    return speaks_to_reader(sentence) or bool(_NARRATES.search(sentence) or _SOURCE_LINE.match(sentence)
                                              or _TRAILS_OFF.search(sentence))
