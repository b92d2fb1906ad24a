import Foundation
import StrictJSON

extension BertTokenizer {
    /// Loads the tokenizer of a model folder: `tokenizer.json` and/or `vocab.txt`, with
    /// `tokenizer_config.json` and `special_tokens_map.json` when present.
    ///
    /// Precedence as in transformers 5.24: the vocabulary, special tokens and post-processor
    /// of `tokenizer.json` win over `tokenizer_config.json`, which wins over
    /// `special_tokens_map.json`. The normalizer depends on the tokenizer class:
    /// `BertTokenizer` (and its aliases, and a folder without `tokenizer_config.json` or
    /// without `tokenizer_class`, which `AutoTokenizer` resolves through `model_type` "bert")
    /// rebuilds its `BertNormalizer` from `tokenizer_config.json` (`do_lower_case` default
    /// true, `strip_accents` default null, `tokenize_chinese_chars` default true) and ignores
    /// the normalizer written in `tokenizer.json`; a generic class (`PreTrainedTokenizerFast`,
    /// `TokenizersBackend`) uses `tokenizer.json` as written. When files disagree the winner
    /// is used and ``warnings`` lists each difference. Throws on unreadable or malformed files, invalid UTF-8 or duplicates
    /// in the vocabulary, missing `[UNK]`/`[CLS]`/`[SEP]`/`[PAD]`, and `tokenizer.json`
    /// components other than BERT's.
    ///
    /// `maxVocabularySize` (a model passes its embedding matrix's rows) refuses a larger
    /// vocabulary with ``TokenizationError/vocabularyTooLarge(path:found:limit:)`` in bounded time
    /// and memory: `vocab.txt` and `tokenizer.json` larger than ``maxFileBytes(forVocabularySize:)``
    /// are refused by their size before they are read, the others by their token count before
    /// the lookup tables are built.
    public convenience init(folder: URL, maxVocabularySize: Int? = nil) throws(TokenizationError) {
        try self.init(files: FolderFiles(folder: folder, maxTokens: maxVocabularySize))
    }

    /// The BERT tokenizer of files already read (``loadTokenizer(folder:maxVocabularySize:)``).
    convenience init(files: FolderFiles) throws(TokenizationError) {
        let loaded = try FolderLoader(files: files).load()
        self.init(
            vocabulary: loaded.vocabulary, options: loaded.options, warnings: loaded.warnings,
            modelMaxLength: loaded.modelMaxLength, truncationMaxLength: loaded.truncationMaxLength)
    }
}

private struct Loaded {
    var vocabulary: Vocabulary
    var options: BertTokenizer.Options
    var warnings: [String]
    var modelMaxLength: Int?
    var truncationMaxLength: Int?
}

extension BertTokenizer {
    /// The largest `vocab.txt` or `tokenizer.json` read for a vocabulary of at most `tokens`
    /// entries: 256 bytes a token plus 1 MiB for the rest of the file. BERT files need about
    /// 8 (vocab.txt) and 16 (tokenizer.json) bytes a token.
    public static func maxFileBytes(forVocabularySize tokens: Int) -> Int {
        let (perToken, overflow) = tokens.multipliedReportingOverflow(by: 256)
        return overflow ? Int.max : perToken.addingReportingOverflow(1 << 20).overflow ? Int.max : perToken + (1 << 20)
    }
}

/// The tokenizer files of a model folder, each read (and tokenizer.json parsed) once, with the
/// rules every tokenizer kind shares: size limits before reading, special tokens by precedence,
/// `model_max_length`.
struct FolderFiles {
    let folder: URL
    let maxTokens: Int?
    let tokenizerJSON: JSONFields?
    let vocabTxt: [UInt8]?
    let config: JSONFields?
    let specialMap: JSONFields?

    /// SentencePiece model files that transformers converts into tokenizer.json.
    static let sentencePieceModels = ["sentencepiece.bpe.model", "spiece.model", "tokenizer.model"]

    /// Reads the files. Throws ``TokenizationError/noTokenizerFiles(folder:)`` when there is neither
    /// tokenizer.json nor vocab.txt, and ``TokenizationError/sentencePieceModelOnly(path:)`` when a
    /// SentencePiece model is the folder's only tokenizer file.
    init(folder: URL, maxTokens: Int?) throws(TokenizationError) {
        self.folder = folder
        self.maxTokens = maxTokens
        tokenizerJSON = try Self.json("tokenizer.json", folder, maxTokens)
        vocabTxt = try Self.read("vocab.txt", folder, maxTokens)
        config = try Self.json("tokenizer_config.json", folder, maxTokens)
        specialMap = try Self.json("special_tokens_map.json", folder, maxTokens)
        if tokenizerJSON == nil && vocabTxt == nil {
            for name in Self.sentencePieceModels where FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) {
                throw .sentencePieceModelOnly(path: folder.appendingPathComponent(name).path)
            }
            throw .noTokenizerFiles(folder: folder.path)
        }
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Throws when `count` tokens are more than the limit.
    func checkCount(_ count: Int, _ file: String) throws(TokenizationError) {
        if let maxTokens, count > maxTokens { throw .vocabularyTooLarge(path: file, found: "\(count) tokens", limit: maxTokens) }
    }

    static func read(_ name: String, _ folder: URL, _ maxTokens: Int?) throws(TokenizationError) -> [UInt8]? {
        let p = folder.appendingPathComponent(name).path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: p, isDirectory: &isDirectory) else { return nil }
        // attributesOfItem does not follow symlinks; model folders (the Hugging Face cache among them)
        // are often links to blobs, so judge the file the link points to.
        let attributes = try? FileManager.default.attributesOfItem(atPath: URL(fileURLWithPath: p).resolvingSymlinksInPath().path)
        if isDirectory.boolValue || (attributes?[.type] as? FileAttributeType).map({ $0 != .typeRegular }) ?? false {
            throw .unreadableFile(path: p, reason: "not a regular file")
        }
        if let maxTokens, name == "vocab.txt" || name == "tokenizer.json", let size = (attributes?[.size] as? NSNumber)?.intValue,
           size > BertTokenizer.maxFileBytes(forVocabularySize: maxTokens) {
            throw .vocabularyTooLarge(path: p, found: "\(size) bytes (files are read up to \(BertTokenizer.maxFileBytes(forVocabularySize: maxTokens)) bytes for that many tokens)", limit: maxTokens)
        }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
        } catch {
            throw .unreadableFile(path: p, reason: "\(error.localizedDescription)")
        }
    }

    static func json(_ name: String, _ folder: URL, _ maxTokens: Int?) throws(TokenizationError) -> JSONFields? {
        guard let bytes = try read(name, folder, maxTokens) else { return nil }
        let p = folder.appendingPathComponent(name).path
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw .invalidJSON(path: p, error: error) }
        return try reading { () throws(JSONFieldError) in try JSONFields(document: value, file: p) }
    }

    /// `model.type` of tokenizer.json (`nil` without tokenizer.json or without a type).
    func modelType() throws(TokenizationError) -> String? {
        guard let root = tokenizerJSON else { return nil }
        return try reading { () throws(JSONFieldError) in try root["model"].object().optional("type")?.string() }
    }

    /// `tokenizer_class` of tokenizer_config.json.
    func tokenizerClass() throws(TokenizationError) -> String? {
        try reading { () throws(JSONFieldError) in try config?.optional("tokenizer_class")?.string() }
    }

    /// The special token strings by role (`unk`, `cls`, ...): `defaults`, overridden by
    /// special_tokens_map.json, overridden by tokenizer_config.json (transformers' precedence);
    /// a disagreement between the two files is a warning.
    /// `sources` names where each role's value came from ("default" for `defaults`).
    func specialTokens(_ roles: [String], defaults: [String: String]) throws(TokenizationError)
        -> (tokens: [String: String], sources: [String: String], warnings: [String])
    {
        var tokens = defaults
        var source: [String: String] = [:]
        var warnings: [String] = []
        for (file, object) in [("special_tokens_map.json", specialMap), ("tokenizer_config.json", config)] {
            guard let object else { continue }
            for role in roles {
                guard let value = object.optional("\(role)_token") else { continue }
                let t = try reading { () throws(JSONFieldError) in try Self.specialToken(value) }
                if let previous = source[role], tokens[role] != t {
                    warnings.append("\(file) sets \(role)_token \(t.debugDescription) but \(previous) says \(tokens[role]!.debugDescription); using \(file)")
                }
                tokens[role] = t
                source[role] = file
            }
        }
        for role in defaults.keys where source[role] == nil { source[role] = "default" }
        return (tokens, source, warnings)
    }

    /// A special token is written as its string or as an `AddedToken` object with its `content`.
    static func specialToken(_ v: JSONField) throws(JSONFieldError) -> String {
        if case .object = v.json { return try v.object()["content"].string() }
        guard let s = v.json?.stringValue else { throw v.invalid("a string or an object with a \"content\" string") }
        return s
    }

    /// `model_max_length` of tokenizer_config.json (`nil` when absent or transformers' int(1e30) "no limit").
    func modelMaxLength() throws(TokenizationError) -> Int? {
        guard let v = config?.optional("model_max_length") else { return nil }
        return try reading { () throws(JSONFieldError) in
            let n = try v.number()
            guard let d = n.doubleValue, d >= 0 else { throw v.invalid("a non-negative number") }
            // transformers writes int(1e30) (VERY_LARGE_INTEGER) for "no limit".
            if let exact = n.exactInt, d < 1e18 { return exact }
            return nil
        }
    }

    /// `truncation.max_length` of tokenizer.json, when it sets one.
    func truncationMaxLength() throws(TokenizationError) -> Int? {
        guard let tr = tokenizerJSON?.optional("truncation") else { return nil }
        return try reading { () throws(JSONFieldError) in try tr.object()["max_length"].int(in: 0...) }
    }
}

/// The BERT WordPiece tokenizer of a folder's files.
private struct FolderLoader {
    let files: FolderFiles
    var folder: URL { files.folder }

    func path(_ name: String) -> String { files.path(name) }
    func checkCount(_ count: Int, _ file: String) throws(TokenizationError) { try files.checkCount(count, file) }

    func load() throws(TokenizationError) -> Loaded {
        let tokenizerJSON = files.tokenizerJSON, vocabTxt = files.vocabTxt, config = files.config

        // Special tokens and normalizer flags from the configs (lowest precedence first).
        var (tokens, tokenSource, warnings) = try files.specialTokens(
            ["unk", "cls", "sep", "pad", "mask"],
            defaults: ["unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "pad": "[PAD]", "mask": "[MASK]"])
        var normalizer = BertNormalizerOptions()
        let modelMaxLength = try files.modelMaxLength()
        let tokenizerClass = try files.tokenizerClass()
        // transformers 5.24 `BertTokenizer.__init__` builds
        // `BertNormalizer(clean_text=True, handle_chinese_chars=tokenize_chinese_chars,
        // strip_accents=strip_accents, lowercase=do_lower_case)` from its arguments (the
        // tokenizer_config.json values or the defaults) and only takes the vocabulary from
        // tokenizer.json. DistilBertTokenizer subclasses it; MPNetTokenizer builds the same
        // normalizer the same way (around a <s> … </s> template). Without a class name
        // AutoTokenizer falls back to config.json's model_type.
        let rebuildsNormalizer: Bool
        switch tokenizerClass {
        case nil, "BertTokenizer", "BertTokenizerFast", "DistilBertTokenizer", "DistilBertTokenizerFast",
             "MPNetTokenizer", "MPNetTokenizerFast":
            rebuildsNormalizer = true
        case "PreTrainedTokenizerFast", "TokenizersBackend":
            rebuildsNormalizer = false
        case let other?:
            // Another class may build its pipeline in code; the written tokenizer.json is the best
            // available description of it.
            rebuildsNormalizer = tokenizerJSON == nil
            warnings.append("tokenizer_config.json tokenizer_class \(other) is not BertTokenizer, DistilBertTokenizer or MPNetTokenizer; its tokenizer.json is used as written (ids may differ from transformers if that class rebuilds its pipeline)")
        }
        if let config {
            try reading { () throws(JSONFieldError) in
                if let v = config.optional("do_lower_case") { normalizer.lowercase = try v.bool() }
                if let v = config.optional("strip_accents") { normalizer.stripAccents = try v.bool() }
                if let v = config.optional("tokenize_chinese_chars") { normalizer.handleChineseChars = try v.bool() }
            }
        }
        var maxChars = 100
        var truncationMaxLength: Int? = nil
        var added: [AddedToken] = []
        var template = SpecialTemplate.bert
        var vocabulary: Vocabulary

        if let tj = tokenizerJSON {
            let file = path("tokenizer.json")
            let parsed = try TokenizerJSON(tj)
            vocabulary = try Vocabulary(tokens: parsed.vocab, continuingSubwordPrefix: parsed.prefix, source: file + " model.vocab")
            try checkCount(parsed.vocab.count, file)
            maxChars = parsed.maxInputCharsPerWord
            truncationMaxLength = parsed.truncationMaxLength
            added = parsed.addedTokens
            template = parsed.template
            let c = normalizer, j = parsed.normalizer
            let configName = config == nil ? "BertTokenizer's default" : "tokenizer_config.json"
            let winner = rebuildsNormalizer ? "\(configName) (transformers 5 rebuilds \(tokenizerClass ?? "BertTokenizer")'s normalizer from it)" : "tokenizer.json (tokenizer_class \(tokenizerClass ?? "?") uses it as written)"
            if c.lowercase != j.lowercase {
                warnings.append("\(configName) do_lower_case=\(c.lowercase) but tokenizer.json normalizer lowercase=\(j.lowercase); using \(winner)")
            }
            if c.stripAccents != j.stripAccents {
                let show = { (v: Bool?) in v.map { "\($0)" } ?? "null" }
                warnings.append("\(configName) strip_accents=\(show(c.stripAccents)) but tokenizer.json normalizer strip_accents=\(show(j.stripAccents)); using \(winner)")
            }
            if c.handleChineseChars != j.handleChineseChars {
                warnings.append("\(configName) tokenize_chinese_chars=\(c.handleChineseChars) but tokenizer.json handle_chinese_chars=\(j.handleChineseChars); using \(winner)")
            }
            if c.cleanText != j.cleanText, rebuildsNormalizer {
                warnings.append("tokenizer.json normalizer clean_text=\(j.cleanText) but BertTokenizer always cleans text; using clean_text=true")
            }
            if !rebuildsNormalizer { normalizer = parsed.normalizer }
            for (role, t) in [("unk", parsed.unk), ("cls", parsed.cls), ("sep", parsed.sep)] {
                guard let t else { continue }
                if tokenSource[role] != "default", tokens[role] != t {
                    warnings.append("tokenizer.json uses \(role) token \(t.debugDescription) but \(tokenSource[role]!) says \(tokens[role]!.debugDescription); using tokenizer.json")
                }
                tokens[role] = t
                tokenSource[role] = "tokenizer.json"
            }
            if let vocabTxt {
                let txt = try Vocabulary.parseVocabTxt(vocabTxt, path: path("vocab.txt"))
                if txt.count != parsed.vocab.count {
                    warnings.append("vocab.txt has \(txt.count) tokens but tokenizer.json has \(parsed.vocab.count); using tokenizer.json")
                }
                let differing = zip(txt, parsed.vocab).enumerated().filter { !$0.element.0.utf8.elementsEqual($0.element.1.utf8) }
                if !differing.isEmpty {
                    let shown = differing.prefix(5).map { "id \($0.offset): \($0.element.0.debugDescription) vs \($0.element.1.debugDescription)" }
                    warnings.append("vocab.txt and tokenizer.json differ at \(differing.count) ids (\(shown.joined(separator: ", "))); using tokenizer.json")
                }
            }
        } else {
            let p = path("vocab.txt")
            let txt = try Vocabulary.parseVocabTxt(vocabTxt!, path: p)
            vocabulary = try Vocabulary(tokens: txt, source: p)
            try checkCount(txt.count, p)  // after the duplicate check, whose message says more
        }

        let source = tokenizerJSON != nil ? path("tokenizer.json") : path("vocab.txt")
        for role in ["unk", "cls", "sep", "pad"] where vocabulary.id(for: tokens[role]!) == nil {
            throw .missingSpecialToken(role: role, token: tokens[role]!, source: source)
        }
        let mask = tokens["mask"].flatMap { vocabulary.id(for: $0) != nil ? $0 : nil }
        let options = BertTokenizer.Options(
            normalizer: normalizer, unknownToken: tokens["unk"]!, classifierToken: tokens["cls"]!,
            separatorToken: tokens["sep"]!, paddingToken: tokens["pad"]!, maskToken: mask,
            maxInputCharsPerWord: maxChars, addedTokens: added, template: template)
        return Loaded(vocabulary: vocabulary, options: options, warnings: warnings,
                      modelMaxLength: modelMaxLength, truncationMaxLength: truncationMaxLength)
    }

}

/// Reads configuration fields, throwing a wrong one as this module's error.
func reading<T>(_ body: () throws(JSONFieldError) -> T) throws(TokenizationError) -> T {
    do { return try body() } catch { throw .invalidField(error) }
}

/// The parts of a `tokenizers` `tokenizer.json` a BERT tokenizer needs, with every
/// component type checked against the ones implemented here.
private struct TokenizerJSON {
    var vocab: [String] = []
    var prefix = "##"
    var maxInputCharsPerWord = 100
    var unk: String? = nil
    var cls: String? = nil
    var sep: String? = nil
    var normalizer = BertNormalizerOptions(cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false)
    var truncationMaxLength: Int? = nil
    var addedTokens: [AddedToken] = []
    var template = SpecialTemplate.bert

    init(_ root: JSONFields) throws(TokenizationError) {
        let file = root.file
        /// A component's `type`, or nil when it has none.
        func type(_ o: JSONFields) throws(TokenizationError) -> String? {
            try reading { () throws(JSONFieldError) in try o.optional("type")?.string() }
        }

        // model
        let model = try reading { () throws(JSONFieldError) in try root["model"].object() }
        let modelType = try type(model)
        guard modelType == nil || modelType == "WordPiece" else {
            throw .unsupportedComponent(path: file, component: "model", type: modelType!)
        }
        vocab = try Vocabulary.tokensByID(try reading { () throws(JSONFieldError) in try model["vocab"].object() })
        try reading { () throws(JSONFieldError) in
            // tokenizers writes these three always; a missing one keeps WordPiece's default.
            if let v = model.optional("unk_token") { unk = try v.string() }
            if let v = model.optional("continuing_subword_prefix") { prefix = try v.string() }
            if let v = model.optional("max_input_chars_per_word") { maxInputCharsPerWord = try v.int(in: 0...) }
        }

        // normalizer
        if let n = root.optional("normalizer") {
            let o = try reading { () throws(JSONFieldError) in try n.object() }
            let t = try type(o) ?? "(none)"
            guard t == "BertNormalizer" else { throw .unsupportedComponent(path: file, component: "normalizer", type: t) }
            // tokenizers' BertNormalizer defaults: clean_text, handle_chinese_chars and lowercase true, strip_accents null.
            normalizer = try reading { () throws(JSONFieldError) in
                BertNormalizerOptions(
                    cleanText: try o.optional("clean_text")?.bool() ?? true,
                    handleChineseChars: try o.optional("handle_chinese_chars")?.bool() ?? true,
                    stripAccents: try o.optional("strip_accents")?.bool(),
                    lowercase: try o.optional("lowercase")?.bool() ?? true)
            }
        }

        // pre-tokenizer
        let pre = root["pre_tokenizer"]
        var preType = pre.json?.kindName ?? "null"
        if let o = pre.json?.objectValue, let t = try type(JSONFields(o, file: file, keyPath: pre.keyPath)) { preType = t }
        guard preType == "BertPreTokenizer" else {
            throw .unsupportedComponent(path: file, component: "pre_tokenizer", type: preType)
        }

        // post-processor: BertProcessing, or TemplateProcessing spelling out the same template;
        // RobertaProcessing (MPNet's WordPiece tokenizer uses it).
        let post = try reading { () throws(JSONFieldError) in try root["post_processor"].object() }
        let postType = try type(post) ?? "(none)"
        switch postType {
        case "BertProcessing", "RobertaProcessing":
            template = postType == "BertProcessing" ? .bert : .roberta
            // "cls": [token, id]
            func pair(_ key: String) throws(JSONFieldError) -> String {
                let items = try post[key].array()
                guard items.count == 2 else { throw post[key].invalid("[token, id]") }
                return try items[0].string()
            }
            (cls, sep) = try reading { () throws(JSONFieldError) in (try pair("cls"), try pair("sep")) }
        case "TemplateProcessing":
            (cls, sep) = try Self.bertTemplate(post.object, file: file)
        default:
            throw .unsupportedComponent(path: file, component: "post_processor", type: postType)
        }

        // added tokens: matched in the raw text, or in the normalized text when `normalized`.
        for item in try reading({ () throws(JSONFieldError) in try root.optional("added_tokens")?.array() ?? [] }) {
            let (o, content, id, normalized) = try reading { () throws(JSONFieldError) in
                let o = try item.object()
                // tokenizers' AddedToken default: normalized unless special.
                let special = try o.optional("special")?.bool() ?? false
                return (o, try o["content"].string(), try o["id"].int(in: 0...Int(Int32.max)),
                        try o.optional("normalized")?.bool() ?? !special)
            }
            // lstrip and rstrip make the token take in the whitespace beside it, which the BERT
            // pre-tokenizer drops anyway: the ids are the same (MPNet's `<mask>` has lstrip).
            if o.object["single_word"]?.boolValue == true {
                throw .unsupportedComponent(path: file, component: "added token \(content.debugDescription)", type: "single_word: true")
            }
            if id < vocab.count, Array(vocab[id].utf8) != Array(content.utf8) {
                throw .invalidField(o["content"].invalid("\(vocab[id].debugDescription), the token of id \(id) in model.vocab"))
            }
            addedTokens.append(AddedToken(content: content, id: Int32(id), normalized: normalized))
        }

        if let tr = root.optional("truncation") {
            truncationMaxLength = try reading { () throws(JSONFieldError) in try tr.object()["max_length"].int(in: 0...) }
        }
    }

    /// Accepts exactly `[CLS]:0 $A:0 [SEP]:0` and `[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1`.
    static func bertTemplate(_ post: JSONObject, file: String) throws(TokenizationError) -> (String, String) {
        func pieces(_ key: String) -> [(special: Bool, id: String, type: Int)]? {
            guard let a = post[key]?.arrayValue else { return nil }
            var out: [(special: Bool, id: String, type: Int)] = []
            for item in a {
                guard let o = item.objectValue, o.count == 1, let (k, v) = o.members.first.map({ ($0.key, $0.value) }),
                      let inner = v.objectValue, let id = inner["id"]?.stringValue,
                      let t = inner["type_id"]?.numberValue?.exactInt else { return nil }
                if k == "SpecialToken" { out.append((true, id, t)) } else if k == "Sequence" { out.append((false, id, t)) } else { return nil }
            }
            return out
        }
        let bad = TokenizationError.unsupportedComponent(
            path: file, component: "post_processor", type: "TemplateProcessing other than [CLS] $A [SEP] / [CLS] $A [SEP] $B:1 [SEP]:1")
        guard let single = pieces("single"), let pair = pieces("pair"), single.count == 3, pair.count == 5 else { throw bad }
        let cls = single[0].id, sep = single[2].id
        let expectSingle: [(Bool, String, Int)] = [(true, cls, 0), (false, "A", 0), (true, sep, 0)]
        let expectPair: [(Bool, String, Int)] = [(true, cls, 0), (false, "A", 0), (true, sep, 0), (false, "B", 1), (true, sep, 1)]
        guard zip(single, expectSingle).allSatisfy({ $0.special == $1.0 && $0.id == $1.1 && $0.type == $1.2 }),
              zip(pair, expectPair).allSatisfy({ $0.special == $1.0 && $0.id == $1.1 && $0.type == $1.2 }) else { throw bad }
        // special_tokens maps the template's names to token strings; BERT's are one token each.
        func content(_ name: String) throws(TokenizationError) -> String {
            guard let entry = post["special_tokens"]?.objectValue?[name]?.objectValue else { return name }
            guard let toks = entry["tokens"]?.arrayValue, toks.count == 1, let s = toks[0].stringValue else { throw bad }
            return s
        }
        return (try content(cls), try content(sep))
    }
}
