#!/usr/bin/env python3
"""A random-weight multilingual-e5-small-shaped checkpoint with a 250,002-piece Unigram vocabulary.

Usage:
    Scripts/python Scripts/generate-big-vocab-model.py [OUT]   (default .cache/big-vocab-xlmr, git-ignored)

For measuring what a 250k vocabulary costs (tokenizer load time against Hugging Face tokenizers, the
embedding table read in place, peak RSS), where no real multilingual checkpoint can be fetched. The body is
XLM-RoBERTa at multilingual-e5-small's size (12 layers, hidden 384, 12 heads, FFN 1536, 514 positions, vocab
250,037 rows as published); the tokenizer is the trained Unigram fixture (Tests/TokenizationTests/Goldens/
unigram/xlmr: Precompiled, WhitespaceSplit + Metaspace, <s> … </s>) with its vocabulary extended to 250,002
pieces of seeded random letters, so the file is as large (about 17 MB) as a real XLM-R tokenizer.json. Mean
pooling and Normalize, as multilingual-e5. Writes sentence-transformers' own embeddings of three texts into
reference.json, so the folder doubles as a parity check.
"""
import json, os, random, shutil, sys
os.environ["HF_HUB_OFFLINE"] = "1"
import numpy as np, torch
from transformers import XLMRobertaConfig, XLMRobertaModel, AutoTokenizer
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Pooling
from sentence_transformers.base.modules import Normalize, Transformer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "Tests", "TokenizationTests", "Goldens", "unigram", "xlmr")
PIECES = 250_002
ROWS = 250_037  # multilingual-e5-small's embedding rows (a few more than the tokenizer's pieces)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".cache", "big-vocab-xlmr")
    work = out + ".partial"
    shutil.rmtree(work, ignore_errors=True)
    hf = os.path.join(work, "hf")
    os.makedirs(hf)

    with open(os.path.join(FIXTURE, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    vocab = tok["model"]["vocab"]
    mask = vocab.pop()  # <mask> stays last, as in XLM-R
    seen = {p for p, _ in vocab}
    rng = random.Random(250002)
    letters = "abcdefghijklmnopqrstuvwxyzàéèüößçñ"
    while len(vocab) < PIECES - 1:
        piece = ("▁" if rng.random() < 0.5 else "") + "".join(rng.choice(letters) for _ in range(rng.randint(2, 9)))
        if piece not in seen:
            seen.add(piece)
            vocab.append([piece, -8.0 - 6.0 * rng.random()])
    vocab.append(mask)
    for t in tok["added_tokens"]:
        if t["content"] == mask[0]:
            t["id"] = len(vocab) - 1
    with open(os.path.join(hf, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)
    shutil.copy(os.path.join(FIXTURE, "tokenizer_config.json"), os.path.join(hf, "tokenizer_config.json"))
    tokenizer = AutoTokenizer.from_pretrained(hf)
    assert len(tokenizer) == PIECES, len(tokenizer)  # the full vocabulary, not a rebuilt stub

    torch.manual_seed(0)
    cfg = XLMRobertaConfig(vocab_size=ROWS, hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
                           intermediate_size=1536, max_position_embeddings=514, type_vocab_size=1,
                           layer_norm_eps=1e-12, pad_token_id=1, bos_token_id=0, eos_token_id=2)
    model = XLMRobertaModel(cfg, add_pooling_layer=False)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape))
            elif name.endswith("bias"):
                p.copy_(0.02 * torch.randn(p.shape))
            else:
                p.copy_((1.0 / p.shape[-1] ** 0.5 if "embeddings" not in name else 0.3) * torch.randn(p.shape))
    model.save_pretrained(hf)
    tokenizer.save_pretrained(hf)

    st = SentenceTransformer(modules=[Transformer(hf, max_seq_length=512), Pooling(384, pooling_mode="mean"), Normalize()],
                             device="cpu")
    folder = os.path.join(work, "model")
    st.save(folder, create_model_card=False)
    texts = ["query: how much protein should a female eat", "Der schnelle braune Fuchs springt über den faulen Hund.",
             "東京は日本の首都です。"]
    st = SentenceTransformer(folder, device="cpu")
    with torch.no_grad():
        ref = st.encode(texts, convert_to_numpy=True)
    with open(os.path.join(folder, "reference.json"), "w", encoding="utf-8") as f:
        json.dump({"texts": texts, "embeddings": [[float(x) for x in np.asarray(r, dtype=np.float32)] for r in ref]},
                  f, ensure_ascii=False)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(folder, out)
    shutil.rmtree(work)
    size = os.path.getsize(os.path.join(out, "model.safetensors"))
    print(f"wrote {out}: tokenizer.json {os.path.getsize(os.path.join(out, 'tokenizer.json')) / 1e6:.1f} MB, "
          f"model.safetensors {size / 1e6:.1f} MB ({ROWS * 384 * 4 / 1e6:.1f} MB of it the embedding table)")


if __name__ == "__main__":
    main()
