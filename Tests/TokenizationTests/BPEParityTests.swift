import Foundation
import Testing
@testable import Tokenization

/// BPE tokenizers (byte-level as RoBERTa and GPT-2 have them, and character-level with affixes or
/// byte fallback) compared id for id and offset for offset with transformers' fast tokenizer on the
/// folders and goldens of Scripts/generate-bpe-fixtures.py (Goldens/bpe/manifest.json): BPEs trained
/// by that script, saved by transformers, and variants with the schemas real files carry.
/// Corpus, pair and truncation goldens run in ``PipelineParityTests``; the checks here are BPE's own.
@Suite struct BPEParityTests {
    static let variants = ["roberta", "roberta-prefix", "gpt2", "template", "split", "wordend", "fallback"]

    static func folder(_ variant: String) -> URL { PipelineFixtures.folder("bpe", variant) }
    static func tokenizer(_ variant: String) throws -> PipelineTokenizer { try PipelineFixtures.tokenizer("bpe", variant) }

    /// One line of a `scalars-*.jsonl` golden: a block of scalar values and the count and FNV-1a
    /// hash of the reference's tokens for the block's text (see the generator's docstring).
    struct ScalarBlock: Decodable { let first: UInt32; let last: UInt32; let tokens: Int; let hash: String; let ids: [Int32]?; let offsets: [Int]? }

    /// 64-bit FNV-1a over each token's id, offset start and offset end, 4 bytes little-endian each.
    static func fnv1a(_ e: Encoding) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for (id, range) in zip(e.ids, e.offsets) {
            for value in [UInt32(bitPattern: id), UInt32(range.lowerBound), UInt32(range.upperBound)] {
                for k in 0..<4 {
                    h = (h ^ UInt64((value >> (8 * UInt32(k))) & 0xFF)) &* 0x100_0000_01B3
                }
            }
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    @Test("every Unicode scalar, alone after a space and in runs of its class", arguments: ["roberta", "gpt2", "fallback"])
    func everyScalar(variant: String) throws {
        let tok = try Self.tokenizer(variant)
        var covered = 0, mismatches = 0
        for line in try Fixtures.golden("bpe/scalars-\(variant).jsonl") {
            let b = try JSONDecoder().decode(ScalarBlock.self, from: line)
            let scalars = (b.first...b.last).compactMap(Unicode.Scalar.init)
            covered += scalars.count
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars)
            text.append(" ")
            for (k, s) in scalars.enumerated() {
                if k > 0 { text.append(" ") }
                text.append("a")
                text.append(s)
            }
            let e = tok.encode(String(text))
            if e.ids.count != b.tokens || Self.fnv1a(e) != b.hash {
                mismatches += 1
                if mismatches <= 5 {
                    let detail = b.ids.map { "expected ids \($0.prefix(30)), got \(e.ids.prefix(30))" } ?? "rerun the generator's scalar_blocks on this block to compare"
                    Issue.record("\(variant) U+\(String(b.first, radix: 16, uppercase: true))...U+\(String(b.last, radix: 16, uppercase: true)): \(e.ids.count) tokens, hash \(Self.fnv1a(e)); expected \(b.tokens), \(b.hash); \(detail)")
                }
            }
        }
        #expect(covered == 0x110000 - 0x800)
        #expect(mismatches == 0, "\(variant): \(mismatches) blocks differ")
    }

    @Test("the transformers-saved RobertaTokenizer folder loads without warnings, with RoBERTa's specials")
    func loadsCleanly() throws {
        let t = try Self.tokenizer("roberta")
        #expect(t.warnings == [])
        #expect(t.vocabularySize == 700)
        #expect(t.specialTokens == SpecialTokens(prefix: [0], suffix: [2], padding: 1))
        #expect(t.summary.contains("BPE, 700 tokens"))
        #expect(t.summary.contains("ByteLevel(add_prefix_space false)"))
    }

    @Test("RobertaTokenizer rebuilds ByteLevel and RobertaProcessing from tokenizer_config.json, and says so")
    func robertaRebuild() throws {
        let t = try Self.tokenizer("roberta-prefix")
        let w = t.warnings.joined(separator: "\n")
        #expect(w.contains("pre_tokenizer is ByteLevel(add_prefix_space false) but RobertaTokenizer in transformers 5 rebuilds ByteLevel(add_prefix_space true)"))
        #expect(w.contains("post_processor is RobertaProcessing but RobertaTokenizer in transformers 5 rebuilds RobertaProcessing(trim_offsets true, add_prefix_space true)"))
        // The generic folders are used as written.
        for v in ["gpt2", "template", "split", "wordend", "fallback"] { #expect(try Self.tokenizer(v).warnings == [], "\(v)") }
    }

    // MARK: Refusals: each names the file, the key path and what to do.

    static func refusal(_ edit: (inout [String: Any]) -> Void, config: [String: Any] = ["tokenizer_class": "PreTrainedTokenizerFast"],
                        variant: String = "gpt2") throws -> TokenizationError? {
        UnigramLoadingTests.refusal(try UnigramLoadingTests.folder(edit, config: config, source: folder(variant)))
    }

    static func model(_ j: inout [String: Any], _ key: String, _ value: Any) {
        var m = j["model"] as! [String: Any]
        m[key] = value
        j["model"] = m
    }

    @Test("BPE dropout is refused: random merges give other ids on every call")
    func dropoutRefused() throws {
        let e = try #require(try Self.refusal { Self.model(&$0, "dropout", 0.1) })
        guard case .invalidField(let f) = e else { Issue.record("\(e)"); return }
        #expect(f.keyPath == "model.dropout" && f.description.contains("set it to null"))
        #expect(try Self.refusal { Self.model(&$0, "dropout", 0) } == nil)
    }

    @Test("a merge naming a token outside the vocabulary, or malformed, is refused at its index")
    func badMerges() throws {
        var e = try #require(try Self.refusal { j in
            var merges = (j["model"] as! [String: Any])["merges"] as! [String]
            merges[3] = "zzz qqq"
            Self.model(&j, "merges", merges)
        })
        guard case .invalidField(let f) = e else { Issue.record("\(e)"); return }
        #expect(f.keyPath == "model.merges[3]" && f.description.contains("\"zzz\" is not in it"))
        e = try #require(try Self.refusal { j in
            var merges = (j["model"] as! [String: Any])["merges"] as! [String]
            merges[5] = "a b c"
            Self.model(&j, "merges", merges)
        })
        guard case .invalidField(let g) = e else { Issue.record("\(e)"); return }
        #expect(g.keyPath == "model.merges[5]" && g.description.contains("two tokens separated by one space"))
    }

    @Test("an unk_token missing from the vocabulary is refused (the reference fails on the first unknown character)")
    func unknownTokenMissing() throws {
        let e = try #require(try Self.refusal({ Self.model(&$0, "unk_token", "[UNK]") }, variant: "wordend"))
        guard case .invalidField(let f) = e else { Issue.record("\(e)"); return }
        #expect(f.keyPath == "model.unk_token" && f.description.contains("fix unk_token or set it to null"))
    }

    @Test("a class that rebuilds its pipeline around another model type is refused by name")
    func classNeedsItsModel() throws {
        let file = { (dir: URL) in dir.appendingPathComponent("tokenizer.json").path }
        let bpeAsXLMR = try UnigramLoadingTests.folder({ _ in }, config: ["tokenizer_class": "XLMRobertaTokenizer"], source: Self.folder("gpt2"))
        #expect(UnigramLoadingTests.refusal(bpeAsXLMR) == .unsupportedComponent(
            path: file(bpeAsXLMR), component: "model", type: "BPE with tokenizer_class XLMRobertaTokenizer (transformers rebuilds that class around a Unigram model)"))
        let unigramAsRoberta = try UnigramLoadingTests.folder({ _ in }, config: ["tokenizer_class": "RobertaTokenizer"])
        #expect(UnigramLoadingTests.refusal(unigramAsRoberta) == .unsupportedComponent(
            path: file(unigramAsRoberta), component: "model", type: "Unigram with tokenizer_class RobertaTokenizer (transformers rebuilds that class around a BPE model)"))
    }

    @Test("add_bos_token / add_eos_token in tokenizer_config.json change nothing for a generic class (probed: transformers 5.25 ignores them there)")
    func bosEOSFlagsIgnored() throws {
        let dir = try UnigramLoadingTests.folder({ _ in }, config: ["tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
                                                                    "add_bos_token": true, "add_eos_token": true], source: Self.folder("gpt2"))
        let flagged = try loadTokenizer(folder: dir), plain = try Self.tokenizer("gpt2")
        for text in ["hello", "Hello world, it's me"] {
            #expect(flagged.encode(text, pair: "world", maxLength: nil) == plain.encode(text, pair: "world", maxLength: nil))
        }
        #expect(!flagged.encode("hello").ids.contains(0) && !flagged.encode("hello").ids.contains(2))
    }
}
