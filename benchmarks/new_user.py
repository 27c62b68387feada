"""Read as a new user would: does `ask` open with the note the question was written for?

    python benchmarks/new_user.py --corpora DIR [--split dev|held|all] [--sets wdndev_zh ...] [--homes DIR]

Each set is an outside repository of notes and questions written from its file names and tables of
contents before it was ever indexed (benchmarks/questions/new_user_<set>.jsonl: `file` is a pattern the
file the question asks about matches; a part is `held`, asked only at the end). Each home holds the
set's notes and the bundled knowledge, as a user's does. DIR holds one folder per set:

    wdndev_zh   the Markdown notes (0*/, 10*/, 98*/) of github.com/wdndev/llm_interview_note @581d54d:
                92 Chinese notes on LLMs (architecture, distributed training, fine-tuning, inference, RLHF, RAG)
    harleys_zh  3-machine_learning/*.md, 4-deep_learning/**/*.md, 5-computer_vision/2D目标检测/*.md,
                6-model_compression/*.md and 8-model_deploy/**/*.md of github.com/HarleysZhang/cv_note @1448638
    d2l_en      chapter_{optimization,convolutional-modern,recurrent-modern,attention-mechanisms-and-transformers,
                multilayer-perceptrons}/*.md of github.com/d2l-ai/d2l-en @23d7a5a
    nlplove_zh  every Markdown file (**/*.md) of github.com/NLP-LOVE/ML-NLP @16733eb: 60 Chinese notes on
                classic ML, deep learning and NLP (one README per topic folder)
    mlint_en    every Markdown file (**/*.md) of github.com/alirezadir/Machine-Learning-Interviews @e6128f6: 27
                English notes, most of them ML system design walkthroughs
    versloot_en every Markdown file (**/*.md) of github.com/christianversloot/machine-learning-articles @9bc12f8: 222
                English blog articles on deep learning exported from WordPress (5 MB)
    xn1997_zh   机器学习/*.md, 计算机视觉/*.md and 图像处理/*.md of github.com/xn1997/CV_interviews_Campus @eaf00b6:
                114 Chinese interview notes on classic ML, deep learning and computer vision
    loveunk_zh  every Markdown file (**/*.md) of github.com/loveunk/machine-learning-deep-learning-notes @61f2895:
                Chinese notes of two courses' lectures (one long file a week) and short LLM notes (1.9 MB)
    genai_en    every Markdown file (**/*.md) of github.com/Yasar05/Gen-ai-interview-Questions-and-answers @b5e6514:
                200 English generative-AI interview answers in 13 topic files (each a README.md in its folder)
    nlpability_zh  every Markdown file (**/*.md) of github.com/DA-southampton/NLP_ability @a92ff70: 131 Chinese
                notes on NLP from the author's WeChat articles (BERT, Transformer, distillation, word vectors), 0.6 MB,
                with a vendored OpenNMT-py's docs among them
    pytorchdl_en   the top-level *.ipynb and *.md of github.com/mrdbourke/pytorch-deep-learning @baa27b6: the course's
                ten English notebooks (7.8 MB with their outputs)
    pumpkin_zh  every Markdown file (**/*.md) of github.com/datawhalechina/pumpkin-book @a8d8b5b: Chinese derivations
                of the formulas of Zhou Zhihua's 《机器学习》, 16 chapters, several converted by pandoc (lines cut at
                72 columns) and full of LaTeX
    handbook_zh every Markdown and notebook file (**/*.md, **/*.ipynb) of github.com/zergtant/pytorch-handbook
                @e9a1492: a Chinese PyTorch handbook in notebooks (4.2 MB)
    jshn_en     every Quarto and Markdown file under en/ (**/*.qmd, **/*.md) of github.com/jshn9515/deep-learning-notes
                @68354ad: an English book of 86 Quarto notes (callouts, list tables, citations, 1.8 MB)
    jshn_zh     the same under zh/: the book's Chinese edition (1.7 MB)

Printed per set: right note first (the answer's first citation is in a file the pattern matches) and,
as the same-run baseline, the share whose first search hit is; the ratio is the first over the second.
A strict count: a note that answers as well under another file name (an author's summary note) counts
as a miss.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from question_sets import QUESTIONS, questions, set_parser

SETS = ["wdndev_zh", "harleys_zh", "d2l_en", "nlplove_zh", "mlint_en", "versloot_en", "xn1997_zh", "loveunk_zh", "genai_en",
        "nlpability_zh", "pytorchdl_en", "pumpkin_zh", "handbook_zh", "jshn_en", "jshn_zh"]


def run_set(name: str, corpora: Path, homes: Path, split: str) -> dict:
    from studybot.answer.pipeline import NothingFound, answer_question
    from studybot.index.build import build_index
    from studybot.index.search import Index, search

    home = homes / name
    if not (home / "index").is_dir():
        build_index(home, [corpora / name], bundled=True, repair="jieba")
    index = Index(home)
    first = top = 0
    asked = questions(QUESTIONS / f"new_user_{name}.jsonl", split)
    for item in asked:
        wanted = re.compile(item["file"], re.IGNORECASE)
        hits = search(item["question"], k=1, index=index)
        top += bool(hits) and bool(wanted.search(hits[0].file))
        try:
            cited = answer_question(item["question"], index).citations
        except NothingFound:
            cited = []
        first += bool(cited) and bool(wanted.search(cited[0].file))
    return {"set": name, "n": len(asked), "first": first, "top1": top}


def main() -> None:
    parser = set_parser(__doc__, SETS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="studybot-new-user-") as tmp:
        results = [run_set(name, args.corpora, args.homes or Path(tmp), args.split) for name in args.sets]
    print(f"split={args.split}")
    print(f"{'set':<12} {'n':>3} {'right note first':>16} {'search top-1':>12} {'ratio':>6}")
    for r in results:
        ratio = r["first"] / r["top1"] if r["top1"] else float("nan")
        print(f"{r['set']:<12} {r['n']:>3} {r['first']:>16} {r['top1']:>12} {ratio:>6.2f}")


if __name__ == "__main__":
    main()
