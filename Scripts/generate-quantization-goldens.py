#!/usr/bin/env python3
"""Golden compact embeddings from sentence-transformers' `quantize_embeddings`.

Usage: Scripts/python Scripts/generate-quantization-goldens.py [OUT_JSON]
Needs numpy and sentence-transformers in the project's Python (no model, no torch forward pass);
the tests never run Python, they read the JSON this writes.

Inputs (all float32, stored as their IEEE bit patterns so nothing is lost in decimal):
- "minilm": rows 0-7 of the all-MiniLM-L6-v2 hard-case goldens (all-MiniLM-L6-v2.embeddings.json,
  384 dimensions), calibrated by rows 8-23.
- "edges": 13 dimensions (not a multiple of 8): exact zeros, -0.0, negatives, the smallest
  subnormal, values equal to the calibration's minimum and maximum, values outside it, a
  dimension whose calibration range is zero-wide, and values on bucket boundaries.
- "random": 9 rows of 37 seeded normal values, calibrated by 40 more.
For every input and every precision, the output without calibration (ranges from the embeddings
themselves) and with the calibration set (`calibration_embeddings=`), and the calibration ranges.
"""
import json, os, platform, sys
import numpy as np
import sentence_transformers
from sentence_transformers.util.quantization import quantize_embeddings

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
goldens = os.path.join(root, "Tests", "SentenceEmbeddingsTests", "Goldens")
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(goldens, "quantization.json")
precisions = ["int8", "uint8", "binary", "ubinary"]


def bits(matrix):
    return [[int(b) for b in row] for row in np.ascontiguousarray(matrix, dtype=np.float32).view(np.uint32)]


def case(name, embeddings, calibration):
    embeddings = np.asarray(embeddings, dtype=np.float32)
    calibration = np.asarray(calibration, dtype=np.float32)
    outputs = {}
    for p in precisions:
        outputs[p] = {
            "self": quantize_embeddings(embeddings, precision=p).astype(int).tolist(),
            "calibrated": quantize_embeddings(embeddings, precision=p, calibration_embeddings=calibration).astype(int).tolist(),
        }
    ranges = np.vstack((calibration.min(axis=0), calibration.max(axis=0)))
    return {
        "name": name,
        "dimension": int(embeddings.shape[1]),
        "embeddings": bits(embeddings),
        "calibration": bits(calibration),
        "calibration_ranges": bits(ranges),
        "outputs": outputs,
    }


with open(os.path.join(goldens, "all-MiniLM-L6-v2.embeddings.json"), encoding="utf-8") as f:
    minilm = np.array([row["embedding"] for row in json.load(f)["rows"]], dtype=np.float32)
assert minilm.shape[0] >= 24, minilm.shape

f32 = np.float32
tiny = np.nextafter(f32(0), f32(1))  # the smallest positive subnormal: > 0, so its bit is set
cal = np.array([
    # d0     d1    d2    d3     d4   d5     d6     d7   d8    d9    d10   d11    d12
    [-1.0, -0.5, 0.0, 0.25, -3.0, 2.0, 0.1, -0.2, 0.0, 1e-3, 5.0, -7.0, 0.5],
    [1.0, 0.5, 1.0, 0.75, 3.0, 2.0, 0.3, 0.2, 1.0, 2e-3, 6.0, 7.0, 0.6],
    [0.0, 0.0, 0.5, 0.5, 0.0, 2.0, 0.2, 0.0, 0.5, 1.5e-3, 5.5, 0.0, 0.55],
], dtype=f32)
lo, hi = cal.min(axis=0), cal.max(axis=0)
step = np.where((hi - lo) / 255 == 0, 1, (hi - lo) / 255).astype(f32)
edges = np.array([
    np.zeros(13, f32),                                   # exact zeros
    -np.zeros(13, f32),                                  # -0.0 is not > 0
    lo,                                                  # at the calibration's minimums
    hi,                                                  # at its maximums (may floor to 254)
    lo - 1, hi + 1,                                      # outside the ranges: clipped to 0 and 255
    lo + step * 1, lo + step * 127, lo + step * 128,    # on bucket boundaries, computed in float32
    lo + step * 254,
    np.full(13, tiny, f32), np.full(13, -tiny, f32),
    np.linspace(-1, 1, 13, dtype=f32),
    [f32(x) for x in (0.3, -0.3, 1e-30, -1e-30, 2.5, -2.5, 0.15, 0.05, 0.999, 1.5e-3, 5.25, -6.5, 0.55)],
], dtype=f32)

rng = np.random.default_rng(18)
random = rng.standard_normal((49, 37)).astype(f32)

doc = {
    "generator": "Scripts/generate-quantization-goldens.py",
    "versions": {"python": platform.python_version(), "numpy": np.__version__,
                 "sentence_transformers": sentence_transformers.__version__},
    "note": "float32 inputs as uint32 bit patterns; outputs as the integers of quantize_embeddings' int8/uint8 arrays; "
            "'self' computes int8/uint8 ranges from the embeddings, 'calibrated' from calibration_embeddings",
    "cases": [
        case("minilm", minilm[:8], minilm[8:24]),
        case("edges", edges, cal),
        case("random", random[:9], random[9:]),
    ],
}
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w", encoding="utf-8") as f:
    json.dump(doc, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(doc['cases'])} cases to {out}")
