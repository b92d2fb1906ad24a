import StrictJSON

/// Everything that can be wrong with a safetensors file, one case per failure.
///
/// Every case names the file (`file` is the path, or the `name` given to ``SafeTensorsFile/init(bytes:name:limits:)``),
/// the tensor when one is involved, what was found, and a hint when there is something to do.
/// Tensor names and other strings taken from the file are escaped in ``description`` (control
/// characters, quotes) so a hostile name cannot forge log lines.
public enum SafeTensorsError: Error, Sendable, Equatable, CustomStringConvertible {
    // MARK: The file itself
    /// The path could not be opened or inspected (`errno` from `stat`/`open`).
    case cannotOpen(file: String, errno: Int32, reason: String)
    /// The path is a directory, a FIFO, a device (e.g. a symlink to `/dev/zero`), a socket...
    case notARegularFile(file: String, kind: String)
    /// `mmap` or `pread` failed.
    case readFailed(file: String, reason: String)
    /// Fewer than the 8 bytes of the header-length prefix ("header too small" in the reference).
    case fileTooSmall(file: String, size: Int)

    // MARK: The header
    /// The length prefix is 0: there is no JSON header at all.
    case emptyHeader(file: String)
    /// The length prefix exceeds the cap (100,000,000 bytes by default, as in the reference).
    case headerTooLarge(file: String, declared: UInt64, limit: Int)
    /// The length prefix points past the end of the file ("invalid header length" in the reference).
    case headerExceedsFile(file: String, declared: UInt64, available: Int)
    /// The header is not valid UTF-8; `byteOffset` is counted from the start of the file.
    case headerNotUTF8(file: String, byteOffset: Int)
    /// The spec says the header MUST begin with `{` (0x7B); `found` describes the first byte.
    case headerMustStartWithBrace(file: String, found: String)
    /// The header is not well-formed JSON (or is too deeply nested, or repeats a key); position inside the header.
    case invalidHeaderJSON(file: String, error: JSONError)
    /// More tensor entries than the cap. `count` is exact when the header was parsed, and a lower bound
    /// (top-level members minus a possible `__metadata__`) when the header was refused before parsing.
    case tooManyTensors(file: String, count: Int, limit: Int)
    /// `__metadata__` is not an object of string values (`key` is nil when `__metadata__` itself is not an object).
    case invalidMetadata(file: String, key: String?, found: String)
    /// A tensor entry is stored under the reserved key `__metadata__`.
    case reservedTensorName(file: String)
    /// A tensor name is empty, contains a control character, or is longer than the cap.
    case invalidTensorName(file: String, tensor: String, reason: String)

    // MARK: A tensor entry
    /// The entry for a tensor is not an object.
    case tensorEntryNotObject(file: String, tensor: String, found: String)
    /// The entry lacks `dtype`, `shape` or `data_offsets`.
    case missingField(file: String, tensor: String, field: String)
    /// The entry has a field other than `dtype`, `shape`, `data_offsets` (strict, like the JSON schema).
    case unknownField(file: String, tensor: String, field: String)
    /// `dtype` is not a string naming one of ``DType``'s cases (names are case-sensitive).
    case unknownDType(file: String, tensor: String, dtype: String)
    /// `shape` is not an array of non-negative integers that fit in `Int`.
    case invalidShape(file: String, tensor: String, reason: String)
    /// `data_offsets` is not exactly two non-negative integers that fit in `Int`.
    case invalidDataOffsets(file: String, tensor: String, reason: String)

    // MARK: Layout of the data buffer
    /// `data_offsets` has end < begin.
    case reversedOffsets(file: String, tensor: String, begin: Int, end: Int)
    /// Tensors sorted by offset leave bytes no tensor owns before this one (a hole, or the first tensor not at 0).
    case gapBeforeTensor(file: String, tensor: String, expectedBegin: Int, begin: Int)
    /// This tensor starts inside the bytes of `previous` (overlap, or two names on the same bytes).
    case overlappingTensors(file: String, tensor: String, previous: String, begin: Int, previousEnd: Int)
    /// `product(shape) * bits` overflows.
    case sizeOverflow(file: String, tensor: String, dtype: DType, shape: [Int])
    /// A sub-byte dtype (F4, F6_*) whose element count does not fill whole bytes.
    case subByteMisaligned(file: String, tensor: String, dtype: DType, elementCount: Int)
    /// The byte span in `data_offsets` is not `product(shape) * bits / 8`.
    case sizeMismatch(file: String, tensor: String, dtype: DType, shape: [Int], expectedBytes: Int, actualBytes: Int)
    /// Bytes follow the last tensor (the format forbids them: polyglot files).
    case trailingBytes(file: String, count: Int)
    /// The file ends before the last tensor's data does.
    case truncatedData(file: String, expectedSize: Int, actualSize: Int)

    // MARK: Reading tensors
    /// No tensor of that name.
    case tensorNotFound(file: String, tensor: String)
    /// A valid dtype that this runtime does not convert to Float32.
    case unsupportedDType(file: String, tensor: String, dtype: DType)
    /// The tensor exists but has another shape than the model needs.
    case shapeMismatch(file: String, tensor: String, expected: [Int], actual: [Int])

    public var description: String {
        switch self {
        case .cannotOpen(let file, let errno, let reason):
            return "\(file): cannot open (errno \(errno): \(reason)); check the path and its permissions"
        case .notARegularFile(let file, let kind):
            return "\(file): not a regular file (it is \(kind)); point to a model.safetensors file"
        case .readFailed(let file, let reason):
            return "\(file): cannot read: \(reason)"
        case .fileTooSmall(let file, let size):
            return "\(file): header too small: the file has \(size) bytes, fewer than the 8-byte header length; the file is empty or truncated, download it again"
        case .emptyHeader(let file):
            return "\(file): empty header: the header length is 0, so there is no JSON header; the file is not a safetensors file or is corrupt"
        case .headerTooLarge(let file, let declared, let limit):
            return "\(file): header too large: \(declared) bytes declared, the limit is \(limit); this is not a safetensors file or it is corrupt"
        case .headerExceedsFile(let file, let declared, let available):
            return "\(file): invalid header length: \(declared) bytes declared but only \(available) bytes follow the length prefix; the file is truncated or not a safetensors file"
        case .headerNotUTF8(let file, let byteOffset):
            return "\(file): invalid UTF-8 in the header at byte \(byteOffset) of the file"
        case .headerMustStartWithBrace(let file, let found):
            return "\(file): the header must begin with '{' (0x7B) but begins with \(found)"
        case .invalidHeaderJSON(let file, let error):
            return "\(file): invalid JSON in the header: \(error) (positions counted inside the header, which starts at byte 8 of the file)"
        case .tooManyTensors(let file, let count, let limit):
            return "\(file): at least \(count) tensor entries, more than the limit of \(limit)"
        case .invalidMetadata(let file, let key, let found):
            if let key { return "\(file): __metadata__ values must be strings, but \(quoted(key)) is \(found)" }
            return "\(file): __metadata__ must be an object of strings (or null), found \(found)"
        case .reservedTensorName(let file):
            return "\(file): a tensor is named \"__metadata__\", which the format reserves for metadata; rename the tensor when writing the file"
        case .invalidTensorName(let file, let tensor, let reason):
            return "\(file): invalid tensor name \(quoted(tensor)): \(reason)"
        case .tensorEntryNotObject(let file, let tensor, let found):
            return "\(file): tensor \(quoted(tensor)): the entry must be an object with dtype, shape and data_offsets, found \(found)"
        case .missingField(let file, let tensor, let field):
            return "\(file): tensor \(quoted(tensor)): missing field \"\(field)\""
        case .unknownField(let file, let tensor, let field):
            return "\(file): tensor \(quoted(tensor)): unknown field \(quoted(field)) (only dtype, shape and data_offsets are allowed)"
        case .unknownDType(let file, let tensor, let dtype):
            return "\(file): tensor \(quoted(tensor)): unknown dtype \(dtype); known (case-sensitive): \(DType.allCases.map(\.rawValue).joined(separator: ", "))"
        case .invalidShape(let file, let tensor, let reason):
            return "\(file): tensor \(quoted(tensor)): invalid shape: \(reason)"
        case .invalidDataOffsets(let file, let tensor, let reason):
            return "\(file): tensor \(quoted(tensor)): invalid data_offsets: \(reason)"
        case .reversedOffsets(let file, let tensor, let begin, let end):
            return "\(file): tensor \(quoted(tensor)): invalid offsets: end \(end) is before begin \(begin)"
        case .gapBeforeTensor(let file, let tensor, let expectedBegin, let begin):
            return "\(file): tensor \(quoted(tensor)): invalid offsets: starts at \(begin) but the previous data ends at \(expectedBegin); bytes \(expectedBegin)..<\(begin) of the data buffer belong to no tensor"
        case .overlappingTensors(let file, let tensor, let previous, let begin, let previousEnd):
            return "\(file): tensor \(quoted(tensor)): invalid offsets: starts at \(begin), inside tensor \(quoted(previous)) which ends at \(previousEnd); every byte must have exactly one owner"
        case .sizeOverflow(let file, let tensor, let dtype, let shape):
            return "\(file): tensor \(quoted(tensor)): the size of a \(dtype.rawValue) tensor of shape \(shape) overflows"
        case .subByteMisaligned(let file, let tensor, let dtype, let elementCount):
            return "\(file): tensor \(quoted(tensor)): \(elementCount) elements of \(dtype.rawValue) (\(dtype.bitSize) bits) do not end on a byte boundary"
        case .sizeMismatch(let file, let tensor, let dtype, let shape, let expectedBytes, let actualBytes):
            return "\(file): tensor \(quoted(tensor)): a \(dtype.rawValue) tensor of shape \(shape) needs \(expectedBytes) bytes but data_offsets span \(actualBytes)"
        case .trailingBytes(let file, let count):
            return "\(file): \(count) bytes follow the last tensor's data; the format forbids unindexed bytes (polyglot files)"
        case .truncatedData(let file, let expectedSize, let actualSize):
            return "\(file): truncated: the header describes a file of \(expectedSize) bytes but it has \(actualSize); download it again"
        case .tensorNotFound(let file, let tensor):
            return "\(file): no tensor named \(quoted(tensor)); the checkpoint does not match the model architecture"
        case .unsupportedDType(let file, let tensor, let dtype):
            return "\(file): unsupported dtype \(dtype.rawValue) for tensor \(quoted(tensor)); only F32, F16 and BF16 can be read as Float32, convert the checkpoint"
        case .shapeMismatch(let file, let tensor, let expected, let actual):
            return "\(file): tensor \(quoted(tensor)) has shape \(actual) but \(expected) is expected; the checkpoint does not match config.json"
        }
    }
}

/// A string from the file, quoted with control characters, quotes and backslashes escaped, and cut at 200 characters.
func quoted(_ s: String) -> String {
    var out = "\""
    var count = 0
    for scalar in s.unicodeScalars {
        if count == 200 { out += "...(\(s.unicodeScalars.count) characters)"; break }
        count += 1
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        default:
            if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format
                || scalar == "\u{2028}" || scalar == "\u{2029}"
            {
                out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
