import TestSupport
import Foundation
import Testing
@testable import Tokenization

enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelFolder = packageRoot.appendingPathComponent("Models/all-MiniLM-L6-v2")

    /// The model's own tokenizer. Missing model files fail the test (run Scripts/fetch-model), never skip it.
    static let uncased: BertTokenizer? = try? BertTokenizer(folder: modelFolder)

    /// Same vocabulary, `lowercase = false, strip_accents = false` (what the goldens' cased variant uses).
    static let cased: BertTokenizer? = uncased.map { u in
        var o = u.options
        o.normalizer = BertNormalizerOptions(cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: false)
        return BertTokenizer(vocabulary: u.vocabulary, options: o)
    }

    static func tokenizer(_ model: String) -> BertTokenizer? { model == "cased" ? cased : uncased }

    static func golden(_ name: String) throws -> [Data] {
        let url = Bundle.module.url(forResource: "Goldens/" + name, withExtension: nil)
            ?? Bundle.module.resourceURL!.appendingPathComponent("Goldens").appendingPathComponent(name)
        let data = try Data(contentsOf: url)
        return data.split(separator: UInt8(ascii: "\n")).map { Data($0) }
    }

    static func pairs(_ flat: [Int]) -> [Range<Int>] {
        stride(from: 0, to: flat.count, by: 2).map { flat[$0]..<flat[$0 + 1] }
    }
}

/// Checks `tokenizer` on "a" + c + "b" for every Unicode scalar c against a `codepoints-*.jsonl`
/// golden (runs of consecutive scalars with the same ids and offsets), recording the first
/// `reportLimit` mismatches under `label`. Every scalar outside the surrogates must be covered.
func expectEveryScalarMatches(_ tokenizer: any Tokenizer, golden: String, label: String, reportLimit: Int = 8) throws {
    var covered = 0
    var mismatches = 0
    for line in try Fixtures.golden(golden) {
        let run = try JSONDecoder().decode(GoldenParityTests.Run.self, from: line)
        let expectedOffsets = Fixtures.pairs(run.offsets)
        for v in run.first...run.last {
            guard let s = Unicode.Scalar(v) else { continue }
            covered += 1
            var text = "a"
            text.unicodeScalars.append(s)
            text += "b"
            let e = tokenizer.encode(text)
            if e.ids != run.ids || e.offsets != expectedOffsets {
                mismatches += 1
                if mismatches <= reportLimit {
                    Issue.record("\(label) U+\(String(v, radix: 16, uppercase: true)): \(e.ids) \(e.offsets) expected \(run.ids) \(expectedOffsets)")
                }
            }
        }
    }
    #expect(covered == 0x110000 - 0x800)
    #expect(mismatches == 0, "\(label): \(mismatches) scalars differ")
}

/// One text of a `corpus-*.jsonl` golden: the ids and flattened offsets of its single encoding.
struct CorpusCase: Decodable { let text: String; let ids: [Int32]; let offsets: [Int] }

/// Checks `tokenizer` on every text of a `corpus-*.jsonl` golden (at least `minimumCount`):
/// ids, offsets, an all-ones attention mask and all-zero type ids, recording the first
/// `reportLimit` mismatches under `label`.
func expectCorpusMatches(_ tokenizer: any Tokenizer, golden: String, label: String, minimumCount: Int, reportLimit: Int = 8) throws {
    let lines = try Fixtures.golden(golden)
    #expect(lines.count >= minimumCount)
    var mismatches = 0
    for line in lines {
        let c = try JSONDecoder().decode(CorpusCase.self, from: line)
        let e = tokenizer.encode(c.text)
        if e.ids != c.ids || e.offsets != Fixtures.pairs(c.offsets) {
            mismatches += 1
            if mismatches <= reportLimit {
                Issue.record("\(label) \(c.text.debugDescription.prefix(160)): ids \(e.ids.prefix(40)) expected \(c.ids.prefix(40)); offsets \(e.offsets.prefix(20)) expected \(Fixtures.pairs(c.offsets).prefix(20))")
            }
        }
        #expect(e.attentionMask == [Int32](repeating: 1, count: e.ids.count))
        #expect(e.typeIds == [Int32](repeating: 0, count: e.ids.count))
    }
    #expect(mismatches == 0, "\(label): \(mismatches) of \(lines.count) texts differ")
}

/// Checks `tokenizer` on every line of a `truncation-*.jsonl` golden (`{"text", "max", "ids",
/// "offsets", "overflowed"}`, at least 50): one sequence truncated to `max` tokens.
func expectTruncationMatches(_ tokenizer: any Tokenizer, golden: String, label: String, reportLimit: Int = 5) throws {
    struct TruncationCase: Decodable { let text: String; let max: Int; let ids: [Int32]; let offsets: [Int]; let overflowed: Bool }
    let lines = try Fixtures.golden(golden)
    #expect(lines.count >= 50)
    var mismatches = 0
    for line in lines {
        let c = try JSONDecoder().decode(TruncationCase.self, from: line)
        let e = tokenizer.encode(c.text, maxLength: c.max)
        if e.ids != c.ids || e.offsets != Fixtures.pairs(c.offsets) || e.overflowed != c.overflowed {
            mismatches += 1
            if mismatches <= reportLimit { Issue.record("\(label) max \(c.max) \(c.text.debugDescription.prefix(80)): \(e.ids) expected \(c.ids), overflowed \(e.overflowed)") }
        }
    }
    #expect(mismatches == 0, "\(label): \(mismatches) of \(lines.count) truncations differ")
}

/// Checks `tokenizer` on every line of a `pairs-*.jsonl` golden (`{"a", "b", "max" or null, "ids",
/// "types", "offsets", "overflowed"}`, at least 50): pair templates, type ids, longest-first truncation.
func expectPairsMatch(_ tokenizer: any Tokenizer, golden: String, label: String, reportLimit: Int = 5) throws {
    struct PairCase: Decodable { let a: String; let b: String; let max: Int?; let ids: [Int32]; let types: [Int32]; let offsets: [Int]; let overflowed: Bool }
    let lines = try Fixtures.golden(golden)
    #expect(lines.count >= 50)
    var mismatches = 0
    for line in lines {
        let c = try JSONDecoder().decode(PairCase.self, from: line)
        let e = tokenizer.encode(c.a, pair: c.b, maxLength: c.max)
        if e.ids != c.ids || e.typeIds != c.types || e.offsets != Fixtures.pairs(c.offsets) || e.overflowed != c.overflowed {
            mismatches += 1
            if mismatches <= reportLimit { Issue.record("\(label) max \(String(describing: c.max)) \(c.a.debugDescription.prefix(50)) | \(c.b.debugDescription.prefix(50)): \(e.ids) \(e.typeIds) expected \(c.ids) \(c.types)") }
        }
    }
    #expect(mismatches == 0, "\(label): \(mismatches) of \(lines.count) pairs differ")
}
