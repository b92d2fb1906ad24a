// Binding checkpoint tensors to the module tree by composed key prefixes
// (candle's `vb.pp("encoder").pp("layer.3")`), checking every shape against the config
// and collecting ALL problems before failing once.
import Kernels
import SafeTensors

/// Anything that can hand out named Float32 tensors (a safetensors file, a dictionary in tests).
public protocol TensorProvider {
    /// Every tensor name in the checkpoint.
    var tensorNames: [String] { get }
    /// The tensor called `name` as Float32 (converted if stored otherwise).
    func floatTensor(_ name: String) throws -> FloatTensor
}

/// Collects bound tensors and problems during one model construction.
final class WeightBinder {
    private let fetch: (String) throws -> FloatTensor
    private let available: Set<String>
    let names: [String]
    /// "" or the family's task-model prefix ("bert.", ...): whichever form the checkpoint uses.
    let keyPrefix: String
    private(set) var used: Set<String> = []
    private(set) var missing: [String] = []
    private(set) var mismatches: [ShapeMismatch] = []
    private(set) var unreadable: [UnreadableTensor] = []

    /// `probe` is a tensor every checkpoint of the family has, `prefix` its task-model root.
    init(_ provider: some TensorProvider, probe: String, prefix: String) {
        names = provider.tensorNames
        available = Set(names)
        fetch = { try provider.floatTensor($0) }
        // Base-model checkpoints store "embeddings.…"; task models (BertForMaskedLM, …) nest
        // the encoder under "bert.". Use the bare form when present, else the prefixed one if that is.
        keyPrefix = !available.contains(probe) && available.contains(prefix + probe) ? prefix : ""
    }

    var hasProblems: Bool { !missing.isEmpty || !mismatches.isEmpty || !unreadable.isEmpty }

    var problems: WeightProblems {
        WeightProblems(keyPrefix: keyPrefix, missing: missing, shapeMismatches: mismatches, unreadable: unreadable)
    }

    /// Checkpoint keys never bound (pooler, position_ids, task heads, ...), sorted.
    var unexpected: [String] { names.filter { !used.contains($0) }.sorted() }

    /// The tensor at `key` if it exists with exactly `shape`; otherwise records the problem
    /// and returns an empty placeholder (construction then fails before any use).
    func bind(_ key: String, shape: [Int]) -> FloatTensor {
        let placeholder = FloatTensor(shape: [0], [])
        guard available.contains(key) else {
            missing.append(key)
            return placeholder
        }
        used.insert(key)
        let tensor: FloatTensor
        do {
            tensor = try fetch(key)
        } catch {
            unreadable.append(UnreadableTensor(name: key, reason: "\(error)"))
            return placeholder
        }
        guard tensor.shape == shape else {
            mismatches.append(ShapeMismatch(name: key, expected: shape, actual: tensor.shape))
            return placeholder
        }
        return tensor
    }
}

/// A position in the checkpoint's key tree: `root.pp("encoder").pp("layer").pp(3)`.
struct WeightPath {
    let binder: WeightBinder
    let prefix: String

    /// The root path (includes the checkpoint's task-model prefix if it has one).
    init(root binder: WeightBinder) {
        self.binder = binder
        self.prefix = binder.keyPrefix
    }

    /// The checkpoint's top level, whatever its task-model prefix: task heads such as
    /// `classifier.*` of a `BertForSequenceClassification` or `cls.predictions` sit beside `bert.`,
    /// not under it.
    init(top binder: WeightBinder) {
        self.binder = binder
        self.prefix = ""
    }

    private init(binder: WeightBinder, prefix: String) {
        self.binder = binder
        self.prefix = prefix
    }

    /// Child path: `prefix + component + "."`.
    func pp(_ component: String) -> WeightPath { WeightPath(binder: binder, prefix: prefix + component + ".") }
    func pp(_ index: Int) -> WeightPath { pp(String(index)) }

    /// Binds `prefix + name` with the expected shape.
    func tensor(_ name: String, shape: [Int]) -> FloatTensor { binder.bind(prefix + name, shape: shape) }
}

/// `nn.Linear(in, out)`: weight [out x in] (used as stored, with CblasTrans), bias [out].
struct Linear {
    let weight: FloatTensor  // [out x in]; empty once packed
    let bias: FloatTensor    // [out]
    let inFeatures: Int
    let outFeatures: Int
    /// The weights packed for ``PackedGemm`` (see `packed`), or nil on the OpenBLAS path.
    let packed: PackedLinear?

    init(_ vb: WeightPath, inFeatures: Int, outFeatures: Int) {
        weight = vb.tensor("weight", shape: [outFeatures, inFeatures])
        bias = vb.tensor("bias", shape: [outFeatures])
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        packed = nil
    }

    init(weight: FloatTensor, bias: FloatTensor, inFeatures: Int, outFeatures: Int, packed: PackedLinear? = nil) {
        self.weight = weight
        self.bias = bias
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.packed = packed
    }

    /// Both tensors were bound with their expected sizes.
    var isBound: Bool { weight.count == inFeatures * outFeatures && bias.count == outFeatures }
}

/// `nn.LayerNorm(hidden, eps)`: weight (gamma) and bias (beta), both [hidden].
struct LayerNormWeights {
    let gamma: FloatTensor  // [hidden]
    let beta: FloatTensor   // [hidden]
    let eps: Float

    init(_ vb: WeightPath, size: Int, eps: Float) {
        gamma = vb.tensor("weight", shape: [size])
        beta = vb.tensor("bias", shape: [size])
        self.eps = eps
    }
}
