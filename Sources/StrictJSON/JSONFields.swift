/// A value of a configuration file that is not what the reader expected: which file, which key
/// (a path from the top of the document, e.g. `normalizer.lowercase` or `added_tokens[3].id`),
/// what was expected and what was found.
///
/// Every loader of a model file reads its fields through ``JSONFields`` and wraps this error in
/// its module's error type, so a wrong field reads the same whichever file it is in.
public struct JSONFieldError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    /// The key path from the top of the document; empty for the document itself.
    public let keyPath: String
    /// What the value must be ("a string", "an integer in 1...512", "one of \"cls\", \"mean\"").
    public let expected: String
    /// The value found, as ``JSONValue/summary`` renders it; `nil` when the key is absent.
    public let found: String?
    /// What to do about it, or why the value is refused, when the expectation alone does not say.
    public let hint: String?

    public init(file: String, keyPath: String, expected: String, found: String?, hint: String? = nil) {
        self.file = file
        self.keyPath = keyPath
        self.expected = expected
        self.found = found
        self.hint = hint
    }

    /// The message without the file name, for error types that print the file themselves.
    public var message: String {
        let key = keyPath.isEmpty ? "the document" : keyPath
        let what = found.map { "\(key) must be \(expected), found \($0)" } ?? "\(key) is missing; it must be \(expected)"
        return hint.map { "\(what); \($0)" } ?? what
    }

    public var description: String { "\(file): \(message)" }
}

/// Typed reading of one JSON object of a configuration file, keeping the file name and the key
/// path for errors.
///
/// `reader["key"]` is the value at a key, which must be present and not null for the typed
/// accessors of ``JSONField`` to succeed; `reader.optional("key")` is `nil` when the key is
/// absent or null, so a Hugging Face default reads `try reader.optional("bias")?.bool() ?? true`.
/// Nested objects and array elements extend the key path: `reader["normalizer"].object()["lowercase"]`
/// reports `normalizer.lowercase`.
public struct JSONFields: Sendable {
    public let object: JSONObject
    public let file: String
    /// The key path of this object from the top of the document; empty at the top.
    public let keyPath: String

    public init(_ object: JSONObject, file: String, keyPath: String = "") {
        self.object = object
        self.file = file
        self.keyPath = keyPath
    }

    /// A whole document, whose top level must be an object.
    public init(document: JSONValue, file: String) throws(JSONFieldError) {
        self = try JSONField(document, file: file, keyPath: "").object()
    }

    /// The value at `key`, absent or not.
    public subscript(key: String) -> JSONField {
        JSONField(object[key], file: file, keyPath: JSONField.join(keyPath, key))
    }

    /// The value at `key`, or `nil` when the key is absent or null (transformers and
    /// sentence-transformers treat an explicit null as "use the default").
    public func optional(_ key: String) -> JSONField? {
        guard let value = object[key], !value.isNull else { return nil }
        return JSONField(value, file: file, keyPath: JSONField.join(keyPath, key))
    }

    /// The members in file order, each with its key path.
    public var members: [(key: String, value: JSONField)] {
        object.members.map { ($0.key, JSONField($0.value, file: file, keyPath: JSONField.join(keyPath, $0.key))) }
    }

    public var count: Int { object.count }
}

/// One value of a configuration file at a key path, read as a type or refused with a ``JSONFieldError``.
///
/// Each accessor requires the value: an absent key and null are errors (use
/// ``JSONFields/optional(_:)`` for optional keys). Integers are exact: `3.0`, `3e0` and
/// numbers beyond `Int` are not integers.
public struct JSONField: Sendable {
    /// The value, `nil` when the key is absent.
    public let json: JSONValue?
    public let file: String
    public let keyPath: String

    public init(_ json: JSONValue?, file: String, keyPath: String) {
        self.json = json
        self.file = file
        self.keyPath = keyPath
    }

    /// An error for this value: it is not `expected` (for checks the accessors do not cover).
    public func invalid(_ expected: String, hint: String? = nil) -> JSONFieldError {
        JSONFieldError(file: file, keyPath: keyPath, expected: expected, found: json?.summary, hint: hint)
    }

    public func string() throws(JSONFieldError) -> String {
        guard let s = json?.stringValue else { throw invalid("a string") }
        return s
    }

    public func bool() throws(JSONFieldError) -> Bool {
        guard let b = json?.boolValue else { throw invalid("true or false") }
        return b
    }

    /// An exact integer, within `range` when one is given.
    public func int(in range: ClosedRange<Int>? = nil) throws(JSONFieldError) -> Int {
        let expected = range.map { Self.describe($0) } ?? "an integer"
        guard let n = json?.numberValue?.exactInt else { throw invalid(expected) }
        if let range, !range.contains(n) { throw invalid(expected) }
        return n
    }

    /// An exact integer of at least `minimum` (written `1...` at the call).
    public func int(in range: PartialRangeFrom<Int>) throws(JSONFieldError) -> Int {
        try int(in: range.lowerBound...Int.max)
    }

    /// A finite number (integers included), rounded to the nearest `Double` as every JSON reader does.
    public func double() throws(JSONFieldError) -> Double {
        guard let d = json?.numberValue?.doubleValue, d.isFinite else { throw invalid("a number") }
        return d
    }

    /// A number exactly as written, for fields with their own reading (e.g. `1e30` meaning "no limit").
    public func number() throws(JSONFieldError) -> JSONNumber {
        guard let n = json?.numberValue else { throw invalid("a number") }
        return n
    }

    /// A string naming one of `E`'s cases by raw value; the error lists every allowed value.
    public func oneOf<E: RawRepresentable & CaseIterable>(_ type: E.Type, hint: String? = nil) throws(JSONFieldError) -> E
    where E.RawValue == String {
        try oneOf(E.allCases.map(\.rawValue), hint: hint) { E(rawValue: $0) }
    }

    /// A string that `parse` accepts; the error lists `allowed`.
    public func oneOf<T>(_ allowed: [String], hint: String? = nil, _ parse: (String) -> T?) throws(JSONFieldError) -> T {
        let expected = "one of " + allowed.map { $0.debugDescription }.joined(separator: ", ")
        guard let s = json?.stringValue, let value = parse(s) else { throw invalid(expected, hint: hint) }
        return value
    }

    public func object() throws(JSONFieldError) -> JSONFields {
        guard let o = json?.objectValue else { throw invalid("an object") }
        return JSONFields(o, file: file, keyPath: keyPath)
    }

    /// The elements, each with its key path (`key[i]`).
    public func array() throws(JSONFieldError) -> [JSONField] {
        guard let a = json?.arrayValue else { throw invalid("an array") }
        return a.enumerated().map { JSONField($0.element, file: file, keyPath: "\(keyPath)[\($0.offset)]") }
    }

    /// `parent.key`, or `parent["key"]` for a key that is not a plain identifier (vocabulary
    /// tokens, names with dots), so the path stays readable and unambiguous.
    static func join(_ parent: String, _ key: String) -> String {
        let plain = !key.isEmpty && key.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
        }
        if !plain { return parent + "[\(key.debugDescription)]" }
        return parent.isEmpty ? key : parent + "." + key
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        switch (range.lowerBound, range.upperBound) {
        case (Int.min, Int.max): "an integer"
        case (0, Int.max): "a non-negative integer"
        case (1, Int.max): "a positive integer"
        case (let low, Int.max): "an integer of at least \(low)"
        case (let low, let high): "an integer in \(low)...\(high)"
        }
    }
}
