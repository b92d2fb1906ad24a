"""A MiniLM-L6-shaped cross-encoder for the rerank benchmark: the all-MiniLM-L6-v2 body (the shape
of cross-encoder/ms-marco-MiniLM-L6-v2: BERT, 6 layers, hidden 384) with a seeded random pooler
and one-label classifier, saved by CrossEncoder.save (max length 512, as ms-marco-MiniLM-L6-v2).
Speed does not depend on the head's values; the scores are compared with CrossEncoder's anyway.
python make_cross_encoder.py BODY_DIR OUT_DIR"""
import os, sys
os.environ["HF_HUB_OFFLINE"] = "1"
import torch
from transformers import AutoTokenizer, BertForSequenceClassification
from sentence_transformers import CrossEncoder
body, out = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
model = BertForSequenceClassification.from_pretrained(body, num_labels=1)
with torch.no_grad():
    for name, p in model.named_parameters():
        if name.startswith("classifier") or "pooler" in name:
            p.copy_(0.1 * torch.randn(p.shape))
tmp = out + ".hf"
model.save_pretrained(tmp)
AutoTokenizer.from_pretrained(body).save_pretrained(tmp)
CrossEncoder(tmp, max_length=512, device="cpu").save(out, create_model_card=False)
