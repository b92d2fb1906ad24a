/// `TemplateProcessing` (tokenizers/src/processors/template.rs): the encoding is the template's
/// pieces in order, `$A`/`$B` the sequences (every token of one gets the piece's type id) and each
/// special token its ids (offsets `0..<0`). `BertProcessing` and `RobertaProcessing` are fixed
/// templates of this kind (``bert(cls:sep:)``, ``roberta(cls:sep:trimOffsets:addPrefixSpace:)``).
public struct TemplateProcessing: PostProcessorStage {
    public enum Piece: Sendable, Equatable {
        /// `$A` (`second` false) or `$B`, with the type id of its tokens.
        case sequence(second: Bool, typeID: Int32)
        /// A special token's ids (one name can stand for several), with their type id.
        case special(ids: [Int32], typeID: Int32)
    }

    public var single: [Piece]
    public var pair: [Piece]
    /// RobertaProcessing's `trim_offsets` (with its `add_prefix_space`): before the template,
    /// token offsets lose the whitespace their text starts or ends with
    /// (tokenizers/src/pre_tokenizers/byte_level.rs `process_offsets`).
    public var trimOffsets: (addPrefixSpace: Bool, enabled: Bool)
    /// What the file called it, for ``summary``.
    public var name: String

    public init(single: [Piece], pair: [Piece], trimOffsets: Bool = false, addPrefixSpace: Bool = false, name: String = "TemplateProcessing") {
        self.single = single
        self.pair = pair
        self.trimOffsets = (addPrefixSpace, trimOffsets)
        self.name = name
    }

    /// `BertProcessing` (processors/bert.rs): `[CLS] $A [SEP]`, `[CLS] $A [SEP] $B:1 [SEP]:1`.
    public static func bert(cls: Int32, sep: Int32) -> TemplateProcessing {
        TemplateProcessing(
            single: [.special(ids: [cls], typeID: 0), .sequence(second: false, typeID: 0), .special(ids: [sep], typeID: 0)],
            pair: [.special(ids: [cls], typeID: 0), .sequence(second: false, typeID: 0), .special(ids: [sep], typeID: 0),
                   .sequence(second: true, typeID: 1), .special(ids: [sep], typeID: 1)],
            name: "BertProcessing")
    }

    /// `RobertaProcessing` (processors/roberta.rs): `<s> $A </s>`, `<s> $A </s> </s> $B </s>`, all
    /// type 0, offsets trimmed when `trimOffsets` (its default is true).
    public static func roberta(cls: Int32, sep: Int32, trimOffsets: Bool, addPrefixSpace: Bool) -> TemplateProcessing {
        TemplateProcessing(
            single: [.special(ids: [cls], typeID: 0), .sequence(second: false, typeID: 0), .special(ids: [sep], typeID: 0)],
            pair: [.special(ids: [cls], typeID: 0), .sequence(second: false, typeID: 0), .special(ids: [sep], typeID: 0),
                   .special(ids: [sep], typeID: 0), .sequence(second: true, typeID: 0), .special(ids: [sep], typeID: 0)],
            trimOffsets: trimOffsets, addPrefixSpace: addPrefixSpace, name: "RobertaProcessing")
    }

    public func addedTokens(pair isPair: Bool) -> Int {
        (isPair ? pair : single).reduce(0) { n, p in
            if case .special(let ids, _) = p { return n + ids.count }
            return n
        }
    }

    public var readsTokenSpaces: Bool { trimOffsets.enabled }

    public var singleSpecials: (prefix: [Int32], suffix: [Int32]) {
        var prefix: [Int32] = [], suffix: [Int32] = []
        var seen = false
        for p in single {
            switch p {
            case .sequence: seen = true
            case .special(let ids, _): if seen { suffix += ids } else { prefix += ids }
            }
        }
        return (prefix, suffix)
    }

    public var summary: String {
        func show(_ pieces: [Piece]) -> String {
            pieces.map { p in
                switch p {
                case .sequence(let b, let t): return (b ? "$B" : "$A") + (t != 0 ? ":\(t)" : "")
                case .special(let ids, let t): return ids.map(String.init).joined(separator: "+") + (t != 0 ? ":\(t)" : "")
                }
            }.joined(separator: " ")
        }
        return "\(name) \(show(single)) | \(show(pair))"
    }

    /// `process_offsets`: leading spaces move the start (unless it is the first token, with
    /// `add_prefix_space`, and exactly one), trailing spaces move the end back.
    func trimmed(_ s: SequenceTokens) -> SequenceTokens {
        var s = s
        for i in 0..<s.count {
            var leading = s.leadingSpaces[i]
            let trailing = s.trailingSpaces[i]
            if leading > 0 {
                let isFirst = i == 0 || s.starts[i] == 0
                if isFirst && trimOffsets.addPrefixSpace && leading == 1 { leading = 0 }
                s.starts[i] = min(s.starts[i] + leading, s.ends[i])
            }
            if trailing > 0 && s.ends[i] >= trailing {
                s.ends[i] = max(s.ends[i] - trailing, s.starts[i])
            }
        }
        return s
    }

    public func process(_ a: SequenceTokens, _ b: SequenceTokens?) -> (ids: [Int32], typeIds: [Int32], offsets: [Range<Int>]) {
        let a = trimOffsets.enabled ? trimmed(a) : a
        let b = trimOffsets.enabled ? b.map(trimmed) : b
        let template = b == nil ? single : pair
        var ids: [Int32] = [], types: [Int32] = [], offsets: [Range<Int>] = []
        let n = a.count + (b?.count ?? 0) + addedTokens(pair: b != nil)
        ids.reserveCapacity(n); types.reserveCapacity(n); offsets.reserveCapacity(n)
        for p in template {
            switch p {
            case .sequence(let second, let typeID):
                guard let s = second ? b : a else { continue }
                for i in 0..<s.count {
                    ids.append(s.ids[i]); types.append(typeID); offsets.append(s.starts[i]..<max(s.starts[i], s.ends[i]))
                }
            case .special(let sids, let typeID):
                for id in sids { ids.append(id); types.append(typeID); offsets.append(0..<0) }
            }
        }
        return (ids, types, offsets)
    }
}
