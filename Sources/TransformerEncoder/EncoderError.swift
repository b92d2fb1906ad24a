import StrictJSON

// The one error type of the TransformerEncoder module: every case names the file, tensor or
// input at fault and, where there is one, the fix.

/// A tensor whose shape differs from what the configuration implies.
public struct ShapeMismatch: Equatable, Sendable, CustomStringConvertible {
    /// Full checkpoint key, e.g. `encoder.layer.3.attention.self.query.weight`.
    public let name: String
    public let expected: [Int]
    public let actual: [Int]
    public var description: String { "\(name): expected shape \(expected), found \(actual)" }
}

/// A tensor the provider listed but could not deliver as Float32 (bad dtype, bad offsets, ...).
public struct UnreadableTensor: Equatable, Sendable, CustomStringConvertible {
    public let name: String
    public let reason: String
    public var description: String { "\(name): \(reason)" }
}

/// Everything wrong with a checkpoint relative to its configuration, gathered in one pass
/// so that a single load reports every problem.
public struct WeightProblems: Equatable, Sendable, CustomStringConvertible {
    /// Key prefix that was used to look tensors up ("" or "bert.").
    public let keyPrefix: String
    public let missing: [String]
    public let shapeMismatches: [ShapeMismatch]
    public let unreadable: [UnreadableTensor]

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("\(missing.count) missing tensor(s): \(Self.list(missing, separator: ", "))") }
        if !shapeMismatches.isEmpty {
            parts.append("\(shapeMismatches.count) shape mismatch(es): \(Self.list(shapeMismatches.map(\.description), separator: "; "))")
        }
        if !unreadable.isEmpty {
            parts.append("\(unreadable.count) unreadable tensor(s): \(Self.list(unreadable.map(\.description), separator: "; "))")
        }
        return parts.joined(separator: ". ")
    }

    /// The first few items and how many more: a checkpoint of another model can miss every
    /// tensor, and a message of a hundred names helps nobody. The full lists are in the properties.
    static func list(_ items: [String], separator: String, limit: Int = 6) -> String {
        items.count <= limit ? items.joined(separator: separator)
            : items.prefix(limit).joined(separator: separator) + separator + "and \(items.count - limit) more"
    }
}

/// Errors from loading an encoder configuration or checkpoint, or from invalid forward inputs.
public enum EncoderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The configuration file could not be read at all.
    case configUnreadable(path: String, reason: String)
    /// The configuration file is not valid JSON (strict parse).
    case configSyntax(path: String, line: Int, column: Int, reason: String)
    /// The configuration is valid JSON but not a configuration this runtime can run:
    /// wrong field type, unsupported option, inconsistent or absurd sizes.
    /// `path` is nil when the configuration was not read from a file.
    case invalidConfig(path: String?, reason: String)
    /// The checkpoint does not match the configuration (all problems at once).
    case weightsDoNotMatchConfig(WeightProblems)
    /// A forward input that would read outside the model's tables.
    case invalidInput(sequence: Int, reason: String)
    /// A field of the configuration file has the wrong type or a value outside the supported ones.
    case invalidField(JSONFieldError)
    /// ``Precision/int8`` was asked for and its kernels cannot run here (oneDNN refused the shapes).
    case int8Unavailable(reason: String)

    public var description: String {
        switch self {
        case .configUnreadable(let path, let reason):
            "cannot read model config \(path): \(reason)"
        case .configSyntax(let path, let line, let column, let reason):
            "model config \(path) is not valid JSON (line \(line), column \(column)): \(reason)"
        case .invalidConfig(let path, let reason):
            "invalid model config\(path.map { " \($0)" } ?? ""): \(reason)"
        case .weightsDoNotMatchConfig(let problems):
            "checkpoint does not match the model config: \(problems). "
                + "Check that config.json and the weights come from the same model."
        case .invalidInput(let sequence, let reason):
            "invalid input sequence \(sequence): \(reason)"
        case .invalidField(let error):
            "invalid model config \(error.file): \(error.message)"
        case .int8Unavailable(let reason):
            "int8 precision is not available on this machine: \(reason). Use precision fp32 (the default)."
        }
    }
}
