#!/usr/bin/env python3
"""Tiny randomly initialised cross-encoders (sequence-classification checkpoints) with goldens from
sentence-transformers' CrossEncoder.predict.

Usage:
    Scripts/python Scripts/generate-cross-encoder-fixtures.py            # (re)generate
    Scripts/python Scripts/generate-cross-encoder-fixtures.py --verify   # reload from disk, compare

Writes Tests/SentenceEmbeddingsTests/CrossEncoderFixtures/<name>/ (a model folder as CrossEncoder.save()
writes it, or edited into the older layouts published cross-encoders have, plus goldens.json) and
CrossEncoderFixtures/manifest.json. The vocabularies, tokenizers and weight initialisation are those of
Scripts/generate-variant-fixtures.py (imported, so one recipe makes both sets): std well above 0.1, so
attention is not uniform and every token, position and token type moves the score.
The Swift tests never run Python; they read the committed folders.
"""
import importlib.util, json, os, shutil, sys, tempfile
import numpy as np, torch

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("variants", os.path.join(HERE, "generate-variant-fixtures.py"))
V = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(V)  # torch threads 1, offline, seeded helpers

from sentence_transformers import CrossEncoder

FIXTURES = os.path.join(V.ROOT, "Tests", "SentenceEmbeddingsTests", "CrossEncoderFixtures")
GENERATOR = "Scripts/generate-cross-encoder-fixtures.py"
MAX_LENGTH = 48

LONG = " ".join(V.LONG_WORDS * 3)
PAIRS = [
    ("A man is playing a guitar.", "A man plays the guitar on stage."),
    ("A man is playing a guitar.", "A woman slices an onion."),
    ("what is the capital of France?", "Paris is the capital and largest city of France."),
    ("what is the capital of France?", "The weather is lovely today."),
    ("", "an empty query"),                                   # [CLS] [SEP] doc [SEP]
    ("an empty document", ""),
    ("", ""),
    ("Café au lait", "Cafe\u0301 cre\u0300me bru\u0302le\u0301e, naïve résumé"),
    ("東京は日本の首都です。", "北京欢迎你 and 東京"),
    ("Fill the [MASK]", "then [SEP] here, not [mask]"),       # special tokens typed in the texts
    ("short query", LONG),                                    # longest-first truncation cuts the document
    (LONG, "short document"),                                 # ... or the query
    (LONG, LONG + " again"),                                  # both, one token at a time from the longer
]

# A few pairs in XLM-R/RoBERTa vocabularies' words, for the BPE and Unigram tokenizers.
PAIRS_EXTRA = {"bpe": [("I'm sure they'll say it's fine", "emoji 👩‍👩‍👧 and ｆｕｌｌｗｉｄｔｈ, Ġ and Ċ typed")]}


def X(name, exercises, **kw):
    d = dict(name=name, exercises=exercises, family="bert", tokenizer="wordpiece", num_labels=1, activation=None,
             layout="st63", config={})
    d.update(kw)
    return d


IDENTITY = "torch.nn.modules.linear.Identity"
SIGMOID = "torch.nn.modules.activation.Sigmoid"
TANH = "torch.nn.modules.activation.Tanh"
FIXTURE_LIST = [
    X("bert_one_label", "BertForSequenceClassification, num_labels 1, no activation configured: Sigmoid by default "
      "(CrossEncoder.save writes it into config_sentence_transformers.json, removed here so the default applies)",
      layout="st63_no_activation"),
    X("bert_one_label_identity", "num_labels 1 with activation_fn Identity in config_sentence_transformers.json (raw logits, as ms-marco rerankers are used)",
      activation=IDENTITY),
    X("bert_three_labels", "num_labels 3 without a configured activation: Identity by default, one score per label",
      num_labels=3, layout="st63_no_activation"),
    X("bert_three_labels_sigmoid", "num_labels 3 with activation_fn Sigmoid configured: applied to each label",
      num_labels=3, activation=SIGMOID),
    X("bert_legacy_v4", "the sentence-transformers 4/5 layout of published cross-encoders (cross-encoder/ms-marco-MiniLM-L6-v2): "
      "a transformers folder with no modules.json, activation_fn Tanh under config.json's sentence_transformers key",
      activation=TANH, layout="legacy_v4"),
    X("bert_legacy_v3", "the sentence-transformers < 4 layout: no modules.json, config.json sbert_ce_default_activation_function Identity",
      activation=IDENTITY, layout="legacy_v3"),
    X("roberta_bpe_one_label", "RobertaForSequenceClassification (classifier.dense + tanh + classifier.out_proj on <s>, no pooler) "
      "with RoBERTa's byte-level BPE pair template <s> a </s></s> b </s>, Sigmoid by default",
      family="roberta", tokenizer="bpe", layout="st63_no_activation"),
    X("xlm_roberta_unigram_two_labels", "XLMRobertaForSequenceClassification with a SentencePiece Unigram tokenizer (the bge-reranker shape), "
      "2 labels, Identity by default", family="xlm-roberta", tokenizer="unigram", num_labels=2, layout="st63_no_activation"),
]


def classifier_body(f, vocab):
    """(model, config) of a *ForSequenceClassification of the fixture's family, sized like the variant fixtures."""
    c = {**V.BASE_CONFIG, **f["config"]}
    if f["family"] == "bert":
        from transformers import BertConfig, BertForSequenceClassification
        cfg = BertConfig(vocab_size=len(vocab), pad_token_id=vocab["[PAD]"], num_labels=f["num_labels"], **c)
        return BertForSequenceClassification(cfg), cfg
    from transformers import (RobertaConfig, RobertaForSequenceClassification, XLMRobertaConfig,
                              XLMRobertaForSequenceClassification)
    Config, Model = ((RobertaConfig, RobertaForSequenceClassification) if f["family"] == "roberta"
                     else (XLMRobertaConfig, XLMRobertaForSequenceClassification))
    pad, bos, eos = vocab["<pad>"], vocab["<s>"], vocab["</s>"]
    c.update(type_vocab_size=1, layer_norm_eps=1e-5)
    c["max_position_embeddings"] = c["max_position_embeddings"] + pad + 1
    cfg = Config(vocab_size=len(vocab), pad_token_id=pad, bos_token_id=bos, eos_token_id=eos, num_labels=f["num_labels"], **c)
    return Model(cfg), cfg


def build(f, vocab, work):
    gen = torch.Generator().manual_seed(V.seed_of("cross-encoder/" + f["name"]))
    vocab = V.family_vocab(f["family"], vocab, f["tokenizer"])
    model, cfg = classifier_body(f, vocab)
    V.init_weights(model, gen)
    hf = os.path.join(work, "hf")
    model.save_pretrained(hf)
    if f["tokenizer"] in V.TOKENIZER_FOLDERS:
        for name in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(V.TOKENIZER_FOLDERS[f["tokenizer"]], name), os.path.join(hf, name))
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(hf)
    else:
        tok = V.family_tokenizer(f["family"], vocab, {"do_lower_case": True})
    assert len(tok) == len(vocab), (f["name"], len(tok), len(vocab))  # the tokenizer holds the full vocabulary
    tok.save_pretrained(hf)
    activation = None
    if f["activation"]:
        from sentence_transformers.util import import_from_string
        activation = import_from_string(f["activation"])()
    ce = CrossEncoder(hf, max_length=MAX_LENGTH, activation_fn=activation, device="cpu")
    ce.eval()
    return ce, cfg, vocab


def post_edit(f, out):
    """Rewrites the saved folder into the layout the fixture exercises."""
    cst = os.path.join(out, "config_sentence_transformers.json")
    if f["layout"] == "st63":
        return
    if f["layout"] == "st63_no_activation":
        V.rewrite_json(cst, lambda d: d.pop("activation_fn") and None)
        return
    # Older layouts: a plain transformers folder (config.json, weights, tokenizer files).
    for name in ("modules.json", "sentence_bert_config.json", "config_sentence_transformers.json", "README.md"):
        p = os.path.join(out, name)
        if os.path.exists(p):
            os.remove(p)
    if f["layout"] == "legacy_v4":
        V.rewrite_json(os.path.join(out, "config.json"),
                       lambda d: d.update(sentence_transformers={"activation_fn": f["activation"], "version": "4.0.1"}))
    elif f["layout"] == "legacy_v3":
        V.rewrite_json(os.path.join(out, "config.json"), lambda d: d.update(sbert_ce_default_activation_function=f["activation"]))
    else:
        raise ValueError(f["layout"])


def pairs_of(f):
    return PAIRS + PAIRS_EXTRA.get(f["tokenizer"], [])


def predict_alone(ce, pairs):
    """CrossEncoder.predict, one pair at a time (batch size 1: no padding), FP32 on CPU."""
    with torch.no_grad():
        return [np.asarray(ce.predict([p], batch_size=1, convert_to_numpy=True)[0], dtype=np.float32).reshape(-1) for p in pairs]


def goldens(ce, f, pairs):
    rows = []
    scores = predict_alone(ce, pairs)
    with torch.no_grad():
        batched = np.asarray(ce.predict(pairs, batch_size=32, convert_to_numpy=True), dtype=np.float32).reshape(len(pairs), -1)
        logits = [np.asarray(ce.predict([p], batch_size=1, activation_fn=torch.nn.Identity(), convert_to_numpy=True)[0],
                             dtype=np.float32).reshape(-1) for p in pairs]
    for (q, d), s, l in zip(pairs, scores, logits):
        feats = ce.preprocess([(q, d)])
        row = {"query": q, "document": d, "token_ids": feats["input_ids"][0].tolist(),
               "token_type_ids": feats["token_type_ids"][0].tolist() if "token_type_ids" in feats else None,
               "scores": V.f32list(s), "logits": V.f32list(l)}
        rows.append(row)
    spread = float(np.max(np.stack(scores)) - np.min(np.stack(scores)))
    return rows, float(np.max(np.abs(np.stack(scores) - batched))), spread


def generate():
    vocab = V.build_vocab()
    if os.path.isdir(FIXTURES):
        shutil.rmtree(FIXTURES)
    os.makedirs(FIXTURES)
    manifest = {"generator": GENERATOR, "versions": V.VERSIONS, "max_length": MAX_LENGTH, "fixtures": [],
                "note": ("Each folder is a cross-encoder model folder (CrossEncoder.save(), rewritten into an older layout "
                         "where the fixture says so) plus goldens.json: CrossEncoder.predict of each pair alone (batch size 1), "
                         "FP32 on CPU, by sentence-transformers loading the folder from disk.")}
    for f in FIXTURE_LIST:
        work = tempfile.mkdtemp()
        try:
            ce, cfg, fvocab = build(f, vocab, work)
            out = os.path.join(FIXTURES, f["name"])
            ce.save(out, create_model_card=False)
            post_edit(f, out)
            loaded = CrossEncoder(out, device="cpu")
            loaded.eval()
            assert loaded.max_seq_length == MAX_LENGTH, (f["name"], loaded.max_seq_length)
            pairs = pairs_of(f)
            rows, batched_diff, spread = goldens(loaded, f, pairs)
            # The folder on disk must score as the model built in memory (the layout edits lose nothing).
            for r, s in zip(rows, predict_alone(ce, pairs)):
                assert np.array_equal(np.array(r["scores"], dtype=np.float32), s), (f["name"], r["query"][:20])
            doc = {"generator": GENERATOR, "fixture": f["name"], "exercises": f["exercises"], "versions": V.VERSIONS,
                   "max_seq_length": loaded.max_seq_length, "num_labels": loaded.num_labels,
                   "activation": type(loaded.activation_fn).__name__,
                   "max_abs_difference_batched_predict": batched_diff, "score_spread": spread,
                   "note": "scores = CrossEncoder.predict([(query, document)], batch_size=1); logits = the same with activation_fn Identity; "
                           "token_ids/token_type_ids = CrossEncoder.preprocess (the pair template, truncated longest-first)",
                   "rows": rows}
            with open(os.path.join(out, "goldens.json"), "w", encoding="utf-8") as fh:
                json.dump(doc, fh, ensure_ascii=False, indent=0)
                fh.write("\n")
            manifest["fixtures"].append({"name": f["name"], "exercises": f["exercises"], "num_labels": loaded.num_labels,
                                         "activation": doc["activation"]})
            print(f"{f['name']:34s} labels={loaded.num_labels} act={doc['activation']:8s} spread={spread:.3f} "
                  f"batched-vs-alone={batched_diff:.2e} tokens={[len(r['token_ids']) for r in rows]}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(FIXTURES, "manifest.json"), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2)
        fh.write("\n")


def verify():
    with open(os.path.join(FIXTURES, "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    n = 0
    for entry in manifest["fixtures"]:
        out = os.path.join(FIXTURES, entry["name"])
        with open(os.path.join(out, "goldens.json"), encoding="utf-8") as fh:
            doc = json.load(fh)
        ce = CrossEncoder(out, device="cpu")
        ce.eval()
        pairs = [(r["query"], r["document"]) for r in doc["rows"]]
        for r, s in zip(doc["rows"], predict_alone(ce, pairs)):
            assert np.array_equal(np.array(r["scores"], dtype=np.float32), s), (entry["name"], r["query"][:20])
            assert ce.preprocess([(r["query"], r["document"])])["input_ids"][0].tolist() == r["token_ids"]
            n += 1
    print(f"verified {n} pairs in {len(manifest['fixtures'])} cross-encoders: identical to goldens.json")


if __name__ == "__main__":
    verify() if "--verify" in sys.argv else generate()
