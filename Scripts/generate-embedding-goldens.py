#!/usr/bin/env python3
"""Golden sentence embeddings from the reference, sentence-transformers (PyTorch, FP32, CPU).

Usage: Scripts/python Scripts/generate-embedding-goldens.py [MODEL_DIR] [OUT_JSON]
Needs torch and sentence-transformers in the project's Python ($ENCODER_PYTHON or the
repository's git-ignored .venv, see Scripts/python-env.sh); the tests never run Python,
they read the JSON this writes.
Each text is embedded ALONE (batch size 1) so the goldens carry no padding effects.
"""
import json, os, platform, sys
os.environ["HF_HUB_OFFLINE"] = "1"
import numpy as np, torch, transformers, tokenizers, sentence_transformers
from sentence_transformers import SentenceTransformer

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Models", "all-MiniLM-L6-v2")
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "Tests", "SentenceEmbeddingsTests", "Goldens", "all-MiniLM-L6-v2.embeddings.json")

long_words = ("The committee reviewed the proposal in detail, weighing its costs against the expected "
              "benefits for every district before voting on the amendments late in the evening.").split()
texts = [
    "",                                   # empty: [CLS] [SEP]
    "a",                                  # a single character
    "?",
    "   leading and trailing spaces   ",  # sentence-transformers strips
    "A man is playing a guitar.",
    "A woman slices an onion.",
    "The quick brown fox jumps over the lazy dog.",
    "Café au lait, naïve résumé, Ångström.",
    "I love pizza 🍕🍕 and sushi 🍣! 👍🏽 👨‍👩‍👧",
    "東京は日本の首都です。",
    "北京欢迎你",
    "안녕하세요, 만나서 반갑습니다.",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "ΟΔΟΣ Straße İstanbul",
    "hello\u200bworld\u00a0again\ttab\r\nnewline",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ and 𝐦𝐚𝐭𝐡 𝐛𝐨𝐥𝐝",
    "Is this the right way to the station? Yes, turn left at the second light.",
    "x" * 150,                            # one word over 100 characters: [UNK]
    " ".join(long_words * 14),            # far over 256 tokens: truncated at 256
    " ".join(long_words * 2)[:700],       # around 120 tokens
    "Numbers 3.14159, 2,718 and 1e-12; dates 2026-11-28; emails a.b@example.com",
    "\u0000control\u0007chars\u001b[0m",
]

model = SentenceTransformer(model_dir, device="cpu")
model.eval()
rows = []
with torch.no_grad():
    for t in texts:
        v = model.encode([t], batch_size=1, convert_to_numpy=True, normalize_embeddings=False)[0]
        ids = model.tokenize([t])["input_ids"][0].tolist()
        rows.append({"text": t, "token_ids": ids, "embedding": [float(x) for x in v.astype(np.float32)]})

doc = {
    "generator": "Scripts/generate-embedding-goldens.py",
    "model": os.path.basename(os.path.normpath(model_dir)),
    "max_seq_length": model.max_seq_length,
    "versions": {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
                 "tokenizers": tokenizers.__version__, "sentence_transformers": sentence_transformers.__version__},
    "note": "each text embedded alone (batch size 1), FP32 on CPU",
    "rows": rows,
}
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w", encoding="utf-8") as f:
    json.dump(doc, f, ensure_ascii=False, indent=0)
print(f"wrote {len(rows)} goldens to {out}")
