#!/usr/bin/env python3
"""Generate the tokenizer parity goldens in Tests/TokenizationTests/Goldens from the
reference: Hugging Face `tokenizers` (Rust fast BertTokenizer), loading
Models/all-MiniLM-L6-v2/tokenizer.json with padding and truncation turned off.

Files (JSON Lines, one case per line; offsets flattened [s0, e0, s1, e1, ...] in
Unicode scalars, as Python's Encoding.offsets):
  corpus-uncased.jsonl   {"text", "ids", "offsets"}       the model's own tokenizer
  corpus-cased.jsonl     same corpus, normalizer lowercase=false, strip_accents=false
  truncation.jsonl       {"text", "max", "model", "ids", "offsets", "overflowed"}
  pairs.jsonl            {"a", "b", "max" (or null), "model", "ids", "types", "offsets", "overflowed"}
  codepoints-<model>.jsonl  every scalar c in "a" + c + "b": runs [first, last, ids, offsets]
                         of consecutive scalars with identical output
  manifest.json          versions and hashes that made them

Run: Scripts/python Scripts/generate-tokenizer-goldens.py
Tests never call Python; never edit the outputs by hand.
"""
import hashlib, json, os, platform, random, sys
import tokenizers
from tokenizers import Tokenizer
from tokenizers.normalizers import BertNormalizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "Models", "all-MiniLM-L6-v2")
OUT = os.path.join(ROOT, "Tests", "TokenizationTests", "Goldens")
STSB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests", "Data", "stsb-test.tsv")
SEED = 20240607

def load(cased):
    t = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    t.no_padding()
    t.no_truncation()
    if cased:
        t.normalizer = BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    return t

def flat(offsets):
    return [x for pair in offsets for x in pair]

def stsb_sentences():
    out = []
    with open(STSB, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 7:
                out += [cols[5], cols[6]]
    return out

def random_text(rng):
    """Seeded random Unicode text drawing from every plane, unassigned and control scalars included."""
    pools = [
        (0x20, 0x7E), (0x00, 0x1F), (0x7F, 0xFF), (0x100, 0x24F), (0x300, 0x36F), (0x370, 0x3FF),
        (0x400, 0x4FF), (0x590, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF), (0x2000, 0x206F),
        (0x2E00, 0x2E7F), (0x3000, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xE000, 0xF8FF),
        (0xF900, 0xFAFF), (0xFE00, 0xFFFF), (0x10000, 0x1FFFF), (0x1F300, 0x1FAFF), (0x20000, 0x2FFFF),
        (0x2B700, 0x2B9FF), (0x30000, 0x10FFFF), (0xE0000, 0xE01EF),
    ]
    n = rng.choice([0, 1, 2, 3, 5, 8, 13, 21, 34, 60])
    chars = []
    for _ in range(n):
        r = rng.random()
        if r < 0.25:
            chars.append(rng.choice(" abcdefghijklmnopqrstuvwxyzABCDEFGHIJ.,!?'-"))
        else:
            lo, hi = rng.choice(pools)
            c = rng.randint(lo, hi)
            if 0xD800 <= c <= 0xDFFF:
                c = 0xFFFD
            chars.append(chr(c))
    return "".join(chars)

def edge_cases():
    e = [
        "", " ", "   ", "\t", "\n", "\r\n", " \t\n\r ", "\x00", "\x00\x00", "a\x00b", "\ufffd", "a\ufffdb",
        "hello\u200bworld", "hello\u200dworld", "hello\u00adworld", "\ufeffhello", "hello\ufeff world",
        "hello\u202eworld", "tag\U000E0041\U000E0042chars", "hello\u0085world", "hello\x0bworld", "hello\x0cworld",
        "hello\x1cworld", "hello\x1fworld", "hello\u00a0world", "hello\u2028world", "hello\u2029world",
        "hello\u3000world", "hello\u1680world", "hello\u202fworld", "a\tb\tc", "line1\r\nline2\rline3\nline4",
        "Café", "cafe\u0301", "CAFÉ", "naïve résumé", "Ångström", "ÀÉÎÕÜ àéîõü", "e\u0301" * 51, "e\u0301" * 50,
        "a" + "\u0301" * 5, "\u0301", "\u0301\u0302 x",
        "ΟΔΟΣ", "Οδός", "ΣΊΣΥΦΟΣ", "İstanbul", "ISTANBUL ıi", "İ", "straße STRASSE ẞ", "ǅ ǈ ǋ ǲ",
        "中文", "我爱北京天安门", "日本語のテキスト、カタカナ、ひらがな。", "한국어 텍스트입니다", "한국어",
        "ภาษาไทย สวัสดีครับ", "مرحبا بالعالم", "हिन्दी भाषा", "Привет, мир!", "Ελληνικά", "עברית",
        "\U0002b81f\U0002b820\U0002b821\U0002b91f\U0002b920\U0002b921", "a\U0002b820b", "x\U00020000y",
        "\u3400\u4dbf\u4dc0", "\uf900\ufaff\ufa0e", "\U0002f800\U0002fa1f", "\U00030000\U0003134a",
        "😀", "hello😀world", "hello 😀 world", "👍🏽", "👨‍👩‍👧‍👦", "family: 👨\u200d👩\u200d👧", "🇫🇷🇩🇪", "flags 🇯🇵!",
        "1️⃣ 2️⃣ #️⃣", "❤️", "☺︎", "🥱📷🤏🦾", "\U0001FAE8",
        "Ｆｕｌｌｗｉｄｔｈ ＬＡＴＩＮ １２３", "𝐌𝐚𝐭𝐡 𝔹𝕠𝕝𝕕 𝒮𝒸𝓇𝒾𝓅𝓉", "ﬁ ﬂ ﬀ", "①②③", "½ ¼ ²³",
        "\u0378", "\uffff", "\U0010ffff", "\U000f0000", "\ue000", "a\u0378b", "\u2e55\u2e5d", "x\u061dy",
        "a" * 99, "a" * 100, "a" * 101, "x" * 150, "ab" * 50, "é" * 100, "é" * 101,
        "hello [MASK] world", "[CLS] [SEP] [PAD] [UNK] [MASK]", "wor[SEP]ld", "[cls] [Sep]", "[[MASK]]",
        "[MASK][MASK]", "[", "]", "[MAS", "##", "##ing", "#hashtag", "don't", "U.S.A.", "e-mail", "3.14159",
        "1,000,000", "$100", "100%", "C++", "a/b\\c", "(parenthetical)", "\"quoted\"", "«guillemets»",
        "‘curly’ “quotes”", "em—dash en–dash", "ellipsis…", "¿Qué? ¡Sí!", "§ ¶ • †", "~`^_|", "@user #tag",
        "http://example.com/path?q=1&r=2", "user@example.com", "<html><body>text</body></html>",
        "unaffable", "unbelievably", "antidisestablishmentarianism", "supercalifragilisticexpialidocious",
        "Hello, World!", "HELLO WORLD", "hello world", "Mixed CASE Words", "tokenization",
        "The quick brown fox jumps over the lazy dog.", "   leading and trailing spaces   ",
        "multiple     spaces", "a\u0300\u0301\u0302b", "\u1d16d\u1d165", "ḁ̴̶̷̸̡̢̧̨̛̖̗̘̙̜̝̞̟̠̣̤̥̦̩̪̫̬̭̮̯̰̱̲̳̹̺̻̼͇͈͉͍͎̀́̂̃̄̅̆̇̈̉̊̋̌̍̎̏̐̑̒̓̔̽̾̿̀́͂̓̈́͆͊͋͌̕̚ͅ͏͓͔͕͖͙͚͐͑͒͗͛ͣͤͥͦͧͨͩͪͫͬͭͮͯ͘͜͟͢͝͞͠͡",
        "Zalgo: Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇", "ｶﾀｶﾅ", "ｈｅｌｌｏ", "\u3099\u309a", "が ぱ", "か\u3099",
        "Dž dž", "ŉ", "ΐ", "ﬃ", "ǰ", "İi̇", "\u0130\u0049\u0131\u0069", "Ωmega ω Ω", "K Å",
    ]
    e.append("word " * 2000)  # 10,000 scalars, 2,000 words
    e.append(" ".join(["lorem", "ipsum", "dolor", "sit", "amet,", "consectetur"] * 1667)[:60000])  # 10,000 words
    return e

def corpus():
    rng = random.Random(SEED)
    texts = edge_cases()
    sts = stsb_sentences()
    texts += sts[:1200]
    for _ in range(900):
        texts.append(random_text(rng))
    # some words around the 100-scalar limit made of multi-byte scalars
    for n in (98, 99, 100, 101, 102):
        texts.append("ü" * n)
        texts.append("中" * n)
        texts.append("a\u0301" * (n // 2))
    return texts

def encode_all(tok, texts):
    return [tok.encode(t) for t in texts]

def write_jsonl(name, rows, out=OUT):
    path = os.path.join(out, name)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=True, separators=(",", ":")) + "\n")
    return path

# Shared by the pipeline fixture generators (generate-unigram-fixtures.py, generate-bpe-fixtures.py).

def write_folder(out, name, tj, config):
    """A tokenizer folder: tokenizer.json and tokenizer_config.json, indented, UTF-8."""
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    for file, content in (("tokenizer.json", tj), ("tokenizer_config.json", config)):
        with open(os.path.join(folder, file), "w", encoding="utf-8") as f:
            json.dump(content, f, ensure_ascii=False, indent=1)
            f.write("\n")
    return folder

def pair_and_truncation_goldens(backend, sentences, extra_pairs, truncation_texts, rng):
    """pairs-*.jsonl and truncation-*.jsonl rows from the Rust tokenizer transformers built
    (`backend_tokenizer`), as `Encoding`s: transformers' `__call__` treats an empty text_pair as no
    pair, the fast tokenizer does not. `truncation_texts` are followed by 40 random texts."""
    backend.no_padding()

    def encode(a, b=None, m=None):
        if m is None:
            backend.no_truncation()
        else:
            backend.enable_truncation(max_length=m)
        e = backend.encode(a, b) if b is not None else backend.encode(a)
        backend.no_truncation()
        return e

    pair_texts = [(sentences[i], sentences[-1 - i]) for i in range(len(sentences))]
    pair_texts += [(random_text(rng), random_text(rng)) for _ in range(40)]
    pair_texts += [("", ""), ("a", ""), ("", "b"), ("<mask> one", "two <mask>"), ("a b c d e f g", "x")] + extra_pairs
    pairs = []
    for a, b in pair_texts:
        m = rng.choice([None, None, 0, 1, 3, 4, 5, 6, 7, 8, 10, 16, 32])
        e = encode(a, b, m)
        pairs.append({"a": a, "b": b, "max": m, "ids": e.ids, "types": e.type_ids, "offsets": flat(e.offsets),
                      "overflowed": len(e.overflowing) > 0})
    trunc = []
    for t in list(truncation_texts) + [random_text(rng) for _ in range(40)]:
        m = rng.choice([0, 1, 2, 3, 4, 5, 8, 12, 16, 64])
        e = encode(t, None, m)
        trunc.append({"text": t, "max": m, "ids": e.ids, "offsets": flat(e.offsets), "overflowed": len(e.overflowing) > 0})
    return pairs, trunc

def write_manifest(out, manifest, files, folders=None):
    """manifest.json: `manifest` plus the SHA-256 of each folder's files and each golden's line count and SHA-256."""
    def sha(path):
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    if folders is not None:
        manifest["folders"] = {name: {f: sha(os.path.join(folder, f)) for f in sorted(os.listdir(folder))}
                               for name, folder in folders.items()}
    manifest["files"] = {os.path.basename(p): {"lines": sum(1 for _ in open(p, encoding="utf-8")), "sha256": sha(p)}
                         for p in files.values()}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    for k, v in manifest["files"].items():
        print(k, v["lines"], os.path.getsize(os.path.join(out, k)), file=sys.stderr)

def codepoint_runs(tok):
    runs = []
    batch, cps = [], []
    def flush():
        for c, enc in zip(cps, tok.encode_batch(batch)):
            key = (enc.ids, flat(enc.offsets))
            if runs and runs[-1][1] == c - 1 and runs[-1][2] == key[0] and runs[-1][3] == key[1]:
                runs[-1][1] = c
            else:
                runs.append([c, c, key[0], key[1]])
        batch.clear(); cps.clear()
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        batch.append("a" + chr(c) + "b"); cps.append(c)
        if len(batch) == 8192:
            flush()
    flush()
    return runs

def main():
    os.makedirs(OUT, exist_ok=True)
    texts = corpus()
    models = {"uncased": load(False), "cased": load(True)}
    files = {}
    for name, tok in models.items():
        encs = encode_all(tok, texts)
        files[f"corpus-{name}.jsonl"] = write_jsonl(f"corpus-{name}.jsonl",
            [{"text": t, "ids": e.ids, "offsets": flat(e.offsets)} for t, e in zip(texts, encs)])

    rng = random.Random(SEED + 1)
    sts = stsb_sentences()
    trunc = []
    singles = sts[1200:1400] + edge_cases()[:60] + [random_text(rng) for _ in range(40)]
    for t in singles:
        for model in ("uncased", "cased"):
            m = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 24, 32, 128])
            tok = models[model]
            tok.enable_truncation(max_length=m)
            e = tok.encode(t)
            tok.no_truncation()
            trunc.append({"text": t, "max": m, "model": model, "ids": e.ids, "offsets": flat(e.offsets),
                          "overflowed": len(e.overflowing) > 0})
    files["truncation.jsonl"] = write_jsonl("truncation.jsonl", trunc)

    pairs = []
    pair_texts = [(sts[i], sts[i + 1]) for i in range(1400, 1800, 2)]
    pair_texts += [(random_text(rng), random_text(rng)) for _ in range(60)]
    pair_texts += [("", ""), ("a", ""), ("", "b"), ("a b c d e f g", "x"), ("a b", "x y z w v u t s"),
                   ("a b c d e f", "u v w x y z"), ("one [SEP] two", "[MASK] three")]
    for a, b in pair_texts:
        for model in ("uncased", "cased"):
            m = rng.choice([None, None, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 20, 32, 64])
            tok = models[model]
            if m is not None:
                tok.enable_truncation(max_length=m)
            e = tok.encode(a, b)
            tok.no_truncation()
            pairs.append({"a": a, "b": b, "max": m, "model": model, "ids": e.ids, "types": e.type_ids,
                          "offsets": flat(e.offsets), "overflowed": len(e.overflowing) > 0})
    files["pairs.jsonl"] = write_jsonl("pairs.jsonl", pairs)

    for name, tok in models.items():
        runs = codepoint_runs(tok)
        files[f"codepoints-{name}.jsonl"] = write_jsonl(f"codepoints-{name}.jsonl", runs)

    with open(os.path.join(MODEL, "tokenizer.json"), "rb") as f:
        tj_hash = hashlib.sha256(f.read()).hexdigest()
    write_manifest(OUT, {
        "generator": "Scripts/generate-tokenizer-goldens.py",
        "reference": "tokenizers (Rust fast tokenizer via Python bindings)",
        "tokenizers": tokenizers.__version__,
        "python": platform.python_version(),
        "seed": SEED,
        "tokenizer_json": "Models/all-MiniLM-L6-v2/tokenizer.json",
        "tokenizer_json_sha256": tj_hash,
        "settings": "padding and truncation off unless a case sets max; cased = BertNormalizer(lowercase=False, strip_accents=False)",
    }, files)

if __name__ == "__main__":
    main()
