#!/usr/bin/env python3
"""How precisely can a SPLADE value be known in float32? The measurement behind SparseParityTests' bounds.

Usage:
    swift build -c release --product encoder     # for the "ours" rows (any release build of it will do; without it, PyTorch only)
    Scripts/python Scripts/splade-precision.py [--encoder .build/release/encoder]

For every fixture of Tests/SentenceEmbeddingsTests/SparseFixtures (with max_active_dims lifted, so every non-zero
value is compared, not only the top-k), the texts of its goldens are encoded by sentence-transformers'
SparseEncoder.encode in several float32 ways and once with the model in float64, the truth:

    fp32            alone (batch_size 1), torch.set_num_threads(1): how the goldens are made
    fp32 batch      all texts as one padded batch
    fp32 2 threads  alone, torch.set_num_threads(2)
    goldens         the committed goldens.json (fp32 alone, 1 thread, on the generator's machine)
    fp64            model.double(), alone: the truth
    ours            `encoder run` on the same folder and texts (default options)
    head LN eps     fp32 with cls.predictions.transform.LayerNorm's eps 1e-5 instead of 1e-12 } a real discrepancy,
    gelu tanh       fp32 with every GELU the tanh approximation                                } for scale

and prints, per bucket of the true value, the largest |a - b| / truth of each pair, the largest |a - b|, and how
many indices are non-zero in one and zero in the other (a logit 0+ in one run and 0- in the other).
A value is log1p(relu(logit)) pooled over tokens; for a small value the logit is the sum of a 32-wide dot product
of terms of a few units each, so float32 leaves it an absolute error of ~1e-7..1e-5 whatever its size: the
relative error of a value grows as the value shrinks, in PyTorch against itself as much as in ours.
"""
import argparse, json, os, shutil, subprocess, tempfile
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import logging, warnings
warnings.filterwarnings("ignore")
import torch, transformers
from transformers.activations import ACT2FN
from sentence_transformers import SparseEncoder
transformers.logging.set_verbosity_error()
logging.getLogger("sentence_transformers").setLevel(logging.ERROR)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "SentenceEmbeddingsTests", "SparseFixtures")
VARIANTS = ["splade_tied_max", "splade_untied_topk", "splade_sum_log1p"]
BUCKETS = [(">=0.1", 0.1, float("inf")), ("1e-2..0.1", 1e-2, 0.1), ("1e-3..1e-2", 1e-3, 1e-2), ("<1e-3", 0.0, 1e-3)]
PAIRS = [("fp32 vs fp64", "fp32", "fp64"), ("batch vs alone", "batch", "fp32"), ("2 threads vs 1", "threads2", "fp32"),
         ("goldens vs fp32 here", "goldens", "fp32"), ("ours vs fp32", "ours", "fp32"), ("ours vs fp64", "ours", "fp64"),
         ("ours vs goldens", "ours", "goldens"),
         # What a real discrepancy (not rounding) looks like: the fp32 model with one detail changed.
         ("head LN eps 1e-5", "eps", "fp32"), ("gelu tanh", "tanh", "fp32")]


def full_folder(name, work):
    """A copy of the fixture with max_active_dims null: the whole vector, not only the top-k."""
    folder = os.path.join(work, name)
    shutil.copytree(os.path.join(FIXTURES, name), folder, ignore=shutil.ignore_patterns("goldens.json"))
    path = os.path.join(folder, "config_sentence_transformers.json")
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    config["max_active_dims"] = None
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    return folder


def dense_of(indices, values, v):
    d = torch.zeros(v, dtype=torch.float64)
    d[torch.tensor(indices, dtype=torch.long)] = torch.tensor(values, dtype=torch.float64)
    return d


def reference_runs(folder, texts):
    """name -> [N x V] float64 tensor of SparseEncoder.encode's dense vectors."""
    model = SparseEncoder(folder, device="cpu")
    model.eval()
    assert model.max_active_dims is None

    def enc(batch_size, threads, dtype=torch.float32):
        torch.set_num_threads(threads)
        out = model.encode(texts, batch_size=batch_size, convert_to_tensor=True, convert_to_sparse_tensor=False,
                           max_active_dims=None)
        assert out.dtype == dtype, out.dtype
        return out.to(torch.float64)

    runs = {"fp32": enc(1, 1), "batch": enc(len(texts), 1), "threads2": enc(1, 2)}
    head = model[0].auto_model.cls.predictions.transform
    head.LayerNorm.eps, eps = 1e-5, head.LayerNorm.eps
    runs["eps"] = enc(1, 1)
    head.LayerNorm.eps = eps
    acts = [(m, a) for m in model.modules() for a in ("intermediate_act_fn", "transform_act_fn") if hasattr(m, a)]
    for m, a in acts:
        setattr(m, a + "_", getattr(m, a))
        setattr(m, a, ACT2FN["gelu_new"])
    runs["tanh"] = enc(1, 1)
    for m, a in acts:
        setattr(m, a, getattr(m, a + "_"))
    model.double()
    runs["fp64"] = enc(1, 1, torch.float64)
    torch.set_num_threads(1)
    return runs


def ours_run(encoder, folder, texts, work, v):
    path_in, path_out = os.path.join(work, "texts.jsonl"), os.path.join(work, "ours.jsonl")
    with open(path_in, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps(t) + "\n")
    subprocess.run([encoder, "run", folder, "--input", path_in, "--output", path_out, "--quiet"], check=True)
    with open(path_out, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert len(rows) == len(texts)
    return torch.stack([dense_of(r["indices"], r["values"], v) for r in rows])


def compare(stats, a, b, truth, mask=None):
    """Accumulates max relative / absolute differences of a vs b per bucket of the true value, and index flips."""
    for i in range(truth.shape[0]):
        on = (a[i] != 0) | (b[i] != 0)
        if mask is not None:
            on &= mask[i]
        flips = ((a[i] != 0) != (b[i] != 0)) & on
        stats["flips"] += int(flips.sum())
        both = on & ~flips
        t, d = truth[i][both], (a[i][both] - b[i][both]).abs()
        stats["sq"] += float((d * d).sum())
        stats["count"] += int(both.sum())
        for name, lo, hi in BUCKETS:
            sel = (t >= lo) & (t < hi)
            if sel.any():
                s = stats[name]
                s["n"] += int(sel.sum())
                s["rel"] = max(s["rel"], float((d[sel] / t[sel]).max()))
                s["abs"] = max(s["abs"], float(d[sel].max()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", default=os.path.join(ROOT, ".build", "release", "encoder"),
                        help="the `encoder` binary for the 'ours' rows (default: .build/release/encoder)")
    args = parser.parse_args()
    have_ours = os.path.exists(args.encoder)
    if not have_ours:
        print(f"note: no {args.encoder}; the 'ours' rows are left out (swift build -c release --product encoder)")
    new = lambda: {"flips": 0, "sq": 0.0, "count": 0, **{b[0]: {"n": 0, "rel": 0.0, "abs": 0.0} for b in BUCKETS}}
    stats = {p[0]: new() for p in PAIRS}
    smallest = float("inf")
    with tempfile.TemporaryDirectory() as work:
        for name in VARIANTS:
            with open(os.path.join(FIXTURES, name, "goldens.json"), encoding="utf-8") as f:
                goldens = json.load(f)
            v = goldens["vocab_size"]
            rows = goldens["cases"][0]["rows"]  # the case without an encode-time top-k
            texts = [r["text"] for r in rows]
            folder = full_folder(name, work)
            runs = reference_runs(folder, texts)
            # Goldens of a fixture with a top-k hold only those entries: compared there only.
            runs["goldens"] = torch.stack([dense_of(r["indices"], r["values"], v) for r in rows])
            golden_mask = runs["goldens"] != 0 if goldens["max_active_dims"] is not None else None
            if have_ours:
                runs["ours"] = ours_run(args.encoder, folder, texts, work, v)
            truth = runs["fp64"]
            smallest = min(smallest, float(truth[truth > 0].min()))
            for label, a, b in PAIRS:
                if a in runs and b in runs:
                    compare(stats[label], runs[a], runs[b], truth, golden_mask if "goldens" in (a, b) else None)
    counts = stats["fp32 vs fp64"]
    print(f"SPLADE fixtures {', '.join(VARIANTS)}; torch {torch.__version__}; smallest true value {smallest:.3g}")
    print("values per bucket (fp32 vs fp64): " + ", ".join(f"{b[0]} {counts[b[0]]['n']}" for b in BUCKETS))
    for key, title in [("rel", "max |a - b| / truth"), ("abs", "max |a - b|")]:
        print(f"\n{title:<22}" + "".join(f"{b[0]:>12}" for b in BUCKETS) + ("  index flips" if key == "rel" else "    rms (all)"))
        for label, a, b in PAIRS:
            if label.startswith("ours") and not have_ours:
                continue
            s = stats[label]
            print(f"{label:<22}" + "".join(f"{s[b[0]][key]:>12.2e}" for b in BUCKETS) + (f"{s['flips']:>13}" if key == "rel" else f"{(s['sq'] / max(1, s['count'])) ** 0.5:>13.2e}"))


if __name__ == "__main__":
    main()
