import Foundation
import Testing
@testable import Tokenization

@Suite struct LoadingTests {
    static let basic = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s"]

    func folder(_ files: [String: [UInt8]]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, bytes) in files { try Data(bytes).write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    func vocabTxt(_ tokens: [String], eol: String = "\n") -> [UInt8] { Array((tokens.joined(separator: eol) + eol).utf8) }

    func load(_ files: [String: [UInt8]]) throws -> Result<BertTokenizer, TokenizationError> {
        let dir = try folder(files)
        defer { try? FileManager.default.removeItem(at: dir) }
        do { return .success(try BertTokenizer(folder: dir)) } catch { return .failure(error) }
    }

    @Test func vocabTxtWithCRLFAndBOM() throws {
        let t = try load(["vocab.txt": [0xEF, 0xBB, 0xBF] + vocabTxt(Self.basic, eol: "\r\n")]).get()
        #expect(t.vocabulary.count == Self.basic.count)
        #expect(t.vocabulary.id(for: "[PAD]") == 0)  // BOM stripped, \r trimmed
        #expect(t.encode("Hellos world").tokens == ["[CLS]", "hello", "##s", "world", "[SEP]"])
        #expect(t.warnings.isEmpty)
    }

    /// Hugging Face cache folders hold symlinks to blobs: a link to a regular file is a regular file.
    @Test func filesMayBeSymlinks() throws {
        let blobs = try folder(["blob-vocab": vocabTxt(Self.basic)])
        let dir = try folder([:])
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("vocab.txt"), withDestinationURL: blobs.appendingPathComponent("blob-vocab"))
        let t = try BertTokenizer(folder: dir)
        #expect(t.vocabulary.count == Self.basic.count)
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("tokenizer_config.json"), withDestinationURL: blobs)
        #expect(throws: TokenizationError.self) { try BertTokenizer(folder: dir) }
    }

    @Test func vocabErrorsNameTheLine() throws {
        var bad = vocabTxt(Array(Self.basic.prefix(3)))
        bad += [0x66, 0xFF, 0x0A]
        #expect(throws: TokenizationError.self) { try load(["vocab.txt": bad]).get() }
        if case .failure(.invalidUTF8InVocabulary(_, let line)) = try load(["vocab.txt": bad]) { #expect(line == 4) } else { Issue.record("expected invalidUTF8InVocabulary") }
        if case .failure(.duplicateToken(_, let token, let first, let line)) = try load(["vocab.txt": vocabTxt(Self.basic + ["hello"])]) {
            #expect(token == "hello" && first == 6 && line == 9)
        } else { Issue.record("expected duplicateToken") }
        if case .failure(.missingSpecialToken(let role, _, _)) = try load(["vocab.txt": vocabTxt(Self.basic.filter { $0 != "[UNK]" })]) {
            #expect(role == "unk")
        } else { Issue.record("expected missingSpecialToken") }
        if case .failure(.missingSpecialToken(let role, _, _)) = try load(["vocab.txt": vocabTxt(Self.basic.filter { $0 != "[PAD]" })]) {
            #expect(role == "pad")
        } else { Issue.record("expected missingSpecialToken") }
        if case .failure(.noTokenizerFiles) = try load([:]) {} else { Issue.record("expected noTokenizerFiles") }
    }

    @Test func configDecidesNormalizerForVocabTxt() throws {
        let config = Array(#"{"do_lower_case": false, "model_max_length": 1000000000000000019884624838656}"#.utf8)
        let t = try load(["vocab.txt": vocabTxt(Self.basic + ["Hello"]), "tokenizer_config.json": config]).get()
        #expect(t.options.normalizer.lowercase == false)
        #expect(t.modelMaxLength == nil)  // the 1e30 "no limit" sentinel
        #expect(t.encode("Hello").tokens == ["[CLS]", "Hello", "[SEP]"])
    }

    func tokenizerJSON(normalizer: String = #"{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true}"#,
                       pre: String = #"{"type":"BertPreTokenizer"}"#, model: String = "WordPiece", tokens: [String] = basic) -> [UInt8] {
        let vocab = tokens.enumerated().map { "\"\($0.element)\":\($0.offset)" }.joined(separator: ",")
        return Array("""
        {"version":"1.0","truncation":{"max_length":64,"strategy":"LongestFirst","stride":0},"padding":null,
         "added_tokens":[{"id":4,"content":"[MASK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
         "normalizer":\(normalizer),"pre_tokenizer":\(pre),
         "post_processor":{"type":"BertProcessing","sep":["[SEP]",3],"cls":["[CLS]",2]},
         "decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
         "model":{"type":"\(model)","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{\(vocab)}}}
        """.utf8)
    }

    @Test func bertTokenizerClassTakesItsNormalizerFromTheConfig() throws {
        // transformers 5.24 BertTokenizer.__init__ rebuilds BertNormalizer from tokenizer_config.json;
        // the vocabulary still comes from tokenizer.json.
        let config = Array(#"{"do_lower_case": false, "tokenizer_class": "BertTokenizer"}"#.utf8)
        let t = try load(["tokenizer.json": tokenizerJSON(), "vocab.txt": vocabTxt(Self.basic + ["extra"]),
                          "tokenizer_config.json": config]).get()
        #expect(t.options.normalizer.lowercase == false)
        #expect(t.truncationMaxLength == 64)
        #expect(t.warnings.count == 2)
        #expect(t.warnings.contains { $0.contains("do_lower_case") && $0.contains("using tokenizer_config.json") })
        #expect(t.warnings.contains { $0.contains("vocab.txt has 9 tokens") })
        #expect(t.encode("HELLO hello [MASK]").tokens == ["[CLS]", "[UNK]", "hello", "[MASK]", "[SEP]"])
    }

    @Test func withoutAConfigBertTokenizerDefaultsApply() throws {
        // No tokenizer_config.json: AutoTokenizer picks BertTokenizer from model_type, whose
        // do_lower_case defaults to true even though tokenizer.json says lowercase false.
        let cased = #"{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":false}"#
        let t = try load(["tokenizer.json": tokenizerJSON(normalizer: cased)]).get()
        #expect(t.options.normalizer == BertNormalizerOptions(cleanText: true, handleChineseChars: true, stripAccents: nil, lowercase: true))
        #expect(t.encode("HELLO").tokens == ["[CLS]", "hello", "[SEP]"])
        #expect(t.warnings.contains { $0.contains("BertTokenizer's default") })
    }

    @Test func genericFastClassUsesTokenizerJSONAsWritten() throws {
        let cased = #"{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":false}"#
        let config = Array(#"{"do_lower_case": true, "tokenizer_class": "PreTrainedTokenizerFast"}"#.utf8)
        let t = try load(["tokenizer.json": tokenizerJSON(normalizer: cased), "tokenizer_config.json": config]).get()
        #expect(t.options.normalizer.lowercase == false)
        #expect(t.encode("HELLO").tokens == ["[CLS]", "[UNK]", "[SEP]"])
        #expect(t.warnings.contains { $0.contains("using tokenizer.json") })
    }

    @Test func lowercaseFirstIsPerScalarAndKeepsAccentsAndSpecialTokens() throws {
        let vocab = Self.basic + ["σοφοσ", "σοφος", "café", "cafe", "i\u{307}stanbul", "istanbul"]
        let config = Array(#"{"do_lower_case": false}"#.utf8)
        let cased = try load(["vocab.txt": vocabTxt(vocab), "tokenizer_config.json": config]).get()
        let t = try #require(cased.lowercasingFirst() as? BertTokenizer)
        #expect(t.options.normalizer.lowercaseFirst && !t.options.normalizer.lowercase)
        // char::to_lowercase has no final-sigma rule: ΣΟΦΟΣ -> σοφοσ, not σοφος.
        #expect(t.encode("ΣΟΦΟΣ").tokens == ["[CLS]", "σοφοσ", "[SEP]"])
        // Lowercase does not strip accents (strip_accents null follows lowercase=false here).
        #expect(t.encode("CAFÉ").tokens == ["[CLS]", "café", "[SEP]"])
        // İ lowercases to i + U+0307 (two scalars).
        #expect(t.encode("İSTANBUL").tokens == ["[CLS]", "i\u{307}stanbul", "[SEP]"])
        // Special tokens are split from the raw text before any normalizer runs.
        #expect(t.encode("HELLO [MASK]").tokens == ["[CLS]", "hello", "[MASK]", "[SEP]"])
        #expect(cased.encode("HELLO").tokens == ["[CLS]", "[UNK]", "[SEP]"])
    }

    @Test func unsupportedComponentsAreNamed() throws {
        for (files, component) in [
            (["tokenizer.json": tokenizerJSON(model: "BPE")], "model"),
            (["tokenizer.json": tokenizerJSON(normalizer: #"{"type":"NFKC"}"#)], "normalizer"),
            (["tokenizer.json": tokenizerJSON(pre: #"{"type":"Whitespace"}"#)], "pre_tokenizer"),
        ] {
            if case .failure(.unsupportedComponent(_, let c, _)) = try load(files) { #expect(c == component) } else { Issue.record("expected unsupported \(component)") }
        }
        if case .failure(.invalidJSON) = try load(["tokenizer.json": Array(#"{"model": {}, "model": {}}"#.utf8)]) {} else { Issue.record("expected invalidJSON for duplicate keys") }
    }

    @Test func wrongFieldsNameTheFileAndTheKeyPath() throws {
        for (files, file, keyPath, found) in [
            (["tokenizer.json": tokenizerJSON(normalizer: #"{"type":"BertNormalizer","lowercase":"yes"}"#)], "tokenizer.json", "normalizer.lowercase", #""yes""#),
            (["vocab.txt": vocabTxt(Self.basic), "tokenizer_config.json": Array(#"{"do_lower_case": 1}"#.utf8)], "tokenizer_config.json", "do_lower_case", "1"),
            (["vocab.txt": vocabTxt(Self.basic), "special_tokens_map.json": Array(#"{"unk_token": {"content": 5}}"#.utf8)], "special_tokens_map.json", "unk_token.content", "5"),
        ] {
            guard case .failure(.invalidField(let error)) = try load(files) else { Issue.record("\(keyPath) accepted"); continue }
            #expect(error.file.hasSuffix("/" + file) && error.keyPath == keyPath && error.found == found, "\(error)")
        }
    }
}
