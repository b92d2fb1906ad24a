#!/usr/bin/env python3
"""A compact reference for the STS benchmark parity tests, from sentence-transformers (PyTorch, FP32, CPU).

Usage: Scripts/python Scripts/generate-sts-goldens.py [MODEL_DIR] [OUT_DIR]
(Scripts/python is $ENCODER_PYTHON or the repository's .venv; needs torch, sentence-transformers, scipy.)

Embeds the 2,758 sentences of Tests/Data/stsb-test.tsv (column 6 of every line, then column 7)
and writes, instead of the whole 2,758 x 384 matrix (4 MB):
  stsb-test.all-MiniLM-L6-v2.reference.json  versions and hashes; the 1,379 pair cosines; Spearman and
      Pearson against the gold scores; each sentence's token count; each embedding's projection on
      3 fixed random unit directions (given in the file), so every vector is still checked;
      the row indices of the sampled embeddings
  stsb-test.all-MiniLM-L6-v2.sample.npy      the full embeddings of 64 sampled rows (float32, 64 x 384)
The tests never run Python; they read these files.
"""
import hashlib, json, os, platform, sys
os.environ["HF_HUB_OFFLINE"] = "1"
import numpy as np, scipy, torch, transformers, tokenizers, sentence_transformers
from scipy.stats import pearsonr, spearmanr
from sentence_transformers import SentenceTransformer

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Models", "all-MiniLM-L6-v2")
out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "Tests", "SentenceEmbeddingsTests", "Goldens")
tsv = os.path.join(root, "Tests", "Data", "stsb-test.tsv")
model_name = os.path.basename(os.path.normpath(model_dir))

def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()

first, second, gold = [], [], []
with open(tsv, encoding="utf-8") as f:
    for line in f.read().split("\n"):
        if not line:
            continue
        fields = line.split("\t")
        gold.append(float(fields[4]))
        first.append(fields[5])
        second.append(fields[6])
sentences = first + second
n = len(gold)

model = SentenceTransformer(model_dir, device="cpu")
model.eval()
with torch.no_grad():
    # encode's defaults (batch 32, length-sorted batches), as a user of sentence-transformers embeds a corpus.
    embeddings = model.encode(sentences, convert_to_numpy=True).astype(np.float32)
# Tokens per sentence as the model sees them ([CLS] and [SEP] included, after truncation).
token_counts = [int(c) for c in model.tokenize(sentences)["attention_mask"].sum(dim=1).tolist()]

e = embeddings.astype(np.float64)
def cosine(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
pair_cosines = [cosine(e[i], e[n + i]) for i in range(n)]

# Fixed directions, so that each of the 2,758 embeddings is compared on 3 numbers without storing it.
rng = np.random.default_rng(20261203)
directions = rng.standard_normal((3, embeddings.shape[1]))
directions /= np.linalg.norm(directions, axis=1, keepdims=True)
projections = (e @ directions.T).tolist()

# The 16 longest sentences (most tokens, truncation included) and 48 spread evenly over the rest.
by_length = sorted(range(2 * n), key=lambda i: (-token_counts[i], i))
longest = by_length[:16]
rest = [i for i in range(2 * n) if i not in set(longest)]
sample = sorted(longest + [rest[round(k * (len(rest) - 1) / 47)] for k in range(48)])

sample_file = f"stsb-test.{model_name}.sample.npy"
reference_file = f"stsb-test.{model_name}.reference.json"
os.makedirs(out_dir, exist_ok=True)
np.save(os.path.join(out_dir, sample_file), embeddings[sample])

doc = {
    "generator": "Scripts/generate-sts-goldens.py",
    "model": model_name,
    "model_safetensors_sha256": sha256(os.path.join(model_dir, "model.safetensors")),
    "input": "Tests/Data/stsb-test.tsv",
    "input_sha256": sha256(tsv),
    "versions": {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                 "torch": torch.__version__, "transformers": transformers.__version__,
                 "tokenizers": tokenizers.__version__, "sentence_transformers": sentence_transformers.__version__},
    "note": "SentenceTransformer.encode defaults (batch 32), FP32 on CPU; rows are column 6 of each line, then column 7; "
            "cosines, correlations and projections computed in float64 from the float32 embeddings",
    "pairs": n,
    "spearman": float(spearmanr(pair_cosines, gold).statistic),
    "pearson": float(pearsonr(pair_cosines, gold).statistic),
    "pair_cosines": pair_cosines,
    "token_counts": token_counts,
    "directions": directions.tolist(),
    "projections": projections,
    "sample_rows": sample,
    "sample_embeddings": sample_file,
}
with open(os.path.join(out_dir, reference_file), "w", encoding="utf-8") as f:
    json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
print(f"wrote {reference_file} ({n} pairs, Spearman {doc['spearman']:.6f}) and {sample_file} ({len(sample)} rows) to {out_dir}")
