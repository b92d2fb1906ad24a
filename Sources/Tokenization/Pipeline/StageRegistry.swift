import Foundation
import StrictJSON

/// The `tokenizer.json` component types the general pipeline runs, by `type`, each with the
/// reader that builds it from its JSON object. A new stage type is one file in the folder of its
/// kind plus one line here; a type missing here is refused at load with
/// ``TokenizationError/unsupportedComponent(path:component:type:)``, which lists these names.
enum StageRegistry {
    typealias Reader<Stage> = @Sendable (JSONFields) throws(TokenizationError) -> Stage

    static let normalizers: [String: Reader<any NormalizerStage>] = [
        "Precompiled": { o throws(TokenizationError) in try PrecompiledNormalizer(json: o) },
        "Lowercase": { _ throws(TokenizationError) in LowercaseNormalizer() },
        "NFC": { _ throws(TokenizationError) in UnicodeNormalizer(.nfc) },
        "NFD": { _ throws(TokenizationError) in UnicodeNormalizer(.nfd) },
        "NFKC": { _ throws(TokenizationError) in UnicodeNormalizer(.nfkc) },
        "NFKD": { _ throws(TokenizationError) in UnicodeNormalizer(.nfkd) },
        "Strip": { o throws(TokenizationError) in try StripNormalizer(json: o) },
        "Replace": { o throws(TokenizationError) in try ReplaceNormalizer(json: o) },
        "Sequence": { o throws(TokenizationError) in try SequenceNormalizer(json: o) },
    ]

    static let preTokenizers: [String: Reader<any PreTokenizerStage>] = [
        "Metaspace": { o throws(TokenizationError) in try MetaspacePreTokenizer(json: o) },
        "WhitespaceSplit": { _ throws(TokenizationError) in WhitespaceSplitPreTokenizer() },
        "Whitespace": { _ throws(TokenizationError) in WhitespacePreTokenizer() },
        "Sequence": { o throws(TokenizationError) in try SequencePreTokenizer(json: o) },
        "ByteLevel": { o throws(TokenizationError) in try ByteLevelPreTokenizer(json: o) },
        "Split": { o throws(TokenizationError) in try SplitPreTokenizer(json: o) },
    ]

    static let models: [String: Reader<any TokenizerModel>] = [
        "Unigram": { o throws(TokenizationError) in try UnigramModel(json: o) },
        "BPE": { o throws(TokenizationError) in try BPEModel(json: o) },
    ]

    static let postProcessors: [String: Reader<any PostProcessorStage>] = [
        "TemplateProcessing": { o throws(TokenizationError) in try TemplateProcessing(templateJSON: o) },
        "BertProcessing": { o throws(TokenizationError) in try TemplateProcessing(bertJSON: o) },
        "RobertaProcessing": { o throws(TokenizationError) in try TemplateProcessing(robertaJSON: o) },
        "ByteLevel": { o throws(TokenizationError) in try TemplateProcessing(byteLevelJSON: o) },
    ]

    /// The types this runtime runs for a component (its key in tokenizer.json), for error messages.
    static func supported(_ component: String) -> [String] {
        let kind = component.split(whereSeparator: { $0 == "." || $0 == "[" }).first.map(String.init) ?? component
        let general: [String]
        let bert: [String]
        switch kind {
        case "normalizer": (general, bert) = (Array(normalizers.keys), ["BertNormalizer"])
        case "pre_tokenizer": (general, bert) = (Array(preTokenizers.keys), ["BertPreTokenizer"])
        case "model": (general, bert) = (Array(models.keys), ["WordPiece"])
        case "post_processor": (general, bert) = (Array(postProcessors.keys), [])
        default: return []
        }
        return Array(Set(general + bert)).sorted()
    }

    /// A component's `type`: `"(none)"` when the object has none.
    static func type(of o: JSONFields) throws(TokenizationError) -> String {
        try reading { () throws(JSONFieldError) in try o.optional("type")?.string() } ?? "(none)"
    }

    /// Builds the stage `o` names from `table`, refusing an unknown type with the key path.
    static func build<Stage>(_ o: JSONFields, _ table: [String: Reader<Stage>]) throws(TokenizationError) -> Stage {
        let t = try type(of: o)
        guard let reader = table[t] else {
            throw .unsupportedComponent(path: o.file, component: o.keyPath, type: t)
        }
        return try reader(o)
    }

    static func normalizer(_ o: JSONFields) throws(TokenizationError) -> any NormalizerStage { try build(o, normalizers) }
    static func preTokenizer(_ o: JSONFields) throws(TokenizationError) -> any PreTokenizerStage { try build(o, preTokenizers) }
}

// MARK: - Readers of each stage's JSON object (fields and defaults as the reference's serde).

extension PrecompiledNormalizer {
    /// `{"type": "Precompiled", "precompiled_charsmap": "<base64>"}`.
    init(json o: JSONFields) throws(TokenizationError) {
        let field = o["precompiled_charsmap"]
        let b64 = try reading { () throws(JSONFieldError) in try field.string() }
        guard let data = Data(base64Encoded: b64) else {
            throw .invalidField(field.invalid("standard base64 (the SentencePiece charsmap)"))
        }
        guard let parsed = PrecompiledNormalizer(charsmap: [UInt8](data)) else {
            throw .invalidField(field.invalid("a SentencePiece charsmap: u32 trie size, Darts trie, UTF-8 replacements",
                                              hint: "re-export tokenizer.json from the SentencePiece model"))
        }
        self = parsed
    }
}

extension StripNormalizer {
    /// `{"type": "Strip", "strip_left": bool, "strip_right": bool}`.
    init(json o: JSONFields) throws(TokenizationError) {
        self = try reading { () throws(JSONFieldError) in
            StripNormalizer(left: try o["strip_left"].bool(), right: try o["strip_right"].bool())
        }
    }
}

extension TextPattern {
    /// `"pattern": {"String": s} | {"Regex": r}` of Replace and Split; a regex other than the
    /// supported repetition is refused naming it.
    init(json o: JSONFields) throws(TokenizationError) {
        let patternObject = try reading { () throws(JSONFieldError) in try o["pattern"].object() }
        if let s = patternObject.optional("String") {
            let text = try reading { () throws(JSONFieldError) in try s.string() }
            guard !text.isEmpty else { throw .invalidField(s.invalid("a non-empty string")) }
            self = .string(text.unicodeScalars.map(\.value))
        } else if let r = patternObject.optional("Regex") {
            let regex = try reading { () throws(JSONFieldError) in try r.string() }
            guard let p = Self.repetition(regex: regex) else {
                throw .unsupportedComponent(path: o.file, component: r.keyPath, type: "Regex \(regex)")
            }
            self = p
        } else {
            throw .invalidField(o["pattern"].invalid("{\"String\": ...} or {\"Regex\": ...}"))
        }
    }
}

extension ReplaceNormalizer {
    /// `{"type": "Replace", "pattern": {"String": s} | {"Regex": r}, "content": s}`.
    init(json o: JSONFields) throws(TokenizationError) {
        let content = try reading { () throws(JSONFieldError) in try o["content"].string() }
        self.init(pattern: try TextPattern(json: o), content: content)
    }
}

extension SplitPreTokenizer {
    /// `{"type": "Split", "pattern": {"String": s} | {"Regex": r}, "behavior": "Removed" | "Isolated" |
    /// "MergedWithPrevious" | "MergedWithNext" | "Contiguous", "invert": bool}` (invert defaults to false).
    init(json o: JSONFields) throws(TokenizationError) {
        let pattern = try TextPattern(json: o)
        self = try reading { () throws(JSONFieldError) in
            let behaviors: [String: NormalizedText.SplitBehavior] = [
                "Removed": .removed, "Isolated": .isolated, "MergedWithPrevious": .mergedWithPrevious,
                "MergedWithNext": .mergedWithNext, "Contiguous": .contiguous]
            let behavior = try o["behavior"].oneOf(behaviors.keys.sorted()) { behaviors[$0] }
            return SplitPreTokenizer(pattern: pattern, behavior: behavior, invert: try o.optional("invert")?.bool() ?? false)
        }
    }
}

extension SequenceNormalizer {
    init(json o: JSONFields) throws(TokenizationError) {
        var stages: [any NormalizerStage] = []
        for item in try reading({ () throws(JSONFieldError) in try o["normalizers"].array() }) {
            stages.append(try StageRegistry.normalizer(try reading { () throws(JSONFieldError) in try item.object() }))
        }
        self.init(stages)
    }
}

extension MetaspacePreTokenizer {
    /// `{"replacement": "▁", "prepend_scheme": "always"|"first"|"never", "split": bool}` or the
    /// older `{"replacement": "▁", "add_prefix_space": bool}` (metaspace.rs `MetaspaceHelper`:
    /// `prepend_scheme` defaults to always, `split` to true; `add_prefix_space: false` means never
    /// and contradicts any other declared scheme).
    init(json o: JSONFields) throws(TokenizationError) {
        self = try reading { () throws(JSONFieldError) in
            let r = o["replacement"]
            let scalars = Array(try r.string().unicodeScalars)
            guard scalars.count == 1 else { throw r.invalid("one character") }
            let scheme = try o.optional("prepend_scheme")?.oneOf(PrependScheme.self) ?? .always
            if let add = o.optional("add_prefix_space"), try add.bool() == false, scheme != .never {
                throw add.invalid("true, or false with prepend_scheme \"never\"",
                                  hint: "tokenizers refuses add_prefix_space false unless prepend_scheme is \"never\"")
            }
            return MetaspacePreTokenizer(replacement: scalars[0], prependScheme: scheme, split: try o.optional("split")?.bool() ?? true)
        }
    }
}

extension SequencePreTokenizer {
    init(json o: JSONFields) throws(TokenizationError) {
        var stages: [any PreTokenizerStage] = []
        for item in try reading({ () throws(JSONFieldError) in try o["pretokenizers"].array() }) {
            stages.append(try StageRegistry.preTokenizer(try reading { () throws(JSONFieldError) in try item.object() }))
        }
        self.init(stages)
    }
}

extension ByteLevelPreTokenizer {
    /// `{"type": "ByteLevel", "add_prefix_space": bool, "trim_offsets": bool, "use_regex": bool}`
    /// (byte_level.rs: `add_prefix_space` and `trim_offsets` default to true, `use_regex` to true;
    /// `trim_offsets` belongs to the post-processor and does nothing here).
    init(json o: JSONFields) throws(TokenizationError) {
        self = try reading { () throws(JSONFieldError) in
            ByteLevelPreTokenizer(addPrefixSpace: try o.optional("add_prefix_space")?.bool() ?? true,
                                  useRegex: try o.optional("use_regex")?.bool() ?? true)
        }
    }
}

extension BPEModel {
    /// `{"type": "BPE", "dropout": null, "unk_token": s|null, "continuing_subword_prefix": s|null,
    /// "end_of_word_suffix": s|null, "fuse_unk": bool, "byte_fallback": bool, "ignore_merges": bool,
    /// "vocab": {token: id}, "merges": ["a b", ...] | [["a", "b"], ...]}` (bpe/serialization.rs;
    /// the flags default to false). Legacy merges are split at the one space they must hold, and
    /// lines starting with `#version` are skipped, as `convert_merges_to_hashmap` does.
    ///
    /// `settings` replaces the file's flags (a tokenizer class that rebuilds its model keeps only
    /// the vocabulary and merges); they are then not read at all.
    init(json o: JSONFields, settings given: Settings? = nil) throws(TokenizationError) {
        let settings: Settings
        if let given { settings = given } else { settings = try Settings(json: o) }
        let tokens = try Vocabulary.tokensByID(try reading { () throws(JSONFieldError) in try o["vocab"].object() })
        guard !tokens.isEmpty else { throw .emptyVocabulary(path: o.file + " model.vocab") }
        let mergesField = o["merges"]
        guard let items = mergesField.json?.arrayValue else { throw .invalidField(mergesField.invalid("an array")) }
        // The raw values: a key path is built only for an error (there are tens of thousands of merges).
        func item(_ i: Int) -> JSONField { JSONField(items[i], file: o.file, keyPath: "\(mergesField.keyPath)[\(i)]") }
        var merges: [BPEModel.Merge] = []
        var origin: [Int] = []  // merge rank -> index in `items` (legacy `#version` lines are skipped)
        merges.reserveCapacity(items.count)
        origin.reserveCapacity(items.count)
        let legacy = items.first?.stringValue != nil
        for (i, value) in items.enumerated() {
            if legacy {
                guard let line = value.stringValue else {
                    throw .invalidField(item(i).invalid("a string \"left right\" like the merges before it"))
                }
                if line.hasPrefix("#version") { continue }
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw .invalidField(item(i).invalid("two tokens separated by one space")) }
                merges.append(.init(String(parts[0]), String(parts[1])))
            } else {
                guard let pair = value.arrayValue, pair.count == 2, let left = pair[0].stringValue, let right = pair[1].stringValue else {
                    throw .invalidField(item(i).invalid("[left, right]"))
                }
                merges.append(.init(left, right))
            }
            origin.append(i)
        }
        do {
            self = try BPEModel(
                tokens: tokens, merges: merges, continuingSubwordPrefix: settings.prefix, endOfWordSuffix: settings.suffix,
                unknownToken: settings.unk, fuseUnknown: settings.fuse, byteFallback: settings.fallback, ignoreMerges: settings.ignore)
        } catch {
            switch error {
            case .mergeTokenNotInVocabulary(let rank, let token):
                throw .invalidField(item(origin[rank]).invalid("tokens of model.vocab whose concatenation is one too; \(token.debugDescription) is not in it"))
            case .mergeShorterThanPrefix(let rank, let right):
                throw .invalidField(item(origin[rank]).invalid("a right side \(right.debugDescription) that starts with continuing_subword_prefix \(settings.prefix?.debugDescription ?? "")"))
            case .unknownTokenNotInVocabulary(let unk):
                throw .invalidField(o["unk_token"].invalid("a token of model.vocab (\(unk.debugDescription) is not one)", hint: "the reference fails on the first unknown character of a text; fix unk_token or set it to null"))
            }
        }
    }
}

extension BPEModel {
    /// The flags of a BPE model object, as they change `merge_word`.
    struct Settings: Equatable, CustomStringConvertible {
        var unk: String?, prefix: String?, suffix: String?
        var fuse = false, fallback = false, ignore = false

        /// What RobertaTokenizer builds: none of them.
        static let none = Settings()

        init(unk: String? = nil, prefix: String? = nil, suffix: String? = nil) {
            self.unk = unk; self.prefix = prefix; self.suffix = suffix
        }

        /// The file's flags; an empty prefix or suffix is none. Dropout other than null or 0 is refused.
        init(json o: JSONFields) throws(TokenizationError) {
            self = try reading { () throws(JSONFieldError) in
                if let d = o.optional("dropout") {
                    let p = try d.double()
                    guard (0...1).contains(p) else { throw d.invalid("null, or a probability from 0 to 1") }
                    guard p == 0 else {
                        throw d.invalid("null or 0", hint: "BPE dropout picks merges at random, so ids would differ on every call; it is for training, set it to null")
                    }
                }
                func text(_ key: String) throws(JSONFieldError) -> String? {
                    guard let v = try o.optional(key)?.string(), !v.isEmpty else { return nil }
                    return v
                }
                var s = Settings(unk: try o.optional("unk_token")?.string(), prefix: try text("continuing_subword_prefix"),
                                 suffix: try text("end_of_word_suffix"))
                s.fuse = try o.optional("fuse_unk")?.bool() ?? false
                s.fallback = try o.optional("byte_fallback")?.bool() ?? false
                s.ignore = try o.optional("ignore_merges")?.bool() ?? false
                return s
            }
        }

        var description: String {
            var parts: [String] = []
            if let unk { parts.append("unk_token \(unk.debugDescription)") }
            if let prefix { parts.append("continuing_subword_prefix \(prefix.debugDescription)") }
            if let suffix { parts.append("end_of_word_suffix \(suffix.debugDescription)") }
            if fuse { parts.append("fuse_unk") }
            if fallback { parts.append("byte_fallback") }
            if ignore { parts.append("ignore_merges") }
            return parts.isEmpty ? "no flags" : parts.joined(separator: ", ")
        }
    }
}

extension UnigramModel {
    /// `{"type": "Unigram", "unk_id": n, "vocab": [[piece, score], ...], "byte_fallback": bool}`.
    /// A model without `unk_id` is refused (`requireUnknown`): the reference fails on the first
    /// unknown character. Without `requireUnknown` (a caller that sets its own) it reads as 0.
    init(json o: JSONFields, requireUnknown: Bool = true) throws(TokenizationError) {
        let items = try reading { () throws(JSONFieldError) in try o["vocab"].array() }
        guard !items.isEmpty else { throw .emptyVocabulary(path: o.file + " model.vocab") }
        var pieces: [String] = [], scores: [Double] = []
        pieces.reserveCapacity(items.count)
        scores.reserveCapacity(items.count)
        try reading { () throws(JSONFieldError) in
            for item in items {
                guard let pair = item.json?.arrayValue, pair.count == 2, let p = pair[0].stringValue,
                      let s = pair[1].numberValue?.doubleValue, s.isFinite else { throw item.invalid("[piece, score]") }
                pieces.append(p)
                scores.append(s)
            }
        }
        var unk = 0
        if let unkField = o.optional("unk_id") {
            unk = try reading { () throws(JSONFieldError) in try unkField.int(in: 0...(pieces.count - 1)) }
        } else if requireUnknown {
            throw .unsupportedComponent(path: o.file, component: "model", type: "Unigram without unk_id")
        }
        let byteFallback = try reading { () throws(JSONFieldError) in try o.optional("byte_fallback")?.bool() ?? false }
        self.init(pieces: pieces, scores: scores, unknownID: Int32(unk), byteFallback: byteFallback)
    }
}

extension TemplateProcessing {
    /// `{"single": [...], "pair": [...], "special_tokens": {name: {"id", "ids", "tokens"}}}`,
    /// pieces `{"SpecialToken": {"id": name, "type_id": n}}` or `{"Sequence": {"id": "A"|"B", "type_id": n}}`.
    init(templateJSON o: JSONFields) throws(TokenizationError) {
        self = try reading { () throws(JSONFieldError) in
            let specials = try o.optional("special_tokens")?.object()
            func pieces(_ key: String) throws(JSONFieldError) -> [Piece] {
                var out: [Piece] = []
                for item in try o[key].array() {
                    let p = try item.object()
                    if let s = p.optional("SpecialToken") {
                        let so = try s.object()
                        let name = try so["id"].string()
                        guard let entry = specials?.optional(name) else {
                            throw so["id"].invalid("a name listed in special_tokens")
                        }
                        let ids = try entry.object()["ids"].array().map { f throws(JSONFieldError) in Int32(try f.int(in: 0...Int(Int32.max))) }
                        out.append(.special(ids: ids, typeID: Int32(try so["type_id"].int(in: 0...Int(Int32.max)))))
                    } else if let s = p.optional("Sequence") {
                        let so = try s.object()
                        let which = try so["id"].oneOf(["A", "B"]) { $0 == "B" ? true : $0 == "A" ? false : nil }
                        out.append(.sequence(second: which, typeID: Int32(try so["type_id"].int(in: 0...Int(Int32.max)))))
                    } else {
                        throw item.invalid("{\"SpecialToken\": ...} or {\"Sequence\": ...}")
                    }
                }
                return out
            }
            return TemplateProcessing(single: try pieces("single"), pair: try pieces("pair"))
        }
    }

    /// `"cls": [token, id]`, `"sep": [token, id]` of BertProcessing and RobertaProcessing.
    private static func tokenIDs(_ o: JSONFields) throws(JSONFieldError) -> (cls: Int32, sep: Int32) {
        func id(_ key: String) throws(JSONFieldError) -> Int32 {
            let items = try o[key].array()
            guard items.count == 2, items[0].json?.stringValue != nil else { throw o[key].invalid("[token, id]") }
            return Int32(try items[1].int(in: 0...Int(Int32.max)))
        }
        return (try id("cls"), try id("sep"))
    }

    init(bertJSON o: JSONFields) throws(TokenizationError) {
        let t = try reading { () throws(JSONFieldError) in try Self.tokenIDs(o) }
        self = .bert(cls: t.cls, sep: t.sep)
    }

    /// The `ByteLevel` post-processor (byte_level.rs): offsets trimmed like RobertaProcessing's when
    /// `trim_offsets` (default true), no tokens added; a pair's second sequence keeps type id 1.
    init(byteLevelJSON o: JSONFields) throws(TokenizationError) {
        self = try reading { () throws(JSONFieldError) in
            TemplateProcessing(
                single: [.sequence(second: false, typeID: 0)],
                pair: [.sequence(second: false, typeID: 0), .sequence(second: true, typeID: 1)],
                trimOffsets: try o.optional("trim_offsets")?.bool() ?? true,
                addPrefixSpace: try o.optional("add_prefix_space")?.bool() ?? true, name: "ByteLevel")
        }
    }

    /// RobertaProcessing: `trim_offsets` and `add_prefix_space` default to true.
    init(robertaJSON o: JSONFields) throws(TokenizationError) {
        self = try reading { () throws(JSONFieldError) in
            let t = try Self.tokenIDs(o)
            return .roberta(cls: t.cls, sep: t.sep, trimOffsets: try o.optional("trim_offsets")?.bool() ?? true,
                            addPrefixSpace: try o.optional("add_prefix_space")?.bool() ?? true)
        }
    }
}
