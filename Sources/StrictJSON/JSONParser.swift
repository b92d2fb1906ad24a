/// What is wrong with a JSON document, and where (byte offset, 1-based line and column).
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        case invalidUTF8
        case byteOrderMark
        case unexpectedEnd
        case unexpectedCharacter(String)
        case trailingCharacters
        case duplicateKey(String)
        case invalidNumber
        case invalidEscape
        case loneSurrogate
        case controlCharacterInString
        case tooDeep(limit: Int)
    }

    public let kind: Kind
    public let offset: Int
    public let line: Int
    public let column: Int

    public var description: String {
        let what: String
        switch kind {
        case .invalidUTF8: what = "invalid UTF-8"
        case .byteOrderMark: what = "starts with a UTF-8 byte order mark, which JSON does not allow"
        case .unexpectedEnd: what = "unexpected end of the document"
        case .unexpectedCharacter(let c): what = "unexpected character \(c)"
        case .trailingCharacters: what = "trailing characters after the JSON value"
        case .duplicateKey(let k): what = "duplicate key \"\(k.debugDescription.dropFirst().dropLast())\""
        case .invalidNumber: what = "invalid number"
        case .invalidEscape: what = "invalid escape sequence in a string"
        case .loneSurrogate: what = "\\u escape of a lone UTF-16 surrogate"
        case .controlCharacterInString: what = "unescaped control character in a string"
        case .tooDeep(let limit): what = "nested deeper than \(limit) levels"
        }
        return "\(what) at line \(line), column \(column) (byte \(offset))"
    }
}

/// A strict JSON (RFC 8259) parser for untrusted files.
///
/// Stricter than Foundation on purpose: invalid UTF-8, a byte order mark, duplicate
/// object keys, lone surrogates and nesting beyond `maxDepth` are errors, and numbers
/// keep their literal text so integers are never rounded through `Double`.
public enum JSONParser {
    /// Parses one JSON value; only whitespace may follow it.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 64) throws(JSONError) -> JSONValue {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { (buffer) throws(JSONError) -> JSONValue in
            var reader = Reader(bytes: buffer, maxDepth: maxDepth)
            return try reader.document()
        }
    }
}

private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var position = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func document() throws(JSONError) -> JSONValue {
        if let bad = UTF8Validation.firstInvalidByte(bytes) { throw error(.invalidUTF8, at: bad) }
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { throw error(.byteOrderMark, at: 0) }
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if position < bytes.count { throw error(.trailingCharacters, at: position) }
        return value
    }

    // MARK: Values

    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
        switch bytes[position] {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try parseArray(depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw unexpected()
        }
    }

    mutating func parseObject(depth: Int) throws(JSONError) -> JSONObject {
        if depth > maxDepth { throw error(.tooDeep(limit: maxDepth), at: position) }
        position += 1  // {
        var members: [(key: String, value: JSONValue)] = []
        var index: [[UInt8]: Int] = [:]
        skipWhitespace()
        if peek(UInt8(ascii: "}")) { position += 1; return JSONObject(members: members, index: index) }
        while true {
            skipWhitespace()
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            guard bytes[position] == UInt8(ascii: "\"") else { throw unexpected() }
            let keyStart = position
            let key = try parseString()
            let keyBytes = Array(key.utf8)
            if index[keyBytes] != nil { throw error(.duplicateKey(key), at: keyStart) }
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            let value = try parseValue(depth: depth)
            index[keyBytes] = members.count
            members.append((key, value))
            skipWhitespace()
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; return JSONObject(members: members, index: index) }
            throw unexpected()
        }
    }

    mutating func parseArray(depth: Int) throws(JSONError) -> [JSONValue] {
        if depth > maxDepth { throw error(.tooDeep(limit: maxDepth), at: position) }
        position += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) { position += 1; return elements }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; return elements }
            throw unexpected()
        }
    }

    /// number = [ minus ] int [ frac ] [ exp ]; int = zero / ( digit1-9 *DIGIT )
    mutating func parseNumber() throws(JSONError) -> JSONNumber {
        let start = position
        if peek(UInt8(ascii: "-")) { position += 1 }
        guard position < bytes.count, isDigit(bytes[position]) else { throw error(.invalidNumber, at: start) }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, isDigit(bytes[position]) { throw error(.invalidNumber, at: start) }  // leading zero
        } else {
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if peek(UInt8(ascii: ".")) {
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw error(.invalidNumber, at: start) }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count, isDigit(bytes[position]) else { throw error(.invalidNumber, at: start) }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        return JSONNumber(literal: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
    }

    /// The document was checked to be valid UTF-8 up front, so raw runs can be decoded directly.
    mutating func parseString() throws(JSONError) -> String {
        position += 1  // opening quote
        var runStart = position
        var scratch: [UInt8] = []
        var escaped = false
        while true {
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeBufferPointer(rebasing: bytes[runStart..<position])
                position += 1
                if !escaped { return String(decoding: run, as: UTF8.self) }
                scratch.append(contentsOf: run)
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte < 0x20 { throw error(.controlCharacterInString, at: position) }
            if byte != UInt8(ascii: "\\") { position += 1; continue }
            escaped = true
            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
            let escapeStart = position
            position += 1
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            let code = bytes[position]
            position += 1
            switch code {
            case UInt8(ascii: "\""): scratch.append(0x22)
            case UInt8(ascii: "\\"): scratch.append(0x5C)
            case UInt8(ascii: "/"): scratch.append(0x2F)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(escapeStart)
                if (0xD800...0xDBFF).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                    else { throw error(.loneSurrogate, at: escapeStart) }
                    position += 2
                    let low = try hex4(escapeStart)
                    guard (0xDC00...0xDFFF).contains(low) else { throw error(.loneSurrogate, at: escapeStart) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error(.loneSurrogate, at: escapeStart)
                }
                scratch.append(contentsOf: Array(String(Unicode.Scalar(scalar)!).utf8))
            default:
                throw error(.invalidEscape, at: escapeStart)
            }
            runStart = position
        }
    }

    mutating func hex4(_ escapeStart: Int) throws(JSONError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error(.invalidEscape, at: escapeStart) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[position]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw error(.invalidEscape, at: escapeStart)
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    // MARK: Helpers

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    func peek(_ byte: UInt8) -> Bool { position < bytes.count && bytes[position] == byte }

    func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    mutating func expect(_ byte: UInt8) throws(JSONError) {
        guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
        guard bytes[position] == byte else { throw unexpected() }
        position += 1
    }

    mutating func expectLiteral(_ word: StaticString) throws(JSONError) {
        let start = position
        for expected in UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount) {
            guard position < bytes.count else { throw error(.unexpectedEnd, at: position) }
            guard bytes[position] == expected else { throw error(.unexpectedCharacter(describe(bytes[start])), at: start) }
            position += 1
        }
    }

    func unexpected() -> JSONError {
        error(.unexpectedCharacter(describe(bytes[position])), at: position)
    }

    func describe(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    func error(_ kind: JSONError.Kind, at offset: Int) -> JSONError {
        var line = 1
        var lineStart = 0
        for i in 0..<min(offset, bytes.count) where bytes[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        return JSONError(kind: kind, offset: offset, line: line, column: offset - lineStart + 1)
    }
}

/// UTF-8 validation that reports where the input goes wrong (shared by the JSON parser, the
/// tokenizer's byte input and the batch reader, so every layer agrees on what is valid).
public enum UTF8Validation {
    /// The offset of the first byte that is not part of well-formed UTF-8, or `nil`.
    /// Rejects overlong forms, surrogates (U+D800...U+DFFF) and values above U+10FFFF.
    public static func firstInvalidByte(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { firstInvalidByte($0) }
    }

    /// The same for bytes already in memory.
    public static func firstInvalidByte(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 { i += 1; continue }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch b0 {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            let b1 = bytes[i + 1]
            guard b1 >= low && b1 <= high else { return i }
            for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return i }
            i += length
        }
        return nil
    }
}
