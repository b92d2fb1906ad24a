import Foundation
import Testing
@testable import Tokenization

/// Loading Unigram folders: dispatch by model type, and one refusal per thing not implemented,
/// each naming the component (its key path), the file and what is supported.
@Suite struct UnigramLoadingTests {
    /// A fixture's tokenizer.json (the xlmr one unless `source` names another folder) with `edit`
    /// applied, in a fresh folder (tokenizer_config.json says PreTrainedTokenizerFast so the file is
    /// used as written).
    static func folder(
        _ edit: (inout [String: Any]) -> Void, config: [String: Any] = ["tokenizer_class": "PreTrainedTokenizerFast"],
        source folder: URL = UnigramParityTests.folder("xlmr")
    ) throws -> URL {
        let source = folder.appendingPathComponent("tokenizer.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as! [String: Any]
        edit(&json)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("unigram-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("tokenizer.json"))
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("tokenizer_config.json"))
        return dir
    }

    static func refusal(_ folder: URL) -> TokenizationError? {
        do { _ = try loadTokenizer(folder: folder); return nil } catch { return error }
    }

    @Test("a Unigram tokenizer.json loads as the pipeline, a WordPiece one as BertTokenizer")
    func dispatch() throws {
        #expect(try loadTokenizer(folder: UnigramParityTests.folder("xlmr")) is PipelineTokenizer)
        #expect(try loadTokenizer(folder: Fixtures.modelFolder) is BertTokenizer)
    }

    @Test("each unsupported component type is refused by its key path, with the supported types",
          arguments: [
              ("normalizer", "Prepend", "normalizer"),
              ("normalizers[1]", "BertNormalizer", "normalizer.normalizers[1]"),
              ("pre_tokenizer", "Punctuation", "pre_tokenizer"),
              ("pretokenizers[0]", "CharDelimiterSplit", "pre_tokenizer.pretokenizers[0]"),
              ("model", "WordLevel", "model"),
              ("post_processor", "Sequence", "post_processor"),
          ])
    func unsupported(where place: String, type: String, keyPath: String) throws {
        let dir = try Self.folder { j in
            switch place {
            case "normalizer": j["normalizer"] = ["type": type]
            case "normalizers[1]":
                j["normalizer"] = ["type": "Sequence", "normalizers": [j["normalizer"]!, ["type": type]]]
            case "pre_tokenizer": j["pre_tokenizer"] = ["type": type]
            case "pretokenizers[0]": j["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": type, "delimiter": "x"]]]
            case "model": j["model"] = ["type": type, "vocab": ["a": 0], "unk_token": "a"]
            default: j["post_processor"] = ["type": type, "processors": []]
            }
        }
        let e = try #require(Self.refusal(dir))
        #expect(e == .unsupportedComponent(path: dir.appendingPathComponent("tokenizer.json").path, component: keyPath, type: type))
        let kind = String(keyPath.prefix { $0 != "." })
        #expect(e.description.contains("unsupported \(keyPath) type \"\(type)\""))
        for name in StageRegistry.supported(kind) { #expect(e.description.contains(name)) }
        #expect(!StageRegistry.supported(kind).isEmpty)
    }

    @Test("a Replace regex other than a repeated character is refused by name")
    func regexRefused() throws {
        let dir = try Self.folder { j in
            j["normalizer"] = ["type": "Replace", "pattern": ["Regex": "\\s+|x"], "content": " "]
        }
        #expect(Self.refusal(dir) == .unsupportedComponent(
            path: dir.appendingPathComponent("tokenizer.json").path, component: "normalizer.pattern.Regex", type: "Regex \\s+|x"))
    }

    @Test("a Unigram model without unk_id is refused")
    func noUnknown() throws {
        let dir = try Self.folder { j in
            var m = j["model"] as! [String: Any]
            m["unk_id"] = NSNull()
            j["model"] = m
        }
        #expect(Self.refusal(dir) == .unsupportedComponent(
            path: dir.appendingPathComponent("tokenizer.json").path, component: "model", type: "Unigram without unk_id"))
    }

    @Test("Metaspace add_prefix_space false without prepend_scheme never is refused, as tokenizers does")
    func metaspaceContradiction() throws {
        let dir = try Self.folder { j in j["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁", "add_prefix_space": false] }
        guard case .invalidField(let f)? = Self.refusal(dir) else { Issue.record("not refused as a field"); return }
        #expect(f.keyPath == "pre_tokenizer.add_prefix_space")
        let never = try Self.folder { j in j["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁", "add_prefix_space": false, "prepend_scheme": "never"] }
        #expect(try loadTokenizer(folder: never).encode("a b").ids.count >= 3)
    }

    @Test("a folder with only a SentencePiece model says how to make tokenizer.json",
          arguments: ["sentencepiece.bpe.model", "spiece.model"])
    func sentencePieceOnly(name: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data([0x0A, 0x00]).write(to: dir.appendingPathComponent(name))
        let e = try #require(Self.refusal(dir))
        #expect(e == .sentencePieceModelOnly(path: dir.appendingPathComponent(name).path))
        #expect(e.description.contains("save_pretrained"))
        #expect(e.description.contains("tokenizer.json"))
    }

    @Test("maxVocabularySize refuses a larger Unigram vocabulary before building it")
    func tooLarge() throws {
        let folder = UnigramParityTests.folder("xlmr")
        #expect(throws: TokenizationError.vocabularyTooLarge(path: folder.appendingPathComponent("tokenizer.json").path, found: "402 tokens", limit: 401)) {
            _ = try loadTokenizer(folder: folder, maxVocabularySize: 401)
        }
        #expect(try loadTokenizer(folder: folder, maxVocabularySize: 402).vocabularySize == 402)
    }

    @Test("an added token whose id names another piece is refused")
    func addedTokenMismatch() throws {
        let dir = try Self.folder { j in
            var added = j["added_tokens"] as! [[String: Any]]
            added[0]["content"] = "<notbos>"
            j["added_tokens"] = added
        }
        guard case .invalidField(let f)? = Self.refusal(dir) else { Issue.record("not refused as a field"); return }
        #expect(f.keyPath == "added_tokens[0].content")
    }

    @Test("lowercasingFirst lowercases before Precompiled, added tokens still matched raw")
    func lowercasing() throws {
        let t = try loadTokenizer(folder: UnigramParityTests.folder("xlmr"))
        let lower = t.lowercasingFirst()
        #expect(lower.encode("HELLO <mask>").ids == t.encode("hello <mask>").ids)
        #expect(lower.encode("<mask>").ids == [0, 401, 2])
        #expect(lower.summary.contains("Lowercase"))
    }

    @Test("raw bytes: valid UTF-8 encodes like the String, invalid is refused at its byte")
    func utf8() throws {
        let t = try loadTokenizer(folder: UnigramParityTests.folder("xlmr"))
        #expect(try t.encode(utf8: Array("Größere Modelle".utf8)) == t.encode("Größere Modelle"))
        #expect(throws: TokenizationError.invalidUTF8Input(byteOffset: 2)) { _ = try t.encode(utf8: [0x61, 0x62, 0xFF]) }
    }
}
