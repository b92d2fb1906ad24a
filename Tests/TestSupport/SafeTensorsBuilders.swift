/// Hand-built safetensors files, shared by the library's tests (Tests/SafeTensorsTests) and the
/// end-to-end tests of the binary (Tests/EncoderCLITests), so both feed the same bytes.

/// A file built by hand: the 8-byte little-endian length (the header's own length unless `declared`
/// is given), the header text as UTF-8, then `data`.
public func rawFile(_ header: String, data: [UInt8] = [], declared: UInt64? = nil) -> [UInt8] {
    rawFile(bytes: Array(header.utf8), data: data, declared: declared)
}

public func rawFile(bytes header: [UInt8], data: [UInt8] = [], declared: UInt64? = nil) -> [UInt8] {
    le(declared ?? UInt64(header.count)) + header + data
}

/// The little-endian bytes of `value`.
public func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}

/// One tensor entry in header JSON (F32 unless `dtype` says otherwise).
public func entry(_ name: String, _ dtype: String = "F32", shape: [Int], _ begin: Int, _ end: Int) -> String {
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(end)]}"
}

/// One malformed file per case of the hostile-safetensors catalogue (numbered) that the reader must refuse, with
/// words its message must contain. MalformedFileTests checks each case's exact error at the
/// library level; the CLI suite feeds these bytes to `encoder run` as a model.safetensors.
public enum MalformedSafeTensors {
    public struct Case: Sendable {
        public var number: Int
        public var what: String
        public var bytes: [UInt8]
        public var mentions: [String]
    }

    static let f32x1 = le(Float(1.5).bitPattern)

    public static let cases: [Case] = [
        Case(number: 1, what: "0-byte file", bytes: [], mentions: ["header too small"]),
        Case(number: 2, what: "7-byte file", bytes: [1, 0, 0, 0, 0, 0, 0], mentions: ["header too small", "7 bytes"]),
        Case(number: 3, what: "header length 0", bytes: le(UInt64(0)) + Array("{}".utf8), mentions: ["empty header"]),
        Case(number: 4, what: "header longer than the file", bytes: rawFile("{}", declared: 100), mentions: ["100 bytes declared", "2 bytes follow"]),
        Case(number: 5, what: "header length 2^64-1", bytes: rawFile("{}", declared: UInt64.max), mentions: ["header too large", "18446744073709551615"]),
        Case(number: 5, what: "header length 2^63", bytes: rawFile("{}", declared: 1 << 63), mentions: ["header too large", "9223372036854775808"]),
        Case(number: 6, what: "header length 100,000,001", bytes: rawFile("{}", declared: 100_000_001), mentions: ["header too large", "100000000"]),
        Case(number: 7, what: "header not UTF-8", bytes: rawFile(bytes: Array(#"{"a"#.utf8) + [0xFF] + Array(#"":1}"#.utf8)), mentions: ["invalid UTF-8", "byte 11"]),
        Case(number: 8, what: "header is an array", bytes: rawFile("[]"), mentions: ["must begin with '{'"]),
        Case(number: 8, what: "header is an unfinished object", bytes: rawFile("{"), mentions: ["invalid JSON"]),
        Case(number: 9, what: "header starts with whitespace", bytes: rawFile(" {}"), mentions: ["must begin with '{'", "whitespace"]),
        Case(number: 10, what: "header padded with NUL", bytes: rawFile(bytes: Array("{}".utf8) + [0, 0]), mentions: ["invalid JSON"]),
        Case(number: 11, what: "byte order mark", bytes: rawFile(bytes: [0xEF, 0xBB, 0xBF] + Array("{}".utf8)), mentions: ["byte order mark"]),
        Case(number: 12, what: "unknown dtype F128", bytes: rawFile("{" + entry("a", "F128", shape: [1], 0, 4) + "}", data: f32x1), mentions: ["unknown dtype", "F128", "\"a\""]),
        Case(number: 14, what: "negative offset", bytes: rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,4]}}"#, data: f32x1), mentions: ["data_offsets", "-4"]),
        Case(number: 14, what: "offset above 2^64", bytes: rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}}"#, data: f32x1), mentions: ["data_offsets", "18446744073709551616"]),
        Case(number: 15, what: "three offsets", bytes: rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, data: f32x1), mentions: ["data_offsets", "3 elements"]),
        Case(number: 16, what: "reversed offsets", bytes: rawFile("{" + entry("a", shape: [1], 4, 0) + "}", data: f32x1), mentions: ["\"a\"", "before begin"]),
        Case(number: 17, what: "hole between tensors", bytes: rawFile("{" + entry("a", shape: [1], 0, 4) + "," + entry("b", shape: [1], 8, 12) + "}", data: f32x1 + f32x1 + f32x1), mentions: ["\"b\"", "belong to no tensor"]),
        Case(number: 18, what: "two names on the same bytes", bytes: rawFile("{" + entry("y", shape: [1], 0, 4) + "," + entry("x", shape: [1], 0, 4) + "}", data: f32x1), mentions: ["\"y\"", "inside tensor \"x\""]),
        Case(number: 19, what: "first tensor not at 0", bytes: rawFile("{" + entry("a", shape: [1], 4, 8) + "}", data: f32x1 + f32x1), mentions: ["\"a\"", "starts at 4"]),
        Case(number: 20, what: "bytes after the last tensor", bytes: rawFile("{" + entry("a", shape: [1], 0, 4) + "}", data: f32x1 + Array("PK\u{3}\u{4}ZIP!".utf8)), mentions: ["8 bytes follow"]),
        Case(number: 21, what: "truncated data", bytes: rawFile("{" + entry("a", shape: [2], 0, 8) + "}", data: f32x1), mentions: ["truncated"]),
        Case(number: 22, what: "shape and span disagree", bytes: rawFile("{" + entry("a", shape: [3], 0, 8) + "}", data: f32x1 + f32x1), mentions: ["\"a\"", "needs 12 bytes", "span 8"]),
        Case(number: 23, what: "shape product overflows", bytes: rawFile("{" + entry("a", shape: [4_294_967_296, 4_294_967_296], 0, 4) + "}", data: f32x1), mentions: ["\"a\"", "overflows"]),
        Case(number: 23, what: "dimension 2^64-2", bytes: rawFile(#"{"a":{"dtype":"F32","shape":[2,18446744073709551614],"data_offsets":[0,4]}}"#, data: f32x1), mentions: ["\"a\"", "invalid shape", "18446744073709551614"]),
        Case(number: 24, what: "negative dimension", bytes: rawFile(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: f32x1), mentions: ["\"a\"", "invalid shape", "-1"]),
        Case(number: 25, what: "F4 elements not filling a byte", bytes: rawFile("{" + entry("a", "F4", shape: [3], 0, 2) + "}", data: [0, 0]), mentions: ["\"a\"", "byte boundary"]),
        Case(number: 27, what: "duplicate tensor name", bytes: rawFile("{" + entry("a", shape: [1], 0, 4) + "," + entry("a", "I32", shape: [1], 0, 4) + "}", data: f32x1), mentions: ["duplicate", "\"a\""]),
        Case(number: 28, what: "duplicate __metadata__ key", bytes: rawFile(#"{"__metadata__":{"k":"1","k":"2"}}"#), mentions: ["duplicate", "\"k\""]),
        Case(number: 29, what: "__metadata__ value not a string", bytes: rawFile(#"{"__metadata__":{"x":1}}"#), mentions: ["__metadata__", "\"x\"", "a number"]),
        Case(number: 30, what: "tensor named __metadata__", bytes: rawFile("{" + entry("__metadata__", shape: [1], 0, 4) + "}", data: f32x1), mentions: ["named \"__metadata__\""]),
        Case(number: 31, what: "empty tensor name", bytes: rawFile("{" + entry("", shape: [1], 0, 4) + "}", data: f32x1), mentions: ["invalid tensor name", "empty"]),
        Case(number: 31, what: "NUL in a tensor name", bytes: rawFile("{" + entry("a\\u0000b", shape: [1], 0, 4) + "}", data: f32x1), mentions: ["invalid tensor name", "U+0000"]),
        Case(number: 31, what: "1 MB tensor name", bytes: rawFile("{" + entry(String(repeating: "w", count: 1 << 20), shape: [1], 0, 4) + "}", data: f32x1), mentions: ["invalid tensor name", "1048576 bytes long"]),
        Case(number: 32, what: "JSON nested 200 levels", bytes: rawFile("{\"__metadata__\":" + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}"), mentions: ["invalid JSON", "nest"]),
        Case(number: 33, what: "unknown field in a tensor entry", bytes: rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"strides":[1]}}"#, data: f32x1), mentions: ["\"a\"", "unknown field", "strides"]),
        Case(number: 34, what: "150,000 tensor entries", bytes: rawFile("{" + (0..<150_000).map { entry("t\($0)", "U8", shape: [0], 0, 0) }.joined(separator: ",") + "}"), mentions: ["tensor entries", "limit of 100000"]),
    ]
}
