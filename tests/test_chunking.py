"""Markdown cleaning and chunking: headings, line numbers, fences, front matter, embeds, answers."""

from __future__ import annotations

from studybot.ingest.chunking import MAX_CHARS, chunk_note
from studybot.ingest.notes import file_title, folder_title, parse_note
from tests.conftest import NORMALIZATION_NOTE, PYTHON_NOTE


def test_front_matter_becomes_metadata_and_keeps_line_count() -> None:
    note = parse_note(NORMALIZATION_NOTE, "n.md")
    assert note.metadata["topic"] == "normalization"
    assert note.metadata["demos"] == ["batchnorm-vs-layernorm"]
    assert len(note.lines) == len(NORMALIZATION_NOTE.split("\n"))
    assert note.lines[0] == "" and "topic" not in "".join(note.lines)


def test_headings_paths_and_line_numbers_point_at_the_source() -> None:
    source = NORMALIZATION_NOTE.split("\n")
    chunks = chunk_note(parse_note(NORMALIZATION_NOTE, "n.md"))
    paths = [c.heading for c in chunks]
    assert paths == [
        "Normalization > BatchNorm 和 LayerNorm 有什么区别",
        "Normalization > BatchNorm 和 LayerNorm 有什么区别 > 面试回答",
        "Normalization > Why clip gradients?",
    ]
    for chunk in chunks:
        # the first cited line is the section's heading, the last one the chunk's last text line
        assert source[chunk.line_start - 1].lstrip("#").strip() == chunk.heading_path[-1]
        assert source[chunk.line_end - 1].strip() == chunk.text.split("\n")[-1].strip()
    assert chunks[1].kind == "answer"
    assert chunks[0].kind == "section"


def test_hash_line_inside_code_fence_is_not_a_heading() -> None:
    note = parse_note(PYTHON_NOTE, "p.md")
    assert [h.title for h in note.headings] == ["Python", "tuple 和 list 的区别", "Generators"]
    chunk = chunk_note(note)[0]
    assert "# this is a comment, not a heading" in chunk.text
    assert chunk.text.rstrip().endswith("```")


def test_a_code_comment_whose_fence_an_export_lost_is_no_heading() -> None:
    """A chat export dropped the fence around `lstm = nn.LSTM(…)`: its `# Dummy input …` comment is no title, and
    the sections after it stay under the note's own; a title after prose is one."""
    text = ("# Sequence models\n\n## LSTM\n\nAn LSTM keeps a cell state.\n\nlstm = nn.LSTM(input_size=10, hidden_size=20)\n\n"
            "# Dummy input: batch of 3 sequences\n\n```python\nx = torch.randn(3, 5, 10)\n```\n\n"
            "## GRU\n\nA GRU merges the gates.\n\n# Summary\n\nBoth gate what they keep.\n")
    note = parse_note(text, "s.md")
    assert [(h.level, h.title) for h in note.headings] == [(1, "Sequence models"), (2, "LSTM"), (2, "GRU"), (1, "Summary")]
    assert [c.heading for c in chunk_note(note)] == ["Sequence models > LSTM", "Sequence models > GRU", "Summary"]


def test_a_heading_an_export_wrote_without_a_space_is_a_heading() -> None:
    """Evernote's and Word's converters write "##数据增强", "##Early Stopping": read as text, the note was one passage
    with "##…" in it, and its sections were never cited. One mark is a tag (#标签) or code (#include, #fff), a line of
    marks a rule, a comment beside code an export left unfenced is code's, and a long line is prose."""
    note = parse_note("# 正则化\n\n##数据增强\n\n图像：随机裁剪、翻转。\n\n###Early Stopping###\n\n验证集 loss 不再下降时停止训练。\n",
                      "reg.md")
    assert [(h.level, h.title, h.line) for h in note.headings] == [(1, "正则化", 1), (2, "数据增强", 3),
                                                                   (3, "Early Stopping", 7)]
    assert [(c.heading, c.line_start, c.line_end, c.text) for c in chunk_note(note)] == [
        ("正则化 > 数据增强", 3, 5, "图像：随机裁剪、翻转。"),
        ("正则化 > 数据增强 > Early Stopping", 7, 9, "验证集 loss 不再下降时停止训练。")]
    long_line = f"##{'很长的一行话，' * 15}"
    text = ("# T\n\n#标签 #深度学习\n#fff 是白色。\n####\n\n```c\n##define CAT\n```\n\nx = torch.randn(3, 5)\n##批大小 3\n\n"
            f"{long_line}\n")
    note = parse_note(text, "t.md")
    assert [h.title for h in note.headings] == ["T"]
    assert note.lines[2:5] == ["#标签 #深度学习", "#fff 是白色。", "####"]
    assert note.lines[7] == "##define CAT" and note.lines[11:] == ["##批大小 3", "", long_line, ""]


def test_an_html_line_break_inside_a_line_is_a_stop_between_what_it_parts() -> None:
    """Notion writes a line break inside a paragraph or a table's cell as <br>: deleted as a tag, "x &lt; 0 时输出
    0<br>梯度为 0" read "0梯度为 0". The note keeps one line per line of the file, so the break is a stop, none after one."""
    lines = {"| ReLU | x &lt; 0 时输出 0<br>梯度为 0 |": "| ReLU | x < 0 时输出 0；梯度为 0 |",
             "| Sigmoid | 输出在 (0, 1) 之间<BR/>": "| Sigmoid | 输出在 (0, 1) 之间",
             "训练慢。<br>归一化让每层输入保持稳定。": "训练慢。归一化让每层输入保持稳定。",
             "Training is slow.<br />Normalization helps.": "Training is slow. Normalization helps.",
             "Step one<br>Step two": "Step one; Step two",
             '  <div><img src="a.gif"/><br/>No padding, no strides.</div>': "  No padding, no strides.",
             "`a<br>b` is code": "`a<br>b` is code"}
    for written, read in lines.items():
        assert parse_note(f"# T\n{written}\n", "t.md").lines[1] == read, written


def test_html_scripts_images_and_obsidian_embeds_are_cleaned() -> None:
    text = (
        "# T\n<script>\nvar secret = 1;\n</script>\n<style>p {}</style>\n"
        "See ![a diagram](https://x.org/img/d.png) and ![](E:\\notes\\pics\\attention heads.png).\n"
        "Embed ![[attention map.jpeg]] and link [[Other Note|the other note]] and [[Plain]].\n"
        "| a | b |\n| --- | --- |\n| 1 | 2 |\n"
    )
    note = parse_note(text, "t.md")
    body = "\n".join(note.lines)
    assert "secret" not in body and "<style>" not in body
    assert "See a diagram and attention heads.png." in body
    assert "Embed attention map.jpeg and link the other note and Plain." in body
    assert "| 1 | 2 |" in body
    assert len(note.lines) == len(text.split("\n"))


def test_images_named_by_a_tool_not_a_person_become_the_word_image() -> None:
    """Typora's `image-20240516164546935`, Obsidian's `Pasted image ...`, numbers and UUIDs name no
    content: each becomes "image" (what the answer knows as a lost figure), not a line to quote."""
    names = {
        "![image-20240516164546935](https://cdn.x/img/image-20240516164546935.png)": "image",
        "![[Pasted image 20240516164546.png]]": "image",
        "![](pics/1747120568287-867c030b-3b85-4d68-89b0-8d2233db2ffd.png)": "image",
        "![](pics/image21.jpeg)": "image",
        "![Alt text](pics/1.png)": "image",
        "![](../_assets/TIM截图20180611215923.png)": "image",
        "![](assets/QQ截图20190302101010.png)": "image",
        "![](assets/Snipaste_2023-05-01_10-00-00.png)": "image",
        "![image](pics/lora_diagram.png)": "lora_diagram.png",
        "![](pics/vgg16.png)": "vgg16.png",
        "![架构图](pics/1.png)": "架构图",
        "![[attention map.jpeg]]": "attention map.jpeg",
        # Obsidian's placement and size of a picture are no names
        "![[Pasted image 20240601173325.png|centered]]": "image",
        "![[Pasted image 20250921100553.png| center ]]": "image",
        "![[Pasted image 20250921100553.png|300]]": "image",
        "![[kde.png|center]]": "kde.png",
        "![[Pasted image 20250921100553.png|KDE of the samples]]": "KDE of the samples",
    }
    for markdown, text in names.items():
        assert parse_note(f"# T\n见{markdown}。\n", "t.md").lines[1] == f"见{text}。", markdown
    # alone on its line a picture is a figure, and its name a caption (`![name]`, quoted by no answer)
    alone = {"![架构图](pics/1.png)": "![架构图]", "![[kde.png|center]]": "![kde.png]", "![](pics/1.png)": "image",
             "> ![[attention map.jpeg]] ![](pics/vgg16.png)": "> ![attention map.jpeg] ![vgg16.png]",
             "![[Other Note]]": ""}  # another note's text shown here: read where that note is
    for markdown, text in alone.items():
        assert parse_note(f"# T\n{markdown}\n", "t.md").lines[1] == text, markdown
    assert parse_note("# T\n它的推导在![[Other Note]]里。\n", "t.md").lines[1] == "它的推导在Other Note里。"


def test_pictures_that_end_a_line_after_its_sentence_are_a_caption_not_a_word_of_it() -> None:
    """"见 [[attention]] 里的公式。![[transformer_arch.png]]" read "…里的公式。transformer_arch.png", a file's name as a
    sentence of the note: after the line's last sentence a picture is its figure, embedded by Obsidian or Markdown.
    Inside a sentence a picture is a word of it, and an embedded note is read by its name there, as before."""
    lines = {"见 [[attention]] 里的公式。![[transformer_arch.png]]": "见 attention 里的公式。![transformer_arch.png]",
             "见 [[attention]] 里的公式。 ![](images/transformer_arch.png) ![[kde.png|center]]":
                 "见 attention 里的公式。 ![transformer_arch.png] ![kde.png]",
             "Attention weighs the values. ![[Pasted image 20240516164546.png]]": "Attention weighs the values. image",
             "见![[transformer_arch.png]]。": "见transformer_arch.png。",
             "见 ![](images/arch.png) 和 ![[note#heading]] 里的公式。": "见 arch.png 和 note 里的公式。"}
    for written, read in lines.items():
        assert parse_note(f"# T\n{written}\n", "t.md").lines[1] == read, written


def test_formula_images_read_as_the_latex_their_address_carries() -> None:
    """Notes exported from Zhihu, or written with CodeCogs or GitHub's math renderer, show each formula
    as a picture whose address holds the LaTeX: the formula, not "image" or nothing."""
    formulas = {
        "- paras =![](https://www.zhihu.com/equation?tex=n+%5Ctimes+%28h+%5Ctimes+w+%5Ctimes+c+%2B+1%29)":
            "- paras =$n \\times (h \\times w \\times c + 1)$",
        '<div align="center"><a href="http://www.codecogs.com/eqnedit.php?latex=\\fn_jvn&space;\\large&space;'
        'v\\leftarrow&space;\\alpha&space;v&plus;g"><img src="../_assets/公式_20180826161333.png" /></a></div>':
            "$v\\leftarrow \\alpha v+g$",
        "loss ![](https://latex.codecogs.com/svg.latex?\\dpi{120}&space;f(x)=x^2) here": "loss $f(x)=x^2$ here",
        '<img src="https://render.githubusercontent.com/render/math?math=e^{i%20\\pi}%20%2B%201%20%3D%200">':
            "$e^{i \\pi} + 1 = 0$",
        "![](https://pic4.zhimg.com/80/v2-72c0ca9eafee4e818f55c464aa60e2ff_hd.jpg)": "image",
    }
    for markdown, text in formulas.items():
        assert parse_note(f"# T\n{markdown}\n", "t.md").lines[1] == text, markdown


def test_a_link_alone_on_its_line_is_left_out_and_a_picture_is_no_heading() -> None:
    """A reference list's entries and a table of contents written with the note's full address point
    to an explanation and give none: an answer must not quote "ResNet v2论文笔记" as what ResNet is.
    A picture over a stray `=======` (a bad export) is no heading: the sections after it stay where they are."""
    text = ("# 深度学习\n\n## ResNet\n\n![](https://pic4.zhimg.com/80/v2-72c0ca9eafee4e818f55c464aa60e2ff_hd.jpg)\n"
            "=======\n残差连接让梯度直接流回浅层。\n\n**参考资料**\n\n- [ResNet v2论文笔记](https://blog.csdn.net/u/1)\n"
            "- [[ResNet系] 002 ResNet-v2](https://segmentfault.com/a/1)\n"
            "* [Q7: What is parameter sharing?](https://github.com/u/r/blob/main/qa.md#q7)\n"
            "1. 论文：[Deep Residual Learning](https://arxiv.org/abs/1512.03385)\n\n## BN 和 Dropout\n两者在训练和测试时不同。\n")
    note = parse_note(text, "dl.md")
    assert [(h.level, h.title) for h in note.headings] == [(1, "深度学习"), (2, "ResNet"), (2, "BN 和 Dropout")]
    body = "\n".join(note.lines)
    assert len(note.lines) == len(text.split("\n"))
    assert "论文笔记" not in body and "ResNet-v2" not in body and "parameter sharing" not in body
    assert "1. 论文：Deep Residual Learning" in body  # a link inside a sentence keeps its name
    chunks = chunk_note(note)
    assert [c.heading_path for c in chunks] == [["深度学习", "ResNet"], ["深度学习", "BN 和 Dropout"]]
    # Obsidian's lists of [[notes]] and of [[#headings]] (a table of contents) are links too; inline, a link to a
    # heading reads as the heading, one to a block as nothing
    vault = parse_note("# Transformer\n## 目录\n* [[#结构]]\n* [[#一、引言 Introduction]]\n## 结构\n见 [[#一、引言 Introduction]]"
                       "和 [[Attention#Scaled dot product|缩放点积]]，证明在 [[#^a1b2c3]]。\n## Related\n- [[BERT]]\n"
                       "- [[GPT|GPT 系列]]\n", "t.md")
    assert vault.lines[2:4] == ["", ""] and vault.lines[8:10] == ["", ""]
    assert vault.lines[5] == "见 一、引言 Introduction和 缩放点积，证明在 。"
    from studybot.ingest.chunking import unwritten_sections

    assert unwritten_sections(vault) == []
    # a bracketed link that only marks where a passage came from is no part of it
    marked = parse_note("#### 1) What's the trade-off between bias and variance? [[src](http://x.com/a)]\n"
                        "Balance the two without overfitting. [[src]](https://y.com/b)\n"
                        "See the [source](https://z.org) of this [[来源]](https://a.cn).\n"
                        "A tree of decisions and their consequences / [source](https://github.com/a/b/tree.py#L60)\n"
                        "Bagging averages trees ([src](https://c.io)) - [link](https://d.io)\n", "q.md")
    assert [h.title for h in marked.headings] == ["1) What's the trade-off between bias and variance?"]
    assert marked.lines[1:5] == ["Balance the two without overfitting.", "See the source of this.",
                                 "A tree of decisions and their consequences", "Bagging averages trees"]


def test_a_line_of_links_to_other_notes_is_not_read() -> None:
    """"Compare: [[WordPiece]], [[SentencePiece]]" and "> 见 [[Pruning]]" say where else to read, and were quoted in
    an answer and a card's reference; a link inside a sentence, or with words after it, stays."""
    note = parse_note("# BPE\n\nByte-level BPE never meets an unknown byte.\n\nCompare: [[WordPiece]], [[SentencePiece]]\n\n"
                      "> 见 [[Pruning]]\n\n相关：[[BPE]]、[[WordPiece|WP]]\n\n- [[BatchNorm]] - normalises over the batch\n\n"
                      "BPE and [[WordPiece]] both merge pairs.\n", "bpe.md")
    assert [line for line in note.lines[2:] if line] == ["Byte-level BPE never meets an unknown byte.",
                                                          "- BatchNorm - normalises over the batch",
                                                          "BPE and WordPiece both merge pairs."]


def test_an_embedded_note_and_a_pointer_after_a_sentence_are_not_read() -> None:
    """A vault's index note of `![[Inference server runbook]]` was quoted as the answer "Inference server runbook",
    "See also ![[Weight decay vs L2#Decoupled]]" and "Compare with [[BatchNorm]] and [[RMSNorm]]." likewise, and
    "Why divide by sqrt(d_k)? → see [[Attention]] and ![[Attention#^why]]" as "… → see Attention and Attention".
    An embedded picture is still a figure's caption, and "…, see [[DBSCAN]]." names what it points to."""
    note = parse_note("# Infra\n\n![[Inference server runbook]]\n![[cluster.png | center]]\n\nAdamW decays directly.\n"
                      "See also ![[Weight decay vs L2#Decoupled weight decay]]\n\nCompare with [[BatchNorm]] and [[RMSNorm]].\n\n"
                      "1. Why divide by sqrt(d_k)? → see [[Attention#Scaled]] and ![[Attention#^why-scale]]\n\n"
                      "Trees isolate outliers. See [[Random Forest]].\n\nFor clusters without k, see [[DBSCAN]].\n", "infra.md")
    assert [line for line in note.lines[2:] if line] == ["![cluster.png]", "AdamW decays directly.",
                                                          "1. Why divide by sqrt(d_k)?", "Trees isolate outliers.",
                                                          "For clusters without k, see DBSCAN."]


def test_a_block_id_after_chinese_punctuation_and_a_comment_in_a_line_are_not_read() -> None:
    """Search showed "…的维度。^attn-formula" and "%% 这里以后补一张图 %%" (an answer left them out); code keeps its %%."""
    note = parse_note("# Attention\n\n缩放点积注意力除以根号 d_k，d_k 是键的维度。^attn-formula\n\n"
                      "编码器%% 这里以后补一张图 %%的输出给解码器。\n\n`x %% 2` 是 R 的取余，x^2 和 $e^{x}$ 照写。\n", "a.md")
    assert note.lines[2:7] == ["缩放点积注意力除以根号 d_k，d_k 是键的维度。", "", "编码器的输出给解码器。", "",
                               "`x %% 2` 是 R 的取余，x^2 和 $e^{x}$ 照写。"]


def test_a_quoted_link_with_its_site_is_a_reference_and_a_description_stays() -> None:
    """Chinese interview notes cite as they go: "> [池化的不变性](http://…) - Ufldl" under an answer, or a
    "相关阅读" list of "- [title](url) - 郭耀华 - 博客园". The title names another page; quoted as an answer
    ("深度学习中批归一化的陷阱 - 51CTO") it says nothing. A link followed by what it is about stays."""
    text = ("# BN\n## 相关阅读\n- [深入理解Batch Normalization批标准化 - 郭耀华](https://www.cnblogs.com/g/p/1.html) - 博客园 \n"
            "- [深度学习中批归一化的陷阱](http://ai.51cto.com/art/1.htm) - 51CTO\n## 池化\n池化带来平移不变性。\n"
            "> [池化的不变性](http://ufldl.stanford.edu/wiki/index.php/x#y)-Ufldl \n"
            "> [Issue #1](https://github.com/a/b/issues/1#c) · a/DeepLearningBookQA_cn\n"
            "> [Feature Columns](https://www.tensorflow.org/guide/x)  |  TensorFlow\n"
            "- [BN paper](https://arxiv.org/abs/1502.03167) - normalises each feature over the batch\n"
            "- [[LayerNorm]] - normalises over the features\n"
            "- [论文](http://x.cn/1) - 一种正则化方法，随机丢弃神经元\n"
            "[Precision精确率](https://en.wikipedia.org/wiki/Precision_and_recall)：\n")
    note = parse_note(text, "bn.md")
    assert note.lines[2:4] == ["", ""] and note.lines[6:9] == ["", "", ""]
    assert note.links >= {2, 3, 6, 7, 8}
    assert note.lines[9:] == ["- BN paper - normalises each feature over the batch", "- LayerNorm - normalises over the features",
                              "- 论文 - 一种正则化方法，随机丢弃神经元", "Precision精确率：", ""]
    assert [c.heading_path for c in chunk_note(note)] == [["BN", "池化"]]


def test_headings_with_nothing_under_them_are_the_notes_unwritten_sections() -> None:
    """A bare heading, or one over to-do items, labels and placeholders only, is a topic the user has
    not written up; a heading over subsections, or over text, is not."""
    from studybot.ingest.chunking import unwritten_sections

    text = ("# 基础\n\n## Dropout\n训练时随机置零。\n\n# 大模型知识点\n## RLHF\n## DPO\n\n- [ ] TODO\n\n**参考资料**\n\n"
            "## RAG\nTODO\n## Agents\n### ReAct\n先想再做。\n### Tools\n")
    note = parse_note(text, "n.md")
    lines = text.split("\n")
    assert [(path, lines[line - 1]) for path, line in unwritten_sections(note)] == [
        (["大模型知识点", "RLHF"], "## RLHF"), (["大模型知识点", "DPO"], "## DPO"), (["大模型知识点", "RAG"], "## RAG"),
        (["大模型知识点", "Agents", "Tools"], "### Tools")]
    # a table of contents, a reference list, a heading that is a link: each says where to read, and is written
    pointers = ("# Attention\n提出 Transformer。\n## 目录\n\n* [结构](#结构)\n* [引言](#引言)\n## 结构\n结构图。\n"
                "## References\n- [Paper](https://arxiv.org/abs/1706.03762)\n"
                "## Recently added: [NLP questions](NLP/README.md)\n\n## Empty\n")
    assert [path for path, _ in unwritten_sections(parse_note(pointers, "a.md"))] == [["Attention", "Empty"]]
    # a point made in bold is written: an outside vault's "## 核心答案" over one bold sentence was "no text yet"
    bold = ("# SVM的Loss是什么\n## 核心答案\n\n**SVM使用Hinge Loss，目标是最大化分类间隔**\n"
            "## 核心结论\n**LogisticRegression使用Cross-Entropy Loss（二元交叉熵）**\n## 参考\n**参考资料：**\n"
            "## 优缺点\n**优点、缺点**\n## 意义\n**1.SVM意义**\n")  # labels as the answer reads them: 、 and numbering end no clause
    assert [path for path, _ in unwritten_sections(parse_note(bold, "svm.md"))] == [
        ["SVM的Loss是什么", "参考"], ["SVM的Loss是什么", "优缺点"], ["SVM的Loss是什么", "意义"]]


def test_a_note_without_a_title_line_is_named_by_its_file_as_obsidian_shows_it() -> None:
    """Obsidian shows the file name as the title, so a vault's notes rarely write `# Title`: the file's name
    (without a folder's numbering) roots every heading path; a `# Title`, or a name that says nothing, adds none."""
    body = "Trained on 400M image-text pairs.\n\n### Training Objective\n\nMatch each image to its caption.\n"
    assert [c.heading_path for c in chunk_note(parse_note(body, "notes/papers/2021 - CLIP.md"))] == [
        ["CLIP"], ["CLIP", "Training Objective"]]
    assert [c.heading_path for c in chunk_note(parse_note("## CLIP\n\nText.\n## Loss\n\nInfoNCE.\n", "CLIP.md"))] == [
        ["CLIP"], ["CLIP", "Loss"]]  # the first heading already names it
    assert [c.heading_path for c in chunk_note(parse_note("# Contrastive models\n\nText.\n## CLIP\n\nMore.\n",
                                                          "01_clip notes.md"))] == [
        ["Contrastive models"], ["Contrastive models", "CLIP"]]
    for nameless in ("README.md", "003_ddfd247aa326aa76.txt", "Untitled 2.md", "2023.md"):
        assert [c.heading_path for c in chunk_note(parse_note(body, nameless))] == [[], ["Training Objective"]]
    front = "---\ntitle: Deep Learning\n---\nIntro.\n\n## Dropout\n\nZeroes units.\n"
    assert [c.heading_path for c in chunk_note(parse_note(front, "001_6375e6d4f22e2dad.txt"))] == [
        ["Deep Learning"], ["Deep Learning", "Dropout"]]
    assert [c.heading_path for c in chunk_note(parse_note(body, "A-B Testing.md"))][1] == ["A-B Testing", "Training Objective"]
    for dated in ("2023-03-14 - CLIP.md", "2023_03_14 CLIP.md", "2023-03-01 (x) - CLIP.md", "[WIP] CLIP.md"):  # a lecture's date, a to-do mark
        assert [c.heading_path for c in chunk_note(parse_note(body, dated))] == [["CLIP"], ["CLIP", "Training Objective"]]


def test_obsidian_comments_over_several_lines_are_left_out_of_the_note() -> None:
    """`%%` … `%%` is hidden when the note is read: its text (a heading in it too) is indexed nowhere, while
    `%%` in code is code and the note keeps one line per source line."""
    text = ("## Adam\n\nAdam 自适应学习率。\n%%\n## 待查\n泛化可能比 SGD 差。\n\n问问导师。\n%%\n"
            "```r\nx %% 2\n```\n再说 `x %% 2` 的例子。\n")
    note = parse_note(text, "adam.md")
    assert len(note.lines) == len(text.split("\n"))
    assert [h.title for h in note.headings] == ["Adam"]
    (chunk,) = chunk_note(note)
    assert "泛化" not in chunk.text and "导师" not in chunk.text
    assert chunk.text.startswith("Adam 自适应学习率。") and "x %% 2\n```\n再说 `x %% 2` 的例子。" in chunk.text
    assert chunk.line_end == 13


def test_an_excalidraw_drawing_is_indexed_by_the_words_on_it() -> None:
    """Obsidian's Excalidraw plugin saves a drawing as `Name.excalidraw.md`: the words written on it, then
    element links, embedded files and the drawing as JSON, mostly inside a comment. Only the words (and any
    Markdown above them) are the user's, without the block ids Obsidian gives each (^Ab3dE9fG); the drawing
    is named by its file, a default name names nothing."""
    drawing = ("---\nexcalidraw-plugin: parsed\ntags: [excalidraw]\n---\n"
               "==⚠  Switch to EXCALIDRAW VIEW in the MORE OPTIONS menu of this document. ⚠==\n\n"
               "Sketch of the encoder.\n\n# Excalidraw Data\n## Text Elements\nself-attention ^Ab3dE9fG\n\n"
               "residual + LayerNorm ^k2LmN0pQ\n\n## Element Links\nAb3dE9fG: [[Attention]]\n\n"
               "## Embedded Files\n9f1e2d: [[Pasted image 20230426.png]]\n\n%%\n## Drawing\n```compressed-json\n"
               "N4KAkARALgngDgUwgLgAQQQDwMYEMA2AlgCYBOuA7hADTgQBuCpAzoQPYB2KqATLZMzYBXUtiRoIACyhQ4zZAHoFAc0JRJQgEYA6bGwC2CgF7N6hbEcK4AAA\n"
               "```\n%%\n")
    chunks = chunk_note(parse_note(drawing, "Vault/Transformer block.excalidraw.md"))
    assert [c.heading_path for c in chunks] == [["Transformer block"]]
    assert [line for line in chunks[0].text.splitlines() if line.strip()] == [
        "Sketch of the encoder.", "self-attention", "residual + LayerNorm"]
    assert chunk_note(parse_note(drawing, "Excalidraw/Drawing 2023-04-26 13.50.28.excalidraw.md"))[0].heading_path == []
    newer = drawing.replace("document. ⚠==\n", "document. ⚠== You can decompress Drawing data with the command "
                                              "palette: 'Decompress current Excalidraw file'.\n")  # plugin 2.x
    assert chunk_note(parse_note(newer, "Vault/Transformer block.excalidraw.md"))[0].text == chunks[0].text
    assert parse_note("$$\n\\Vert w\\Vert ^2\n$$\nW ^T\n").lines[1::2] == ["\\Vert w\\Vert ^2", "W ^T"]  # exponents stay
    plain = "# Excalidraw Data\n\nWhat the Excalidraw file format stores.\n\n## Drawing\n\nShapes as JSON.\n"
    assert len(chunk_note(parse_note(plain, "formats.md"))) == 2  # a note about drawings is not a drawing


def test_html_entities_are_decoded_and_zero_width_characters_dropped() -> None:
    note = parse_note("# T\n&emsp;&emsp;\u200b数据爆炸的时代，x &lt; y &amp;&amp; R&D。\n", "t.md")
    assert note.lines[1] == "\u2003\u2003数据爆炸的时代，x < y && R&D。"
    chunk = chunk_note(note)[0]
    assert chunk.text == "数据爆炸的时代，x < y && R&D。"


def test_long_sections_split_at_paragraphs_with_overlap() -> None:
    paragraphs = [f"Paragraph {i} " + " ".join(["word"] * 40) for i in range(12)]
    text = "# Long\n\n" + "\n\n".join(paragraphs) + "\n"
    chunks = chunk_note(parse_note(text, "l.md"))
    assert len(chunks) > 2
    assert all(len(c.text) <= MAX_CHARS for c in chunks)
    for chunk in chunks:  # never cut inside a paragraph
        for part in chunk.text.split("\n\n"):
            assert part.startswith("Paragraph ") and part.endswith("word")
    first_of_next = chunks[1].text.split("\n\n")[0]
    assert first_of_next in chunks[0].text  # a short paragraph is carried over as overlap
    lines = text.split("\n")
    assert all(lines[c.line_end - 1].startswith("Paragraph") for c in chunks)


def test_interview_answer_block_stays_whole_even_when_long() -> None:
    answer = "\n>\n".join("> " + "要点 " * 120 for _ in range(5))
    text = f"# Q\n\n## 面试回答\n\n{answer}\n\n## Next\n\nshort\n"
    chunks = chunk_note(parse_note(text, "a.md"))
    answers = [c for c in chunks if c.heading_path[-1] == "面试回答"]
    assert len(answers) == 1 and len(answers[0].text) > MAX_CHARS
    assert answers[0].kind == "answer"


def test_heading_only_sections_make_no_chunks() -> None:
    text = "# LLM\n## SFT\n## RLHF\n## PPO\ntext under PPO\n"
    chunks = chunk_note(parse_note(text, "e.md"))
    assert [c.heading for c in chunks] == ["LLM > PPO"]


def test_line_numbers_deep_in_a_large_note_point_at_the_source() -> None:
    sections = [f"## Section {i}\n\n梯度下降 step {i}.\n\n```python\nx = {i}\n```\n\n- item {i}\n" for i in range(3000)]
    text = "# Big\n\n" + "\n".join(sections)
    source = text.split("\n")
    chunks = chunk_note(parse_note(text, "big.md"))
    assert len(chunks) == 3000
    for chunk in chunks[:3] + chunks[1500:1503] + chunks[-3:]:
        assert source[chunk.line_start - 1] == f"## {chunk.heading_path[-1]}"
        assert source[chunk.line_end - 1] == chunk.text.split("\n")[-1] == f"- item {chunk.heading_path[-1].split()[-1]}"


SETEXT_NOTE = """Optimizers
==========

Index
-----
<!-- TOC -->

- [Momentum](#momentum)
    - [Nesterov](#nesterov)

<!-- /TOC -->

Momentum
--------
Momentum keeps a running average of past gradients.

A closing thought that runs on
over two lines, then a rule:
---

- a list item
---

Nesterov
---
Nesterov looks ahead before it takes the gradient.

1. [Momentum](#momentum)
2. [Nesterov](#nesterov)
"""


def test_setext_headings_are_headings_and_tables_of_contents_are_left_out() -> None:
    """`Title` over === or --- is a heading (CommonMark, as Obsidian shows it); a rule after prose
    or a list is not; a generated table of contents names every section and is not indexed."""
    note = parse_note(SETEXT_NOTE, "opt.md")
    assert [(h.level, h.title, h.line) for h in note.headings] == [
        (1, "Optimizers", 1), (2, "Index", 4), (2, "Momentum", 13), (2, "Nesterov", 24)]
    assert len(note.lines) == SETEXT_NOTE.count("\n") + 1
    chunks = chunk_note(note)
    assert [(c.heading_path, c.line_start) for c in chunks] == [
        (["Optimizers", "Momentum"], 13), (["Optimizers", "Nesterov"], 24)]
    assert "rule:\n---" in chunks[0].text and "list item\n---" in chunks[0].text
    assert all("#" not in c.text and "TOC" not in c.text and "=====" not in c.text for c in chunks)
    assert not chunks[1].text.endswith("Nesterov")  # the closing list of anchors is gone too


def test_a_question_in_bold_on_a_line_of_its_own_is_a_section_below_the_heading_above() -> None:
    """Interview notes that keep many questions under one heading set each in bold on its own line: each is
    the section of its own answer (searched, cited and quoted as one), one level below that heading. Bold
    that is no question, a bold list item and bold inside code stay text."""
    text = ("# Transformer\n\n### 2. Attention\n\n**2.1 为什么每个 head 要降维？**\n\n为了在不增加计算量的前提下学到多种关系。\n\n"
            "__2.2 Why scale the dot product?__\n\nLarge dot products push softmax into regions with tiny gradients.\n\n"
            "**Note: scaling keeps the variance at one.**\n\n- **A bold item?**\n\n```\n**not a heading?**\n```\n\n"
            "## 3. FFN\n\n**What does the FFN do?**\n\nIt transforms each position on its own.\n")
    note = parse_note(text, "t.md")
    assert [(h.level, h.title) for h in note.headings] == [
        (1, "Transformer"), (3, "2. Attention"), (4, "2.1 为什么每个 head 要降维？"), (4, "2.2 Why scale the dot product?"),
        (2, "3. FFN"), (3, "What does the FFN do?")]
    chunks = chunk_note(note)
    assert [c.heading_path[-1] for c in chunks] == [
        "2.1 为什么每个 head 要降维？", "2.2 Why scale the dot product?", "What does the FFN do?"]
    assert chunks[0].text == "为了在不增加计算量的前提下学到多种关系。"
    assert "scaling keeps the variance" in chunks[1].text and "**not a heading?**" in chunks[1].text


def test_a_question_in_bold_may_end_on_a_badge_and_a_placeholder_under_one_is_no_answer() -> None:
    """A public collection of interview questions marks each bold question with its difficulty ("**What is
    regularization? Why do we need it? 👶**", "**What is the curse of dimensionality? ‍⭐️**"): read as text, each topic's
    questions were one section, and answers quoted the topic's first lines. Its unanswered questions say "Answer here":
    as a chunk, that led the answer to "What is the difference between bagging and boosting?". It is an unwritten
    heading, like one over "To be added." or "TODO"."""
    from studybot.ingest.chunking import unwritten_sections

    text = ("# Questions\n\n## Regularization\n\n**What is regularization? Why do we need it? 👶**\n\nIt reduces overfitting."
            "\n\n<br/>\n\n**What is the curse of dimensionality? \u200d⭐️**\n\nData gets sparse as the dimensions grow.\n\n"
            "**How does d_k scale attention? 🚀**\n\nScores are divided by sqrt(d_k).\n\n"
            "**What is bagging? \u200d⭐️**\n\nAnswer here\n\n<br/>\n\n**What is stacking? 👶**\n\n*To be added.*\n\n"
            "## Boosting\n\nTODO\n")
    note = parse_note(text, "theory.md")
    assert [(c.heading_path[2:], c.text) for c in chunk_note(note)] == [
        (["What is regularization? Why do we need it?"], "It reduces overfitting."),
        (["What is the curse of dimensionality?"], "Data gets sparse as the dimensions grow."),
        (["How does d_k scale attention?"], "Scores are divided by sqrt(d_k).")]
    assert [path[1:] for path, _ in unwritten_sections(note)] == [
        ["Regularization", "What is bagging?"], ["Regularization", "What is stacking?"], ["Boosting"]]

def test_a_task_item_asking_a_question_over_its_answer_is_a_section() -> None:
    """A learner keeps questions as task items, ticked once studied, each over its answer ("- [ ] [1-17 生成式模型和判别式
    模型的区别？](#1-17)"): read as text, a chapter's answers were one section, and "What is the difference between
    generative and discriminative models?" was answered from its first lines, on bias and variance. Questions in a
    row, each over the next or a heading, are to-dos: no sections."""
    text = ("# 机器学习\n\n## 1、基本概念\n\n- [ ] [1-1 什么是过拟合？](#1-1)\n\n  模型在训练集上表现好、在测试集上差。\n\n"
            "- [x] [1-2 生成式模型和判别式模型的区别？](#1-2)\n\n生成方法学习联合分布 P(X,Y)，判别方法直接学习 P(Y|X)。\n\n"
            "- [ ] 1-3 什么是 dropout？\n- [ ] 1-4 什么是 BN？\n\n## 2、深度学习\n\n- [ ] 什么是 ReLU？\n")
    note = parse_note(text, "review.md")
    assert [(h.level, h.title) for h in note.headings] == [
        (1, "机器学习"), (2, "1、基本概念"), (3, "1-1 什么是过拟合？"), (3, "1-2 生成式模型和判别式模型的区别？"), (2, "2、深度学习")]
    chunks = chunk_note(note)
    assert [(c.heading_path[-1], c.text.split("\n")[0]) for c in chunks] == [
        ("1-1 什么是过拟合？", "模型在训练集上表现好、在测试集上差。"),
        ("1-2 生成式模型和判别式模型的区别？", "生成方法学习联合分布 P(X,Y)，判别方法直接学习 P(Y|X)。"),
        ("2、深度学习", "- [ ] 什么是 ReLU？")]

def test_a_numbered_question_in_bold_with_its_answer_indented_below_is_a_section() -> None:
    """Notes that end each topic with "## Common Interview Questions" number them ("1. **Q: …?**", the answer
    indented below): each answers its own question, and "Why do CNNs pool?" quoted its neighbours' answers.
    A numbered list of questions with nothing below them, and a bulleted one, stay text."""
    text = ("# CNNs\n\n## Common Interview Questions\n\n1. **Q: Why do CNNs use pooling layers?**\n"
            "   - A: Pooling shrinks the feature maps and adds some translation invariance.\n\n"
            "2. **Q: How do CNNs differ from dense networks?**\n   - A: They share weights across positions.\n\n"
            "## To study\n\n1. **What is a stride?**\n2. **What is padding?**\n- **What is a kernel?**\n  A small filter.\n")
    note = parse_note(text, "cnn.md")
    assert [(h.level, h.title) for h in note.headings] == [
        (1, "CNNs"), (2, "Common Interview Questions"), (3, "Why do CNNs use pooling layers?"),
        (3, "How do CNNs differ from dense networks?"), (2, "To study")]
    chunks = chunk_note(note)
    assert [c.heading_path[-1] for c in chunks] == [
        "Why do CNNs use pooling layers?", "How do CNNs differ from dense networks?", "To study"]
    assert "Pooling shrinks" in chunks[0].text and "share weights" not in chunks[0].text


def test_a_question_over_its_answer_folded_in_details_is_a_section() -> None:
    """Interview repositories fold each answer away: "> 3、卷积层的输出尺寸、参数量和计算量。" over
    `<details><summary>答案</summary>…</details>`. Each is a question of its own (read as one section, the file
    answered "How do you compute the receptive field?" with its first question, quoted as a sentence). A line
    that neither asks nor is numbered stays text above its folded block. A question on the fold (`<summary>`) is a
    section too."""
    text = ("> 1、简述卷积的基本操作，并分析其与全连接层的区别。\n<details>\n  <summary>答案</summary>\n"
            "  卷积核在特征图上滑动计算，具有局部连接和权值共享。\n</details>\n\n"
            "> 2、在卷积神经网络中，如何计算各层的感受野大小？\n\n<details>\n  <summary>答案</summary>\n"
            "  5 * 5 的卷积核作用在 5 * 5 的特征图上，输出一点的感受野是 25。\n</details>\n\n"
            "**What is a stride?**\n<details><summary>Answer</summary>The step between two positions of the kernel.</details>\n\n"
            "完整代码如下：\n<details><summary>代码</summary>\n\nimport torch\n</details>\n")
    note = parse_note(text, "卷积篇.md")
    assert [(h.level, h.title) for h in note.headings] == [
        (2, "1、简述卷积的基本操作，并分析其与全连接层的区别。"), (2, "2、在卷积神经网络中，如何计算各层的感受野大小？"),
        (2, "What is a stride?")]
    chunks = chunk_note(note)
    assert [c.heading_path[-1] for c in chunks] == [h.title for h in note.headings]
    assert "局部连接" in chunks[0].text and "感受野" not in chunks[0].text and "1、" not in chunks[0].text
    assert "答案" not in chunks[0].text and "Answer" not in chunks[2].text  # the fold's label names nothing
    # the question on the fold itself, its answer below it; a fold named otherwise is no section
    on_fold = ("# CNN\n\n<details>\n<summary>1. What is a stride?</summary>\n\nThe step of the kernel.\n</details>\n"
               "<details><summary>Why do CNNs pool?</summary>\nPooling shrinks the maps.\n</details>\n"
               "<details><summary>Click to expand</summary>\nimport torch\n</details>\n")
    note = parse_note(on_fold, "cnn.md")
    assert [(h.level, h.title) for h in note.headings] == [(1, "CNN"), (2, "1. What is a stride?"), (2, "Why do CNNs pool?")]
    assert [c.text.split("\n")[0] for c in chunk_note(note)] == ["The step of the kernel.", "Pooling shrinks the maps."]
    assert "感受野是 25" in chunks[1].text and "完整代码如下" in chunks[2].text


def test_flashcards_read_as_questions_and_answers_and_comments_are_never_read() -> None:
    """Obsidian's spaced-repetition plugin keeps cards in the notes ("question::answer", ":::" both ways) with its
    schedule in a comment after each ("<!--SR:!2025-02-01,3,259-->"): an answer quoted both, "::" and all. A
    comment is not shown, over several lines too; a Dataview field and C++'s torch::Tensor are no cards."""
    from studybot.answer.extractive import extractive_answer
    from studybot.answer.sources import Source
    from studybot.content.glossary import load_glossary

    text = ("# BN\n## Cards\nWhat does BatchNorm normalize over?::The batch, per channel.\n<!--SR:!2025-02-01,3,259-->\n"
            "- LayerNorm 的归一化维度:::每个样本自己的特征，与 batch 无关。 <!--SR:!2025-02-03,5,270-->\n\n"
            "status:: done\n\nWe pass a torch::Tensor in.\n\n用 std::move 转移所有权。\n\n<!-- to do:\nrewrite this -->Kept.\n")
    note = parse_note(text, "bn.md")
    assert note.lines[2:] == ["Q: What does BatchNorm normalize over? A: The batch, per channel.", "",
                              "- LayerNorm 的归一化维度：每个样本自己的特征，与 batch 无关。 ", "", "status:: done", "",
                              "We pass a torch::Tensor in.", "", "用 std::move 转移所有权。", "", "", "Kept.", ""]
    chunk = chunk_note(note)[0]
    source = Source(1, "bn.md", chunk.heading_path, chunk.line_start, chunk.line_end, "section", chunk.text, 1.0)
    answer = extractive_answer("What does batch normalization normalize over?", [source], load_glossary())
    assert answer.startswith("What does BatchNorm normalize over? The batch, per channel.") and "SR:" not in answer


def test_a_table_of_contents_ends_at_its_marker_or_at_the_first_line_that_is_no_list_item() -> None:
    """markdown-toc closes with `<!-- tocstop -->`; a table whose closing marker is lost must not
    swallow the note after it."""
    toc = "# A\n<!-- toc -->\n\n- Intro\n  - Details\n\n<!-- tocstop -->\nKept one.\n"
    assert [c.text for c in chunk_note(parse_note(toc, "a.md"))] == ["Kept one."]
    unclosed = "# A\n<!-- TOC -->\n- Intro\n- Details\n\nKept two.\n\n## Intro\nKept three.\n"
    assert [c.text for c in chunk_note(parse_note(unclosed, "a.md"))] == ["Kept two.", "Kept three."]
    markers = "# A\n[TOC]\n\n[[_TOC_]]\n<!-- MarkdownTOC depth=4 -->\n\n- 概率\n<!-- /MarkdownTOC -->\nKept four.\n"
    assert [c.text for c in chunk_note(parse_note(markers, "a.md"))] == ["Kept four."]  # Typora's, GitLab's, Sublime's


def test_a_first_line_that_repeats_the_files_name_is_the_notes_title() -> None:
    """An article exported from a blog has its title as plain text on its first line, the file's name again
    (punctuation aside) or with a subtitle: it is the note's title, not its first sentence (answers quoted
    "NLP任务中，layer-norm比BatchNorm好在哪里 [1]" as if it answered the question). Prose that opens with the name
    is text."""
    article = "RoBERTa：更大更多更强\n\n今天分享一个Bert的改进工作。\n\n## 动态mask\n每个epoch换一次mask。\n"
    assert [(c.heading_path, c.text) for c in chunk_note(parse_note(article, "Bert/RoBERTa.md"))] == [
        (["RoBERTa：更大更多更强"], "今天分享一个Bert的改进工作。"), (["RoBERTa：更大更多更强", "动态mask"], "每个epoch换一次mask。")]
    same = "NLP任务中，layer-norm比BatchNorm好在哪里\n\n核心在于LayerNorm对单个样本做缩放。\n"
    assert [(c.heading_path, c.text) for c in chunk_note(parse_note(same, "NLP任务中-layer-norm比BatchNorm好在哪里.md"))] == [
        (["NLP任务中，layer-norm比BatchNorm好在哪里"], "核心在于LayerNorm对单个样本做缩放。")]
    prose = "Dropout randomly zeroes units.\n"
    assert [(c.heading_path, c.text) for c in chunk_note(parse_note(prose, "Dropout.md"))] == [
        (["Dropout"], "Dropout randomly zeroes units.")]
    titled = "---\ntitle: Regularization\n---\nDropout\n\nZeroes units.\n"  # the front matter names it
    assert chunk_note(parse_note(titled, "Dropout.md"))[0].heading_path == ["Regularization"]


def test_numbered_top_headings_are_the_notes_sections_and_its_name_roots_them() -> None:
    """`# 1. 动态掩码`, `# 2. 去掉NSP` number the parts of one note (RoBERTa.md): none of them says what the note
    is about, so its name roots them, as it roots a note with no `# ` heading. `# ` headings that are not
    numbered are titles of their own and stand alone."""
    article = "RoBERTa：更大更多更强\n\n今天分享一个Bert的改进工作。\n\n# 1. 动态掩码\n每个epoch换一次mask。\n\n# 2. 去掉NSP\n只用MLM。\n"
    assert [c.heading_path for c in chunk_note(parse_note(article, "RoBERTa.md"))] == [
        ["RoBERTa", "RoBERTa：更大更多更强"], ["RoBERTa", "1. 动态掩码"], ["RoBERTa", "2. 去掉NSP"]]
    chinese = "# 一、线性代数\n特征值。\n# 二、概率论\n贝叶斯公式。\n"
    assert [c.heading_path for c in chunk_note(parse_note(chinese, "数学.md"))] == [["数学", "一、线性代数"], ["数学", "二、概率论"]]
    titles = "# 背景知识\n分布式表示。\n# Word2Vec\n两种训练方式。\n"
    assert [c.heading_path for c in chunk_note(parse_note(titles, "B-专题-词向量.md"))] == [["背景知识"], ["Word2Vec"]]


def test_top_headings_any_note_may_have_are_its_parts_and_its_name_roots_them() -> None:
    """An Obsidian note is titled by its file's name and may open with `# Overview`: no note is called
    "Overview", so the name roots every `# ` section ("Why it works" in QLoRA.md is QLoRA's). `# 总结` and
    `# References` are parts too, beside numbered ones; a note whose first `# ` names it keeps that title."""
    obsidian = "# Overview\nQuantize the frozen base model to 4 bits.\n# Key ideas of the method\nNF4, paged optimizers.\n"
    assert [c.heading_path for c in chunk_note(parse_note(obsidian, "AI/QLoRA (Quantized LoRA).md"))] == [
        ["QLoRA (Quantized LoRA)", "Overview"], ["QLoRA (Quantized LoRA)", "Key ideas of the method"]]
    parts = "# 1.词向量分解\n降低参数。\n# 2.参数共享\n跨层共享。\n# 训练细节\n去掉 dropout。\n# 总结\n更小但不更快。\n"
    assert [c.heading_path[0] for c in chunk_note(parse_note(parts, "ALBERT.md"))] == ["ALBERT"] * 4
    titled = "# Dropout in practice\nKeep rates low.\n# Summary\nUse it.\n"
    assert [c.heading_path for c in chunk_note(parse_note(titled, "dropout-notes.md"))] == [
        ["Dropout in practice"], ["Summary"]]


def test_a_logseq_page_is_read_as_its_outline_says() -> None:
    """Logseq writes every paragraph as a bullet: its headings are bullets ("- ## At inference"), a page's first
    `key:: value` lines are the page's settings (title::, alias::), a block's own (collapsed::, id::, card-*::)
    are the app's and nobody reads them, ((uuid)) shows another block, {{embed}} and {{renderer}} are widgets
    and {{cloze …}} hides words that are part of the sentence. The page's name titles every heading on it, and
    a namespace in its file name (ML___Normalization, ML%2FAdam) reads as ML/…."""
    page = ("title:: Batch Normalization\nalias:: BN\ntags:: normalization\n\n"
            "- {{renderer :tocgen}}\n"
            "- Normalizes each feature over the mini-batch {{cloze then scales and shifts it}}.\n"
            "- ## Training\n  collapsed:: true\n\t- Statistics come from the current batch.\n"
            "\t  id:: 6512a3b1-1c2d-4e5f-8a9b-0c1d2e3f4a5b\n"
            "- ## Inference #card\n  card-last-interval:: 4\n  card-repeats:: 1\n"
            "\t- Running averages replace the batch statistics. ((6512a3b1-1c2d-4e5f-8a9b-0c1d2e3f4a5b))\n"
            "\t- {{embed [[Layer Normalization]]}}\n")
    note = parse_note(page, "pages/ML___Normalization.md")
    assert note.metadata["title"] == "Batch Normalization" and note.metadata["alias"] == "BN"
    chunks = chunk_note(note)
    assert [c.heading_path for c in chunks] == [
        ["Batch Normalization"], ["Batch Normalization", "Training"], ["Batch Normalization", "Inference"]]
    text = "\n".join(c.text for c in chunks)
    assert "::" not in text and "((" not in text and "{{" not in text and "6512a3b1" not in text
    assert "over the mini-batch then scales and shifts it." in text
    assert file_title("pages/ML___Normalization.md") == "ML/Normalization" and file_title("pages/ML%2FAdam.md") == "ML/Adam"
    for card in ("What is dropout?:: Zeroing random activations while training.\n",  # flashcards, no page settings
                 "dropout:: zeroes random activations while training.\n"):
        assert parse_note(card, "cards.md").metadata == {} and "activations" in parse_note(card, "cards.md").lines[0]


def test_a_notion_export_is_read_without_its_page_settings() -> None:
    """Notion exports a page as "Name <page id>.md" with its properties under the title, one "Key: value" line
    each ("Created time", "Tags"): the page's settings, not its text. A note's own labelled lines under its
    title ("作用：…") are what it says, and stay."""
    page = ("# Attention\n\nCreated time: June 18, 2023 9:32 PM\nTags: NLP, Transformer\nStatus: Done\n\n"
            "Attention weighs the values by how well each key matches the query.\n")
    note = parse_note(page, "Notes 0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6/Attention 3f5e9c1a2b4d4e6f8a0b1c2d3e4f5a6b.md")
    assert note.metadata["tags"] == "NLP, Transformer" and note.metadata["created time"] == "June 18, 2023 9:32 PM"
    (chunk,) = chunk_note(note)
    assert chunk.heading_path == ["Attention"]
    assert chunk.text.strip() == "Attention weighs the values by how well each key matches the query."
    assert file_title("Attention 3f5e9c1a2b4d4e6f8a0b1c2d3e4f5a6b.md") == "Attention"
    labelled = parse_note("# BN\n作用：加速收敛\n优点：训练更稳定\n\n正文。\n", "bn.md")
    assert labelled.metadata == {} and labelled.lines[1:3] == ["作用：加速收敛", "优点：训练更稳定"]


def test_a_folders_readme_is_named_by_its_folder_when_its_headings_are_not() -> None:
    """GitHub shows a folder's README as the folder's page: "12.2 LSTM/README.md" that opens with a table of
    contents and numbered sections is the note on LSTM, and its sections are LSTM's ("LSTM > 2. 输入门、遗忘门和
    输出门", which an English question on an LSTM's gates meets by the name). A README whose first heading names
    the folder already ("深度学习500问-第四章 经典网络" in ch04_经典网络/) or that has a title keeps its own."""
    readme = "## 目录\n\n## 1. 什么是LSTM\n\n一种门控循环网络。\n\n## 2. 输入门、遗忘门和输出门\n\n三个门控制记忆细胞。\n"
    chunks = chunk_note(parse_note(readme, "Deep Learning/12.2 LSTM/README.md"))
    assert [c.heading_path for c in chunks][-1] == ["LSTM", "2. 输入门、遗忘门和输出门"]
    named = chunk_note(parse_note("### 深度学习500问-第四章 经典网络\n\n**负责人：** 某某\n", "ch04_经典网络/readme.md"))
    assert [c.heading_path for c in named] == [["深度学习500问-第四章 经典网络"]]
    titled = chunk_note(parse_note("# Long short-term memory\n\n" + readme, "12.2 LSTM/readme.md"))
    assert titled[-1].heading_path == ["Long short-term memory", "2. 输入门、遗忘门和输出门"]
    assert folder_title("site/transformer/index.md") == "transformer" and folder_title("notes/LSTM.md") == ""
    assert chunk_note(parse_note(readme, "README.md"))[-1].heading_path == ["2. 输入门、遗忘门和输出门"]  # no folder


def test_a_line_that_only_links_back_into_the_page_is_left_out() -> None:
    """A long README closes each section with "[back to top](#…)": navigation, which an answer quoted as a
    sentence ("back to top [1]"). A link into the page inside a sentence stays, as its words."""
    text = ("# Interview answers\n\n## Joins\n\nAn inner join keeps the rows that match in both tables.\n\n"
            "[back to top](#interview-answers)\n\n## Windows\n\n"
            "A window function computes over rows related to the current one, unlike [joins](#joins) it keeps every row.\n")
    chunks = chunk_note(parse_note(text, "readme.md"))
    assert [c.heading_path[-1] for c in chunks] == ["Joins", "Windows"]
    assert "back to top" not in chunks[0].text and "inner join keeps" in chunks[0].text
    assert "unlike joins it keeps" in chunks[1].text


QUARTO_NOTE = """---
title: "11.2 Patch Embedding"
format: html
---

[![](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/x.ipynb){fig-align="left"}

## Cutting images into patches {#sec-patches}

ViT cuts an image into [non-overlapping]{.underline} patches [@dosovitskiy2021; @vaswani2017, p. 3].

::: {.callout-note title="Shapes"}
A 224 x 224 image gives 196 patches, as @fig-grid shows.
:::

![The patch grid](grid.png){#fig-grid width=60%}

{{< include _shapes.qmd >}}

```{python}
#| label: fig-grid
#| echo: false
patches = image.unfold(2, 16, 16)
```

## Flattening {.unnumbered}

:::tip Docusaurus too
Each patch is flattened and projected to D dimensions.
:::
"""


def test_a_quarto_notes_markup_is_read_as_quarto_shows_it() -> None:
    """Pandoc's and Quarto's markup is how a note is laid out, not what it says: heading ids and classes, callout
    and div fences (`:::`, Docusaurus's admonitions too), attributes after a picture or a link, bracketed spans,
    shortcodes and a code cell's `#|` options are left out; citations and cross-references are not quoted."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary
    from studybot.answer.sources import Source

    note = parse_note(QUARTO_NOTE, "ch11.2-patch-embedding.qmd")
    assert [(h.level, h.title) for h in note.headings] == [(2, "Cutting images into patches"), (2, "Flattening")]
    chunks = chunk_note(note)
    assert [c.heading for c in chunks] == ["11.2 Patch Embedding > Cutting images into patches",
                                           "11.2 Patch Embedding > Flattening"]
    read = "\n".join(c.text for c in chunks)
    for markup in (":::", "{", "}", "#|", "fig-align", "callout", "include"):
        assert markup not in read.replace("{python}", ""), markup
    assert "patches = image.unfold(2, 16, 16)" in read
    section = "\n".join(note.lines[8:17])
    answer = extractive_answer("How does ViT cut an image into patches?", [
        Source(1, "ch11.2-patch-embedding.qmd", ["11.2 Patch Embedding", "Cutting images into patches"], 9, 17,
               "section", section, 1.0)], load_glossary())
    assert answer.splitlines()[:2] == ["ViT cuts an image into non-overlapping patches.",
                                       "A 224 x 224 image gives 196 patches, as Figure shows. [1]"]


def test_a_contents_list_of_numbered_section_titles_is_left_out() -> None:
    """A book's README lists its sections as "- 9.5 Positional Encoding: …" under each chapter's heading: those
    lines name sections and answer nothing (an answer quoted "10.2 FlashAttention v1: Eliminating the IO
    Bottleneck" as a sentence). Numbers out of order are points, not contents, and stay."""
    text = ("# Deep Learning Notes\n\n## Chapter 9: Attention\n\n- 9.10 Transformer Architectures: Three Kinds\n"
            "- 9.11 The Transformers API\n\n## Chapter 10: Efficient Attention\n\n- 10.1 Why Attention Is IO-Bound\n"
            "- 10.2 FlashAttention v1: Eliminating the IO Bottleneck\n\n## Learning rates to try\n\n"
            "- 0.1 for SGD on small networks\n- 0.01 when the loss diverges\n- 0.001 for Adam\n")
    chunks = chunk_note(parse_note(text, "README.md"))
    assert [c.heading for c in chunks] == ["Deep Learning Notes > Learning rates to try"]
    assert chunks[0].text.split("\n")[0] == "- 0.1 for SGD on small networks"


def test_a_note_exported_on_one_line_is_text_not_a_heading() -> None:
    """A phone memo's export put a whole note on one `# …` line: read as a 2 KB heading with no section under it,
    none of its text was indexed, and `ask` found nothing of what it explains."""
    memo = ("# 大模型杂记 ## 为什么需要梯度累积 " + "显存放不下大 batch 时，把几个小 batch 的梯度累加起来再更新一次参数，效果等同于大 batch。" * 6
            + "\n\n# 梯度裁剪\n\n按全局范数裁剪梯度，防止梯度爆炸。\n")
    note = parse_note(memo, "memo.md")
    assert [h.title for h in note.headings] == ["梯度裁剪"]
    chunks = chunk_note(note)
    assert any("梯度累加起来再更新一次参数" in c.text and c.line_start == 1 for c in chunks), chunks
    assert not any(c.text.lstrip().startswith("#") for c in chunks)
    # a Q&A file's long question heading, with its links, is a heading still
    long = ("#### 8) Given stride S and kernel sizes for each layer of a (1-dimensional) CNN, create a function to compute "
            "the [receptive field](https://example.com/receptive-field) of a particular node in the network. This is just "
            "finding how many input nodes actually connect through to a neuron in a CNN.\n\nSum the strides backwards.\n")
    assert parse_note(long, "cv.md").headings[0].title.startswith("8) Given stride S")


def test_a_paragraph_written_on_one_line_is_cut_at_sentences_into_chunks_of_that_line(tmp_path) -> None:
    """A 30 KB meeting dump on one line was one chunk: embedded by its first sentences, and "What is the quarterly
    GPU budget?" found nothing though its last sentence says it. Now runs of whole sentences, each cited on that line;
    a section written up whole is still one chunk per its blocks, and a note card reads the line back whole."""
    from studybot.index.build import build_index
    from studybot.index.search import Index, search
    from studybot.study.cards import _chunk_rows, _sections

    filler = [f"Item {i}: the team reviewed pipeline throughput, cluster nodes and checkpoint cadence for run {i}."
              for i in range(60)]
    chinese = "".join(f"第{i}项：团队讨论了数据管线和检查点的频率，确认了集群节点的分配。" for i in range(40))
    line = " ".join(filler + ["Last item: the quarterly GPU budget for the team is 4800 H100-hours."])
    note = parse_note(f"# Weekly sync\n{line}\n\n## 周会\n{chinese}\n", "sync.md")
    chunks = chunk_note(note)
    english = [c for c in chunks if c.heading_path == ["Weekly sync"]]
    assert len(english) > 3 and all(len(c.text) <= MAX_CHARS for c in english)
    assert [(c.line_start, c.line_end) for c in english] == [(1, 2)] + [(2, 2)] * (len(english) - 1)  # 1: its heading
    assert " ".join(c.text for c in english) == line  # cut between sentences, nothing lost
    assert all(c.text.endswith(".") for c in english)
    assert "".join(c.text for c in chunks if c.heading_path == ["Weekly sync", "周会"]) == chinese
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "sync.md").write_text(f"# Weekly sync\n{line}\n", encoding="utf-8")
    build_index(tmp_path / "home", [tmp_path / "notes"], bundled=False, repair="jieba")
    index = Index(tmp_path / "home")
    top = search("quarterly GPU budget H100-hours", k=1, index=index)[0]
    assert "4800 H100-hours" in top.text and top.line_start == 2
    (section,) = _sections(_chunk_rows(index)).values()
    assert section.text() == line  # its runs put back together, in order


def test_a_checklists_items_are_its_text_and_a_to_do_list_stays_unwritten() -> None:
    """"## Checklist before deploy" with three task items was reported as "not written up yet" and its items never
    quoted: under a heading that names a checklist they are the section's text. A to-do list is still unwritten."""
    from studybot.ingest.chunking import unwritten_sections

    note = parse_note("# Runbook\n\n## Checklist before deploy\n- [ ] bump the image tag\n- [x] run the smoke test\n"
                      "- [ ] TODO\n\n## 待办\n- [ ] 看论文\n\n## Next steps\n- [ ] read the QLoRA paper\n", "runbook.md")
    assert note.lines[3:6] == ["- bump the image tag", "- run the smoke test", "- [ ] TODO"]
    assert [path for path, _ in unwritten_sections(note)] == [["Runbook", "待办"], ["Runbook", "Next steps"]]
    (checklist,) = [c for c in chunk_note(note) if c.heading_path[-1] == "Checklist before deploy"]
    assert "bump the image tag" in checklist.text


def test_a_plugins_query_block_is_no_text_of_the_note() -> None:
    """A Dataview dashboard's `TABLE status FROM #optimization` was searched as a passage and counted the note as one on
    normalization; code stays code."""
    note = parse_note("# Dashboard\n\n```dataview\nTABLE status FROM #optimization OR #normalization\n```\n\n"
                      "```dataviewjs\ndv.table([\"a\"], dv.pages(\"#x\"))\n```\n\n```python\nx = 1\n```\n", "dash.md")
    assert [c.text for c in chunk_note(note)] == ["```python\nx = 1\n```"]


def test_a_callout_with_a_title_is_a_part_of_its_section_under_its_title() -> None:
    """A note made only of callouts was one passage: the fixes for vanishing and for exploding gradients ran together
    without their labels, and every question about it was answered by the same dump. A callout with a title over its
    text is a part under that title, as a heading would head it, and the section's text after it is the section's
    again; one without a title, or a title alone, stays in its section."""
    text = ("# 梯度消失与梯度爆炸\n\n"
            "> [!success] 解决梯度消失\n> 1. 换 ReLU 系激活函数\n> 2. 残差连接\n\n"
            "> [!success] 解决梯度爆炸\n> 1. 梯度裁剪\n> 2. 减小学习率\n\n"
            "## Sigmoid\n\n$$\\sigma(x)=\\frac{1}{1+e^{-x}}$$\n\n"
            "> [!question] sigmoid 的导数最大是多少？\n> 在 $x=0$ 处取最大值 0.25。\n>\n\n"
            "它的输出不是 zero-centered。\n\n> [!tip]\n> 隐藏层用 ReLU。\n\n> [!note] 只有标题的 callout。\n\n"
            "## Adam\n\n> [!faq]- Why does Adam correct its bias?\n> Its moments start at zero, so early estimates are too small.\n")
    chunks = chunk_note(parse_note(text, "g.md"))
    assert [(c.heading_path, c.line_start, c.line_end, c.kind) for c in chunks] == [
        (["梯度消失与梯度爆炸", "解决梯度消失"], 3, 5, "section"),
        (["梯度消失与梯度爆炸", "解决梯度爆炸"], 7, 9, "section"),
        (["梯度消失与梯度爆炸", "Sigmoid"], 11, 13, "section"),
        (["梯度消失与梯度爆炸", "Sigmoid", "sigmoid 的导数最大是多少？"], 15, 16, "section"),
        (["梯度消失与梯度爆炸", "Sigmoid"], 19, 24, "section"),
        (["梯度消失与梯度爆炸", "Adam", "Why does Adam correct its bias?"], 28, 29, "section")]
    assert chunks[1].text == "> 1. 梯度裁剪\n> 2. 减小学习率"
    assert chunks[3].text == "> 在 $x=0$ 处取最大值 0.25。"
    assert chunks[4].text.startswith("它的输出不是 zero-centered。") and chunks[4].text.endswith("只有标题的 callout。")


def test_a_footnotes_text_is_a_part_where_its_mark_is() -> None:
    """Obsidian writes a footnote's text at the note's end: read as the last section's, "5 层 sigmoid 的梯度上界是多少"
    was answered with GELU, and GELU's passage showed the raw "[^1]: …". Each footnote's text is a part under the
    heading of the part that marks it; one that nothing marks stays where it is written, out of the text above it."""
    text = ("# 激活函数\n\n## Sigmoid\n\n两端饱和，层数一多梯度就没了[^1]。\n\n## GELU\n\n"
            "GELU weighs its input by the normal CDF[^cdf], a smooth ReLU.\n\n"
            "[^1]: 5 层 sigmoid 的梯度上界是 $0.25^5$。\n[^cdf]: $\\Phi(x)$, the standard normal's.\n"
            "[^3]: 没有标记的脚注。\n")
    chunks = chunk_note(parse_note(text, "a.md"))
    assert [(c.heading_path, c.line_start, c.line_end, c.text) for c in chunks] == [
        (["激活函数", "Sigmoid"], 3, 5, "两端饱和，层数一多梯度就没了[^1]。"),
        (["激活函数", "GELU"], 7, 9, "GELU weighs its input by the normal CDF[^cdf], a smooth ReLU."),
        (["激活函数", "Sigmoid"], 11, 11, "[^1]: 5 层 sigmoid 的梯度上界是 $0.25^5$。"),
        (["激活函数", "GELU"], 12, 12, "[^cdf]: $\\Phi(x)$, the standard normal's."),
        (["激活函数", "GELU"], 13, 13, "[^3]: 没有标记的脚注。")]


def test_a_pdf_audio_or_video_file_embedded_in_obsidian_is_read_as_a_picture_is() -> None:
    """Obsidian's ![[paper.pdf]] and ![[talk.mp3]] were read as words of the note, "…公式。paper.pdf", where Markdown's
    ![](paper.pdf) and Obsidian's ![[transformer_arch.png]] are a picture's name: a caption after the line's last
    sentence or on a line of its own, "image" when the name says nothing, a word by name inside a sentence. An
    embedded note is still read by its name."""
    lines = {"见 [[attention]] 里的公式。![[attention_paper.pdf]]": "见 attention 里的公式。![attention_paper.pdf]",
             "Listen to the lecture. ![[lecture 3.mp3]]": "Listen to the lecture. ![lecture 3.mp3]",
             "![[demo.mp4]] ![](slides.pdf)": "![demo.mp4] ![slides.pdf]",
             "The talk explains it. ![[Recording 20240516164546.m4a|center]]":
                 "The talk explains it. ![Recording 20240516164546.m4a]",
             "Scanned. ![[1.pdf]]": "Scanned. image",
             "见![[attention_paper.pdf]]第三节。": "见attention_paper.pdf第三节。",
             "它的推导在![[Other Note]]里。": "它的推导在Other Note里。"}
    for written, read in lines.items():
        assert parse_note(f"# T\n{written}\n", "t.md").lines[1] == read, written
