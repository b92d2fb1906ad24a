import StrictJSON

extension PipelineTokenizer {
    /// The tokenizer a folder's `tokenizer.json` describes with a model other than WordPiece,
    /// built the way `transformers` 5 (`AutoTokenizer`, what sentence-transformers runs) builds it.
    ///
    /// `tokenizer_class` decides, as in transformers' `TokenizersBackend.convert_to_native_format`:
    /// - none, `PreTrainedTokenizerFast`, `TokenizersBackend`: tokenizer.json as written;
    /// - `XLMRobertaTokenizer`(`Fast`): transformers keeps only the file's vocabulary (with scores),
    ///   its first `Precompiled` charsmap and added tokens, and rebuilds the rest in the class's
    ///   `__init__` (models/xlm_roberta/tokenization_xlm_roberta.py): `Unigram(unk_id=3,
    ///   byte_fallback=False)`, `Sequence[WhitespaceSplit, Metaspace(prepend_scheme="always"` or
    ///   `"never"` by `add_prefix_space`, default true`)]`, `<s> $A </s>` / `<s> $A </s> </s> $B </s>`.
    ///   Every part of the file this drops is listed in ``warnings``;
    /// - `RobertaTokenizer`(`Fast`): transformers keeps the file's BPE vocabulary and merges and its
    ///   added tokens, and rebuilds the rest (models/roberta/tokenization_roberta.py): no normalizer,
    ///   `ByteLevel(add_prefix_space)` (tokenizer_config.json, default false), `BPE` without
    ///   unknown token, dropout, prefix or suffix, and `RobertaProcessing(trim_offsets,
    ///   add_prefix_space)` (trim_offsets default true). Every part of the file this drops is listed
    ///   in ``warnings``;
    /// - another class: tokenizer.json as written, with a warning (that class may rebuild its pipeline).
    ///
    /// A class that rebuilds its pipeline needs its model type (Unigram for XLM-R, BPE for RoBERTa);
    /// another model is refused. `add_bos_token`/`add_eos_token` in tokenizer_config.json change
    /// nothing for a generic class (probed with transformers 5.25: the file's post-processor, or none,
    /// is what runs).
    ///
    /// Every component type is checked against ``StageRegistry``; an unknown one is refused with
    /// its key path. The vocabulary size limit is checked before any table is built.
    convenience init(files: FolderFiles) throws(TokenizationError) {
        guard let root = files.tokenizerJSON else { throw .noTokenizerFiles(folder: files.folder.path) }
        let file = root.file
        let modelObject = try reading { () throws(JSONFieldError) in try root["model"].object() }
        if let vocab = modelObject.optional("vocab")?.json?.arrayValue { try files.checkCount(vocab.count, file) }

        let tokenizerClass = try files.tokenizerClass()
        var warnings: [String] = []
        let xlmr = tokenizerClass == "XLMRobertaTokenizer" || tokenizerClass == "XLMRobertaTokenizerFast"
        let roberta = tokenizerClass == "RobertaTokenizer" || tokenizerClass == "RobertaTokenizerFast"
        switch tokenizerClass {
        case nil, "PreTrainedTokenizerFast", "TokenizersBackend": break
        case _ where xlmr || roberta: break
        case let other?:
            warnings.append("tokenizer_config.json tokenizer_class \(other) is not one whose pipeline this runtime rebuilds (XLMRobertaTokenizer, RobertaTokenizer) or a generic one; its tokenizer.json is used as written (ids may differ from transformers if that class rebuilds its pipeline)")
        }
        let modelType = try StageRegistry.type(of: modelObject)
        for (rebuilds, needs) in [(xlmr, "Unigram"), (roberta, "BPE")] where rebuilds && modelType != needs {
            throw .unsupportedComponent(
                path: file, component: "model",
                type: "\(modelType) with tokenizer_class \(tokenizerClass!) (transformers rebuilds that class around a \(needs) model)")
        }

        // Special tokens: the class's defaults (XLM-R, RoBERTa), then special_tokens_map.json, then tokenizer_config.json.
        let roles = ["bos", "eos", "unk", "sep", "cls", "pad", "mask"]
        let defaults = xlmr || roberta
            ? ["bos": "<s>", "eos": "</s>", "unk": "<unk>", "sep": "</s>", "cls": "<s>", "pad": "<pad>", "mask": "<mask>"]
            : [:]
        let special = try files.specialTokens(roles, defaults: defaults)
        warnings += special.warnings

        let normalizer: (any NormalizerStage)?
        let preTokenizer: (any PreTokenizerStage)?
        let model: any TokenizerModel
        var stageNames: String
        var robertaPrefixSpace = false  // RobertaTokenizer's, shared by its ByteLevel and RobertaProcessing
        let normalizerObject = try reading { () throws(JSONFieldError) in try root.optional("normalizer")?.object() }
        let preObject = try reading { () throws(JSONFieldError) in try root.optional("pre_tokenizer")?.object() }
        let postObject = try reading { () throws(JSONFieldError) in try root.optional("post_processor")?.object() }

        if xlmr {
            let cls = tokenizerClass!
            // `_spm_precompiled_charsmap`: the first Precompiled, alone or inside a Sequence.
            var precompiled: JSONFields? = nil
            if let n = normalizerObject {
                if try StageRegistry.type(of: n) == "Sequence" {
                    for item in try reading({ () throws(JSONFieldError) in try n["normalizers"].array() }) {
                        let o = try reading { () throws(JSONFieldError) in try item.object() }
                        if try StageRegistry.type(of: o) == "Precompiled" { precompiled = o; break }
                    }
                } else if try StageRegistry.type(of: n) == "Precompiled" {
                    precompiled = n
                }
            }
            normalizer = try precompiled.map { o throws(TokenizationError) in try PrecompiledNormalizer(json: o) }
            let written = try Self.describe(normalizerObject)
            let kept = precompiled == nil ? "none" : "Precompiled"
            if written != kept {
                warnings.append("tokenizer.json normalizer is \(written) but \(cls) in transformers 5 keeps only \(kept); using \(kept)")
            }
            let addPrefixSpace = try reading { () throws(JSONFieldError) in try files.config?.optional("add_prefix_space")?.bool() } ?? true
            let scheme: MetaspacePreTokenizer.PrependScheme = addPrefixSpace ? .always : .never
            preTokenizer = SequencePreTokenizer([WhitespaceSplitPreTokenizer(), MetaspacePreTokenizer(prependScheme: scheme)])
            let rebuilt = "Sequence[WhitespaceSplit, Metaspace(\(scheme.rawValue))]"
            let writtenPre = try Self.describe(preObject)
            if writtenPre != rebuilt {
                warnings.append("tokenizer.json pre_tokenizer is \(writtenPre) but \(cls) in transformers 5 rebuilds \(rebuilt); using \(rebuilt)")
            }
            let parsed = try UnigramModel(json: modelObject, requireUnknown: false)
            guard parsed.pieces.count > 3 else {
                throw .invalidField(modelObject["vocab"].invalid("more than 4 pieces (\(cls) uses unk_id 3)"))
            }
            if parsed.unknownID != 3 || parsed.byteFallback {
                warnings.append("tokenizer.json model has unk_id \(parsed.unknownID), byte_fallback \(parsed.byteFallback) but \(cls) in transformers 5 uses unk_id 3, byte_fallback false; using those")
            }
            model = UnigramModel(parsed, unknownID: 3, byteFallback: false)
            stageNames = "normalizer \(kept), pre-tokenizer \(rebuilt) (\(cls) as transformers 5 rebuilds it)"
        } else if roberta {
            let cls = tokenizerClass!
            normalizer = nil
            if normalizerObject != nil {
                warnings.append("tokenizer.json normalizer is \(try Self.describe(normalizerObject)) but \(cls) in transformers 5 uses none; using none")
            }
            robertaPrefixSpace = try reading { () throws(JSONFieldError) in try files.config?.optional("add_prefix_space")?.bool() } ?? false
            let byteLevel = ByteLevelPreTokenizer(addPrefixSpace: robertaPrefixSpace)
            preTokenizer = byteLevel
            let rebuilt = Self.describe(byteLevel)
            let writtenPre = try Self.describe(preObject)
            if writtenPre != rebuilt {
                warnings.append("tokenizer.json pre_tokenizer is \(writtenPre) but \(cls) in transformers 5 rebuilds \(rebuilt); using \(rebuilt)")
            }
            let parsed = try BPEModel(json: modelObject, settings: .none)
            let written = try? BPEModel.Settings(json: modelObject)
            if written != BPEModel.Settings.none {
                warnings.append("tokenizer.json model sets \(written.map { "\($0)" } ?? "settings this runtime refuses") but \(cls) in transformers 5 builds BPE without unk_token, dropout, prefix, suffix or byte fallback; using that")
            }
            model = parsed
            stageNames = "normalizer none, pre-tokenizer \(rebuilt) (\(cls) as transformers 5 rebuilds it)"
        } else {
            normalizer = try normalizerObject.map { o throws(TokenizationError) in try StageRegistry.normalizer(o) }
            preTokenizer = try preObject.map { o throws(TokenizationError) in try StageRegistry.preTokenizer(o) }
            model = try StageRegistry.build(modelObject, StageRegistry.models)
            stageNames = "normalizer \(try Self.describe(normalizerObject)), pre-tokenizer \(try Self.describe(preObject))"
        }

        // Added tokens: the file's, each checked against the vocabulary, then the named special
        // tokens the file lacks (TokenizersBackend.__init__ adds them as special, not normalized).
        var added: [AddedVocabulary.Token] = []
        for item in try reading({ () throws(JSONFieldError) in try root.optional("added_tokens")?.array() ?? [] }) {
            let t = try reading { () throws(JSONFieldError) in
                let o = try item.object()
                // tokenizers' AddedToken defaults: normalized true unless special, the rest false.
                let special = try o.optional("special")?.bool() ?? false
                return AddedVocabulary.Token(
                    content: try o["content"].string(), id: Int32(try o["id"].int(in: 0...Int(Int32.max))),
                    singleWord: try o.optional("single_word")?.bool() ?? false, lstrip: try o.optional("lstrip")?.bool() ?? false,
                    rstrip: try o.optional("rstrip")?.bool() ?? false, normalized: try o.optional("normalized")?.bool() ?? !special,
                    special: special)
            }
            if let piece = model.token(for: t.id), Array(piece.utf8) != Array(t.content.utf8) {
                throw .invalidField(JSONField(item.json?.objectValue?["content"], file: file, keyPath: item.keyPath + ".content").invalid("\(piece.debugDescription), the piece of id \(t.id) in model.vocab"))
            }
            added.append(t)
        }
        func id(_ token: String) -> Int32? {
            added.first(where: { Array($0.content.utf8) == Array(token.utf8) })?.id ?? model.id(for: token)
        }
        for role in roles {
            guard let t = special.tokens[role], !added.contains(where: { Array($0.content.utf8) == Array(t.utf8) }) else { continue }
            if let i = model.id(for: t) {
                added.append(AddedVocabulary.Token(content: t, id: i, normalized: false, special: true))
            } else if special.sources[role] != "default" {
                warnings.append("\(special.sources[role]!) names \(role)_token \(t.debugDescription), which is not in tokenizer.json; transformers would add it with a new id, this runtime ignores it")
            }
        }

        let post: any PostProcessorStage
        if roberta {
            let trimOffsets = try reading { () throws(JSONFieldError) in try files.config?.optional("trim_offsets")?.bool() } ?? true
            guard let cls = id(special.tokens["cls"]!) else {
                throw .missingSpecialToken(role: "cls", token: special.tokens["cls"]!, source: file)
            }
            guard let sep = id(special.tokens["sep"]!) else {
                throw .missingSpecialToken(role: "sep", token: special.tokens["sep"]!, source: file)
            }
            let t = TemplateProcessing.roberta(cls: cls, sep: sep, trimOffsets: trimOffsets, addPrefixSpace: robertaPrefixSpace)
            let written = postObject.flatMap { try? StageRegistry.build($0, StageRegistry.postProcessors) as? TemplateProcessing }
            if written?.single != t.single || written?.pair != t.pair || written?.trimOffsets.enabled != t.trimOffsets.enabled
                || written?.trimOffsets.addPrefixSpace != t.trimOffsets.addPrefixSpace {
                warnings.append("tokenizer.json post_processor is \(try Self.describe(postObject)) but \(tokenizerClass!) in transformers 5 rebuilds RobertaProcessing(trim_offsets \(trimOffsets), add_prefix_space \(robertaPrefixSpace)); using that")
            }
            post = t
        } else if xlmr {
            guard let bos = id(special.tokens["bos"]!) else {
                throw .missingSpecialToken(role: "bos", token: special.tokens["bos"]!, source: file)
            }
            guard let eos = id(special.tokens["eos"]!) else {
                throw .missingSpecialToken(role: "eos", token: special.tokens["eos"]!, source: file)
            }
            let t = TemplateProcessing(
                single: [.special(ids: [bos], typeID: 0), .sequence(second: false, typeID: 0), .special(ids: [eos], typeID: 0)],
                pair: [.special(ids: [bos], typeID: 0), .sequence(second: false, typeID: 0), .special(ids: [eos], typeID: 0),
                       .special(ids: [eos], typeID: 0), .sequence(second: true, typeID: 0), .special(ids: [eos], typeID: 0)],
                name: "TemplateProcessing")
            let written = postObject.flatMap { try? StageRegistry.build($0, StageRegistry.postProcessors) as? TemplateProcessing }
            if written?.single != t.single || written?.pair != t.pair || written?.trimOffsets.enabled != false {
                warnings.append("tokenizer.json post_processor is \(try Self.describe(postObject)) but \(tokenizerClass!) in transformers 5 rebuilds <s> $A </s> / <s> $A </s> </s> $B </s>; using that")
            }
            post = t
        } else if let postObject {
            post = try StageRegistry.build(postObject, StageRegistry.postProcessors)
        } else {
            // No post-processor: the sequences as they are, the pair's with type id 1 (`default_process`).
            post = TemplateProcessing(single: [.sequence(second: false, typeID: 0)],
                                      pair: [.sequence(second: false, typeID: 0), .sequence(second: true, typeID: 1)], name: "none")
        }

        // The padding id (RoBERTa-style bodies count positions from it): pad_token, else
        // tokenizer.json's padding.pad_id, else a special added token spelled <pad> or [PAD].
        var padding: Int32? = special.tokens["pad"].flatMap(id)
        if padding == nil, let p = root.optional("padding")?.json?.objectValue?["pad_id"]?.numberValue?.exactInt {
            padding = Int32(exactly: p)
        }
        if padding == nil {
            padding = added.first(where: { $0.special && ($0.content == "<pad>" || $0.content == "[PAD]") })?.id
        }
        guard let padding else {
            throw .missingSpecialToken(role: "pad", token: special.tokens["pad"] ?? "(none)", source: file)
        }

        self.init(
            normalizer: normalizer, preTokenizer: preTokenizer, model: model, postProcessor: post, addedTokens: added,
            padding: padding, warnings: warnings, modelMaxLength: try files.modelMaxLength(),
            truncationMaxLength: try files.truncationMaxLength(), stageNames: stageNames)
    }

    /// A component's type with the types inside a Sequence, e.g. `Sequence[Precompiled, Replace]`;
    /// Metaspace with its scheme. "none" for a missing one.
    static func describe(_ o: JSONFields?) throws(TokenizationError) -> String {
        guard let o else { return "none" }
        let t = try StageRegistry.type(of: o)
        if t == "Sequence" {
            let key = o.optional("normalizers") != nil ? "normalizers" : "pretokenizers"
            let items = try reading { () throws(JSONFieldError) in try o.optional(key)?.array() ?? [] }
            var inner: [String] = []
            for item in items {
                inner.append(try describe(try reading { () throws(JSONFieldError) in try item.object() }))
            }
            return "Sequence[\(inner.joined(separator: ", "))]"
        }
        if t == "ByteLevel", let b = try? ByteLevelPreTokenizer(json: o) { return describe(b) }
        if t == "Metaspace" {
            if let m = try? MetaspacePreTokenizer(json: o) { return "Metaspace(\(m.prependScheme.rawValue)\(m.split ? "" : ", no split"))" }
        }
        return t
    }

    static func describe(_ b: ByteLevelPreTokenizer) -> String {
        "ByteLevel(add_prefix_space \(b.addPrefixSpace)\(b.useRegex ? "" : ", no regex"))"
    }
}
