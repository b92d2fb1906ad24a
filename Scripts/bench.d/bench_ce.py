"""sentence-transformers' CrossEncoder (PyTorch CPU) throughput: one query against every line of a
text file, as `encoder rerank MODEL --query Q --input FILE` scores them.
python bench_ce.py MODEL_DIR QUERY DOCUMENTS [BATCH] [SCORES.json] -> prints JSON."""
import json, os, sys, time
t0 = time.time()
os.environ["HF_HUB_OFFLINE"] = "1"
from sentence_transformers import CrossEncoder
import numpy as np, torch
m = CrossEncoder(sys.argv[1], device="cpu")
t_load = time.time() - t0
query = sys.argv[2]
docs = [l.rstrip("\n") for l in open(sys.argv[3], encoding="utf-8")]
bs = int(sys.argv[4]) if len(sys.argv) > 4 else 32
pairs = [(query, d) for d in docs]
m.predict(pairs[:64], batch_size=bs)
best, scores = 1e9, None
for _ in range(int(os.environ.get("BENCH_REPS", "3"))):
    t = time.time(); scores = m.predict(pairs, batch_size=bs, convert_to_numpy=True); best = min(best, time.time() - t)
if len(sys.argv) > 5:
    json.dump([float(s) for s in np.asarray(scores).reshape(-1)], open(sys.argv[5], "w"))
ntok = sum(len(x) for x in m.tokenizer([q for q, _ in pairs], [d for _, d in pairs], truncation=True,
                                       max_length=m.max_seq_length)["input_ids"])
print(json.dumps({"peer": "sentence-transformers CrossEncoder", "threads": torch.get_num_threads(), "batch": bs,
                  "pairs": len(pairs), "tokens": ntok, "best_s": round(best, 3), "pairs_per_s": round(len(pairs) / best, 1),
                  "tokens_per_s": round(ntok / best), "startup_s": round(t_load, 2)}))
