// The arithmetic of the linear layers, chosen when a model is loaded.
import Kernels
import SafeTensors

/// How the encoder's linear layers (Q, K, V, attention output, both feed-forward layers) multiply.
/// Embeddings, attention scores, softmax, LayerNorm, activations and pooling are FP32 in both.
public enum Precision: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The checkpoint's weights as Float32 (half checkpoints converted): sentence-transformers'
    /// vectors at cosine >= 0.99999. The default.
    case float32 = "fp32"
    /// Dynamic quantization: weights to int8 per output channel at load, activations to u8 per row
    /// at run time, int32 products (oneDNN's matmul, VNNI where the CPU has it). Faster, in a
    /// quarter of the weight memory, at a measured cost in quality (README, Scripts/BENCHMARKS.md).
    case int8

    var kind: PackedGemmKind { self == .int8 ? .int8 : .float32 }

    public var description: String { rawValue }
}

extension Linear {
    /// This layer with its weights packed for ``PackedGemm`` (`kind`) in `parts` column parts. The
    /// checkpoint's pages of the weights are released; at float32 the tensor is kept for the naive
    /// reference forward (mapped, it costs no memory until read), at int8 it is let go (a converted
    /// half checkpoint's copy freed).
    /// `foldBias`: the product adds the bias (else the caller's fused pass does). `outputStride`: the
    /// row stride of the buffer its output goes into.
    func packed(_ kind: PackedGemmKind, plans: PackedGemmPlans, foldBias: Bool, outputStride: Int, parts: Int) throws(PackedGemmError) -> Linear {
        // `self` holds both tensors (and so their memory) for the whole call.
        let packed = try PackedLinear(kind, weight: weight.values, bias: foldBias ? bias.values : nil, outFeatures: outFeatures,
                                      outputStride: outputStride, parts: parts, plans: plans)
        weight.releaseResidentPages()
        return Linear(weight: kind == .float32 ? weight : FloatTensor(shape: [0], []), bias: bias, inFeatures: inFeatures,
                      outFeatures: outFeatures, packed: packed)
    }
}
