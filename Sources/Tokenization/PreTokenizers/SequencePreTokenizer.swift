/// `Sequence` of pre-tokenizers (tokenizers/src/pre_tokenizers/sequence.rs): each splits the
/// pieces the one before left.
public struct SequencePreTokenizer: PreTokenizerStage {
    public var preTokenizers: [any PreTokenizerStage]

    public init(_ preTokenizers: [any PreTokenizerStage]) { self.preTokenizers = preTokenizers }

    public func preTokenize(_ pieces: inout [TextPiece]) {
        for p in preTokenizers { p.preTokenize(&pieces) }
    }
}
