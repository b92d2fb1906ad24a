#!/usr/bin/env python3
"""Generate Sources/Tokenization/ReferenceUnicodeTables.swift from the behaviour of the
Hugging Face `tokenizers` library (the Rust fast tokenizer), probed over every Unicode scalar.

Why: the Rust BertNormalizer / BertPreTokenizer use the `unicode_categories` 0.1 crate, Rust std's
`char::is_whitespace` / `char::to_lowercase` and the `unicode-normalization` crate, whose Unicode
versions differ from Swift's tables (and from each other). Exact token-id parity needs the
reference's own tables, so we measure them instead of trusting any platform's Unicode data.

Each table is what the reference DOES to a scalar, probed per scalar:
  deleted      clean_text removes it (NUL, U+FFFD, is_control)            "a"+c+"b" -> "ab"
  cleanSpace   clean_text maps it to ' '                                    "a"+c+"b" -> "a b"
  cjk          handle_chinese_chars pads it with spaces                     "a"+c+"b" -> "a c b"
  splitSpace   BertPreTokenizer splits on it and drops it (char::is_whitespace)
  punctuation  BertPreTokenizer isolates it (is_ascii_punctuation || is_punctuation)
  stripRemoved strip_accents (NFD + drop Mn) deletes it                     c -> ""
  strip        strip_accents maps it to another non-empty sequence (Hangul syllables are
               left out: the Swift side decomposes them algorithmically, checked here)
  lowercase    lowercase maps it to another sequence (char::to_lowercase, per scalar)
  regexWord    the `regex` crate's Unicode `\w`, as the Whitespace pre-tokenizer (`\w+|[^\w\s]+`)
               sees it: "a"+c stays one piece (also what added tokens' single_word tests)
  gpt2Letter, gpt2Number, gpt2Space
               `\p{L}`, `\p{N}` and `\s` of the ByteLevel pre-tokenizer's split pattern
               `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, as its
               regex engine (Oniguruma, `SysRegex`) reads them: probed with `Split(Regex(CLASS),
               "removed")` over one string holding every scalar (the scalars no piece keeps are the
               class), then checked against the whole ByteLevel pattern
The script also checks that strip-then-lowercase on a scalar equals the composition of the two
tables, which is what lets the Swift side normalize one scalar at a time.

Run: Scripts/python Scripts/generate-unicode-tables.py
Never edit the output by hand; rerun this script.
"""
import os, sys, platform
import tokenizers
from tokenizers import Regex
from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer, ByteLevel, Split, Whitespace

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Sources", "Tokenization", "ReferenceUnicodeTables.swift")

def scalars():
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        yield c

clean = BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
chinese = BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
lower = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
strip = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
both = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=True)
pre = BertPreTokenizer()
whitespace = Whitespace()

deleted, clean_space, cjk, split_space, punct, strip_removed, regex_word = [], [], [], [], [], [], []
strip_map, lower_map = {}, {}

def hangul_nfd(c):
    s = c - 0xAC00
    l, v, t = 0x1100 + s // 588, 0x1161 + (s % 588) // 28, 0x11A7 + s % 28
    return [l, v] + ([t] if t != 0x11A7 else [])

for c in scalars():
    ch = chr(c)
    r = clean.normalize_str("a" + ch + "b")
    if r == "ab":
        deleted.append(c)
    elif r == "a b":
        if c != 0x20:
            clean_space.append(c)
    else:
        assert r == "a" + ch + "b", (hex(c), r)
    r = chinese.normalize_str("a" + ch + "b")
    if r == "a " + ch + " b":
        cjk.append(c)
    else:
        assert r == "a" + ch + "b", (hex(c), r)
    p = [w for w, _ in pre.pre_tokenize_str("a" + ch + "b")]
    if p == ["a", "b"]:
        if c != 0x20:
            split_space.append(c)
    elif p == ["a", ch, "b"]:
        punct.append(c)
    else:
        assert p == ["a" + ch + "b"], (hex(c), p)
    w = [p for p, _ in whitespace.pre_tokenize_str("a" + ch)]
    if w == ["a" + ch]:
        regex_word.append(c)
    else:
        assert w in (["a", ch], ["a"]), (hex(c), w)
    s = strip.normalize_str(ch)
    if s == "":
        strip_removed.append(c)
    elif s != ch:
        if 0xAC00 <= c <= 0xD7A3:
            assert [ord(x) for x in s] == hangul_nfd(c), hex(c)
        else:
            strip_map[c] = [ord(x) for x in s]
    else:
        assert not (0xAC00 <= c <= 0xD7A3)
    lo = lower.normalize_str(ch)
    if lo != ch:
        lower_map[c] = [ord(x) for x in lo]
    # strip then lowercase must compose per scalar
    expect = "".join(lower.normalize_str(x) for x in s)
    assert both.normalize_str(ch) == expect, (hex(c), both.normalize_str(ch), expect)

def regex_class(pattern):
    """The scalars `pattern` (one char class) matches, by the reference's own regex engine."""
    every = list(scalars())
    kept = [False] * len(every)
    for _, (s, e) in Split(Regex(pattern), "removed").pre_tokenize_str("".join(chr(c) for c in every)):
        for i in range(s, e):
            kept[i] = True
    return [c for c, k in zip(every, kept) if not k]

gpt2_letter, gpt2_number, gpt2_space = regex_class(r"\p{L}"), regex_class(r"\p{N}"), regex_class(r"\s")
assert not (set(gpt2_letter) & set(gpt2_number)) and not (set(gpt2_letter) & set(gpt2_space)) \
    and not (set(gpt2_number) & set(gpt2_space)), "the GPT-2 classes overlap"
byte_level = ByteLevel(add_prefix_space=False, use_regex=True)
for cls in (gpt2_letter, gpt2_number):
    for c in cls[:: max(1, len(cls) // 200)]:
        pieces = byte_level.pre_tokenize_str(" " + chr(c) * 3)
        assert len(pieces) == 1, (hex(c), pieces)
for c in gpt2_space:
    # `\s+(?!\S)` gives back the run's last scalar, which U+0020 alone then joins to "y".
    want = [(0, 1), (1, 2), (2, 4)] if c == 0x20 else [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert [o for _, o in byte_level.pre_tokenize_str("x" + chr(c) * 2 + "y")] == want, hex(c)

def ranges(cs):
    out, start, prev = [], None, None
    for c in cs:
        if start is None:
            start = prev = c
        elif c == prev + 1:
            prev = c
        else:
            out.append((start, prev)); start = prev = c
    if start is not None:
        out.append((start, prev))
    return " ".join("%X" % a if a == b else "%X-%X" % (a, b) for a, b in out)

def mapping(m):
    return ";".join("%X:%s" % (k, " ".join("%X" % x for x in v)) for k, v in sorted(m.items()))

def lit(name, doc, value):
    return '    /// %s\n    static let %s = "%s"\n' % (doc, name, value)

body = []
body.append("// GENERATED by Scripts/generate-unicode-tables.py -- do not edit by hand; rerun the script.\n")
body.append("// Probed from tokenizers %s (Python %s, %s) over all %d Unicode scalars.\n"
            % (tokenizers.__version__, platform.python_version(), platform.machine(), sum(1 for _ in scalars())))
body.append("// Format: ranges are space-separated hex `A` or `A-B`; mappings are `;`-separated `K:V V ...`.\n\n")
body.append("enum ReferenceUnicodeTables {\n")
body.append(lit("deleted", "clean_text deletes these (NUL, U+FFFD, `is_control` = unicode_categories `is_other` minus \\t\\n\\r).", ranges(deleted)))
body.append(lit("cleanSpace", "clean_text maps these to U+0020 (\\t\\n\\r or `char::is_whitespace`, unless deleted above).", ranges(clean_space)))
body.append(lit("cjk", "handle_chinese_chars surrounds these with spaces (the Rust ranges, including the 0x2B920 typo).", ranges(cjk)))
body.append(lit("splitSpace", "BertPreTokenizer splits on and drops these besides U+0020 (`char::is_whitespace`).", ranges(split_space)))
body.append(lit("punctuation", "BertPreTokenizer isolates these (`is_ascii_punctuation || is_punctuation`).", ranges(punct)))
body.append(lit("stripRemoved", "strip_accents (NFD, then drop Mn) deletes these scalars entirely.", ranges(strip_removed)))
body.append(lit("strip", "strip_accents maps these to the listed scalars (Hangul syllables are decomposed algorithmically instead).", mapping(strip_map)))
body.append(lit("lowercase", "lowercase maps these to the listed scalars (`char::to_lowercase`, no context).", mapping(lower_map)))
body.append(lit("regexWord", "the `regex` crate's Unicode `\\w` (Whitespace pre-tokenizer, added tokens' single_word).", ranges(regex_word)))
body.append(lit("gpt2Letter", "`\\p{L}` of the ByteLevel split pattern (Oniguruma's tables, not Swift's).", ranges(gpt2_letter)))
body.append(lit("gpt2Number", "`\\p{N}` of the ByteLevel split pattern.", ranges(gpt2_number)))
body.append(lit("gpt2Space", "`\\s` of the ByteLevel split pattern.", ranges(gpt2_space)))
body.append("}\n")
with open(OUT, "w") as f:
    f.write("".join(body))
print("wrote", OUT, "deleted", len(deleted), "cleanSpace", len(clean_space), "cjk", len(cjk),
      "splitSpace", len(split_space), "punct", len(punct), "stripRemoved", len(strip_removed),
      "strip", len(strip_map), "lower", len(lower_map), "regexWord", len(regex_word),
      "gpt2Letter", len(gpt2_letter), "gpt2Number", len(gpt2_number), "gpt2Space", len(gpt2_space), file=sys.stderr)
