#!/usr/bin/env python3
"""Writes Tests/TransformerEncoderTests/Goldens/minilm-last-hidden-state.{json,f32}.

Reference: transformers' BertModel (eager attention, float32, eval mode) on the
checkpoint in Models/all-MiniLM-L6-v2, each sequence run alone (batch of 1, no padding).
Token ids come from the model's tokenizer.json via the `tokenizers` library with
padding disabled, and are stored in the manifest, so the Swift test does not depend
on the Swift tokenizer. The .f32 file holds last_hidden_state rows of all sequences,
concatenated, little-endian float32, [tokens x hidden].

Run:  Scripts/python Scripts/generate-bert-goldens.py
"""
import hashlib
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import tokenizers
import torch
import transformers
from tokenizers import Tokenizer
from transformers import BertModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "Models", "all-MiniLM-L6-v2")
OUT = os.path.join(ROOT, "Tests", "TransformerEncoderTests", "Goldens")

# (first segment, optional second segment). Short, long, unicode, and a pair (type ids 1).
INPUTS = [
    ("Hello world", None),
    ("The quick brown fox jumps over the lazy dog.", None),
    ("A man is playing a guitar on stage while the crowd sings along to every single word of the chorus.", None),
    ("Café naïve résumé — 東京 and emoji 🙂 handled?", None),
    ("What is the capital of France?", "Paris is the capital and largest city of France."),
    ("a", None),
]


def main() -> None:
    weights = os.path.join(MODEL, "model.safetensors")
    if not os.path.exists(weights):
        sys.exit(f"{weights} is missing: run Scripts/fetch-model first")
    tok = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()

    torch.manual_seed(0)
    model = BertModel.from_pretrained(MODEL, attn_implementation="eager", torch_dtype=torch.float32,
                                      add_pooling_layer=False)
    model.eval()

    sequences = []
    rows = []
    offset = 0
    with torch.no_grad():
        for first, second in INPUTS:
            enc = tok.encode(first, second) if second is not None else tok.encode(first)
            ids = torch.tensor([enc.ids], dtype=torch.long)
            type_ids = torch.tensor([enc.type_ids], dtype=torch.long)
            mask = torch.ones_like(ids)
            out = model(input_ids=ids, token_type_ids=type_ids, attention_mask=mask).last_hidden_state[0]
            arr = out.to(torch.float32).numpy()
            rows.append(arr)
            sequences.append({
                "text": first, "text_pair": second,
                "ids": enc.ids, "type_ids": enc.type_ids,
                "first_row": offset, "rows": len(enc.ids),
            })
            offset += len(enc.ids)

    values = np.concatenate(rows, axis=0).astype("<f4")
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "minilm-last-hidden-state.f32"), "wb") as f:
        f.write(values.tobytes())
    with open(weights, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    manifest = {
        "generator": "Scripts/generate-bert-goldens.py",
        "reference": "transformers BertModel, attn_implementation=eager, float32, eval, each sequence alone",
        "versions": {
            "python": sys.version.split()[0], "torch": torch.__version__,
            "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
            "numpy": np.__version__,
        },
        "model": "all-MiniLM-L6-v2", "model_safetensors_sha256": sha,
        "values_file": "minilm-last-hidden-state.f32", "dtype": "float32 little-endian",
        "shape": list(values.shape),
        "sequences": sequences,
    }
    with open(os.path.join(OUT, "minilm-last-hidden-state.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {values.shape[0]} rows x {values.shape[1]} to {OUT}")


if __name__ == "__main__":
    main()
