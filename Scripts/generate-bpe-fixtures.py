#!/usr/bin/env python3
"""Generate the BPE tokenizer fixtures and parity goldens in Tests/TokenizationTests/Goldens/bpe
from the reference implementations.

1. Takes the multilingual training text of Scripts/generate-unigram-fixtures.py (imported, one text;
   seeded here, no download).
2. TRAINS a tiny byte-level BPE on it with `tokenizers` (ByteLevel pre-tokenizer, the whole
   256-character byte alphabet, <s> <pad> </s> <unk> <mask> at ids 0-4, as RoBERTa has them), and
   two character-level BPEs on the same text: one with `##`/`</w>` affixes and <unk> (60 characters
   kept, so most scripts' characters are unknown), one Llama-style with `▁` words (trained on text
   already split by that Metaspace) and <0xNN> byte fallback (80 characters kept).
   BpeTrainer is only deterministic where ids are: it breaks ties between equally frequent pairs by
   token id, `limit_alphabet` drops characters of equal count in hash-map order, and with affixes it
   numbers "##c", "c</w>", "##c</w>" in hash-map order. So for the character-level BPEs the script
   counts the characters itself (the tokenizer's own normalizer and pre-tokenizer), passes the kept
   ones (most frequent, ties by code point) as `initial_alphabet` with the same `limit_alphabet`, and
   registers the affixed forms, sorted, before training (then takes them out of added_tokens and
   numbers them after the alphabet, where the trainer puts them). Two runs give identical files.
3. Saves the byte-level one through transformers' `RobertaTokenizer` (which, in transformers 5, IS
   the fast tokenizer and rebuilds its pipeline in `__init__`) and CHECKS that the saved folder holds
   the full vocabulary and every merge (transformers 5 can silently build a 5-token vocabulary), and
   that AutoTokenizer loads it back as RobertaTokenizer with every token.
4. Variant folders, each a schema seen in real files:
     roberta         as transformers saves RobertaTokenizer; <mask> lstrip as roberta-base has it
                     (transformers 5 saves it without, and takes lstrip from the file's added_tokens)
     roberta-prefix  the same with tokenizer_config.json add_prefix_space true (the class rebuilds
                     ByteLevel and RobertaProcessing with it; the file still says false)
     gpt2            generic (PreTrainedTokenizerFast): ByteLevel pre-tokenizer and post-processor,
                     legacy "a b" merges, no normalizer, no unk_token, no post-processor specials
     template        generic: NFC, ByteLevel with add_prefix_space, TemplateProcessing <s> $A </s> /
                     <s> $A </s> $B:1 </s>:1, [a, b] merges, ignore_merges
     split           gpt2 with the pre-tokenizer Sequence[Split "-" MergedWithNext, Split Regex " {2,}"
                     Removed, Split "e" Contiguous inverted, Split "ab" MergedWithPrevious,
                     ByteLevel without its regex]: every Split behaviour and both pattern kinds
     wordend         generic, not byte-level: NFKC + Lowercase, Whitespace, BPE with `##` prefix,
                     `</w>` suffix, <unk> fused, BertProcessing
     fallback        generic, Llama-style: Metaspace(first, split), BPE with byte_fallback and <unk>
                     fused, <0x00>..<0xFF> after the trained vocabulary, TemplateProcessing
                     <s> $A / <s> $A <s>:1 $B:1
   RobertaTokenizer folders: transformers 5 keeps only the vocabulary, merges and added tokens of
   tokenizer.json and rebuilds the rest from tokenizer_config.json (no normalizer, ByteLevel and
   RobertaProcessing with the config's add_prefix_space and trim_offsets, model without unk_token or
   ignore_merges). Generic folders load as `TokenizersBackend` and run as written.
5. Encodes the Unicode edge corpus of Scripts/generate-tokenizer-goldens.py, the unigram script's
   sentences and added-token cases, BPE cases (contractions, whitespace runs, numbers, scripts, ZWJ
   emoji, the byte-level characters typed in), STS-B sentences and random texts, with the reference,
   padding and truncation off:
     corpus-<v>.jsonl      {"text", "ids", "offsets"}  offsets flattened [s0, e0, ...] in scalars;
                           the 10,000-word texts only in corpus-roberta
     pairs-<v>.jsonl       {"a", "b", "max" (or null), "ids", "types", "offsets", "overflowed"}
     truncation-<v>.jsonl  {"text", "max", "ids", "offsets", "overflowed"}
     scalars-<v>.jsonl     (roberta, gpt2, fallback) every scalar value, in blocks of 1024
                           consecutive values (surrogates D800-DFFF skipped, the last block short):
                           {"first", "last", "tokens", "hash"}, and for the first 3 blocks also
                           "ids" and "offsets" (flattened) to debug with. The block's text is
         "".join(chr(c) for c in block) + " " + " ".join("a" + chr(c) for c in block)
                           (runs of one class together, then each scalar after a space and a
                           letter), encoded with add_special_tokens; `tokens` is the number of ids;
                           `hash` is 64-bit FNV-1a: h = 0xcbf29ce484222325, then for each token in
                           order, for each of its id, offset start and offset end (char offsets, as
                           tokenizers gives them), for each of the value's 4 bytes little-endian
                           (unsigned 32-bit): h = ((h ^ byte) * 0x100000001b3) mod 2^64; written as
                           16 lowercase hex digits. Per-scalar runs like the other goldens would be
                           tens of MB here: every scalar gives its own byte tokens.
   The reference is what sentence-transformers runs: `AutoTokenizer.from_pretrained` for the corpus;
   for the generic folders it is checked to agree with `tokenizers`' `Tokenizer.from_file` on every
   line (for roberta the count of lines that differ is only printed: the class rebuilds the
   pipeline). Pairs and truncation come from the Rust tokenizer transformers built
   (`backend_tokenizer`), as `Encoding`s; scalar blocks from that backend for roberta and from
   `Tokenizer.from_file` for gpt2 and fallback.
6. manifest.json: versions, seed, trainer settings, hashes.

Run: Scripts/python Scripts/generate-bpe-fixtures.py
Tests never call Python; never edit the outputs by hand.
"""
import collections, importlib.util, json, os, platform, random, shutil, sys, tempfile

import tokenizers
import transformers
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, RobertaTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "TokenizationTests", "Goldens", "bpe")
SEED = 20261204
BYTE_LEVEL_VOCAB = 700
CHAR_VOCAB = 500
WORDEND_ALPHABET = 60
FALLBACK_ALPHABET = 80


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "Scripts", path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


base = load("tokenizer_goldens", "generate-tokenizer-goldens.py")
unigram = load("unigram_fixtures", "generate-unigram-fixtures.py")

BPE_CASES = [
    "I'm", "you're", "they'll", "we've", "she'd", "it's", "don't", "'s", "''s", "'S", "rock'n'roll", "I'M YOU'RE",
    "a  b", "a\n\nb", "a \n b", " lead", "trail ", "   ", "\t\tx", "x\u3000\u3000y", "a\u00a0b", "a\u2028b", "x \u0085 y",
    "123 4567 1,000.5", "٣٤٥ and ١٢", "Ⅻ ½ ²", "mixed中文and English", "emoji 👩‍👩‍👧 family 🇫🇷 flag",
    "Ġ", "Ċ", "âĢĻ", "ĠĠhello", "hello Ġworld", "<s>", "a <mask> b", "a<mask>b", "<unk> <pad>", "</s></s>",
    "<0x41>", "▁x", "##ing", "x</w>",
]


def texts():
    out = base.edge_cases() + list(unigram.SENTENCES) + unigram.ADDED_CASES + BPE_CASES
    out += [s + "  " + t for s, t in zip(unigram.SENTENCES, reversed(unigram.SENTENCES))]
    out += ["  double  spaces  ", "``quoted''", "tab\there", "a  <mask>  b", "ＡＢＣ <mask> ｘ"]
    out += base.stsb_sentences()[:300]
    rng = random.Random(SEED + 1)
    out += [base.random_text(rng) for _ in range(500)]
    return out


def training_lines():
    return unigram.training_text(random.Random(SEED)).split("\n")


def train_byte_level(lines, vocab_size=BYTE_LEVEL_VOCAB):
    """(vocab, merges) of a byte-level BPE as RoBERTa's: the whole byte alphabet, <s> <pad> </s> <unk> <mask> first.
    Also used by Scripts/generate-big-bpe-tokenizer.py at RoBERTa's size."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(lines, trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, show_progress=False,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tj = json.loads(tok.to_str())
    vocab, merges = tj["model"]["vocab"], [tuple(m) for m in tj["model"]["merges"]]
    missing = set(pre_tokenizers.ByteLevel.alphabet()) - set(vocab)
    if missing or len(vocab) != vocab_size:
        sys.exit(f"trained byte-level BPE has {len(vocab)} tokens, alphabet missing {sorted(missing)[:5]}")
    return vocab, merges


def train_characters(lines, metaspace, limit, specials, prefix=None, suffix=None):
    """A character-level BPE, made deterministic as the docstring says."""
    affixes = {k: v for k, v in (("continuing_subword_prefix", prefix), ("end_of_word_suffix", suffix)) if v is not None}
    tok = Tokenizer(models.BPE(unk_token="<unk>", **affixes))
    if metaspace:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    else:
        tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
    # The words the trainer counts: normalized, pre-tokenized lines.
    words = collections.Counter()
    for line in lines:
        text = tok.normalizer.normalize_str(line) if tok.normalizer is not None else line
        words.update(w for w, _ in tok.pre_tokenizer.pre_tokenize_str(text))
    chars = collections.Counter()
    for w, n in words.items():
        for c in w:
            chars[c] += n
    alphabet = sorted(sorted(chars, key=lambda c: (-chars[c], ord(c)))[:limit])
    kept = set(alphabet)
    forms = set()
    if affixes:
        for w in words:
            for i, c in enumerate(w):
                if c in kept:
                    form = c if i == 0 else (prefix or "") + c
                    forms.add(form + (suffix or "") if i == len(w) - 1 else form)
    forms = sorted(forms - kept)
    tok.train_from_iterator(lines, trainers.BpeTrainer(
        vocab_size=CHAR_VOCAB, show_progress=False, limit_alphabet=limit, initial_alphabet=alphabet,
        special_tokens=specials + forms, **affixes))
    tj = json.loads(tok.to_str())
    tj["added_tokens"] = [t for t in tj["added_tokens"] if t["content"] in specials]
    vocab = tj["model"]["vocab"]
    order = sorted(vocab, key=vocab.get)
    if order[:len(specials)] != specials or order[len(specials) + len(forms):][:len(alphabet)] != alphabet:
        sys.exit(f"character-level BPE vocabulary starts {order[:len(specials) + len(forms) + 5]}")
    # specials, alphabet, affixed forms, merged tokens: the trainer's own layout.
    order = specials + alphabet + forms + order[len(specials) + len(forms) + len(alphabet):]
    tj["model"]["vocab"] = {t: i for i, t in enumerate(order)}
    stray = [t for t in order[len(specials) + len(alphabet) + len(forms):]
             if len(t.removeprefix(prefix or "").removesuffix(suffix or "")) == 1 and t not in forms]
    if len(order) != CHAR_VOCAB or stray:
        sys.exit(f"character-level BPE has {len(order)} tokens, forms made during training: {stray[:5]}")
    return tj, alphabet


def save_roberta(vocab, merges, work):
    tok = RobertaTokenizer(vocab=dict(vocab), merges=list(merges))
    if type(tok).__name__ != "RobertaTokenizer" or len(tok) != len(vocab):
        sys.exit(f"RobertaTokenizer built {type(tok).__name__} with {len(tok)} tokens, expected {len(vocab)}")
    out = os.path.join(work, "roberta")
    tok.save_pretrained(out)
    with open(os.path.join(out, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    if tj["model"]["vocab"] != vocab or [tuple(m) for m in tj["model"]["merges"]] != list(merges):
        sys.exit(f"saved tokenizer.json has {len(tj['model']['vocab'])} tokens and {len(tj['model']['merges'])} merges, expected {len(vocab)} and {len(merges)}")
    with open(os.path.join(out, "tokenizer_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    back = AutoTokenizer.from_pretrained(out)
    if type(back).__name__ != "RobertaTokenizer" or len(back) != len(vocab):
        sys.exit(f"reloaded {type(back).__name__} with {len(back)} tokens")
    return tj, config


def generic_config():
    return {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512,
            "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}


def added(content, i, special=True, lstrip=False):
    return {"id": i, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": False, "normalized": False, "special": special}


def variants(vocab, merges, work, lines):
    roberta_tj, roberta_config = save_roberta(vocab, merges, work)
    for t in roberta_tj["added_tokens"]:
        if t["content"] == "<mask>":
            t["lstrip"] = True
    out = {"roberta": (roberta_tj, roberta_config)}
    out["roberta-prefix"] = (roberta_tj, {**roberta_config, "add_prefix_space": True})

    ids = {t: i for t, i in vocab.items()}
    specials = [added(t, ids[t]) for t in ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]]
    gpt2 = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": specials, "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]}}
    out["gpt2"] = (gpt2, generic_config())

    template = json.loads(json.dumps(gpt2))
    template["normalizer"] = {"type": "NFC"}
    template["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    template["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                 {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "</s>", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [ids["<s>"]], "tokens": ["<s>"]}, "</s>": {"id": "</s>", "ids": [ids["</s>"]], "tokens": ["</s>"]}}}
    template["model"]["merges"] = [[a, b] for a, b in merges]
    template["model"]["ignore_merges"] = True
    out["template"] = (template, generic_config())

    split = json.loads(json.dumps(gpt2))
    split["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"String": "-"}, "behavior": "MergedWithNext", "invert": False},
        {"type": "Split", "pattern": {"Regex": " {2,}"}, "behavior": "Removed", "invert": False},
        {"type": "Split", "pattern": {"String": "e"}, "behavior": "Contiguous", "invert": True},
        {"type": "Split", "pattern": {"String": "ab"}, "behavior": "MergedWithPrevious", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
    out["split"] = (split, generic_config())

    wordend, _ = train_characters(lines, False, WORDEND_ALPHABET, ["<unk>", "<s>", "</s>", "<pad>"], prefix="##", suffix="</w>")
    wordend["model"]["fuse_unk"] = True
    w = wordend["model"]["vocab"]
    wordend["post_processor"] = {"type": "BertProcessing", "sep": ["</s>", w["</s>"]], "cls": ["<s>", w["<s>"]]}
    out["wordend"] = (wordend, generic_config())

    fallback, _ = train_characters(lines, True, FALLBACK_ALPHABET, ["<unk>", "<s>", "</s>"])
    v = fallback["model"]["vocab"]
    n = len(v)
    for b in range(256):
        v[f"<0x{b:02X}>"] = n + b  # Rust's format!("<{b:#04X}>")
    fallback["model"]["byte_fallback"] = True
    fallback["model"]["fuse_unk"] = True
    fallback["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [v["<s>"]], "tokens": ["<s>"]}}}
    out["fallback"] = (fallback, {**generic_config(), "pad_token": "<unk>"})
    return out


def fnv1a(encoding):
    h = 0xCBF29CE484222325
    for i, (s, e) in zip(encoding.ids, encoding.offsets):
        for value in (i, s, e):
            for byte in value.to_bytes(4, "little"):
                h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def scalar_blocks(backend):
    every = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    rows = []
    for k in range(0, len(every), 1024):
        block = every[k:k + 1024]
        text = "".join(chr(c) for c in block) + " " + " ".join("a" + chr(c) for c in block)
        e = backend.encode(text)
        row = {"first": block[0], "last": block[-1], "tokens": len(e.ids), "hash": fnv1a(e)}
        if k < 3 * 1024:
            row["ids"], row["offsets"] = e.ids, base.flat(e.offsets)
        rows.append(row)
    return rows


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    work = tempfile.mkdtemp(prefix="bpe-fixtures-")
    lines = training_lines()
    vocab, merges = train_byte_level(lines)
    corpus = texts()
    files, folders = {}, {}
    for name, (tj, config) in variants(vocab, merges, work, lines).items():
        folder = base.write_folder(OUT, name, tj, config)
        folders[name] = folder
        tok = AutoTokenizer.from_pretrained(folder)
        raw = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        raw.no_padding(); raw.no_truncation()
        generic = config["tokenizer_class"] == "PreTrainedTokenizerFast"
        rows, differ = [], 0
        for t in (corpus if name == "roberta" else [t for t in corpus if len(t) <= 5000]):
            e = tok(t, add_special_tokens=True, return_offsets_mapping=True)
            ids, offsets = e["input_ids"], base.flat(e["offset_mapping"])
            r = raw.encode(t)
            if r.ids != ids or base.flat(r.offsets) != offsets:
                if generic:
                    sys.exit(f"{name}: transformers and tokenizers disagree on {t!r}: {ids} {offsets} vs {r.ids} {base.flat(r.offsets)}")
                differ += 1
            rows.append({"text": t, "ids": ids, "offsets": offsets})
        if name == "wordend" and not any(i == 0 and r["offsets"][2 * k + 1] - r["offsets"][2 * k] > 1
                                         for r in rows for k, i in enumerate(r["ids"])):
            sys.exit("wordend: no <unk> covers more than one character in the corpus")
        if name == "fallback" and not any(i >= len(tj["model"]["vocab"]) - 256 for r in rows for i in r["ids"]):
            sys.exit("fallback: no <0xNN> token in the corpus")
        files[f"corpus-{name}.jsonl"] = base.write_jsonl(f"corpus-{name}.jsonl", rows, OUT)
        print(f"{name}: {type(tok).__name__}, {len(tok)} tokens; Tokenizer.from_file differs from transformers on {differ} of {len(rows)} texts", file=sys.stderr)

        backend = tok.backend_tokenizer
        rng = random.Random(SEED + 2)
        pairs, trunc = base.pair_and_truncation_goldens(backend, unigram.SENTENCES, [(" it's", "  they'll ")],
                                                        list(unigram.SENTENCES) + BPE_CASES[:10], rng)
        files[f"pairs-{name}.jsonl"] = base.write_jsonl(f"pairs-{name}.jsonl", pairs, OUT)
        files[f"truncation-{name}.jsonl"] = base.write_jsonl(f"truncation-{name}.jsonl", trunc, OUT)

        if name in ("roberta", "gpt2", "fallback"):
            backend.no_truncation()
            files[f"scalars-{name}.jsonl"] = base.write_jsonl(f"scalars-{name}.jsonl", scalar_blocks(backend if name == "roberta" else raw), OUT)

    base.write_manifest(OUT, {
        "generator": "Scripts/generate-bpe-fixtures.py",
        "reference": "transformers AutoTokenizer (fast, tokenizers backend); its backend_tokenizer for pairs, truncation and roberta's scalar blocks; tokenizers Tokenizer.from_file for gpt2 and fallback scalar blocks",
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "python": platform.python_version(),
        "seed": SEED,
        "trainers": {
            "byte-level": f"BpeTrainer vocab_size {BYTE_LEVEL_VOCAB}, min_frequency 2, special_tokens <s> <pad> </s> <unk> <mask>, "
                          "initial_alphabet ByteLevel.alphabet(); pre-tokenizer ByteLevel(add_prefix_space false)",
            "wordend": f"BpeTrainer vocab_size {CHAR_VOCAB}, limit_alphabet {WORDEND_ALPHABET} (initial_alphabet: those most frequent, "
                       "ties by code point), continuing_subword_prefix ##, end_of_word_suffix </w>, special_tokens <unk> <s> </s> <pad> "
                       "(+ the affixed characters, sorted); NFKC + Lowercase, Whitespace",
            "fallback": f"BpeTrainer vocab_size {CHAR_VOCAB}, limit_alphabet {FALLBACK_ALPHABET} (initial_alphabet: those most frequent, "
                        "ties by code point), special_tokens <unk> <s> </s>; Metaspace(first, split); then <0x00>..<0xFF>"},
    }, files, folders)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
