/// A JSON document as parsed by ``JSONParser``: every number kept as its source
/// text, object members kept in file order.
///
/// Foundation's parsers accept duplicate keys (on Linux `JSONSerialization` keeps
/// the last value, `JSONDecoder` the first) and read integers through `Double`.
/// Model files are untrusted, so this module parses JSON itself and rejects what
/// those parsers would let through silently.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A short name of the value's kind, for error messages ("expected an object, found an array").
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value as a short text for error messages: numbers, booleans and short
    /// strings as written, containers by their kind. A file is untrusted, so long strings
    /// and numbers are cut or counted, never copied whole into a message.
    public var summary: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n.literal.utf8.count <= 40 ? n.literal : "a number of \(n.literal.utf8.count) characters"
        case .string(let s): s.count <= 40 ? s.debugDescription : String(s.prefix(40)).debugDescription + "..."
        case .array, .object: kindName
        }
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var numberValue: JSONNumber? {
        if case .number(let n) = self { return n }
        return nil
    }

    public var isNull: Bool { self == .null }
}

/// A JSON number exactly as written in the file.
public struct JSONNumber: Equatable, Sendable, CustomStringConvertible {
    /// The literal, e.g. `"384"`, `"-1e-12"`, `"0.02"`.
    public let literal: String

    public init(literal: String) { self.literal = literal }

    /// The value when the literal is a plain non-negative integer (no sign,
    /// fraction or exponent) that fits in `UInt64`; `nil` otherwise.
    public var exactUInt64: UInt64? {
        guard !literal.isEmpty, literal.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(literal)
    }

    /// The value when the literal is an integer without fraction or exponent that fits in `Int`.
    public var exactInt: Int? { Int(literal) }

    /// The value as a `Double` (may round, as every JSON reader does for fractions).
    public var doubleValue: Double? { Double(literal) }

    public var description: String { literal }
}

/// A JSON object's members in file order. Keys are unique: the parser rejects duplicates.
public struct JSONObject: Equatable, Sendable {
    public let members: [(key: String, value: JSONValue)]
    private let index: [[UInt8]: Int]

    init(members: [(key: String, value: JSONValue)], index: [[UInt8]: Int]) {
        self.members = members
        self.index = index
    }

    /// Keys are compared byte for byte (UTF-8), not by Swift's canonical `String`
    /// equality, so `"café"` and `"cafe\u{301}"` are different keys here as in Rust.
    public subscript(key: String) -> JSONValue? {
        guard let i = index[Array(key.utf8)] else { return nil }
        return members[i].value
    }

    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { Array($0.key.utf8) == Array($1.key.utf8) && $0.value == $1.value }
    }
}
