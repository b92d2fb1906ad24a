import TestSupport
import Testing
@testable import SafeTensors

/// Seeded property tests: random valid files round-trip; random damage never crashes the reader.
@Suite struct PropertyTests {
    typealias Tensor = (name: String, dtype: DType, shape: [Int], bytes: [UInt8])

    static let nameAlphabet: [String] = ["a", "b", "z", ".", "_", "0", "9", "é", "e\u{301}", "日", "😀", "\"", "\\", "/", " "]

    /// A random valid tensor list: 0...6 tensors of any dtype, rank 0...4, dimensions 0...5
    /// (so empty tensors and scalars occur), random bytes.
    static func randomTensors(_ rng: inout SplitMix64) -> [Tensor] {
        var tensors: [Tensor] = []
        var names = Set<[UInt8]>()
        for _ in 0..<Int.random(in: 0...6, using: &rng) {
            var name = ""
            repeat {
                name = (0..<Int.random(in: 1...6, using: &rng)).map { _ in nameAlphabet.randomElement(using: &rng)! }.joined()
            } while name == "__metadata__" || !names.insert(Array(name.utf8)).inserted
            let dtype = DType.allCases.randomElement(using: &rng)!
            var shape: [Int]
            repeat {
                shape = (0..<Int.random(in: 0...4, using: &rng)).map { _ in Int.random(in: 0...5, using: &rng) }
            } while shape.reduce(1, *) * dtype.bitSize % 8 != 0  // sub-byte dtypes must fill whole bytes
            let count = shape.reduce(1, *) * dtype.bitSize / 8
            tensors.append((name, dtype, shape, (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }))
        }
        return tensors
    }

    static func randomMetadata(_ rng: inout SplitMix64) -> [String: String] {
        var metadata: [String: String] = [:]
        for _ in 0..<Int.random(in: 0...3, using: &rng) {
            let key = ["format", "k\u{0}", "x\ny", "ünï", "\"q\""].randomElement(using: &rng)!
            metadata[key] = ["pt", "", "\u{1F}", "v\\"].randomElement(using: &rng)!
        }
        return metadata
    }

    @Test func randomValidFilesRoundTrip() throws {
        var rng = SplitMix64(seed: 0x5AFE_7E45)
        for _ in 0..<500 {
            let tensors = Self.randomTensors(&rng)
            let metadata = Self.randomMetadata(&rng)
            let bytes = SafeTensorsWriter.serialize(tensors, metadata: metadata)
            let file = try SafeTensorsFile(bytes: bytes)
            #expect(file.metadata == metadata)
            #expect(file.tensors.count == tensors.count)
            #expect(file.fileSize == bytes.count)
            // The data buffer starts 8-aligned and the writer orders tensors by element size, so every
            // tensor is aligned to its element size.
            #expect(file.dataStart % 8 == 0)
            for t in tensors {
                let info = try #require(file.info(t.name))
                #expect(info.dtype == t.dtype && info.shape == t.shape && info.dataOffsets.count == t.bytes.count)
                #expect((file.dataStart + info.dataOffsets.lowerBound) % t.dtype.scalarAlignment == 0)
                #expect(try file.withUnsafeBytes(of: t.name) { Array($0) } == t.bytes)
                switch t.dtype {
                case .F32:
                    let f = try file.floatTensor(t.name)
                    #expect(ObjectIdentifier(f.storage) == ObjectIdentifier(file.bytes))  // zero-copy
                    let expected: [UInt32] = littleEndianWords(t.bytes, width: 4)
                    #expect(f.array.map(\.bitPattern) == expected)
                case .BF16:
                    let f = try file.floatTensor(t.name)
                    let expected: [UInt32] = littleEndianWords(t.bytes, width: 2).map { $0 << 16 }
                    #expect(f.array.map(\.bitPattern) == expected)
                case .F16:
                    #expect(try file.floatTensor(t.name).count == t.shape.reduce(1, *))
                default:
                    #expect(throws: SafeTensorsError.unsupportedDType(file: "<memory>", tensor: t.name, dtype: t.dtype)) {
                        try file.floatTensor(t.name)
                    }
                }
            }
            // Sorted by offset and contiguous.
            var end = 0
            for info in file.tensors {
                #expect(info.dataOffsets.lowerBound == end)
                end = info.dataOffsets.upperBound
            }
            #expect(8 + (file.dataStart - 8) + end == bytes.count)
        }
    }

    /// Little-endian unsigned words of `width` bytes, assembled byte by byte.
    func littleEndianWords(_ bytes: [UInt8], width: Int) -> [UInt32] {
        stride(from: 0, to: bytes.count, by: width).map { start in
            var word: UInt32 = 0
            for k in 0..<width { word |= UInt32(bytes[start + k]) << (8 * UInt32(k)) }
            return word
        }
    }

    /// What a damaged file may do: open (then it must still be self-consistent and readable) or throw.
    /// A trap would kill the test process, so reaching the end is the property.
    static func exercise(_ bytes: [UInt8]) -> Bool {
        guard let file = try? SafeTensorsFile(bytes: bytes) else { return false }
        var end = 0
        for info in file.tensors {
            precondition(info.dataOffsets.lowerBound == end, "accepted a file with a hole or overlap")
            end = info.dataOffsets.upperBound
            if let f = try? file.floatTensor(info.name) { _ = f.withValues { $0.reduce(0, +) } }
        }
        precondition(file.dataStart + end == bytes.count, "accepted a file whose data does not end at the end")
        return true
    }

    @Test func randomByteDamageNeverCrashes() {
        var rng = SplitMix64(seed: 20_261_128)
        var opened = 0, total = 0
        for _ in 0..<60 {
            let base = SafeTensorsWriter.serialize(Self.randomTensors(&rng), metadata: Self.randomMetadata(&rng))
            for _ in 0..<100 {
                var bytes = base
                switch Int.random(in: 0..<6, using: &rng) {
                case 0:  // flip 1-4 random bits anywhere
                    for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
                        bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
                    }
                case 1:  // overwrite a byte inside the header with an interesting byte
                    let headerEnd = min(bytes.count, 8 + Int(bytes[0]) + Int(bytes[1]) << 8)
                    if headerEnd > 8 {
                        bytes[Int.random(in: 8..<headerEnd, using: &rng)] =
                            [0x00, 0x22, 0x2C, 0x2D, 0x30, 0x39, 0x5B, 0x5D, 0x7B, 0x7D, 0x5C, 0x65, 0xFF, 0xC3, 0x20].randomElement(using: &rng)!
                    }
                case 2:  // truncate
                    bytes.removeLast(Int.random(in: 0...bytes.count, using: &rng))
                case 3:  // append
                    bytes += (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                case 4:  // change the length prefix
                    let n = [UInt64.max, 0, 1, UInt64(bytes.count), UInt64(bytes.count - 8), UInt64(bytes.count - 9), UInt64.random(in: 0...200, using: &rng)]
                        .randomElement(using: &rng)!
                    bytes.replaceSubrange(0..<8, with: le(n))
                default:  // delete or duplicate a byte range in the header
                    let headerEnd = min(bytes.count, 8 + Int(bytes[0]) + Int(bytes[1]) << 8)
                    if headerEnd > 9 {
                        let a = Int.random(in: 8..<headerEnd, using: &rng)
                        let b = Int.random(in: a..<headerEnd, using: &rng)
                        if Bool.random(using: &rng) { bytes.removeSubrange(a..<b) } else { bytes.insert(contentsOf: bytes[a..<b], at: b) }
                    }
                }
                total += 1
                if Self.exercise(bytes) { opened += 1 }
            }
        }
        #expect(total == 6000)
        // Some damage leaves a valid file (bits flipped in the data section); most must be refused.
        #expect(opened > 0 && opened < total)
    }

    /// Damage at the JSON-token level reaches deeper checks than byte noise: numbers, dtypes and keys swapped.
    @Test func randomHeaderTokenDamageNeverCrashes() {
        var rng = SplitMix64(seed: 42)
        let replacements = ["-1", "0", "1", "4", "1e3", "18446744073709551615", "9223372036854775807", "\"F32\"", "\"F4\"",
                            "\"BF16\"", "null", "[]", "{}", "[0,0]", "\"__metadata__\"", "\"\"", "\"\\u0000\"", "1.5", "[4294967296,4294967296]"]
        var total = 0
        for _ in 0..<40 {
            let tensors = Self.randomTensors(&rng)
            let base = SafeTensorsWriter.serialize(tensors, metadata: Self.randomMetadata(&rng))
            let n = Int(UInt64(littleEndian: base.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
            let header = String(decoding: base[8..<(8 + n)], as: UTF8.self)
            let data = Array(base[(8 + n)...])
            // Tokens: runs of digits, quoted strings, single punctuation.
            let pattern = #/"(?:[^"\\]|\\.)*"|-?[0-9]+|[\[\]{},:]/#
            let tokens = header.matches(of: pattern).map(\.range)
            guard !tokens.isEmpty else { continue }
            for _ in 0..<50 {
                var text = header
                let range = tokens.randomElement(using: &rng)!
                text.replaceSubrange(range, with: replacements.randomElement(using: &rng)!)
                let dataVariant = Bool.random(using: &rng) ? data : Array(data.dropLast(Int.random(in: 0...min(4, data.count), using: &rng)))
                _ = Self.exercise(rawFile(text, data: dataVariant))
                total += 1
            }
        }
        #expect(total > 1000)
    }
}
