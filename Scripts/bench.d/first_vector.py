"""Process start to first vector for a peer: import, load the model, embed ONE sentence,
print it as a JSON array and exit -- the same job as `encoder run MODEL "sentence"`, so
the driver times all three the same way from outside (wall clock from exec to exit).

python first_vector.py ort MODEL_DIR ONNX_FILE "sentence"
python first_vector.py st  MODEL_DIR "sentence"

The ORT path mirrors bench_ort.py (2 intra-op threads, no padding, truncation at 256,
mean pooling, L2 normalize); the ST path is SentenceTransformer.encode with its defaults.
"""
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
peer = sys.argv[1]
if peer == "ort":
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer
    model_dir, onnx_file, text = sys.argv[2:5]
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding(); tok.enable_truncation(max_length=256)
    so = ort.SessionOptions(); so.intra_op_num_threads = 2; so.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_file, so, providers=["CPUExecutionProvider"])
    ids = np.array([tok.encode(text).ids], dtype=np.int64)
    mask = np.ones_like(ids)
    h = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    v = h[0].mean(0)
    v = v / np.linalg.norm(v)
elif peer == "st":
    from sentence_transformers import SentenceTransformer
    model_dir, text = sys.argv[2:4]
    v = SentenceTransformer(model_dir, device="cpu").encode([text], convert_to_numpy=True)[0]
else:
    sys.exit(f"first_vector.py: unknown peer {peer!r}; use 'ort' or 'st'")
print(json.dumps([round(float(x), 7) for x in v]))
