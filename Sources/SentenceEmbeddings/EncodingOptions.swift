import Tokenization

/// What to do with an input longer than the model's maximum sequence length.
public enum TruncationPolicy: Sendable, Equatable {
    /// Cut at the maximum length, as sentence-transformers does (counted as truncated).
    case truncate
    /// Embed overlapping windows that fit and average them, weighted by token count
    /// (`overlap`: tokens shared by consecutive windows).
    case chunk(overlap: Int)
    /// Refuse the input with ``SentenceEmbeddingsError/inputTooLong(index:tokens:limit:)``.
    case error
}

/// One input to embed: a text, or the token ids the model should see (as `/tokenize` returns them).
public enum EncoderInput: Sendable, Equatable, ExpressibleByStringLiteral {
    case text(String)
    /// Token ids of the model's vocabulary. `[CLS]` and `[SEP]` are added when missing; no prompt
    /// is prepended (the ids are taken to be the whole sequence).
    case tokenIDs([Int])

    public init(stringLiteral value: String) { self = .text(value) }
}

/// Everything that shapes a vector besides the model: the choices of sentence-transformers'
/// `encode` (prompt, `truncate_dim`, `normalize_embeddings`), whether prompt tokens are pooled,
/// and what happens to over-long inputs.
///
/// The library, `encoder run`, the batch job and every server route turn inputs into vectors
/// through this one value and ``SentenceEncoder/prepare(_:)``.
public struct EncodingOptions: Sendable, Equatable {
    /// `prompt_name`: one of the model's `prompts` (config_sentence_transformers.json). An unknown
    /// name is an error listing the known ones.
    public var promptName: String?
    /// `prompt`: text prepended to every input. Wins over ``promptName``; `""` means no prompt
    /// even when the model has a `default_prompt_name`.
    public var prompt: String?
    /// Whether the prompt's tokens take part in pooling; `nil` follows the model's Pooling
    /// config (`include_prompt`, true unless it says otherwise).
    public var includePrompt: Bool?
    /// `truncate_dim`: keep the first N values of every embedding (1...``SentenceEncoder/fullDimension``).
    /// `nil` uses the model's `truncate_dim`, if any.
    public var dimensions: Int?
    /// `normalize_embeddings`: scale each vector to unit length after truncation.
    public var normalize: Bool
    /// Inputs longer than ``SentenceEncoder/maxSequenceLength``: cut (sentence-transformers'
    /// behaviour), chunked and averaged, or refused.
    public var truncation: TruncationPolicy

    public init(
        promptName: String? = nil, prompt: String? = nil, includePrompt: Bool? = nil, dimensions: Int? = nil,
        normalize: Bool = false, truncation: TruncationPolicy = .truncate
    ) {
        self.promptName = promptName
        self.prompt = prompt
        self.includePrompt = includePrompt
        self.dimensions = dimensions
        self.normalize = normalize
        self.truncation = truncation
    }
}

/// ``EncodingOptions`` resolved against one model by ``SentenceEncoder/prepare(_:)``.
public struct PreparedEncoding: Sendable, Equatable {
    /// The text prepended to every text input, if any.
    public let prompt: String?
    /// Leading token rows pooling leaves out of a text input (prompt tokens when they are not pooled).
    let promptSkip: Int
    let truncation: TruncationPolicy
    let plan: OutputPlan

    /// The length of the embeddings these options give.
    public var dimension: Int { plan.dimensions }
}

extension SentenceEncoder {
    /// The prompt text `options` select, as `SentenceTransformer._resolve_prompt` decides it:
    /// an explicit prompt, else the named prompt, else the model's `default_prompt_name`; `nil`
    /// (or `""`) when none applies.
    public func resolvePrompt(_ options: EncodingOptions) throws(SentenceEmbeddingsError) -> String? {
        if let prompt = options.prompt { return prompt }
        if let name = options.promptName {
            guard let text = sentenceConfig.prompts[name] else {
                throw .unknownPromptName(name: name, known: sentenceConfig.prompts.keys.sorted())
            }
            return text
        }
        return sentenceConfig.defaultPromptName.flatMap { sentenceConfig.prompts[$0] }
    }

    /// The embedding length `options` give, checking ``EncodingOptions/dimensions``.
    public func outputDimension(_ options: EncodingOptions) throws(SentenceEmbeddingsError) -> Int {
        guard let n = options.dimensions else { return dimension }
        guard n >= 1 && n <= fullDimension else { throw .invalidDimensions(requested: n, available: fullDimension) }
        return n
    }

    /// The token ids the model sees for `prompt + text` (sentence-transformers joins them as
    /// strings before tokenizing), truncated to ``maxSequenceLength``.
    public func tokenize(_ text: String, prompt: String?) -> Encoding {
        tokenizer.encode(prompt.map { $0.isEmpty ? text : $0 + text } ?? text, maxLength: maxSequenceLength)
    }

    /// `Transformer._get_prompt_length`: the token count of the prompt tokenized alone, minus its
    /// trailing token (`prompt_length -= 1`, whatever the tokenizer's suffix is); it counts the
    /// leading specials ([CLS], `<s>`). With `include_prompt: false` pooling leaves out this many
    /// leading positions.
    public func promptLength(_ prompt: String) -> Int {
        guard !prompt.isEmpty else { return 0 }
        return tokenize(prompt).ids.count - 1
    }

    /// `options` checked and resolved for this model: the prompt, how many of its tokens pooling
    /// skips, the output dimensions. Resolve once, then ``tokenize(_:prepared:)`` each input and
    /// ``embed(_:prepared:)`` them (or ``embed(_:options:)`` does all three).
    public func prepare(_ options: EncodingOptions) throws(SentenceEmbeddingsError) -> PreparedEncoding {
        let prompt = try resolvePrompt(options)
        let plan = OutputPlan(dimensions: try outputDimension(options), normalize: options.normalize)
        if case .chunk(let overlap) = options.truncation {
            guard overlap >= 0 else { throw .invalidOptions("the chunk overlap must be 0 or more tokens, got \(overlap)") }
            // A window after the first would hold no prompt, and the prompt's tokens depend on the
            // text they are joined to, so there is no one right way to repeat it per window.
            if let prompt, !prompt.isEmpty {
                throw .invalidOptions(
                    "chunking long inputs cannot be combined with a prompt (\(prompt.debugDescription)); give an empty prompt to embed without one, or truncate")
            }
        }
        // Pooling._exclude_prompt_from_mask zeroes the first prompt_length positions.
        let pooled = options.includePrompt ?? pooling.includePrompt
        let skip = pooled ? 0 : prompt.map(promptLength) ?? 0
        return PreparedEncoding(prompt: prompt, promptSkip: skip, truncation: options.truncation, plan: plan)
    }
}
