/// `WhitespaceSplit` (tokenizers/src/pre_tokenizers/whitespace.rs): splits on Rust's
/// `char::is_whitespace` and drops the whitespace.
public struct WhitespaceSplitPreTokenizer: PreTokenizerStage {
    public init() {}

    public func preTokenize(_ pieces: inout [TextPiece]) {
        splitEach(&pieces) { _, t in t.split(behavior: .removed, where: Vocabulary.isRustWhitespace) }
    }
}
