import TestSupport
import Foundation
import Testing
@testable import SafeTensors

/// The hostile-safetensors catalogue (``MalformedSafeTensors``), one test per case number; each
/// checks the specific error.
@Suite struct MalformedFileTests {
    let f32x1 = le(Float(1.5).bitPattern)  // 4 bytes of data for a [1] F32 tensor

    /// The shared catalog the CLI suite also runs: every file is refused with the words it lists.
    @Test func sharedCatalogIsRefusedWithItsWords() {
        for c in MalformedSafeTensors.cases {
            let message = openError(c.bytes).map { String(describing: $0) } ?? "(opened)"
            #expect(c.mentions.allSatisfy { message.contains($0) }, "case \(c.number) \(c.what): \(message)")
        }
    }

    // 1, 2
    @Test func case01_02_filesShorterThanTheLengthPrefix() {
        #expect(openError([]) == .fileTooSmall(file: memory, size: 0))
        #expect(openError([1, 0, 0, 0, 0, 0, 0]) == .fileTooSmall(file: memory, size: 7))
    }

    // 3
    @Test func case03_zeroHeaderLength() {
        #expect(openError(le(UInt64(0))) == .emptyHeader(file: memory))
        #expect(openError(le(UInt64(0)) + Array("{}".utf8)) == .emptyHeader(file: memory))
    }

    // 4
    @Test func case04_headerLongerThanTheFile() {
        #expect(openError(rawFile("{}", declared: 100)) == .headerExceedsFile(file: memory, declared: 100, available: 2))
        #expect(openError(rawFile("{}", declared: 3)) == .headerExceedsFile(file: memory, declared: 3, available: 2))
    }

    // 5, 6 (and the cap is configurable)
    @Test func case05_06_headerLengthAboveTheCap() {
        #expect(openError(rawFile("{}", declared: UInt64.max))
            == .headerTooLarge(file: memory, declared: UInt64.max, limit: 100_000_000))
        #expect(openError(rawFile("{}", declared: 100_000_001))
            == .headerTooLarge(file: memory, declared: 100_000_001, limit: 100_000_000))
        var limits = SafeTensorsFile.Limits()
        limits.maxHeaderBytes = 1
        #expect(openError(rawFile("{}"), limits: limits) == .headerTooLarge(file: memory, declared: 2, limit: 1))
    }

    // 7
    @Test func case07_headerNotUTF8_reportsTheFileOffset() {
        var header = Array(#"{"ab":1}"#.utf8)
        header[3] = 0xFF  // the 'b'; file offset 8 + 3
        #expect(openError(rawFile(bytes: header)) == .headerNotUTF8(file: memory, byteOffset: 11))
        // An overlong encoding of '/' (C0 AF) and a UTF-16 surrogate (ED A0 80) are not UTF-8 either.
        #expect(openError(rawFile(bytes: Array(#"{"a"#.utf8) + [0xC0, 0xAF] + Array(#"":1}"#.utf8)))
            == .headerNotUTF8(file: memory, byteOffset: 11))
        #expect(openError(rawFile(bytes: Array(#"{"a"#.utf8) + [0xED, 0xA0, 0x80] + Array(#"":1}"#.utf8)))
            == .headerNotUTF8(file: memory, byteOffset: 11))
    }

    // 8
    @Test func case08_headerNotAnObject() {
        #expect(openError(rawFile("[]")) == .headerMustStartWithBrace(file: memory, found: "'['"))
        #expect(openError(rawFile("\"x\"")) == .headerMustStartWithBrace(file: memory, found: "'\"'"))
        #expect(jsonKind(openError(rawFile("{"))) == .unexpectedEnd)
        #expect(jsonKind(openError(rawFile("{} {}"))) == .trailingCharacters)
    }

    // 9
    @Test func case09_leadingWhitespaceIsRejected() {
        #expect(openError(rawFile(" {}")) == .headerMustStartWithBrace(file: memory, found: "whitespace (byte 0x20)"))
        #expect(openError(rawFile("\n{}")) == .headerMustStartWithBrace(file: memory, found: "whitespace (byte 0x0A)"))
    }

    // 10, and the padding that is allowed
    @Test func case10_nulPaddingIsRejectedWhitespacePaddingIsAccepted() throws {
        #expect(jsonKind(openError(rawFile(bytes: Array("{}".utf8) + [0, 0]))) == .trailingCharacters)
        for pad in ["      ", "\t", "\n", "\r\n "] {
            let file = try SafeTensorsFile(bytes: rawFile("{" + entry("a", shape: [1], 0, 4) + "}" + pad, data: f32x1))
            #expect(file.tensors.map(\.name) == ["a"])
        }
    }

    // 11
    @Test func case11_byteOrderMark() {
        #expect(openError(rawFile(bytes: [0xEF, 0xBB, 0xBF] + Array("{}".utf8)))
            == .headerMustStartWithBrace(file: memory, found: "a UTF-8 byte order mark"))
    }

    // 12
    @Test func case12_unknownDTypeNames() {
        for bad in ["F128", "f32", "Float32", ""] {
            let header = "{\"a\":{\"dtype\":\"\(bad)\",\"shape\":[1],\"data_offsets\":[0,4]}}"
            #expect(openError(rawFile(header, data: f32x1)) == .unknownDType(file: memory, tensor: "a", dtype: "\"\(bad)\""))
        }
        #expect(openError(rawFile(#"{"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}"#, data: f32x1))
            == .unknownDType(file: memory, tensor: "a", dtype: "(a number, not a string)"))
    }

    // 13: every dtype of the format validates; only F32/F16/BF16 convert to Float.
    @Test func case13_formatDTypesValidateButOnlyFloatOnesConvert() throws {
        for dtype in DType.allCases {
            let bytes = [UInt8](repeating: 0, count: 8 * dtype.bitSize / 8)  // 8 elements fill whole bytes for every dtype
            let file = try SafeTensorsFile(bytes: SafeTensorsWriter.serialize([(name: "t", dtype: dtype, shape: [2, 4], bytes: bytes)]))
            #expect(file.info("t")?.dtype == dtype)
            switch dtype {
            case .F32, .F16, .BF16:
                #expect(try file.floatTensor("t").array.allSatisfy { $0 == 0 })
            default:
                #expect(throws: SafeTensorsError.unsupportedDType(file: memory, tensor: "t", dtype: dtype)) { try file.floatTensor("t") }
            }
        }
    }

    // 14
    @Test func case14_offsetsThatAreNotNonNegativeIntegers() {
        let cases: [(String, String)] = [
            ("-4", "begin is -4, not a non-negative integer"),
            ("0.0", "begin is 0.0, not a non-negative integer"),
            ("0e0", "begin is 0e0, not a non-negative integer"),
            ("18446744073709551616", "begin is 18446744073709551616, not a non-negative integer"),  // 2^64
            ("9223372036854775808", "begin is 9223372036854775808, not a non-negative integer"),  // > Int.max
            ("\"0\"", "begin is the string \"0\", not a non-negative integer"),
            ("null", "begin is null, not a non-negative integer"),
        ]
        for (begin, reason) in cases {
            let header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\(begin),4]}}"
            #expect(openError(rawFile(header, data: f32x1)) == .invalidDataOffsets(file: memory, tensor: "a", reason: reason))
        }
        #expect(openError(rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}"#, data: f32x1))
            == .invalidDataOffsets(file: memory, tensor: "a", reason: "end is 4.5, not a non-negative integer"))
        #expect(openError(rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":{"0":4}}}"#, data: f32x1))
            == .invalidDataOffsets(file: memory, tensor: "a", reason: "expected [begin, end], found an object"))
    }

    // 15
    @Test func case15_offsetsArity() {
        for (offsets, n) in [("[4]", 1), ("[0,4,8]", 3), ("[]", 0)] {
            let header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\(offsets)}}"
            #expect(openError(rawFile(header, data: f32x1))
                == .invalidDataOffsets(file: memory, tensor: "a", reason: "expected 2 integers [begin, end], found \(n) elements"))
        }
    }

    // 16
    @Test func case16_reversedOffsets() {
        #expect(openError(rawFile("{" + entry("a", shape: [1], 4, 0) + "}", data: f32x1))
            == .reversedOffsets(file: memory, tensor: "a", begin: 4, end: 0))
    }

    // 17
    @Test func case17_holeBetweenTensors() {
        let header = "{" + entry("a", shape: [1], 0, 4) + "," + entry("b", shape: [1], 8, 12) + "}"
        #expect(openError(rawFile(header, data: f32x1 + f32x1 + f32x1))
            == .gapBeforeTensor(file: memory, tensor: "b", expectedBegin: 4, begin: 8))
    }

    // 18
    @Test func case18_overlapAndAliasing() {
        let overlap = "{" + entry("a", shape: [2], 0, 8) + "," + entry("b", shape: [1], 4, 8) + "}"
        #expect(openError(rawFile(overlap, data: f32x1 + f32x1))
            == .overlappingTensors(file: memory, tensor: "b", previous: "a", begin: 4, previousEnd: 8))
        // Two names on the same bytes (the aliasing DoS of the reference's attacks/README): in header order
        // "y" then "x", sorted by offset then name, so "y" is the second owner.
        let alias = "{" + entry("y", shape: [1], 0, 4) + "," + entry("x", shape: [1], 0, 4) + "}"
        #expect(openError(rawFile(alias, data: f32x1))
            == .overlappingTensors(file: memory, tensor: "y", previous: "x", begin: 0, previousEnd: 4))
    }

    // 19
    @Test func case19_firstTensorNotAtZero() {
        #expect(openError(rawFile("{" + entry("a", shape: [1], 4, 8) + "}", data: f32x1 + f32x1))
            == .gapBeforeTensor(file: memory, tensor: "a", expectedBegin: 0, begin: 4))
    }

    // 20
    @Test func case20_trailingBytesAfterTheLastTensor() {
        let header = "{" + entry("a", shape: [1], 0, 4) + "}"
        #expect(openError(rawFile(header, data: f32x1 + Array("PK\u{3}\u{4}ZIP!".utf8))) == .trailingBytes(file: memory, count: 8))
        #expect(openError(rawFile("{}", data: [0])) == .trailingBytes(file: memory, count: 1))
    }

    // 21
    @Test func case21_truncatedData() {
        let header = "{" + entry("a", shape: [2], 0, 8) + "}"
        let file = rawFile(header, data: f32x1)
        #expect(openError(file) == .truncatedData(file: memory, expectedSize: file.count + 4, actualSize: file.count))
        // Huge end offsets with consistent shapes: reported as truncation; 8 x (2^60 - 1) + 8 + N overflows
        // Int, and the expected size saturates instead of trapping.
        let big = Int.max / 8  // U8: bits = 8 * big fits
        let huge = "{" + (0..<8).map { entry("t\($0)", "U8", shape: [big], $0 * big, ($0 + 1) * big) }.joined(separator: ",") + "}"
        #expect(openError(rawFile(huge)) == .truncatedData(file: memory, expectedSize: Int.max, actualSize: 8 + huge.utf8.count))
        let one = "{" + entry("t", "U8", shape: [big], 0, big) + "}"
        #expect(openError(rawFile(one)) == .truncatedData(file: memory, expectedSize: 8 + one.utf8.count + big, actualSize: 8 + one.utf8.count))
    }

    // 22
    @Test func case22_shapeAndSpanDisagree() {
        #expect(openError(rawFile("{" + entry("a", shape: [3], 0, 8) + "}", data: f32x1 + f32x1))
            == .sizeMismatch(file: memory, tensor: "a", dtype: .F32, shape: [3], expectedBytes: 12, actualBytes: 8))
    }

    // 23
    @Test func case23_sizeOverflow() {
        let cases: [(String, [Int])] = [
            ("F32", [4_294_967_296, 4_294_967_296]),
            ("F32", [2, Int.max]),
            ("U8", [1 << 61, 4]),  // elements fit, bits = 2^63 * 8 do not
        ]
        for (dtype, shape) in cases {
            let header = "{" + entry("a", dtype, shape: shape, 0, 4) + "}"
            #expect(openError(rawFile(header, data: f32x1))
                == .sizeOverflow(file: memory, tensor: "a", dtype: DType(rawValue: dtype)!, shape: shape))
        }
        // 2^64 - 2 (the reference's test value) does not even fit in Int.
        #expect(openError(rawFile(#"{"a":{"dtype":"F32","shape":[2,18446744073709551614],"data_offsets":[0,4]}}"#, data: f32x1))
            == .invalidShape(file: memory, tensor: "a", reason: "dimension 1 is 18446744073709551614, not a non-negative integer"))
    }

    // 24
    @Test func case24_dimensionsThatAreNotNonNegativeIntegers() {
        for (dims, reason) in [
            ("[-1]", "dimension 0 is -1, not a non-negative integer"),
            ("[1.0]", "dimension 0 is 1.0, not a non-negative integer"),
            ("[1,1e0]", "dimension 1 is 1e0, not a non-negative integer"),
            ("[\"1\"]", "dimension 0 is the string \"1\", not a non-negative integer"),
            ("[[1]]", "dimension 0 is an array, not a non-negative integer"),
            ("\"1\"", "expected an array of integers, found a string"),
        ] {
            let header = "{\"a\":{\"dtype\":\"F32\",\"shape\":\(dims),\"data_offsets\":[0,4]}}"
            #expect(openError(rawFile(header, data: f32x1)) == .invalidShape(file: memory, tensor: "a", reason: reason))
        }
        // Leading zeros and NaN are not JSON at all.
        #expect(jsonKind(openError(rawFile(#"{"a":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}"#, data: f32x1))) == .invalidNumber)
        #expect(jsonKind(openError(rawFile(#"{"a":{"dtype":"F32","shape":[NaN],"data_offsets":[0,4]}}"#, data: f32x1)))
            == .unexpectedCharacter("'N'"))
    }

    // 25
    @Test func case25_subByteDTypesMustFillWholeBytes() throws {
        #expect(openError(rawFile("{" + entry("a", "F4", shape: [3], 0, 2) + "}", data: [0, 0]))
            == .subByteMisaligned(file: memory, tensor: "a", dtype: .F4, elementCount: 3))
        #expect(openError(rawFile("{" + entry("a", "F6_E2M3", shape: [1], 0, 1) + "}", data: [0]))
            == .subByteMisaligned(file: memory, tensor: "a", dtype: .F6_E2M3, elementCount: 1))
        // 4 x 6 bits = 3 bytes, 2 x 4 bits = 1 byte: fine.
        let ok = try SafeTensorsFile(bytes: rawFile("{" + entry("a", "F6_E3M2", shape: [4], 0, 3) + "," + entry("b", "F4", shape: [2], 3, 4) + "}", data: [1, 2, 3, 4]))
        #expect(ok.tensors.map(\.name) == ["a", "b"])
    }

    // 26
    @Test func case26_emptyTensorsAndScalars() throws {
        let header = "{" + entry("empty", shape: [2, 0], 0, 0) + "," + entry("scalar", shape: [], 0, 4) + "," + entry("empty2", "F16", shape: [0], 4, 4) + "}"
        let file = try SafeTensorsFile(bytes: rawFile(header, data: f32x1))
        #expect(try file.floatTensor("empty").count == 0)
        #expect(try file.floatTensor("empty").shape == [2, 0])
        #expect(try file.floatTensor("empty2").count == 0)
        let scalar = try file.floatTensor("scalar")
        #expect(scalar.shape == [] && scalar.array == [1.5])
        #expect(try SafeTensorsFile(bytes: rawFile("{}")).tensors.isEmpty)
    }

    // 27
    @Test func case27_duplicateTensorNames() {
        let header = "{" + entry("a", shape: [1], 0, 4) + "," + entry("a", "I32", shape: [1], 0, 4) + "}"
        #expect(jsonKind(openError(rawFile(header, data: f32x1))) == .duplicateKey("a"))
    }

    @Test func canonicallyEquivalentNamesStayDistinct() throws {
        let nfc = "caf\u{E9}", nfd = "cafe\u{301}"
        let file = try SafeTensorsFile(bytes: SafeTensorsWriter.serialize(floats: [(nfc, [1], [1]), (nfd, [1], [2])]))
        #expect(try file.floatTensor(nfc).array == [1])
        #expect(try file.floatTensor(nfd).array == [2])
    }

    // 28
    @Test func case28_duplicateMetadataKeys() {
        #expect(jsonKind(openError(rawFile(#"{"__metadata__":{"k":"1","k":"2"}}"#))) == .duplicateKey("k"))
        #expect(jsonKind(openError(rawFile(#"{"__metadata__":{},"__metadata__":{}}"#))) == .duplicateKey("__metadata__"))
    }

    // 29
    @Test func case29_metadataMustBeStrings() throws {
        #expect(openError(rawFile(#"{"__metadata__":{"x":1}}"#)) == .invalidMetadata(file: memory, key: "x", found: "a number"))
        #expect(openError(rawFile(#"{"__metadata__":{"x":{"y":"z"}}}"#)) == .invalidMetadata(file: memory, key: "x", found: "an object"))
        #expect(openError(rawFile(#"{"__metadata__":["x"]}"#)) == .invalidMetadata(file: memory, key: nil, found: "an array"))
        #expect(openError(rawFile(#"{"__metadata__":"x"}"#)) == .invalidMetadata(file: memory, key: nil, found: "a string"))
        #expect(try SafeTensorsFile(bytes: rawFile(#"{"__metadata__":null}"#)).metadata == [:])
        #expect(try SafeTensorsFile(bytes: rawFile(#"{"__metadata__":{"format":"pt","a\nb":""}}"#)).metadata == ["format": "pt", "a\nb": ""])
        // Keys distinct byte-wise but equal as Swift Strings would collapse into one entry.
        #expect(openError(rawFile("{\"__metadata__\":{\"caf\u{E9}\":\"1\",\"cafe\u{301}\":\"2\"}}"))
            == .invalidMetadata(file: memory, key: "cafe\u{301}", found: "a second key canonically equal to it"))
    }

    // 30
    @Test func case30_tensorNamedMetadata() {
        #expect(openError(rawFile("{" + entry("__metadata__", shape: [1], 0, 4) + "}", data: f32x1)) == .reservedTensorName(file: memory))
    }

    // 31
    @Test func case31_tensorNames() {
        #expect(openError(rawFile("{" + entry("", shape: [1], 0, 4) + "}", data: f32x1))
            == .invalidTensorName(file: memory, tensor: "", reason: "the name is empty"))
        #expect(openError(rawFile("{" + entry("a\\u0000hidden", shape: [1], 0, 4) + "}", data: f32x1))
            == .invalidTensorName(file: memory, tensor: "a\u{0}hidden", reason: "contains the control character U+0000"))
        #expect(openError(rawFile("{" + entry("a\\nb", shape: [1], 0, 4) + "}", data: f32x1))
            == .invalidTensorName(file: memory, tensor: "a\nb", reason: "contains the control character U+000A"))
        #expect(openError(rawFile("{" + entry("a\u{85}b", shape: [1], 0, 4) + "}", data: f32x1))
            == .invalidTensorName(file: memory, tensor: "a\u{85}b", reason: "contains the control character U+0085"))
        let long = String(repeating: "w", count: 1025)
        #expect(openError(rawFile("{" + entry(long, shape: [1], 0, 4) + "}", data: f32x1))
            == .invalidTensorName(file: memory, tensor: long, reason: "the name is 1025 bytes long, the limit is 1024"))
        let megabyte = String(repeating: "w", count: 1 << 20)
        #expect(openError(rawFile("{" + entry(megabyte, shape: [1], 0, 4) + "}", data: f32x1))
            == .invalidTensorName(file: memory, tensor: megabyte, reason: "the name is 1048576 bytes long, the limit is 1024"))
        // Exactly 1 KiB, and path-like names, are fine: names are never used as paths.
        #expect(openError(rawFile("{" + entry(String(repeating: "w", count: 1024), shape: [1], 0, 4) + "}", data: f32x1)) == nil)
        #expect(openError(rawFile("{" + entry("../../etc/passwd", shape: [1], 0, 4) + "}", data: f32x1)) == nil)
    }

    @Test func namesAreEscapedInMessages() {
        let error = SafeTensorsError.tensorNotFound(file: "m.safetensors", tensor: "a\nFATAL: \"x\"\u{202E}")
        #expect(error.description == #"m.safetensors: no tensor named "a\u{A}FATAL: \"x\"\u{202E}"; the checkpoint does not match the model architecture"#)
    }

    // 32
    @Test func case32_deepNesting() {
        let deep = "{\"__metadata__\":" + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}"
        #expect(jsonKind(openError(rawFile(deep))) == .tooDeep(limit: 8))
        let nine = "{\"__metadata__\":" + String(repeating: "[", count: 8) + String(repeating: "]", count: 8) + "}"
        #expect(jsonKind(openError(rawFile(nine))) == .tooDeep(limit: 8))
    }

    // 33
    @Test func case33_unknownAndMissingFields() {
        #expect(openError(rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"strides":[1]}}"#, data: f32x1))
            == .unknownField(file: memory, tensor: "a", field: "strides"))
        #expect(openError(rawFile(#"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, data: f32x1))
            == .missingField(file: memory, tensor: "a", field: "shape"))
        #expect(openError(rawFile(#"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, data: f32x1))
            == .missingField(file: memory, tensor: "a", field: "dtype"))
        #expect(openError(rawFile(#"{"a":{"dtype":"F32","shape":[1]}}"#, data: f32x1))
            == .missingField(file: memory, tensor: "a", field: "data_offsets"))
        #expect(openError(rawFile(#"{"a":[1]}"#)) == .tensorEntryNotObject(file: memory, tensor: "a", found: "an array"))
        #expect(jsonKind(openError(rawFile(#"{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: f32x1)))
            == .duplicateKey("dtype"))
    }

    // 34
    @Test func case34_tensorCountCap() throws {
        var limits = SafeTensorsFile.Limits()
        limits.maxTensorCount = 3
        let four = "{\"__metadata__\":{}," + (0..<4).map { entry("t\($0)", shape: [0], 0, 0) }.joined(separator: ",") + "}"
        #expect(openError(rawFile(four), limits: limits) == .tooManyTensors(file: memory, count: 4, limit: 3))
        let fourPlain = "{" + (0..<4).map { entry("t\($0)", shape: [0], 0, 0) }.joined(separator: ",") + "}"
        #expect(openError(rawFile(fourPlain), limits: limits) == .tooManyTensors(file: memory, count: 4, limit: 3))
        let three = "{\"__metadata__\":{}," + (0..<3).map { entry("t\($0)", shape: [0], 0, 0) }.joined(separator: ",") + "}"
        #expect(try SafeTensorsFile(bytes: rawFile(three), limits: limits).tensors.count == 3)
    }

    @Test func case34_countIsBoundedBeforeParsing() {
        // 150,000 entries: refused by the pre-scan (count = members - 1, allowing for __metadata__).
        let entries = (0..<150_000).map { entry("t\($0)", "U8", shape: [0], 0, 0) }
        #expect(openError(rawFile("{" + entries.joined(separator: ",") + "}")) == .tooManyTensors(file: memory, count: 149_999, limit: 100_000))
        // Colons inside strings (escaped quotes included) and nested values are not members.
        let header = #"{"a:\":b":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"__metadata__":{"k:":"v:"}}"#
        let count = Array(header.utf8).withUnsafeBytes { topLevelMemberCount($0) }
        #expect(count == 2)
    }

    @Test func case34_defaultCapIs100k() {
        let entries = (0...100_000).map { entry("t\($0)", "U8", shape: [0], 0, 0) }
        #expect(openError(rawFile("{" + entries.joined(separator: ",") + "}")) == .tooManyTensors(file: memory, count: 100_001, limit: 100_000))
    }

    // 35
    @Test func case35_misalignedF32IsCopiedNotLoadedInPlace() throws {
        let values: [Float] = [1, -2.5, .pi, 3.4e38, -0.0, .leastNonzeroMagnitude]
        let header = "{" + entry("pad", "U8", shape: [1], 0, 1) + "," + entry("w", shape: [2, 3], 1, 25) + "}"
        // Pad the header so the data buffer starts 8-aligned; then "w" starts at an odd address.
        var text = header
        while (8 + text.utf8.count) % 8 != 0 { text += " " }
        let file = try SafeTensorsFile(bytes: rawFile(text, data: [7] + values.flatMap { le($0.bitPattern) }))
        let w = try file.floatTensor("w")
        #expect(w.shape == [2, 3])
        #expect(w.array.map(\.bitPattern) == values.map(\.bitPattern))
        #expect(ObjectIdentifier(w.storage) != ObjectIdentifier(file.bytes))  // a copy, since the view would be misaligned
        #expect(Int(bitPattern: w.values.baseAddress!) % 4 == 0)
    }

    @Test func alignedF32IsAViewIntoTheFileBytes() throws {
        let file = try SafeTensorsFile(bytes: SafeTensorsWriter.serialize(floats: [("w", [3], [1, 2, 3])]))
        let w = try file.floatTensor("w")
        #expect(ObjectIdentifier(w.storage) == ObjectIdentifier(file.bytes))
        let region = UnsafeRawBufferPointer(start: file.bytes.base, count: file.fileSize)
        #expect(region.baseAddress! <= UnsafeRawPointer(w.values.baseAddress!))
        #expect(UnsafeRawPointer(w.values.baseAddress! + 3) <= region.baseAddress! + region.count)
    }

    // 36: the format does not check values; they come through bit for bit.
    @Test func case36_nonFiniteWeightsPassThroughUnchanged() throws {
        let bits: [UInt32] = [0x7FC0_0001, 0xFF80_0000, 0x7F80_0000]  // NaN with payload, -inf, +inf
        let file = try SafeTensorsFile(bytes: SafeTensorsWriter.serialize([(name: "w", dtype: .F32, shape: [3], bytes: bits.flatMap { le($0) })]))
        #expect(try file.floatTensor("w").array.map(\.bitPattern) == bits)
    }

    // 38, 39
    @Test func case38_39_missingTensorAndWrongShape() throws {
        let file = try SafeTensorsFile(bytes: SafeTensorsWriter.serialize(floats: [("w", [2, 3], [1, 2, 3, 4, 5, 6])]))
        #expect(throws: SafeTensorsError.tensorNotFound(file: memory, tensor: "encoder.layer.11.output.dense.weight")) {
            try file.floatTensor("encoder.layer.11.output.dense.weight")
        }
        #expect(throws: SafeTensorsError.shapeMismatch(file: memory, tensor: "w", expected: [3, 2], actual: [2, 3])) {
            try file.floatTensor("w", shape: [3, 2])
        }
        #expect(try file.floatTensor("w", shape: [2, 3]).count == 6)
        #expect(file.info("nope") == nil)
    }

    // 41
    @Test func case41_mixedDTypes() throws {
        let file = try SafeTensorsFile(bytes: SafeTensorsWriter.serialize([
            (name: "h", dtype: .F16, shape: [2], bytes: le(UInt16(0x3C00)) + le(UInt16(0xC100))),  // 1, -2.5
            (name: "b", dtype: .BF16, shape: [1], bytes: le(UInt16(0xC020))),  // -2.5
            (name: "f", dtype: .F32, shape: [1], bytes: le(Float(0.25).bitPattern)),
        ]))
        #expect(try file.floatTensor("h").array == [1, -2.5])
        #expect(try file.floatTensor("b").array == [-2.5])
        #expect(try file.floatTensor("f").array == [0.25])
    }

    @Test func rawBytesOfNonFloatTensors() throws {
        let ids: [Int64] = [0, 1, -7, .max]
        let file = try SafeTensorsFile(bytes: SafeTensorsWriter.serialize([(name: "ids", dtype: .I64, shape: [4], bytes: ids.flatMap { le($0) })]))
        let read = try file.withUnsafeBytes(of: "ids") { raw in (0..<4).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) } }
        #expect(read == ids)
    }
}
