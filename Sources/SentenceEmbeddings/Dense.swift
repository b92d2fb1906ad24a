import Foundation
import SafeTensors
import StrictJSON

/// The activation of a sentence-transformers `Dense` module (`activation_function` in its config.json).
///
/// Only the two that published BERT-family checkpoints use are implemented; any other is refused
/// by name at load time rather than approximated.
public enum DenseActivation: String, Sendable, CaseIterable {
    /// `torch.nn.modules.activation.Tanh` (LaBSE and the sentence-transformers default).
    case tanh = "torch.nn.modules.activation.Tanh"
    /// `torch.nn.modules.linear.Identity`.
    case identity = "torch.nn.modules.linear.Identity"

    /// Accepts the full dotted name as written by sentence-transformers 2.x to 6.x, or the bare class name.
    init?(configName: String) {
        switch configName.split(separator: ".").last.map(String.init) ?? configName {
        case "Tanh": self = .tanh
        case "Identity": self = .identity
        default: return nil
        }
    }
}

/// The configuration of one `Dense` module (`<n>_Dense/config.json`), as
/// `sentence_transformers.base.modules.dense.Dense` saves it.
public struct DenseConfig: Sendable, Equatable {
    /// The module folder relative to the model folder (e.g. `2_Dense`).
    public var path: String
    public var inFeatures: Int
    public var outFeatures: Int
    /// Whether `linear.bias` exists (`bias` in config.json, default true).
    public var bias: Bool
    public var activation: DenseActivation

    public init(path: String, inFeatures: Int, outFeatures: Int, bias: Bool, activation: DenseActivation) {
        self.path = path
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.bias = bias
        self.activation = activation
    }

    /// Reads `<folder>/<path>/config.json`.
    static func load(folder: URL, path: String) throws(SentenceEmbeddingsError) -> DenseConfig {
        let url = folder.appendingPathComponent(path).appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .invalidConfig(file: url.path, reason: "the Dense module's config.json is missing")
        }
        let c = try SentenceTransformersConfig.readObject(url)
        return try reading { () throws(JSONFieldError) in
            let inFeatures = try c["in_features"].int(in: 1...)
            let outFeatures = try c["out_features"].int(in: 1...)
            // Dense.__init__: bias defaults to True, activation_function to nn.Tanh().
            let bias = try c.optional("bias")?.bool() ?? true
            let activation = try c.optional("activation_function")?.oneOf(
                DenseActivation.allCases.map(\.rawValue), DenseActivation.init(configName:)) ?? .tanh
            // A Dense applied to each token ("token_embeddings") would change what pooling sees; only the
            // sentence-level form (the default) is implemented.
            for key in ["module_input_name", "module_output_name"] {
                _ = try c.optional(key)?.oneOf(["sentence_embedding"], hint: "only Dense modules that map the sentence embedding are supported") {
                    $0 == "sentence_embedding" ? $0 : nil
                }
            }
            return DenseConfig(path: path, inFeatures: inFeatures, outFeatures: outFeatures, bias: bias, activation: activation)
        }
    }
}

/// A loaded `Dense` module: `y = activation(W x + b)` with `W` [outFeatures x inFeatures]
/// as `torch.nn.Linear` stores it (`linear.weight`) and `b` [outFeatures] (`linear.bias`).
struct DenseLayer: Sendable {
    let config: DenseConfig
    /// [outFeatures x inFeatures], row-major (PyTorch's layout).
    let weight: [Float]
    /// [outFeatures], or empty without bias.
    let bias: [Float]

    /// Reads `<folder>/<config.path>/model.safetensors` (F32, F16 or BF16), checking every shape.
    static func load(folder: URL, config: DenseConfig) throws(SentenceEmbeddingsError) -> DenseLayer {
        let dir = folder.appendingPathComponent(config.path)
        let url = dir.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else {
            let legacy = dir.appendingPathComponent("pytorch_model.bin")
            let hint = FileManager.default.fileExists(atPath: legacy.path)
                ? "only pytorch_model.bin (a pickle, which this runtime does not read) is present; convert it with safetensors' save_file"
                : "the Dense module has no weights"
            throw .invalidConfig(file: url.path, reason: "missing: \(hint)")
        }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOf: url) } catch { throw .checkpoint(error) }
        let weight: [Float]
        var bias: [Float] = []
        do {
            weight = try file.floatTensor("linear.weight", shape: [config.outFeatures, config.inFeatures]).array
            if config.bias { bias = try file.floatTensor("linear.bias", shape: [config.outFeatures]).array }
        } catch {
            throw .checkpoint(error)
        }
        if !config.bias, file.info("linear.bias") != nil {
            throw .invalidConfig(
                file: url.path, reason: "has linear.bias but \(config.path)/config.json says bias false; the files do not belong together")
        }
        return DenseLayer(config: config, weight: weight, bias: bias)
    }

    /// `output = activation(weight · input + bias)` for one vector.
    ///
    /// Accumulates in Double: PyTorch's float GEMM rounds differently in every blocking, and a
    /// near-exact dot product keeps this side of the comparison the more accurate one.
    func apply(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let n = config.inFeatures, m = config.outFeatures
        precondition(input.count == n && output.count == m)
        weight.withUnsafeBufferPointer { w in
            for o in 0..<m {
                var sum = bias.isEmpty ? 0.0 : Double(bias[o])
                let row = o * n
                for i in 0..<n { sum += Double(w[row + i]) * Double(input[i]) }
                let y = Float(sum)
                switch config.activation {
                case .tanh: output[o] = Foundation.tanh(y)
                case .identity: output[o] = y
                }
            }
        }
    }
}
