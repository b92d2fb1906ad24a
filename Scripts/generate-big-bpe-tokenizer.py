#!/usr/bin/env python3
"""A byte-level BPE tokenizer of RoBERTa's size (50,265 tokens, about 50,000 merges), saved as RobertaTokenizer.

Usage:
    Scripts/python Scripts/generate-big-bpe-tokenizer.py [OUT]   (default .cache/big-bpe-roberta, git-ignored)

For measuring BPE speed at a real vocabulary size (`Scripts/bench-tokenizer .cache/big-bpe-roberta`), where no
real RoBERTa tokenizer can be fetched: the committed fixture (Tests/TokenizationTests/Goldens/bpe/roberta) has
700 tokens, so its words split into many short pieces and few merges apply, unlike real text under roberta-base's
vocabulary. Trained with `tokenizers`' BpeTrainer (ByteLevel, the 256-character alphabet, <s> <pad> </s> <unk>
<mask> first) on the English text at hand: the STS-B sentences of the test data and the docstrings
of the Python packages in the environment (30 M characters, read in a fixed order: the same environment
gives the same file; other packages give another, equally sized vocabulary).
"""
import ast, importlib.util, os, shutil, sys
from transformers import AutoTokenizer, RobertaTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("bpe_fixtures", os.path.join(ROOT, "Scripts", "generate-bpe-fixtures.py"))
fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixtures)  # the trainer of the BPE fixtures, at RoBERTa's size here
VOCAB = 50_265
BUDGET = 30_000_000  # characters of training text


def docstrings(path):
    """The docstrings of a Python file (English prose, mostly), or nothing if it does not parse."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            d = ast.get_docstring(node)
            if d:
                out.append(d)
    return out


def training_text():
    lines = []
    with open(os.path.join(ROOT, "Tests", "Data", "stsb-test.tsv"), encoding="utf-8") as f:
        for row in f:
            cols = row.rstrip("\n").split("\t")
            lines += cols[5:7]
    size = sum(map(len, lines))
    roots = sorted({p for p in sys.path if p.endswith("site-packages")})
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".py"):
                    for d in docstrings(os.path.join(folder, name)):
                        lines.append(d)
                        size += len(d)
                        if size >= BUDGET:
                            return lines
    return lines


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".cache", "big-bpe-roberta")
    lines = training_text()
    print(f"training on {len(lines)} texts, {sum(map(len, lines))} characters", file=sys.stderr)
    vocab, merges = fixtures.train_byte_level(lines, VOCAB)
    shutil.rmtree(out, ignore_errors=True)
    RobertaTokenizer(vocab=vocab, merges=merges).save_pretrained(out)
    back = AutoTokenizer.from_pretrained(out)
    if len(back) != len(vocab):
        sys.exit(f"saved tokenizer has {len(back)} tokens, expected {len(vocab)}")
    print(f"wrote {out}: {len(vocab)} tokens, {len(merges)} merges", file=sys.stderr)


if __name__ == "__main__":
    main()
