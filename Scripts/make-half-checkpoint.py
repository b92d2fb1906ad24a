#!/usr/bin/env python3
"""Copy a model folder with its model.safetensors rounded to F16 or BF16 (for memory/parity measurements).

Usage: Scripts/python Scripts/make-half-checkpoint.py SRC_FOLDER DST_FOLDER float16|bfloat16
"""
import os, shutil, sys
import torch
from safetensors.torch import load_file, save_file

src, dst, dtype = sys.argv[1], sys.argv[2], getattr(torch, sys.argv[3])
shutil.copytree(src, dst, symlinks=False, dirs_exist_ok=True)
t = load_file(os.path.join(src, "model.safetensors"))
save_file({k: (v.to(dtype) if v.is_floating_point() else v).contiguous() for k, v in t.items()},
          os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
