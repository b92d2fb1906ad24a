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

    public var description: String { rawValue }
}

/// The ``Int8GemmPlan``s of one model, one per (K, N, output stride): the layers of a model share
/// a handful of shapes, and a plan's oneDNN kernels are created once for all of them.
final class Int8Plans {
    private var plans: [[Int]: Int8GemmPlan] = [:]

    func plan(inFeatures k: Int, outFeatures n: Int, outputStride ld: Int) throws(EncoderError) -> Int8GemmPlan {
        if let plan = plans[[k, n, ld]] { return plan }
        do {
            let plan = try Int8GemmPlan(inFeatures: k, outFeatures: n, outputStride: ld)
            plans[[k, n, ld]] = plan
            return plan
        } catch {
            throw .int8Unavailable(reason: error.description)
        }
    }
}

extension Linear {
    /// This layer with its weights quantized for ``Int8Gemm`` and its FP32 weights let go (their
    /// file pages released; a converted half checkpoint's copy freed). `foldBias`: the product
    /// adds the bias (else the caller's fused pass does, as in FP32). `outputStride`: the row
    /// stride of the buffer its output goes into.
    func quantized(_ plans: Int8Plans, foldBias: Bool, outputStride: Int) throws(EncoderError) -> Linear {
        let plan = try plans.plan(inFeatures: inFeatures, outFeatures: outFeatures, outputStride: outputStride)
        let int8: Int8Linear
        do {
            // `self` holds both tensors (and so their memory) for the whole call.
            int8 = try Int8Linear(weight: weight.values, bias: foldBias ? bias.values : nil, plan: plan)
        } catch {
            throw .int8Unavailable(reason: error.description)
        }
        weight.releaseResidentPages()
        return Linear(weight: FloatTensor(shape: [0], []), bias: bias, inFeatures: inFeatures, outFeatures: outFeatures, int8: int8)
    }
}
