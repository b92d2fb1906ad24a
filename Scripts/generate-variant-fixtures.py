#!/usr/bin/env python3
"""Tiny randomly initialised sentence-transformers checkpoints, one per BERT-family variant, with goldens.

Usage:
    Scripts/python Scripts/generate-variant-fixtures.py            # (re)generate
    Scripts/python Scripts/generate-variant-fixtures.py --verify   # reload from disk, compare

Writes Tests/SentenceEmbeddingsTests/Fixtures/<variant>/ (a complete model folder as
SentenceTransformer.save() writes it, plus goldens.json) and Fixtures/manifest.json.
Needs torch, transformers, tokenizers and sentence-transformers (a virtual environment outside the
repository); the Swift tests never run Python, they read the committed folders.

Every weight is drawn from a seeded torch.Generator (per variant), with a std much larger than BERT's
0.02 so that token identity and position both move the output: a wrong implementation must fail the
cosine >= 0.99999 check. Each text is embedded ALONE (batch size 1), FP32 on CPU.
"""
import copy, hashlib, json, os, platform, shutil, sys, tempfile, unicodedata
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import logging, warnings
warnings.filterwarnings("ignore")
import numpy as np, torch, transformers, tokenizers, sentence_transformers
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer, models as tk_models, normalizers as tk_norm, pre_tokenizers as tk_pre
from transformers import BertConfig, BertModel, BertTokenizer
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Pooling
from sentence_transformers.base.modules import Dense, Normalize, Transformer
transformers.logging.set_verbosity_error()
logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
torch.set_num_threads(1)  # deterministic reductions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "SentenceEmbeddingsTests", "Fixtures")
GENERATOR = "Scripts/generate-variant-fixtures.py"
VERSIONS = {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__, "sentence_transformers": sentence_transformers.__version__}

# ---------------------------------------------------------------------------------------------------------------
# Texts

LONG_WORDS = ("The committee reviewed the proposal in detail, weighing its costs against the expected "
              "benefits for every district before voting on the amendments late in the evening.").split()
TEXTS = [
    "",                                                     # empty: [CLS] [SEP]
    "a",                                                    # a single character
    "A man is playing a guitar.",
    "The quick brown fox jumps over the lazy dog.",
    "Café au lait, naïve résumé, Ångström.",                # precomposed accents
    "Cafe\u0301 cre\u0300me bru\u0302le\u0301e, n\u0303 and a\u0308",  # combining marks
    "東京は日本の首都です。北京欢迎你",                         # CJK (each ideograph its own word)
    "I love pizza 🍕 and sushi 🍣! 👍🏽",                      # emoji -> [UNK]
    "MiXeD CaSe TeXt: The Quick BROWN Fox, PARIS and Paris.",
    "Wait... what?! (yes) [no] {maybe} -- \"quoted\" 'single' @home #tag 50% a/b c&d",
    "ΟΔΟΣ Straße İstanbul",                                 # special lowercase mappings
    "hello\u200bworld\u00a0again\ttab\r\nnewline\u0000control\u0007chars",
    "unaffable supercalifragilisticexpialidocious " + "x" * 120,  # subwords; a word over 100 chars -> [UNK]
    "Fill the [MASK] then [SEP] here, not [mask] nor [unused0].",  # special tokens inside the text
    " ".join(LONG_WORDS * 8),                               # over max_seq_length (96): truncated
]
# For the 1024-position variant: > 512 tokens but < 1024, and one over 1024.
TEXTS_1024_EXTRA = [" ".join(LONG_WORDS * 24), " ".join(LONG_WORDS * 45)]

EXTRA_CORPUS = """
A man is eating food. A man is riding a horse. A woman is playing the violin. Two men pushed carts through the woods.
The weather is lovely today. It's so sunny outside! He drove to the stadium. The new movie is awesome.
The cat sits outside. The new movie is so great. A man is playing guitar. The dog plays in the garden.
Query and passage retrieval: what is the capital of France? Paris is the capital and largest city of France.
Machine learning models encode sentences into vectors; similar sentences have similar embeddings.
Unaffable, unbelievable, unbreakable, playing, played, player, plays, walking, walked, talks, talking.
Café crème brûlée résumé naïve Ångström Straße İstanbul ΟΔΟΣ οδος όδος
"""

SPECIALS = ["[PAD]", "[unused0]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # non-standard ids on purpose


# Words kept out of the whole-word list so that WordPiece must split them into these pieces.
SPLIT_WORDS = {"unaffable", "supercalifragilisticexpialidocious", "playing", "unbelievable"}
PIECES = ["un", "##aff", "##able", "super", "##cal", "##if", "##rag", "##il", "##istic", "##ex", "##pi", "##ali",
          "##doc", "##ious", "play", "##ing", "##ed", "##er", "##s", "##ly", "##xx", "##xxxx", "##believ"]


def build_vocab(size=448):
    """A small deterministic WordPiece vocabulary: every character of the corpus (alone and as ##piece), some
    subword pieces, then the most frequent words of the golden texts plus some English, in cased, lowercased and
    accent-stripped forms. (tokenizers' WordPieceTrainer breaks frequency ties differently from run to run.)"""
    lines = TEXTS + TEXTS_1024_EXTRA[:1] + [l for l in EXTRA_CORPUS.strip().split("\n")]
    pre = Tokenizer(tk_models.WordPiece(unk_token="[UNK]"))
    pre.normalizer = tk_norm.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    pre.pre_tokenizer = tk_pre.BertPreTokenizer()
    counts, chars = {}, set()
    for l in lines:
        stripped = "".join(c for c in unicodedata.normalize("NFD", l) if unicodedata.category(c) != "Mn")
        for form in (l, l.lower(), stripped, stripped.lower(), unicodedata.normalize("NFD", l)):
            norm = pre.normalizer.normalize_str(form)
            for w, _ in pre.pre_tokenizer.pre_tokenize_str(norm):
                chars.update(w)
                if w not in SPLIT_WORDS and len(w) <= 100:
                    counts[w] = counts.get(w, 0) + 1
    tokens = list(SPECIALS)
    for c in sorted(chars):
        tokens.append(c)
    for c in sorted(chars):
        tokens.append("##" + c)
    tokens += [p for p in PIECES if p not in tokens]
    for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(tokens) >= size:
            break
        if w not in tokens:
            tokens.append(w)
    return {t: i for i, t in enumerate(tokens)}


# ---------------------------------------------------------------------------------------------------------------
# Variants

BASE_CONFIG = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
                   max_position_embeddings=128, type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12)
MAX_SEQ = 96


def V(name, exercises, **kw):
    d = dict(name=name, exercises=exercises, config={}, tok={}, st_lower=None, max_seq_length=MAX_SEQ,
             pooling="mean", pooling_legacy=False, include_prompt=True, dense=[], normalize=False,
             prompts=None, default_prompt_name=None, truncate_dim=None, dtype=None, edits=[], cases=None,
             texts_extra=[], refused=None, same_as_in_memory=True, expect_max_seq=None,
             layout="legacy", family="bert", tokenizer="wordpiece")
    d.update(kw)
    return d


PROMPTS = {"query": "query: ", "passage": "passage: "}
VARIANTS = [
    # --- pooling ---
    V("pool_mean", "mean pooling, new pooling_mode key (the reference shape of the family)"),
    V("layout_st62", "the folder exactly as sentence-transformers 6.2 saves it: sentence_bert_config.json holds transformer_task/modality_config/module_output_name and NO max_seq_length; the limit (96) is tokenizer_config.json model_max_length",
      layout="st62"),
    V("pool_cls", "CLS pooling (bge style)", pooling="cls"),
    V("pool_max", "max pooling over non-padding tokens", pooling="max"),
    V("pool_mean_sqrt_len", "mean_sqrt_len_tokens: sum / sqrt(token count)", pooling="mean_sqrt_len_tokens"),
    V("pool_weightedmean", "weightedmean: position weights 1..n", pooling="weightedmean"),
    V("pool_lasttoken", "lasttoken pooling ([SEP] for BERT)", pooling="lasttoken"),
    V("pool_mean_cls_new", "combination in the NEW form pooling_mode [\"mean\", \"cls\"]: concatenated in the listed order (mean first)",
      pooling=["mean", "cls"]),
    V("pool_legacy_mean", "legacy boolean 1_Pooling/config.json (word_embedding_dimension + pooling_mode_*_tokens), mean only",
      pooling="mean", pooling_legacy=True),
    V("pool_legacy_cls_max_mean", "legacy booleans with cls+max+mean on: concatenated in the fixed legacy order cls, max, mean, mean_sqrt_len, weightedmean, lasttoken",
      pooling=["cls", "max", "mean"], pooling_legacy=True),
    V("pool_legacy_all", "legacy booleans with all six flags on (output dim 6*hidden)",
      pooling=["cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken"], pooling_legacy=True),
    # --- normalize ---
    V("mean_normalize", "mean pooling + 2_Normalize (all-MiniLM-L6-v2 shape)", normalize=True),
    V("cls_normalize", "CLS pooling + Normalize (bge shape)", pooling="cls", normalize=True),
    # --- dense ---
    V("dense_tanh", "2_Dense 32->24 with bias, Tanh (LaBSE shape), then 3_Normalize",
      dense=[dict(out=24, bias=True, act="tanh")], pooling="cls", normalize=True),
    V("dense_nobias_identity", "2_Dense 32->16 without bias, Identity activation, no Normalize",
      dense=[dict(out=16, bias=False, act="identity")]),
    V("dense_two", "two Dense modules: 32->40 Tanh with bias, then 40->20 Identity without bias",
      dense=[dict(out=40, bias=True, act="tanh"), dict(out=20, bias=False, act="identity")]),
    # --- weights / checkpoint layout ---
    V("weights_f16", "model.safetensors stored as F16 (config dtype float16); goldens = F32 compute of the F16 weights; embedding_f32_original = the unrounded F32 weights",
      dtype="float16"),
    V("weights_bf16", "model.safetensors stored as BF16; as weights_f16", dtype="bfloat16"),
    V("weights_bert_prefix", "keys carry the bert. prefix plus an MLM head (cls.predictions.*), architectures BertForMaskedLM; transformers strips the prefix",
      edits=["bert_prefix"]),
    V("weights_extra_tensors", "extra tensors: embeddings.position_ids (I64 [1, max_pos]) and embeddings.token_type_ids (I64) buffers besides the pooler",
      edits=["extra_buffers"]),
    V("weights_no_pooler", "checkpoint without pooler.dense.* (pooler is unused by sentence embeddings)", edits=["no_pooler"]),
    # --- architecture ---
    V("act_gelu_new", "hidden_act gelu_new (tanh approximation)", config=dict(hidden_act="gelu_new")),
    V("act_gelu_pytorch_tanh", "hidden_act gelu_pytorch_tanh", config=dict(hidden_act="gelu_pytorch_tanh")),
    V("act_relu", "hidden_act relu", config=dict(hidden_act="relu")),
    V("type_vocab_1", "type_vocab_size 1 (token_type_embeddings has one row)", config=dict(type_vocab_size=1)),
    V("odd_sizes", "3 layers, hidden 48, 6 heads (head dim 8), intermediate 80, layer_norm_eps 1e-6",
      config=dict(num_hidden_layers=3, hidden_size=48, num_attention_heads=6, intermediate_size=80, layer_norm_eps=1e-6)),
    V("positions_1024", "max_position_embeddings 1024 and max_seq_length 1024; texts of ~700 and ~1300 tokens",
      config=dict(max_position_embeddings=1024), max_seq_length=1024, texts_extra=TEXTS_1024_EXTRA),
    V("max_seq_from_tokenizer", "legacy sentence_bert_config.json without max_seq_length: the limit is min(tokenizer_config model_max_length=64, max_position_embeddings=128) = 64",
      max_seq_length=None, edits=["model_max_length_64"], same_as_in_memory=False, expect_max_seq=64),
    V("max_seq_capped_by_positions", "legacy sentence_bert_config.json without max_seq_length, tokenizer_config model_max_length 512: the limit is capped at max_position_embeddings = 128",
      max_seq_length=None, expect_max_seq=128),
    # --- tokenizer ---
    V("tok_cased", "cased WordPiece: do_lower_case false (tokenizer_config) / lowercase false (tokenizer.json), strip_accents null -> no accent stripping",
      tok=dict(do_lower_case=False)),
    V("tok_strip_accents_cased", "strip_accents true with lowercase false", tok=dict(do_lower_case=False, strip_accents=True)),
    V("tok_lower_keep_accents", "strip_accents false with lowercase true", tok=dict(do_lower_case=True, strip_accents=False)),
    V("tok_no_chinese_chars", "tokenize_chinese_chars false: CJK runs stay one word", tok=dict(tokenize_chinese_chars=False)),
    V("tok_json_only", "tokenizer.json + tokenizer_config.json, no vocab.txt", edits=["drop_vocab_txt"]),
    V("tok_vocab_only", "vocab.txt + tokenizer_config.json, no tokenizer.json (uncased defaults)", edits=["drop_tokenizer_json"]),
    V("tok_vocab_only_cased", "vocab.txt + tokenizer_config.json (do_lower_case false), no tokenizer.json",
      tok=dict(do_lower_case=False), edits=["drop_tokenizer_json"]),
    V("tok_st_lower_on_cased", "sentence_bert_config do_lower_case true on a cased tokenizer: sentence-transformers prepends a Lowercase normalizer (accents kept, since the BertNormalizer has lowercase false and strip_accents null)",
      tok=dict(do_lower_case=False), st_lower=True),
    V("tok_json_cased_no_config", "tokenizer.json says lowercase false but there is NO tokenizer_config.json: transformers 5 rebuilds BertTokenizer with its defaults, so the text IS lowercased (the tokenizer.json normalizer is ignored)",
      tok=dict(do_lower_case=False), edits=["drop_tokenizer_config"], same_as_in_memory=False),
    V("tok_config_overrides_json", "tokenizer.json lowercase true but tokenizer_config.json do_lower_case false: the config wins (cased)",
      tok=dict(do_lower_case=False), edits=["json_lowercase_true"]),
    V("tok_generic_fast_class", "tokenizer_config tokenizer_class PreTrainedTokenizerFast: the tokenizer.json pipeline is used as written (lowercase false) and do_lower_case true in tokenizer_config is ignored",
      tok=dict(do_lower_case=False), edits=["generic_tokenizer_class"]),
    # --- prompts ---
    V("prompts_default_query", "config_sentence_transformers.json prompts {query, passage} with default_prompt_name query; cases: default, query, passage, explicit empty prompt",
      prompts=PROMPTS, default_prompt_name="query", normalize=True,
      cases=[dict(name="default_prompt"), dict(name="query", prompt_name="query"), dict(name="passage", prompt_name="passage"),
             dict(name="empty_prompt", prompt="")]),
    V("prompts_exclude_mean", "prompts without default; 1_Pooling include_prompt false with mean pooling: [CLS] and the prompt tokens are masked out of the mean",
      prompts=PROMPTS, include_prompt=False,
      cases=[dict(name="no_prompt"), dict(name="query", prompt_name="query"), dict(name="passage", prompt_name="passage")]),
    V("prompts_exclude_cls", "include_prompt false with CLS pooling: 'cls' takes the first unmasked token, i.e. the first token after the prompt",
      prompts=PROMPTS, include_prompt=False, pooling="cls",
      cases=[dict(name="no_prompt"), dict(name="query", prompt_name="query")]),
    # --- Matryoshka ---
    V("matryoshka_truncate16", "truncate_dim 16 in config_sentence_transformers.json, with Normalize: truncation happens AFTER the Normalize module (so stored vectors are NOT unit length); encode(normalize_embeddings=True) normalizes after truncating",
      normalize=True, truncate_dim=16,
      cases=[dict(name="config_truncate_dim"), dict(name="truncate_dim_8", truncate_dim=8),
             dict(name="normalize_after_truncate", normalize_embeddings=True)]),
    # --- encoder families (the body from config.json model_type; the tokenizer its checkpoints ship) ---
    V("family_mpnet", "MPNetModel (positions after padding_idx 1, relative-position attention bias, no token types) with MPNet's WordPiece tokenizer (<s> … </s>, <unk> a normalized added token as in all-mpnet-base-v2), mean pooling + Normalize: the all-mpnet-base-v2 shape",
      family="mpnet", normalize=True, max_seq_length=120, config=dict(max_position_embeddings=130),
      edits=["mpnet_unk_normalized"], same_as_in_memory=False,
      texts_extra=["an <UNK> and a <unk> and a <mask> too, <pad> <s> </s>", " ".join(LONG_WORDS * 3)]),
    V("family_mpnet_config_overrides_json", "MPNetTokenizer, tokenizer.json lowercase true but tokenizer_config.json do_lower_case false: like BertTokenizer, the class rebuilds its normalizer from the config (cased)",
      family="mpnet", tok=dict(do_lower_case=False), edits=["json_lowercase_true"]),
    V("family_mpnet_long_distances", "MPNet with texts long enough (up to 500 tokens) to reach every logarithmic relative-position bucket up to max_distance 128 and beyond",
      family="mpnet", max_seq_length=500, config=dict(max_position_embeddings=520), texts_extra=TEXTS_1024_EXTRA[:1]),
    V("family_distilbert", "DistilBertModel (its own tensor and config names, no token types) with DistilBertTokenizer, mean pooling (msmarco-distilbert shape)",
      family="distilbert"),
    V("family_distilbert_sinusoidal", "DistilBERT with sinusoidal_pos_embds true: the flag only initialises the position table, the saved table (random here, so a recomputed sinusoid would differ) is what runs",
      family="distilbert", config=dict(sinusoidal_pos_embds=True)),
    V("family_distilbert_cls_prefix", "DistilBertForMaskedLM checkpoint (distilbert. prefix plus the MLM head), CLS pooling",
      family="distilbert", pooling="cls", edits=["family_prefix"]),
    V("family_roberta", "RobertaModel (positions after padding_idx, type_vocab_size 1) with a WordPiece tokenizer; '[PAD]' typed in a text takes position padding_idx",
      family="roberta", texts_extra=["a [PAD] inside [PAD] the text"]),
    V("family_xlm_roberta_prefix", "model_type xlm-roberta, XLMRobertaForMaskedLM keys (roberta. prefix plus lm_head), mean pooling, Normalize",
      family="xlm-roberta", normalize=True, edits=["family_prefix"]),
    V("family_xlm_roberta_unigram_e5", "XLM-RoBERTa body with a SentencePiece Unigram tokenizer (XLMRobertaTokenizer), CLS pooling, Normalize and 'query: '/'passage: ' prompts: the multilingual-e5 pattern",
      family="xlm-roberta", tokenizer="unigram", pooling="cls", normalize=True, prompts=PROMPTS,
      cases=[dict(name="no_prompt"), dict(name="query", prompt_name="query"), dict(name="passage", prompt_name="passage")]),
    V("family_bert_unigram", "BERT body with a SentencePiece Unigram tokenizer (XLMRobertaTokenizer, <s> … </s>), mean pooling: the paraphrase-multilingual-MiniLM-L12-v2 pattern",
      family="bert", tokenizer="unigram"),
    V("family_roberta_bpe", "RobertaModel with RoBERTa's byte-level BPE tokenizer (RobertaTokenizer: ByteLevel, BPE, <s> … </s>), mean pooling + Normalize: the all-distilroberta-v1 shape",
      family="roberta", tokenizer="bpe", normalize=True,
      texts_extra=["I'm sure they'll say it's   fine\n\tand  we've  done it", "emoji 👩‍👩‍👧 and ｆｕｌｌｗｉｄｔｈ, Ġ and Ċ typed", " leading and trailing spaces "]),
    # --- refused ---
    V("refused_relative_key", "position_embedding_type relative_key (with distance_embedding tensors)",
      edits=["relative_key"],
      refused="position_embedding_type 'relative_key' is not supported (only 'absolute'); transformers 5.24 BertModel silently ignores the key and loads it as absolute, so there is no reference to match"),
    V("refused_electra", "model_type electra (an embedding projection and other tensor names): not a family this runtime runs",
      edits=["model_type_electra"], refused="model_type 'electra' is not one of the encoder families this runtime runs"),
    V("refused_architecture", "model_type bert but architectures [\"NomicBertModel\"] (custom code under a bert model_type)",
      edits=["architecture_nomic"], refused="architectures names NomicBertModel, which is not a BERT class"),
]


# ---------------------------------------------------------------------------------------------------------------
# Weights

def seed_of(name):
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def init_weights(module, gen):
    """Large-variance init so that every token and position matters (BERT's default std 0.02 is nearly inert)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.25 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))
            elif "embeddings" in name:
                p.copy_(0.8 * torch.randn(p.shape, generator=gen))
            else:
                fan_in = p.shape[-1]
                p.copy_((1.3 / fan_in ** 0.5) * torch.randn(p.shape, generator=gen))


def write_vocab_txt(path, vocab):
    with open(path, "w", encoding="utf-8") as f:
        for t, _ in sorted(vocab.items(), key=lambda kv: kv[1]):
            f.write(t + "\n")


def rewrite_json(path, fn):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    d = fn(d) or d
    with open(path, "w", encoding="utf-8") as f:
        json.dump(d, f, indent=2, ensure_ascii=False)
        f.write("\n")


def edit_safetensors(path, fn):
    t = load_file(path)
    t = fn(t)
    save_file({k: v.contiguous() for k, v in t.items()}, path, metadata={"format": "pt"})


def legacy_pooling(d, modes):
    modes = [modes] if isinstance(modes, str) else modes
    out = {"word_embedding_dimension": d["embedding_dimension"]}
    for key, mode in [("pooling_mode_cls_token", "cls"), ("pooling_mode_mean_tokens", "mean"),
                      ("pooling_mode_max_tokens", "max"), ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens"),
                      ("pooling_mode_weightedmean_tokens", "weightedmean"), ("pooling_mode_lasttoken", "lasttoken")]:
        out[key] = mode in modes
    out["include_prompt"] = d.get("include_prompt", True)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Building

MPNET_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]  # all-mpnet-base-v2's ids 0-3; <mask> is the last id


# The SentencePiece Unigram tokenizer Scripts/generate-unigram-fixtures.py trains (402 pieces, XLM-R
# layout: <s> <pad> </s> <unk> first, <mask> last), for the multilingual patterns.
UNIGRAM_FOLDER = os.path.join(ROOT, "Tests", "TokenizationTests", "Goldens", "unigram", "xlmr")


# The byte-level BPE tokenizer Scripts/generate-bpe-fixtures.py trains, saved as RobertaTokenizer
# (<s> <pad> </s> <unk> <mask> first), for the RoBERTa pattern.
BPE_FOLDER = os.path.join(ROOT, "Tests", "TokenizationTests", "Goldens", "bpe", "roberta")
TOKENIZER_FOLDERS = {"unigram": UNIGRAM_FOLDER, "bpe": BPE_FOLDER}


def unigram_vocab():
    with open(os.path.join(UNIGRAM_FOLDER, "tokenizer.json"), encoding="utf-8") as f:
        pieces = json.load(f)["model"]["vocab"]
    return {piece: i for i, (piece, _) in enumerate(pieces)}


def bpe_vocab():
    with open(os.path.join(BPE_FOLDER, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    vocab = dict(tj["model"]["vocab"])
    vocab.update({t["content"]: t["id"] for t in tj["added_tokens"]})
    return vocab


def family_vocab(family, vocab, tokenizer="wordpiece"):
    if tokenizer == "unigram":
        return unigram_vocab()
    if tokenizer == "bpe":
        return bpe_vocab()
    if family != "mpnet":
        return vocab
    tokens = MPNET_SPECIALS + [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])] + ["<mask>"]
    return {t: i for i, t in enumerate(tokens)}


def family_body(family, vocab, config):
    """(model, config) of a tiny randomly initialised encoder of `family`, sized like BASE_CONFIG."""
    c = {**BASE_CONFIG, **config}
    # The padding and sentence-boundary ids of the vocabulary: WordPiece [PAD] [CLS] [SEP], or <pad> <s> </s>.
    pad, bos, eos = (vocab["<pad>"], vocab["<s>"], vocab["</s>"]) if "<pad>" in vocab else (vocab["[PAD]"], vocab["[CLS]"], vocab["[SEP]"])
    if family == "bert":
        cfg = BertConfig(vocab_size=len(vocab), pad_token_id=pad, **c)
        return BertModel(cfg, add_pooling_layer=True), cfg
    if family in ("roberta", "xlm-roberta"):
        from transformers import RobertaConfig, RobertaModel, XLMRobertaConfig, XLMRobertaModel
        Config, Model = (RobertaConfig, RobertaModel) if family == "roberta" else (XLMRobertaConfig, XLMRobertaModel)
        c.update(type_vocab_size=1, layer_norm_eps=1e-5)
        # Positions start at pad_token_id + 1: the table holds max_position_embeddings - pad - 1 tokens.
        c["max_position_embeddings"] = c["max_position_embeddings"] + pad + 1
        cfg = Config(vocab_size=len(vocab), pad_token_id=pad, bos_token_id=bos, eos_token_id=eos, **c)
        return Model(cfg, add_pooling_layer=True), cfg
    if family == "mpnet":
        from transformers import MPNetConfig, MPNetModel
        c.pop("type_vocab_size")
        c["layer_norm_eps"] = 1e-5
        cfg = MPNetConfig(vocab_size=len(vocab), pad_token_id=1, bos_token_id=0, eos_token_id=2, **c)
        return MPNetModel(cfg, add_pooling_layer=True), cfg
    if family == "distilbert":
        from transformers import DistilBertConfig, DistilBertModel
        cfg = DistilBertConfig(vocab_size=len(vocab), dim=c["hidden_size"], n_layers=c["num_hidden_layers"],
                               n_heads=c["num_attention_heads"], hidden_dim=c["intermediate_size"],
                               max_position_embeddings=c["max_position_embeddings"], activation=c["hidden_act"], pad_token_id=0,
                               sinusoidal_pos_embds=c.get("sinusoidal_pos_embds", False))
        cfg.hidden_size = cfg.dim  # read by the generic code below
        return DistilBertModel(cfg), cfg
    raise ValueError(family)


def family_tokenizer(family, vocab, tok_kw):
    if family == "mpnet":
        from transformers import MPNetTokenizer
        return MPNetTokenizer(vocab=dict(vocab), **tok_kw)
    if family == "distilbert":
        from transformers import DistilBertTokenizer
        return DistilBertTokenizer(vocab=dict(vocab), unk_token="[UNK]", **tok_kw)
    return BertTokenizer(vocab=dict(vocab), unk_token="[UNK]", **tok_kw)


def build_variant(v, vocab, work):
    gen = torch.Generator().manual_seed(seed_of(v["name"]))
    vocab = family_vocab(v["family"], vocab, v["tokenizer"])
    bert, cfg = family_body(v["family"], vocab, v["config"])
    init_weights(bert, gen)
    hf = os.path.join(work, "hf")
    bert.save_pretrained(hf)
    if v["tokenizer"] in TOKENIZER_FOLDERS:
        for name in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(TOKENIZER_FOLDERS[v["tokenizer"]], name), os.path.join(hf, name))
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(hf)
    else:
        tok_kw = {"do_lower_case": True, **v["tok"]}
        tok = family_tokenizer(v["family"], vocab, tok_kw)
    assert len(tok) == len(vocab), (v["name"], len(tok), len(vocab))  # the tokenizer holds the full vocabulary
    tok.save_pretrained(hf)

    tr = Transformer(hf, max_seq_length=v["max_seq_length"] if v["max_seq_length"] else None,
                     do_lower_case=bool(v["st_lower"]))
    dim = cfg.hidden_size
    modules = [tr, Pooling(dim, pooling_mode=tuple(v["pooling"]) if isinstance(v["pooling"], list) else v["pooling"],
                           include_prompt=v["include_prompt"])]
    cur = modules[1].get_embedding_dimension()
    for dspec in v["dense"]:
        act = torch.nn.Tanh() if dspec["act"] == "tanh" else torch.nn.Identity()
        dense = Dense(cur, dspec["out"], bias=dspec["bias"], activation_function=act)
        init_weights(dense, gen)
        modules.append(dense)
        cur = dspec["out"]
    if v["normalize"]:
        modules.append(Normalize())
    st = SentenceTransformer(modules=modules, device="cpu", prompts=v["prompts"],
                             default_prompt_name=v["default_prompt_name"], truncate_dim=v["truncate_dim"])
    st.eval()
    return st, cfg


def post_edit(v, out, vocab, cfg, hf_dir):
    st_path = os.path.join(out, "model.safetensors")
    if v["layout"] == "legacy":
        # The form nearly every published checkpoint has (all-MiniLM-L6-v2: {"max_seq_length": 256, "do_lower_case": false})
        # with tokenizer_config.json's model_max_length at BERT's 512: sentence_bert_config's max_seq_length wins.
        sb = {"max_seq_length": v["max_seq_length"], "do_lower_case": bool(v["st_lower"])}
        if not v["max_seq_length"]:
            del sb["max_seq_length"]
        rewrite_json(os.path.join(out, "sentence_bert_config.json"), lambda d: sb)
        if os.path.exists(os.path.join(out, "tokenizer_config.json")):
            def tc(d):
                d["model_max_length"] = 512
                d.pop("is_local", None); d.pop("local_files_only", None)
            rewrite_json(os.path.join(out, "tokenizer_config.json"), tc)
    if v["st_lower"]:
        # sentence-transformers 6.2 writes its in-memory Lowercase into tokenizer.json on save; published folders
        # (saved by older versions) carry the tokenizer's own tokenizer.json, so restore that.
        shutil.copy(os.path.join(hf_dir, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    if v["pooling_legacy"]:
        rewrite_json(os.path.join(out, "1_Pooling", "config.json"), lambda d: legacy_pooling(d, v["pooling"]))
    if v["dtype"]:
        dt = getattr(torch, v["dtype"])
        edit_safetensors(st_path, lambda t: {k: (x.to(dt) if x.is_floating_point() else x) for k, x in t.items()})
        rewrite_json(os.path.join(out, "config.json"), lambda d: d.update(dtype=v["dtype"]))
    for e in v["edits"]:
        if e == "bert_prefix":
            g = torch.Generator().manual_seed(seed_of(v["name"] + "/mlm"))
            h, n = cfg.hidden_size, cfg.vocab_size
            def f(t):
                t = {"bert." + k: x for k, x in t.items()}
                t["cls.predictions.bias"] = 0.1 * torch.randn(n, generator=g)
                t["cls.predictions.transform.dense.weight"] = 0.2 * torch.randn(h, h, generator=g)
                t["cls.predictions.transform.dense.bias"] = 0.1 * torch.randn(h, generator=g)
                t["cls.predictions.transform.LayerNorm.weight"] = torch.ones(h)
                t["cls.predictions.transform.LayerNorm.bias"] = torch.zeros(h)
                return t
            edit_safetensors(st_path, f)
            rewrite_json(os.path.join(out, "config.json"), lambda d: d.update(architectures=["BertForMaskedLM"]))
        elif e == "extra_buffers":
            mp = cfg.max_position_embeddings
            def f(t):
                t["embeddings.position_ids"] = torch.arange(mp, dtype=torch.int64).unsqueeze(0)
                t["embeddings.token_type_ids"] = torch.zeros(1, mp, dtype=torch.int64)
                return t
            edit_safetensors(st_path, f)
        elif e == "no_pooler":
            edit_safetensors(st_path, lambda t: {k: x for k, x in t.items() if not k.startswith("pooler.")})
        elif e == "model_max_length_64":
            rewrite_json(os.path.join(out, "tokenizer_config.json"), lambda d: d.update(model_max_length=64))
        elif e == "drop_vocab_txt":
            os.remove(os.path.join(out, "vocab.txt"))
        elif e == "drop_tokenizer_json":
            os.remove(os.path.join(out, "tokenizer.json"))
        elif e == "drop_tokenizer_config":
            os.remove(os.path.join(out, "tokenizer_config.json"))
        elif e == "json_lowercase_true":
            rewrite_json(os.path.join(out, "tokenizer.json"), lambda d: d["normalizer"].update(lowercase=True))
        elif e == "generic_tokenizer_class":
            rewrite_json(os.path.join(out, "tokenizer_config.json"),
                         lambda d: d.update(tokenizer_class="PreTrainedTokenizerFast", do_lower_case=True))
        elif e == "relative_key":
            g = torch.Generator().manual_seed(seed_of(v["name"] + "/rel"))
            hd = cfg.hidden_size // cfg.num_attention_heads
            def f(t):
                for i in range(cfg.num_hidden_layers):
                    t[f"encoder.layer.{i}.attention.self.distance_embedding.weight"] = \
                        0.5 * torch.randn(2 * cfg.max_position_embeddings - 1, hd, generator=g)
                return t
            edit_safetensors(st_path, f)
            rewrite_json(os.path.join(out, "config.json"), lambda d: d.update(position_embedding_type="relative_key"))
        elif e == "family_prefix":
            # The ForMaskedLM form: every key under the family's prefix, plus an LM head.
            prefix = {"distilbert": "distilbert.", "xlm-roberta": "roberta."}[v["family"]]
            arch = {"distilbert": "DistilBertForMaskedLM", "xlm-roberta": "XLMRobertaForMaskedLM"}[v["family"]]
            g = torch.Generator().manual_seed(seed_of(v["name"] + "/mlm"))
            h, n = cfg.hidden_size, len(vocab)
            def f(t):
                t = {prefix + k: x for k, x in t.items()}
                t["lm_head.dense.weight" if prefix == "roberta." else "vocab_transform.weight"] = 0.2 * torch.randn(h, h, generator=g)
                t["lm_head.bias" if prefix == "roberta." else "vocab_projector.bias"] = 0.1 * torch.randn(n, generator=g)
                return t
            edit_safetensors(st_path, f)
            rewrite_json(os.path.join(out, "config.json"), lambda d: d.update(architectures=[arch]))
        elif e == "mpnet_unk_normalized":
            # all-mpnet-base-v2's tokenizer.json lists <unk> (id 3) as a normalized added token:
            # '<UNK>' typed is lowercased into it, while '[UNK]' (the WordPiece unknown) is id 104.
            def f(d):
                d["added_tokens"].append({"id": MPNET_SPECIALS.index("<unk>"), "content": "<unk>", "single_word": False,
                                          "lstrip": False, "rstrip": False, "normalized": True, "special": True})
                d["added_tokens"].sort(key=lambda t: t["id"])
            rewrite_json(os.path.join(out, "tokenizer.json"), f)
        elif e == "model_type_electra":
            rewrite_json(os.path.join(out, "config.json"), lambda d: d.update(model_type="electra", architectures=["ElectraModel"]))
        elif e == "architecture_nomic":
            rewrite_json(os.path.join(out, "config.json"), lambda d: d.update(architectures=["NomicBertModel"]))
        else:
            raise ValueError(e)


# ---------------------------------------------------------------------------------------------------------------
# Goldens

def encode_case(model, texts, case):
    kw = dict(batch_size=1, convert_to_numpy=True, normalize_embeddings=case.get("normalize_embeddings", False))
    for k in ("prompt_name", "prompt", "truncate_dim"):
        if k in case:
            kw[k] = case[k]
    rows = []
    with torch.no_grad():
        for t in texts:
            e = model.encode([t], **kw)[0]
            rows.append(np.asarray(e, dtype=np.float32))
    return rows


def token_rows(model, texts, case):
    # The same prompt resolution encode() performs (sentence_transformers/base/model.py _resolve_prompt).
    prompt = model._resolve_prompt(case.get("prompt"), case.get("prompt_name"))
    out = []
    for t in texts:
        f = model.preprocess([t], prompt=prompt)
        row = {"token_ids": f["input_ids"][0].tolist()}
        if "token_type_ids" in f:
            assert all(x == 0 for x in f["token_type_ids"][0].tolist())
        if "prompt_length" in f:
            row["prompt_length"] = int(f["prompt_length"])
        out.append((prompt, row))
    return out


def f32list(v):
    """Shortest decimal that round-trips to the same float32 (np.float32 repr), so the JSON stays small and exact."""
    return [float(repr(np.float32(x)).replace("np.float32(", "").rstrip(")")) for x in v]


def cos(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))


def load_from_disk(out, v):
    kw = {}
    if v["dtype"]:
        kw["model_kwargs"] = {"dtype": torch.float32}  # upcast the stored F16/BF16 weights exactly, compute in F32
    m = SentenceTransformer(out, device="cpu", **kw)
    m.eval()
    return m


def cases_of(v):
    return v["cases"] or [dict(name="default")]


def goldens_for(model, v, texts, in_memory=None, original_f32=None):
    cases = []
    for case in cases_of(v):
        toks = token_rows(model, texts, case)
        embs = encode_case(model, texts, case)
        ref = encode_case(in_memory, texts, case) if in_memory is not None else None
        orig = encode_case(original_f32, texts, case) if original_f32 is not None else None
        rows = []
        for i, t in enumerate(texts):
            prompt, tr = toks[i]
            r = {"text": t, **tr, "embedding": f32list(embs[i])}
            if orig is not None:
                r["embedding_f32_original"] = f32list(orig[i])
            rows.append(r)
            if ref is not None and v["same_as_in_memory"]:
                # Every on-disk edit (legacy pooling config, bert. prefix, extra tensors, ...) must load identically.
                assert np.array_equal(ref[i], embs[i]), (v["name"], case, t, cos(ref[i], embs[i]))
        options = {k: case.get(k) for k in ("prompt_name", "prompt", "truncate_dim")}
        options["normalize_embeddings"] = case.get("normalize_embeddings", False)
        options["resolved_prompt"] = toks[0][0]
        options["precision"] = "float32"
        cases.append({"name": case["name"], "options": options, "rows": rows})
    return cases


def distinctness(cases):
    """Largest cosine between the embeddings of two different non-empty texts (must be clearly below 0.99)."""
    worst = -1.0
    for c in cases:
        embs = [np.array(r["embedding"]) for r in c["rows"] if r["text"]]
        for i in range(len(embs)):
            for j in range(i + 1, len(embs)):
                worst = max(worst, cos(embs[i], embs[j]))
    return worst


def sensitivity(folder):
    """How far plausible implementation mistakes move the goldens of a mean-pooling variant (min cosine over texts).

    Each must land well below the 0.99999 parity threshold, or the fixtures could not catch it."""
    from transformers.activations import ACT2FN
    m = SentenceTransformer(folder, device="cpu")
    bert = m[0].auto_model
    with open(os.path.join(folder, "goldens.json"), encoding="utf-8") as f:
        rows = json.load(f)["cases"][0]["rows"]

    def run(ids, shift=0, tt=0):
        ids_t = torch.tensor([ids])
        pos = torch.arange(shift, shift + len(ids)).unsqueeze(0)
        out = bert(input_ids=ids_t, attention_mask=torch.ones_like(ids_t), token_type_ids=torch.full_like(ids_t, tt),
                   position_ids=pos).last_hidden_state[0]
        return out.mean(0).detach().numpy()

    def min_cos(**kw):
        return min(cos(run(r["token_ids"], **kw), np.array(r["embedding"])) for r in rows)

    res = {"reference_recomputed": min_cos()}
    res["positions_start_at_2_(roberta_style)"] = min_cos(shift=2)
    res["positions_start_at_1"] = min_cos(shift=1)
    res["token_type_id_1_instead_of_0"] = min_cos(tt=1)
    layers = bert.encoder.layer
    for name in ("gelu_new", "relu"):
        saved = [l.intermediate.intermediate_act_fn for l in layers]
        for l in layers:
            l.intermediate.intermediate_act_fn = ACT2FN[name]
        res[f"gelu_replaced_by_{name}"] = min_cos()
        for l, a in zip(layers, saved):
            l.intermediate.intermediate_act_fn = a
    lns = [mod for mod in bert.modules() if isinstance(mod, torch.nn.LayerNorm)]
    for ln in lns:
        ln.eps = 1e-5
    res["layer_norm_eps_1e-5_instead_of_1e-12"] = min_cos()
    for ln in lns:
        ln.eps = 1e-12
    # CLS instead of mean pooling; dropping the last layer
    res["cls_instead_of_mean"] = min(cos(bert(input_ids=torch.tensor([r["token_ids"]])).last_hidden_state[0, 0].detach().numpy(),
                                         np.array(r["embedding"])) for r in rows)
    def trunc_layers(r):
        hs = bert(input_ids=torch.tensor([r["token_ids"]]), output_hidden_states=True).hidden_states
        return hs[-2][0].mean(0).detach().numpy()
    res["last_layer_skipped"] = min(cos(trunc_layers(r), np.array(r["embedding"])) for r in rows)
    return res


def generate():
    vocab = build_vocab()
    os.makedirs(FIXTURES, exist_ok=True)
    for entry in os.listdir(FIXTURES):  # README.md is hand-written documentation and stays
        path = os.path.join(FIXTURES, entry)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif entry == "manifest.json":
            os.remove(path)
    manifest = {"generator": GENERATOR, "versions": VERSIONS, "vocab_size": len(vocab),
                "specials": {t: vocab[t] for t in SPECIALS},
                "texts": TEXTS,
                "note": ("Each folder is a sentence-transformers model folder (SentenceTransformer.save(), "
                         "edited on disk where the variant says so) plus goldens.json. Goldens: each text embedded alone "
                         "(batch size 1), FP32 on CPU, by sentence-transformers loading the folder from disk."),
                "variants": []}
    report = []
    for v in VARIANTS:
        work = tempfile.mkdtemp()
        try:
            st, cfg = build_variant(v, vocab, work)
            out = os.path.join(FIXTURES, v["name"])
            st.save(out, create_model_card=False)
            if v["tokenizer"] == "wordpiece" and not os.path.exists(os.path.join(out, "vocab.txt")):
                # transformers 5 saves only tokenizer.json
                write_vocab_txt(os.path.join(out, "vocab.txt"), family_vocab(v["family"], vocab))
            post_edit(v, out, vocab, cfg, os.path.join(work, "hf"))
            entry = {"name": v["name"], "exercises": v["exercises"]}
            if v["refused"]:
                entry["expected_refusal"] = v["refused"]
                manifest["variants"].append(entry)
                report.append((v["name"], "refused", None))
                continue
            texts = TEXTS + v["texts_extra"]
            model = load_from_disk(out, v)
            want = v["expect_max_seq"] or v["max_seq_length"]
            assert model.max_seq_length == want, (v["name"], model.max_seq_length, want)
            original = None
            if v["dtype"]:
                original = st  # the unrounded F32 weights
                in_mem = None
            else:
                in_mem = st
            cases = goldens_for(model, v, texts, in_memory=in_mem, original_f32=original)
            worst = distinctness(cases)
            doc = {"generator": GENERATOR, "variant": v["name"], "exercises": v["exercises"], "versions": VERSIONS,
                   "max_seq_length": model.max_seq_length,
                   "embedding_dimension": len(cases[0]["rows"][0]["embedding"]),
                   "load": ({"model_kwargs": {"dtype": "float32"}} if v["dtype"] else {}),
                   "note": "each text embedded alone (batch size 1), FP32 on CPU; token_ids are what sentence-transformers feeds (prompt included)",
                   "max_cosine_between_distinct_texts": worst,
                   "cases": cases}
            if v["dtype"]:
                doc["f16_note"] = ("embedding = sentence-transformers' F32 forward of the stored " + v["dtype"] +
                                   " weights upcast to F32 (exact); embedding_f32_original = the same model before "
                                   "its weights were rounded to " + v["dtype"] + " (the issue's >= 0.9999 reference)")
                lo = min(cos(np.array(r["embedding"]), np.array(r["embedding_f32_original"]))
                         for c in cases for r in c["rows"])
                doc["min_cosine_rounded_vs_original"] = lo
            with open(os.path.join(out, "goldens.json"), "w", encoding="utf-8") as f:
                json.dump(doc, f, ensure_ascii=False, indent=0)
                f.write("\n")
            entry.update(embedding_dimension=doc["embedding_dimension"], max_seq_length=doc["max_seq_length"],
                         cases=[c["name"] for c in cases])
            manifest["variants"].append(entry)
            report.append((v["name"], doc["embedding_dimension"], worst))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    with torch.no_grad():
        manifest["sensitivity_pool_mean"] = {
            "what": "min over texts of cosine(golden, embedding computed with the named mistake) for pool_mean; the parity threshold is 0.99999",
            "results": sensitivity(os.path.join(FIXTURES, "pool_mean"))}
    # MPNet's relative-position buckets as PyTorch computes them (float32 log), for every distance
    # the fixtures reach and beyond: a bucket off by one at a boundary would shift the attention bias.
    from transformers.models.mpnet.modeling_mpnet import MPNetEncoder
    rel = torch.arange(-600, 601)
    manifest["mpnet_relative_position_buckets"] = {
        "what": "MPNetEncoder.relative_position_bucket(relative_position) (num_buckets 32, max_distance 128, what MPNetEncoder.forward uses whatever the config says) for relative_position -600..600",
        "first_relative_position": -600,
        "buckets": MPNetEncoder.relative_position_bucket(rel).tolist()}
    print(json.dumps(manifest["sensitivity_pool_mean"], indent=1))
    with open(os.path.join(FIXTURES, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2)
        f.write("\n")
    for name, dim, worst in report:
        print(f"{name:28s} dim={dim}  max cos(distinct texts)={worst}")


def verify():
    """Reload every folder from disk in a fresh process and re-embed: must equal goldens.json exactly."""
    with open(os.path.join(FIXTURES, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    byname = {v["name"]: v for v in VARIANTS}
    n = 0
    for entry in manifest["variants"]:
        v = byname[entry["name"]]
        out = os.path.join(FIXTURES, v["name"])
        if v["refused"]:
            continue
        with open(os.path.join(out, "goldens.json"), encoding="utf-8") as f:
            doc = json.load(f)
        model = load_from_disk(out, v)
        for case, gc in zip(cases_of(v), doc["cases"]):
            texts = [r["text"] for r in gc["rows"]]
            embs = encode_case(model, texts, case)
            toks = token_rows(model, texts, case)
            for r, e, (_, tr) in zip(gc["rows"], embs, toks):
                assert tr["token_ids"] == r["token_ids"], (v["name"], r["text"])
                assert np.array_equal(np.array(r["embedding"], dtype=np.float32), e), (v["name"], gc["name"], r["text"])
                n += 1
    print(f"verified {n} embeddings in {len(manifest['variants'])} variants: identical to goldens.json")


if __name__ == "__main__":
    verify() if "--verify" in sys.argv else generate()
