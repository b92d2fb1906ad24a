#!/usr/bin/env python3
"""Opt-in parity check of a real checkpoint against sentence-transformers.

Usage:
    Scripts/python Scripts/check-real-model.py all-mpnet-base-v2 [--texts 300] [--batch-size 32]

Fetches Models/NAME (Scripts/fetch-model, SHA-256 checked), builds a varied text set (STS-B test
sentences, the tokenizer's Unicode edge corpus, passages longer than the model's max_seq_length),
embeds it with the release `encoder run` and with sentence-transformers (FP32, CPU), and prints the
token-id agreement and the cosine between the two for every text (minimum, median). Exits 1 when a
cosine is below 0.99999 or a text's token ids differ. Needs the project's Python with torch and
sentence-transformers (Scripts/python-env.sh); the test suite never runs this, the big checkpoints
stay out of it.
"""
import argparse, csv, json, os, subprocess, sys, tempfile
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import logging, warnings
warnings.filterwarnings("ignore")
import numpy as np, torch
from sentence_transformers import SentenceTransformer
logging.getLogger("sentence_transformers").setLevel(logging.ERROR)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THRESHOLD = 0.99999


def texts(count):
    """About `count` varied texts: half STS-B sentences, a third edge-corpus lines, the rest long passages."""
    sts = []
    with open(os.path.join(ROOT, "Tests", "Data", "stsb-test.tsv"), encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            sts += [c for c in row if len(c) > 20 and not c.replace(".", "").isdigit()]
    sts = list(dict.fromkeys(sts))
    edge = []
    with open(os.path.join(ROOT, "Tests", "TokenizationTests", "Goldens", "corpus-cased.jsonl"), encoding="utf-8") as f:
        for line in f:
            edge.append(json.loads(line)["text"])
    n_sts, n_edge = count // 2, count // 3
    n_long = max(1, count - n_sts - n_edge)
    picked = sts[:: max(1, len(sts) // n_sts)][:n_sts]
    picked += edge[:: max(1, len(edge) // n_edge)][:n_edge]
    for k in range(n_long):  # 40 to 600 words: most beyond max_seq_length, so truncation is checked too
        words = " ".join(sts[(k * 7 + j) % len(sts)] for j in range(3 + k * 3))
        picked.append(words)
    return picked


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--texts", type=int, default=300)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    folder = os.path.join(ROOT, "Models", args.name)
    subprocess.run([os.path.join(ROOT, "Scripts", "fetch-model"), args.name], check=True)
    subprocess.run(["swift", "build", "--package-path", ROOT, "-c", "release", "--product", "encoder"], check=True)
    encoder = os.path.join(ROOT, ".build", "release", "encoder")
    items = texts(args.texts)
    torch.set_num_threads(os.cpu_count() or 1)
    model = SentenceTransformer(folder, device="cpu")
    model.eval()

    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "texts.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for t in items:
                f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
        out = os.path.join(tmp, "ours.npy")
        subprocess.run([encoder, "run", folder, "--input", src, "-o", out, "--batch-size", str(args.batch_size)], check=True)
        ours = np.load(out)
        ids_file = os.path.join(tmp, "ids.jsonl")
        with open(ids_file, "w") as f:
            subprocess.run([encoder, "tokenize", folder, "--input", src, "--max-length", str(model.max_seq_length)],
                           check=True, stdout=f)
        with open(ids_file, encoding="utf-8") as f:
            our_ids = [json.loads(line) for line in f]
    with torch.no_grad():
        ref = model.encode(items, batch_size=args.batch_size, convert_to_numpy=True)
    ref_ids = [model.preprocess([t])["input_ids"][0].tolist() for t in items]

    cos = np.sum(ours * ref, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1) + 1e-30)
    id_mismatch = [i for i in range(len(items)) if our_ids[i] != ref_ids[i]]
    worst = int(np.argmin(cos))
    report = {"model": args.name, "texts": len(items), "max_seq_length": model.max_seq_length,
              "tokens": int(sum(len(x) for x in ref_ids)),
              "token_ids_identical": len(items) - len(id_mismatch), "cosine_min": float(cos[worst]),
              "cosine_median": float(np.median(cos)), "below_threshold": int(np.sum(cos < THRESHOLD)),
              "worst_text": items[worst][:80]}
    if id_mismatch:
        report["first_id_mismatch"] = {"text": items[id_mismatch[0]][:80], "ours": our_ids[id_mismatch[0]][:40],
                                       "sentence_transformers": ref_ids[id_mismatch[0]][:40]}
    print(json.dumps(report, ensure_ascii=False, indent=1))
    sys.exit(0 if not id_mismatch and report["below_threshold"] == 0 else 1)


if __name__ == "__main__":
    main()
