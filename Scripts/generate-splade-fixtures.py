#!/usr/bin/env python3
"""Tiny randomly initialised SPLADE checkpoints (sentence-transformers SparseEncoder folders) with goldens.

Usage:
    Scripts/python Scripts/generate-splade-fixtures.py            # (re)generate
    Scripts/python Scripts/generate-splade-fixtures.py --verify   # reload from disk, compare with the goldens

Writes Tests/SentenceEmbeddingsTests/SparseFixtures/<variant>/ (a complete folder as SparseEncoder.save() writes
it, edited on disk where the variant says so, plus goldens.json) and SparseFixtures/manifest.json.
The Swift tests never run Python; they read the committed folders.

The model is a BertForMaskedLM (BertModel + BertOnlyMLMHead) with the WordPiece vocabulary and the texts of
Scripts/generate-variant-fixtures.py, every weight drawn from a seeded torch.Generator with a std far above BERT's
0.02 (attention is not uniform, tokens and positions move the logits). The decoder bias is shifted negative so
that most vocabulary entries stay zero, as in a trained SPLADE model. Goldens are SparseEncoder.encode's
non-zero entries (indices ascending, float32 values), each text encoded alone, FP32 on CPU.
"""
import importlib.util, json, os, shutil, sys, tempfile
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import logging, warnings
warnings.filterwarnings("ignore")
import torch, transformers
from transformers import BertConfig, BertForMaskedLM, BertTokenizer
from sentence_transformers import SparseEncoder
from sentence_transformers.base.modules import Transformer
from sentence_transformers.sparse_encoder.modules import SpladePooling
transformers.logging.set_verbosity_error()
logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
torch.set_num_threads(1)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "SentenceEmbeddingsTests", "SparseFixtures")
GENERATOR = "Scripts/generate-splade-fixtures.py"

# One vocabulary, one corpus, one weight init for all fixtures: reuse the variant generator's.
_spec = importlib.util.spec_from_file_location("variants", os.path.join(ROOT, "Scripts", "generate-variant-fixtures.py"))
variants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(variants)
TEXTS, VERSIONS, BASE_CONFIG, MAX_SEQ = variants.TEXTS, variants.VERSIONS, variants.BASE_CONFIG, variants.MAX_SEQ

# The smallest non-zero value any golden may hold, and the smallest gap (relative) between the k-th and (k+1)-th
# values where top-k cuts: below these, float32 rounding in another implementation (logits off by ~1e-6) could
# flip an index. A variant whose weights give a closer call is redrawn with the next seed ("salt" in goldens.json).
MIN_VALUE = 1e-4
MIN_TOPK_GAP = 1e-4

VARIANTS = [
    dict(name="splade_tied_max", tied=True, pooling_strategy="max", activation="relu", max_active_dims=None,
         legacy_module_names=False, cases=[None, 5],
         exercises="BertForMaskedLM, decoder tied to the word embeddings (no cls.predictions.decoder.weight stored), "
                   "Transformer(transformer_task='fill-mask') + SpladePooling(max, relu); top-k 5 as an encode option"),
    dict(name="splade_untied_topk", tied=False, pooling_strategy="max", activation="relu", max_active_dims=6,
         legacy_module_names=True, cases=[None, 2],
         exercises="own cls.predictions.decoder.weight/bias (tie_word_embeddings false), modules.json with the 5.x names "
                   "sentence_transformers.sparse_encoder.models.MLMTransformer / SpladePooling, max_active_dims 6 in "
                   "config_sentence_transformers.json (the default top-k), 2 as an encode option"),
    dict(name="splade_sum_log1p", tied=True, pooling_strategy="sum", activation="log1p_relu", max_active_dims=None,
         legacy_module_names=False, cases=[None],
         exercises="SpladePooling(pooling_strategy sum, activation_function log1p_relu): log1p(log1p(relu(x))) summed over tokens"),
]


def build(v, vocab, work, salt):
    gen = torch.Generator().manual_seed(variants.seed_of(v["name"] + (f"/{salt}" if salt else "")))
    cfg = BertConfig(vocab_size=len(vocab), pad_token_id=0, tie_word_embeddings=v["tied"], **BASE_CONFIG)
    mlm = BertForMaskedLM(cfg)
    variants.init_weights(mlm, gen)
    with torch.no_grad():
        # Negative output bias: most logits below 0, so the vectors are sparse.
        bias = -2.5 + 0.5 * torch.randn(cfg.vocab_size, generator=gen)
        mlm.cls.predictions.bias.copy_(bias)
        if not v["tied"]:
            mlm.cls.predictions.decoder.bias.copy_(bias)
        # Logits of a few units (std ~2), as a trained MLM head gives, rather than the ~4.5 the
        # 0.8-std tied word embeddings would: rounding in float32 grows with the logits' size.
        if v["tied"]:
            mlm.cls.predictions.transform.LayerNorm.weight.mul_(0.5)
            mlm.cls.predictions.transform.LayerNorm.bias.mul_(0.5)
    assert (mlm.cls.predictions.decoder.weight.data_ptr() == mlm.bert.embeddings.word_embeddings.weight.data_ptr()) == v["tied"]
    hf = os.path.join(work, "hf")
    mlm.save_pretrained(hf)
    tok = BertTokenizer(vocab=dict(vocab), unk_token="[UNK]", do_lower_case=True)
    assert len(tok) == len(vocab), (len(tok), len(vocab))  # the tokenizer holds the full vocabulary
    tok.save_pretrained(hf)
    transformer = Transformer(hf, transformer_task="fill-mask", max_seq_length=MAX_SEQ)
    pooling = SpladePooling(pooling_strategy=v["pooling_strategy"], activation_function=v["activation"],
                            embedding_dimension=cfg.vocab_size)
    model = SparseEncoder(modules=[transformer, pooling], device="cpu", max_active_dims=v["max_active_dims"])
    model.eval()
    return model


def legacy_names(modules):
    for m in modules:
        if m["type"].endswith("Transformer"):
            m["type"] = "sentence_transformers.sparse_encoder.models.MLMTransformer"
        elif m["type"].endswith("SpladePooling"):
            m["type"] = "sentence_transformers.sparse_encoder.models.SpladePooling"
    return modules


def sparse_rows(model, k):
    rows = []
    for text in TEXTS:
        dense = model.encode([text], batch_size=1, convert_to_tensor=True, convert_to_sparse_tensor=False,
                             max_active_dims=k)[0]
        assert dense.dtype == torch.float32
        idx = torch.nonzero(dense).flatten()
        values = dense[idx]
        ids = model.tokenize([text])["input_ids"][0].tolist()
        rows.append({"text": text, "token_ids": ids, "indices": idx.tolist(),
                     "values": [float(x) for x in values.tolist()]})
    return rows


class CloseCall(Exception):
    pass


def margins(model, rows, k):
    """Checks that no value sits so close to 0 (or to the top-k cut) that rounding could move an index."""
    smallest = min((min(r["values"]) for r in rows if r["values"]), default=float("inf"))
    if not smallest > MIN_VALUE:
        raise CloseCall(f"a golden value {smallest} is too close to 0")
    gap = float("inf")
    effective = k if k is not None else model.max_active_dims
    if effective is not None:
        # encode(max_active_dims=None) falls back to the model's own max_active_dims: lift it to see the full vector.
        own, model.max_active_dims = model.max_active_dims, None
        for text in TEXTS:
            full = model.encode([text], batch_size=1, convert_to_tensor=True, convert_to_sparse_tensor=False,
                                max_active_dims=None)[0]
            top = torch.sort(full, descending=True).values
            if int((top > 0).sum()) > effective:
                kth, next_ = float(top[effective - 1]), float(top[effective])
                gap = min(gap, (kth - next_) / kth)
        model.max_active_dims = own
        if not gap > MIN_TOPK_GAP:
            raise CloseCall(f"the top-{effective} cut has relative gap {gap}")
    return smallest, gap


def reference_noise(model, rows, k):
    """How far sentence-transformers' own values move when the texts are encoded as one padded batch
    of 32 instead of alone: the float32 floor any other implementation is held against."""
    batched = model.encode([r["text"] for r in rows], batch_size=32, convert_to_tensor=True,
                           convert_to_sparse_tensor=False, max_active_dims=k)
    worst_abs, worst_rel = 0.0, 0.0
    for i, r in enumerate(rows):
        gold = torch.tensor(r["values"])
        if len(gold) == 0:
            continue
        diff = (batched[i][torch.tensor(r["indices"])] - gold).abs()
        worst_abs = max(worst_abs, float(diff.max()))
        big = gold >= 0.1
        if big.any():
            worst_rel = max(worst_rel, float((diff[big] / gold[big]).max()))
    return {"batch32_vs_alone_max_abs": worst_abs, "batch32_vs_alone_max_rel_values_ge_0.1": worst_rel}


def generate(verify=False):
    vocab = variants.build_vocab()
    manifest = {"generator": GENERATOR, "versions": VERSIONS, "vocab_size": len(vocab), "max_seq_length": MAX_SEQ,
                "note": "Each folder is a sentence-transformers SparseEncoder folder (SparseEncoder.save()) plus "
                        "goldens.json; never edit by hand, rerun the generator.",
                "variants": []}
    failures = 0
    for v in VARIANTS:
        folder = os.path.join(OUT, v["name"])
        for salt in range(0 if not verify else 1, 50):
            if not verify:
                with tempfile.TemporaryDirectory() as work:
                    model = build(v, vocab, work, salt)
                    if os.path.exists(folder):
                        shutil.rmtree(folder)
                    model.save(folder, create_model_card=False)
                if v["legacy_module_names"]:
                    variants.rewrite_json(os.path.join(folder, "modules.json"), legacy_names)
                for junk in ("README.md",):
                    p = os.path.join(folder, junk)
                    if os.path.exists(p):
                        os.remove(p)
            else:
                with open(os.path.join(folder, "goldens.json"), encoding="utf-8") as f:
                    salt = json.load(f)["salt"]
            # Goldens always come from the folder as saved (what the Swift side loads).
            model = SparseEncoder(folder, device="cpu")
            model.eval()
            assert model.max_active_dims == v["max_active_dims"], (model.max_active_dims, v["max_active_dims"])
            try:
                cases = []
                for k in v["cases"]:
                    rows = sparse_rows(model, k)
                    smallest, gap = margins(model, rows, k)
                    cases.append({"max_active_dims_option": k,
                                  "effective_max_active_dims": k if k is not None else v["max_active_dims"],
                                  "smallest_value": smallest, "smallest_topk_gap": gap if gap != float("inf") else None,
                                  "rows": rows})
                break
            except CloseCall as e:
                assert not verify, e
                print(f"{v['name']} salt {salt}: {e}; redrawing")
        else:
            raise SystemExit(f"{v['name']}: no seed without close calls")
        noise = reference_noise(model, cases[0]["rows"], v["max_active_dims"])
        goldens = {"variant": v["name"], "exercises": v["exercises"], "generator": GENERATOR, "versions": VERSIONS, "salt": salt,
                   "vocab_size": len(vocab), "max_seq_length": MAX_SEQ, "pooling_strategy": v["pooling_strategy"],
                   "activation_function": v["activation"], "max_active_dims": v["max_active_dims"],
                   "reference_noise": noise, "cases": cases}
        path = os.path.join(folder, "goldens.json")
        if verify:
            with open(path, encoding="utf-8") as f:
                old = json.load(f)
            same = old == json.loads(json.dumps(goldens))
            print(f"{v['name']}: {'ok' if same else 'DIFFERS'}")
            failures += not same
        else:
            with open(path, "w", encoding="utf-8") as f:
                json.dump(goldens, f, indent=1, ensure_ascii=False)
                f.write("\n")
            nnz = [len(r["indices"]) for c in cases for r in c["rows"]]
            print(f"{v['name']}: {len(cases)} cases, non-zeros per text {min(nnz)}..{max(nnz)} of {len(vocab)}")
        manifest["variants"].append({"name": v["name"], "exercises": v["exercises"]})
    if not verify:
        with open(os.path.join(OUT, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2, ensure_ascii=False)
            f.write("\n")
    return failures


if __name__ == "__main__":
    sys.exit(1 if generate(verify="--verify" in sys.argv) else 0)
