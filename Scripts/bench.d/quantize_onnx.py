"""ONNX Runtime's dynamic int8 quantization of the fused FP32 model, per output channel, as
ONNX Runtime users run it (the int8 peer of Scripts/bench).
python quantize_onnx.py IN.onnx OUT.onnx

The fused graph's contrib operators (Attention, SkipLayerNormalization) defeat ONNX shape
inference, so the quantizer is told that tensors it cannot type are FLOAT (`DefaultTensorType`,
as its own error message advises)."""
import sys
import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic

src, out = sys.argv[1:3]
quantize_dynamic(src, out, per_channel=True, weight_type=QuantType.QInt8,
                 extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
print(f"quantized {src} -> {out} (per channel, QInt8 weights, dynamic uint8 activations)")
