import StrictJSON

/// The validated content of a header.
struct ValidatedHeader {
    var metadata: [String: String]
    /// Sorted by data offset.
    var tensors: [TensorInfo]
    /// N, the JSON header's length; the data buffer starts at `8 + headerLength`.
    var headerLength: Int
}

/// Validates a whole safetensors file held in `buffer`, in the order of the reference reader
/// (`safetensors/src/tensor.rs`, `SafeTensors::read_metadata` and `Metadata::validate`, HEAD `24b0b28`),
/// plus the stricter checks the spec states but the reference skips (leading `{`, duplicate keys,
/// unknown fields, control characters in names, caps on tensor count and nesting).
///
/// Only `buffer` is read; nothing proportional to the declared header length is allocated before
/// that length has been checked against the cap and the file size.
func validateSafeTensors(
    _ buffer: UnsafeRawBufferPointer, file: String, limits: SafeTensorsFile.Limits
) throws(SafeTensorsError) -> ValidatedHeader {
    // 8 bytes: N, an unsigned little-endian u64.
    guard buffer.count >= 8 else { throw .fileTooSmall(file: file, size: buffer.count) }
    let declared = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
    if declared == 0 { throw .emptyHeader(file: file) }
    if declared > UInt64(max(0, limits.maxHeaderBytes)) {
        throw .headerTooLarge(file: file, declared: declared, limit: limits.maxHeaderBytes)
    }
    let available = buffer.count - 8
    if declared > UInt64(available) { throw .headerExceedsFile(file: file, declared: declared, available: available) }
    let headerLength = Int(declared)  // <= available, so it fits
    let header = UnsafeRawBufferPointer(rebasing: buffer[8..<(8 + headerLength)])

    // "The header data MUST begin with a `{` character (0x7B)."
    if header[0] != UInt8(ascii: "{") {
        throw .headerMustStartWithBrace(file: file, found: describeLeadingBytes(header))
    }

    // Bound the tensor count before building a JSON tree for it (a 100 MB header can hold ~1.5 million
    // empty entries); the exact count is checked again after parsing.
    let members = topLevelMemberCount(header)
    if members > limits.maxTensorCount + 1 {  // + 1: one member may be __metadata__
        throw .tooManyTensors(file: file, count: members - 1, limit: limits.maxTensorCount)
    }

    let root: JSONValue
    do {
        root = try JSONParser.parse(header, maxDepth: limits.maxJSONDepth)
    } catch {
        if error.kind == .invalidUTF8 { throw .headerNotUTF8(file: file, byteOffset: 8 + error.offset) }
        throw .invalidHeaderJSON(file: file, error: error)
    }
    // A document that starts with `{` and parses is an object; the guard only keeps the types honest.
    guard let object = root.objectValue else { throw .headerMustStartWithBrace(file: file, found: root.kindName) }

    var metadata: [String: String] = [:]
    var entries: [TensorInfo] = []
    let tensorCount = object.count - (object["__metadata__"] == nil ? 0 : 1)
    if tensorCount > limits.maxTensorCount {
        throw .tooManyTensors(file: file, count: tensorCount, limit: limits.maxTensorCount)
    }
    entries.reserveCapacity(tensorCount)

    for (name, value) in object.members {
        if name.utf8.elementsEqual("__metadata__".utf8) {
            metadata = try parseMetadata(value, file: file)
            continue
        }
        try checkName(name, file: file, limits: limits)
        entries.append(try parseEntry(name: name, value, file: file))
    }

    // Sort by offsets (the reference sorts too, so header order does not matter); ties broken by
    // end then name bytes so the order is deterministic.
    entries.sort { a, b in
        if a.dataOffsets.lowerBound != b.dataOffsets.lowerBound { return a.dataOffsets.lowerBound < b.dataOffsets.lowerBound }
        if a.dataOffsets.upperBound != b.dataOffsets.upperBound { return a.dataOffsets.upperBound < b.dataOffsets.upperBound }
        return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
    }

    // Metadata::validate: contiguous from 0, no hole, no overlap, e >= s, and
    // e - s == product(shape) * bitsize / 8 computed with checked arithmetic.
    var start = 0
    var previous: String? = nil
    for info in entries {
        let begin = info.dataOffsets.lowerBound
        let end = info.dataOffsets.upperBound
        if begin > start { throw .gapBeforeTensor(file: file, tensor: info.name, expectedBegin: start, begin: begin) }
        if begin < start, let previous {
            throw .overlappingTensors(file: file, tensor: info.name, previous: previous, begin: begin, previousEnd: start)
        }
        var elements = 1
        for dimension in info.shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            if overflow { throw .sizeOverflow(file: file, tensor: info.name, dtype: info.dtype, shape: info.shape) }
            elements = product
        }
        let (bits, overflow) = elements.multipliedReportingOverflow(by: info.dtype.bitSize)
        if overflow { throw .sizeOverflow(file: file, tensor: info.name, dtype: info.dtype, shape: info.shape) }
        if bits % 8 != 0 {
            throw .subByteMisaligned(file: file, tensor: info.name, dtype: info.dtype, elementCount: elements)
        }
        if end - begin != bits / 8 {
            throw .sizeMismatch(
                file: file, tensor: info.name, dtype: info.dtype, shape: info.shape,
                expectedBytes: bits / 8, actualBytes: end - begin)
        }
        start = end
        previous = info.name
    }

    // "The byte buffer needs to be entirely indexed, and cannot contain holes": last end + 8 + N == file size.
    let dataSize = available - headerLength
    if start < dataSize { throw .trailingBytes(file: file, count: dataSize - start) }
    if start > dataSize {
        let (expected, overflow) = start.addingReportingOverflow(8 + headerLength)
        throw .truncatedData(file: file, expectedSize: overflow ? Int.max : expected, actualSize: buffer.count)
    }
    return ValidatedHeader(metadata: metadata, tensors: entries, headerLength: headerLength)
}

/// `__metadata__`: absent or null, or an object whose values are all strings
/// ("Arbitrary JSON is not allowed, all values must be strings").
private func parseMetadata(_ value: JSONValue, file: String) throws(SafeTensorsError) -> [String: String] {
    if value.isNull { return [:] }
    guard let object = value.objectValue else { throw .invalidMetadata(file: file, key: nil, found: value.kindName) }
    var result: [String: String] = [:]
    for (key, member) in object.members {
        guard let string = member.stringValue else {
            // A tensor entry under the reserved name (safetensors issue #849: writers produce it).
            if object["data_offsets"] != nil && object["dtype"] != nil { throw .reservedTensorName(file: file) }
            throw .invalidMetadata(file: file, key: key, found: member.kindName)
        }
        // Keys are distinct byte-wise (the parser rejects duplicates) but Swift's String keys compare
        // canonically: refuse two keys that would collapse into one entry.
        if result.updateValue(string, forKey: key) != nil {
            throw .invalidMetadata(file: file, key: key, found: "a second key canonically equal to it")
        }
    }
    return result
}

private func checkName(_ name: String, file: String, limits: SafeTensorsFile.Limits) throws(SafeTensorsError) {
    if name.isEmpty { throw .invalidTensorName(file: file, tensor: name, reason: "the name is empty") }
    let length = name.utf8.count
    if length > limits.maxNameBytes {
        throw .invalidTensorName(
            file: file, tensor: name, reason: "the name is \(length) bytes long, the limit is \(limits.maxNameBytes)")
    }
    // Cc: U+0000...U+001F, U+007F...U+009F (NUL names hide suffixes in C strings; safetensors Huntr 8317f258).
    for scalar in name.unicodeScalars where scalar.properties.generalCategory == .control {
        throw .invalidTensorName(
            file: file, tensor: name,
            reason: "contains the control character U+\(String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4))")
    }
}

private let allowedFields: Set<String> = ["dtype", "shape", "data_offsets"]

private func parseEntry(name: String, _ value: JSONValue, file: String) throws(SafeTensorsError) -> TensorInfo {
    guard let entry = value.objectValue else { throw .tensorEntryNotObject(file: file, tensor: name, found: value.kindName) }
    for key in entry.keys where !allowedFields.contains(where: { $0.utf8.elementsEqual(key.utf8) }) {
        throw .unknownField(file: file, tensor: name, field: key)
    }
    guard let dtypeValue = entry["dtype"] else { throw .missingField(file: file, tensor: name, field: "dtype") }
    guard let shapeValue = entry["shape"] else { throw .missingField(file: file, tensor: name, field: "shape") }
    guard let offsetsValue = entry["data_offsets"] else { throw .missingField(file: file, tensor: name, field: "data_offsets") }

    guard let dtypeName = dtypeValue.stringValue else {
        throw .unknownDType(file: file, tensor: name, dtype: "(\(dtypeValue.kindName), not a string)")
    }
    guard let dtype = DType.allCases.first(where: { $0.rawValue.utf8.elementsEqual(dtypeName.utf8) }) else {
        throw .unknownDType(file: file, tensor: name, dtype: quoted(dtypeName))
    }

    guard let dims = shapeValue.arrayValue else {
        throw .invalidShape(file: file, tensor: name, reason: "expected an array of integers, found \(shapeValue.kindName)")
    }
    var shape: [Int] = []
    shape.reserveCapacity(dims.count)
    for (i, dim) in dims.enumerated() {
        guard let n = exactNonNegativeInt(dim) else {
            throw .invalidShape(file: file, tensor: name, reason: "dimension \(i) is \(render(dim)), not a non-negative integer")
        }
        shape.append(n)
    }

    guard let offsets = offsetsValue.arrayValue else {
        throw .invalidDataOffsets(file: file, tensor: name, reason: "expected [begin, end], found \(offsetsValue.kindName)")
    }
    guard offsets.count == 2 else {
        throw .invalidDataOffsets(file: file, tensor: name, reason: "expected 2 integers [begin, end], found \(offsets.count) elements")
    }
    guard let begin = exactNonNegativeInt(offsets[0]) else {
        throw .invalidDataOffsets(file: file, tensor: name, reason: "begin is \(render(offsets[0])), not a non-negative integer")
    }
    guard let end = exactNonNegativeInt(offsets[1]) else {
        throw .invalidDataOffsets(file: file, tensor: name, reason: "end is \(render(offsets[1])), not a non-negative integer")
    }
    if end < begin { throw .reversedOffsets(file: file, tensor: name, begin: begin, end: end) }
    return TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
}

/// A JSON integer literal without sign, fraction or exponent that fits in `Int` (serde's `usize` rule
/// on a 64-bit machine; `4e0`, `4.0`, `-0` and `01` are refused like the reference refuses them).
private func exactNonNegativeInt(_ value: JSONValue) -> Int? {
    guard let n = value.numberValue?.exactUInt64, n <= UInt64(Int.max) else { return nil }
    return Int(n)
}

private func render(_ value: JSONValue) -> String {
    if let number = value.numberValue { return number.literal.count > 40 ? "a \(number.literal.count)-digit number" : number.literal }
    if let string = value.stringValue { return "the string \(quoted(string))" }
    return value.kindName
}

/// Members of the top-level object, counted as `:` outside strings at nesting depth 1: exact for valid
/// JSON, and only a bound for the check above on invalid JSON, which the parser then rejects.
func topLevelMemberCount(_ header: UnsafeRawBufferPointer) -> Int {
    var depth = 0
    var count = 0
    var inString = false
    var i = 0
    while i < header.count {
        let byte = header[i]
        if inString {
            if byte == UInt8(ascii: "\\") { i += 1 } else if byte == UInt8(ascii: "\"") { inString = false }
        } else {
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ":") where depth == 1: count += 1
            default: break
            }
        }
        i += 1
    }
    return count
}

private func describeLeadingBytes(_ header: UnsafeRawBufferPointer) -> String {
    if header.count >= 3, header[0] == 0xEF, header[1] == 0xBB, header[2] == 0xBF { return "a UTF-8 byte order mark" }
    switch header[0] {
    case 0x20, 0x09, 0x0A, 0x0D: return "whitespace (byte 0x\(String(header[0], radix: 16, uppercase: true).leftPadded(to: 2)))"
    case 0x21...0x7E: return "'\(Character(Unicode.Scalar(header[0])))'"
    default: return "byte 0x\(String(header[0], radix: 16, uppercase: true).leftPadded(to: 2))"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
