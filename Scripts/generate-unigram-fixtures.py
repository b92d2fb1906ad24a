#!/usr/bin/env python3
"""Generate the SentencePiece (Unigram) tokenizer fixtures and parity goldens in
Tests/TokenizationTests/Goldens/unigram from the reference implementations.

1. Writes a small multilingual training text (seeded, made here: no download).
2. TRAINS a tiny SentencePiece Unigram model on it with the `sentencepiece` package
   (default `nmt_nfkc` normalization, so the tokenizer carries a real precompiled charsmap).
3. Converts it to a fast `XLMRobertaTokenizer` with `transformers` and saves it
   (tokenizer.json, tokenizer_config.json, ...), then CHECKS that the saved tokenizer holds the
   full vocabulary (transformers 5 builds a 5-token vocabulary from `vocab_file=` without a
   word of warning).
4. Derives variant folders from that tokenizer.json, each a schema seen in real files:
     xlmr            as transformers 5 saves it: Precompiled; Sequence[WhitespaceSplit, Metaspace
                     prepend_scheme "always"]; Unigram; TemplateProcessing; <mask> lstrip
     legacy          2021-era files: Sequence[Precompiled, Replace(Regex " {2,}" -> " ")];
                     Metaspace {"add_prefix_space": true} (older schema, no WhitespaceSplit);
                     RobertaProcessing; tokenizer_class PreTrainedTokenizerFast (used as written)
     legacy-xlmr     the same tokenizer.json with tokenizer_class XLMRobertaTokenizer: transformers 5
                     rebuilds that class's pipeline (Precompiled only, [WhitespaceSplit, Metaspace],
                     its own template) and ignores the rest of the file
     stages          other stage types on the same vocabulary: Sequence[Replace "``" -> '"', NFKC,
                     Lowercase, Strip]; Sequence[Whitespace, Metaspace "first" split false];
                     BertProcessing; byte_fallback with <0xNN> pieces
5. Encodes the Unicode edge corpus of Scripts/generate-tokenizer-goldens.py (imported, one corpus),
   multilingual sentences and added-token cases with the reference, padding and truncation off:
     corpus-<variant>.jsonl  {"text", "ids", "offsets"}  offsets flattened [s0, e0, ...] in scalars
     pairs-<variant>.jsonl   {"a", "b", "max" (or null), "ids", "types", "offsets", "overflowed"}
     truncation-<variant>.jsonl {"text", "max", "ids", "offsets", "overflowed"}
     codepoints-xlmr.jsonl   every scalar c in "a" + c + "b": runs [first, last, ids, offsets]
   The reference for a folder is what sentence-transformers runs: `AutoTokenizer.from_pretrained`
   (transformers) for the corpus, checked to agree with `tokenizers`' `Tokenizer.from_file` on every
   line for the as-written folders; pairs and truncation come from the Rust tokenizer transformers
   built (`backend_tokenizer`), as `Encoding`s; `Tokenizer.from_file` makes the code point runs.
6. manifest.json: versions, seeds, hashes.

Run: Scripts/python Scripts/generate-unigram-fixtures.py
Tests never call Python; never edit the outputs by hand.
"""
import importlib.util, json, os, platform, random, shutil, sys, tempfile

import sentencepiece as spm
import tokenizers
import transformers
from tokenizers import Tokenizer
from transformers import AutoTokenizer, XLMRobertaTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "TokenizationTests", "Goldens", "unigram")
SEED = 20261203
VOCAB_SIZE = 400

_spec = importlib.util.spec_from_file_location("tokenizer_goldens", os.path.join(ROOT, "Scripts", "generate-tokenizer-goldens.py"))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)

# Sentences in several scripts; the training text recombines their words.
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A sentence embedding maps a text to a vector of numbers.",
    "Multilingual models read many languages with one vocabulary.",
    "Le renard brun rapide saute par-dessus le chien paresseux.",
    "Les modèles multilingues lisent beaucoup de langues à la fois.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Größere Modelle verstehen längere Sätze besser.",
    "El rápido zorro marrón salta sobre el perro perezoso.",
    "¿Dónde está la biblioteca? ¡Aquí mismo!",
    "O rápido raposo marrom pula sobre o cão preguiçoso.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "Мы читаем тексты на многих языках.",
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από το τεμπέλικο σκυλί.",
    "敏捷的棕色狐狸跳过了懒狗。",
    "我们用一个词表阅读多种语言。",
    "素早い茶色の狐がのろまな犬を飛び越える。",
    "東京は日本の首都です。カタカナとひらがな。",
    "빠른 갈색 여우가 게으른 개를 뛰어넘는다.",
    "한국어 문장을 토큰으로 나눕니다.",
    "الثعلب البني السريع يقفز فوق الكلب الكسول.",
    "नमस्ते, यह एक हिन्दी वाक्य है।",
    "สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ",
    "Hızlı kahverengi tilki tembel köpeğin üzerinden atlar.",
    "Con cáo nâu nhanh nhẹn nhảy qua con chó lười.",
    "Szybki brązowy lis przeskakuje nad leniwym psem.",
    "השועל החום המהיר קופץ מעל הכלב העצלן.",
    "Numbers like 3.14, 1,000 and 42% appear in text.",
    "E-mail: user@example.com, web: https://example.com/path",
    "Ｆｕｌｌｗｉｄｔｈ letters and ① circled ½ fractions ﬁ ligatures.",
]

# Cases for added tokens (<mask> has lstrip; <unk>, <s>, </s>, <pad> typed by a user) and the
# metaspace character itself.
ADDED_CASES = [
    "<mask>", "hello <mask> world", "hello<mask>world", "  <mask>  x", "x <mask>", "<mask> x", "<mask><mask>",
    "a   <mask>", "\t<mask>\n", "<unk>", "a <unk> b", "a<unk>b", "<s>x</s>", "<pad>", "<s><s>", "</s> </s>",
    "<mask", "mask>", "<MASK>", "▁", "▁▁a", " ▁ ", "a▁b", "▁hello", "hello ▁", "<s>", "x<s>y </s> z",
    "Привет <mask> мир", "中文<mask>中文", "é<mask>é",
    "yesterday", "I read a book Yesterday", "YESTERDAY!", "ayesterdayb", "[x]", "a [x] b", "a[x]b", "[x]  y", "[X] z",
]


def training_text(rng):
    words = [w for s in SENTENCES for w in s.split()]
    lines = list(SENTENCES) * 20
    for _ in range(3000):
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))))
    return "\n".join(lines) + "\n"


def train(work):
    rng = random.Random(SEED)
    text_path = os.path.join(work, "train.txt")
    with open(text_path, "w", encoding="utf-8") as f:
        f.write(training_text(rng))
    prefix = os.path.join(work, "spm")
    # XLM-R's own model: unk 0, bos 1, eos 2 (fairseq ids are remapped by the converter).
    spm.SentencePieceTrainer.train(
        input=text_path, model_prefix=prefix, vocab_size=VOCAB_SIZE, model_type="unigram",
        character_coverage=0.995, normalization_rule_name="nmt_nfkc", seed_sentencepiece_size=20000,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=1, minloglevel=2)
    return prefix + ".model"


def convert(model_path, work):
    src = os.path.join(work, "spm-folder")
    os.makedirs(src)
    shutil.copy(model_path, os.path.join(src, "sentencepiece.bpe.model"))
    with open(os.path.join(src, "config.json"), "w") as f:
        json.dump({"model_type": "xlm-roberta"}, f)
    with open(os.path.join(src, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512}, f)
    tok = AutoTokenizer.from_pretrained(src)
    sp = spm.SentencePieceProcessor(model_file=model_path)
    # pieces 3.. keep their order after <s> <pad> </s> <unk>; <mask> is appended.
    expected = sp.get_piece_size() + 2
    if len(tok) != expected or type(tok).__name__ != "XLMRobertaTokenizer":
        sys.exit(f"conversion built {type(tok).__name__} with {len(tok)} tokens, expected XLMRobertaTokenizer with {expected}")
    out = os.path.join(work, "converted")
    tok.save_pretrained(out)
    with open(os.path.join(out, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    vocab = tj["model"]["vocab"]
    if len(vocab) != expected or [p for p, _ in vocab[:4]] != ["<s>", "<pad>", "</s>", "<unk>"]:
        sys.exit(f"saved tokenizer.json has {len(vocab)} pieces starting {vocab[:5]}, expected {expected}")
    for i in range(3, sp.get_piece_size()):
        if vocab[i + 1][0] != sp.id_to_piece(i) or vocab[i + 1][1] != sp.get_score(i):
            sys.exit(f"piece {i} of the SentencePiece model is {sp.id_to_piece(i)!r} but the saved vocab has {vocab[i + 1]}")
    return out, tj


def variants(tj, converted):
    with open(os.path.join(converted, "tokenizer_config.json"), encoding="utf-8") as f:
        xlmr_config = json.load(f)
    precompiled = tj["normalizer"]
    assert precompiled["type"] == "Precompiled", precompiled
    # Real XLM-R files give <mask> lstrip (a space before it belongs to it); transformers 5 saves it
    # without, so it is set here as those files have it.
    tj = json.loads(json.dumps(tj))
    for t in tj["added_tokens"]:
        if t["content"] == "<mask>":
            t["lstrip"] = True
    out = {"xlmr": (tj, xlmr_config)}

    legacy = json.loads(json.dumps(tj))
    legacy["normalizer"] = {"type": "Sequence", "normalizers": [
        precompiled, {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]}
    legacy["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "add_prefix_space": True}
    ids = {p: i for i, (p, _) in enumerate(tj["model"]["vocab"])}
    for t in legacy["added_tokens"]:
        if t["content"] == "<mask>":
            t["rstrip"] = True
    legacy["post_processor"] = {"type": "RobertaProcessing", "sep": ["</s>", ids["</s>"]], "cls": ["<s>", ids["<s>"]],
                                "trim_offsets": True, "add_prefix_space": True}
    generic = {k: v for k, v in xlmr_config.items() if k not in ("tokenizer_class", "added_tokens_decoder")}
    out["legacy"] = (legacy, {**generic, "tokenizer_class": "PreTrainedTokenizerFast"})
    out["legacy-xlmr"] = (legacy, {**generic, "tokenizer_class": "XLMRobertaTokenizer"})

    stages = json.loads(json.dumps(tj))
    stages["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Replace", "pattern": {"String": "``"}, "content": "\""},
        {"type": "NFKC"}, {"type": "Lowercase"}, {"type": "Strip", "strip_left": True, "strip_right": True}]}
    stages["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Whitespace"},
        {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}]}
    stages["post_processor"] = {"type": "BertProcessing", "sep": ["</s>", ids["</s>"]], "cls": ["<s>", ids["<s>"]]}
    # byte fallback: <0xNN> pieces after the last id, scored below every other piece.
    n = len(stages["model"]["vocab"])
    low = min(s for _, s in stages["model"]["vocab"]) - 1.0
    stages["model"]["vocab"] += [[f"<0x{b:02X}>", low] for b in range(256)]
    stages["model"]["byte_fallback"] = True
    assert all(t["id"] < n for t in stages["added_tokens"])
    # Added tokens outside the model vocabulary matched in the normalized text (normalized: true):
    # "Yesterday" becomes "yesterday" by the normalizer; "[x]" only as a single word, with rstrip.
    n += 256
    stages["added_tokens"] += [
        {"id": n, "content": "Yesterday", "single_word": False, "lstrip": False, "rstrip": False, "normalized": True, "special": False},
        {"id": n + 1, "content": "[x]", "single_word": True, "lstrip": False, "rstrip": True, "normalized": True, "special": False}]
    out["stages"] = (stages, {**generic, "tokenizer_class": "PreTrainedTokenizerFast"})
    return out


def corpus():
    texts = base.edge_cases() + list(SENTENCES) + ADDED_CASES
    texts += [s + "  " + t for s, t in zip(SENTENCES, reversed(SENTENCES))]
    texts += ["  double  spaces  ", "``quoted''", "tab\there", "a  <mask>  b", "ＡＢＣ <mask> ｘ"]
    texts += base.stsb_sentences()[:300]
    rng = random.Random(SEED + 1)
    texts += [base.random_text(rng) for _ in range(500)]
    return texts


def hf_encode(tok, text):
    e = tok(text, add_special_tokens=True, return_offsets_mapping=True)
    return e["input_ids"], base.flat(e["offset_mapping"])


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    work = tempfile.mkdtemp(prefix="unigram-fixtures-")
    model_path = train(work)
    converted, tj = convert(model_path, work)
    texts = corpus()
    files, folders = {}, {}
    for name, (tjv, config) in variants(tj, converted).items():
        folder = base.write_folder(OUT, name, tjv, config)
        folders[name] = folder
        tok = AutoTokenizer.from_pretrained(folder)
        raw = None
        if config["tokenizer_class"] != "XLMRobertaTokenizer" or name == "xlmr":
            raw = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
            raw.no_padding(); raw.no_truncation()
        rows = []
        # The 10,000-word texts only once (they are most of the bytes).
        for t in (texts if name == "xlmr" else [t for t in texts if len(t) <= 5000]):
            ids, offsets = hf_encode(tok, t)
            if raw is not None:
                e = raw.encode(t)
                if e.ids != ids or base.flat(e.offsets) != offsets:
                    sys.exit(f"{name}: transformers and tokenizers disagree on {t!r}: {ids} {offsets} vs {e.ids} {base.flat(e.offsets)}")
            rows.append({"text": t, "ids": ids, "offsets": offsets})
        files[f"corpus-{name}.jsonl"] = base.write_jsonl(f"corpus-{name}.jsonl", rows, OUT)

        rng = random.Random(SEED + 2)
        pairs, trunc = base.pair_and_truncation_goldens(tok.backend_tokenizer, SENTENCES, [], list(SENTENCES) + ADDED_CASES[:10], rng)
        files[f"pairs-{name}.jsonl"] = base.write_jsonl(f"pairs-{name}.jsonl", pairs, OUT)
        files[f"truncation-{name}.jsonl"] = base.write_jsonl(f"truncation-{name}.jsonl", trunc, OUT)
        print(name, type(tok).__name__, len(tok), file=sys.stderr)

    raw = Tokenizer.from_file(os.path.join(folders["xlmr"], "tokenizer.json"))
    raw.no_padding(); raw.no_truncation()
    files["codepoints-xlmr.jsonl"] = base.write_jsonl("codepoints-xlmr.jsonl", base.codepoint_runs(raw), OUT)

    base.write_manifest(OUT, {
        "generator": "Scripts/generate-unigram-fixtures.py",
        "reference": "transformers AutoTokenizer (fast, tokenizers backend); tokenizers Tokenizer.from_file for as-written folders and code points",
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "sentencepiece": spm.__version__,
        "python": platform.python_version(),
        "seed": SEED,
        "spm": f"unigram, vocab_size {VOCAB_SIZE}, nmt_nfkc, character_coverage 0.995",
    }, files, folders)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
