import Tokenization

/// Per-call choices of `SentenceTransformer.encode` that change the vectors: the prompt,
/// the Matryoshka dimensions and a final normalization.
public struct EncodingOptions: Sendable, Equatable {
    /// `prompt_name`: one of the model's `prompts` (config_sentence_transformers.json). An unknown
    /// name is an error listing the known ones.
    public var promptName: String?
    /// `prompt`: text prepended to every input. Wins over ``promptName``; `""` means no prompt
    /// even when the model has a `default_prompt_name`.
    public var prompt: String?
    /// `truncate_dim`: keep the first N values of every embedding (1...``SentenceEncoder/fullDimension``).
    /// `nil` uses the model's `truncate_dim`, if any.
    public var dimensions: Int?
    /// `normalize_embeddings`: scale each vector to unit length after truncation.
    public var normalize: Bool

    public init(promptName: String? = nil, prompt: String? = nil, dimensions: Int? = nil, normalize: Bool = false) {
        self.promptName = promptName
        self.prompt = prompt
        self.dimensions = dimensions
        self.normalize = normalize
    }
}

/// ``EncodingOptions`` resolved against one model by ``SentenceEncoder/prepare(_:)``.
public struct PreparedEncoding: Sendable, Equatable {
    /// The text prepended to every input, if any.
    public let prompt: String?
    /// Leading token rows pooling leaves out (prompt tokens when `include_prompt` is false).
    let poolingSkip: Int
    let plan: OutputPlan

    /// The length of the embeddings these options give.
    public var dimension: Int { plan.dimensions }
    /// Whether the options change anything beyond the model's own defaults.
    public var isDefault: Bool { (prompt ?? "").isEmpty && !plan.normalize }
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
        guard let prompt, !prompt.isEmpty else { return tokenize(text) }
        return tokenize(prompt + text)
    }

    /// `Transformer._get_prompt_length`: the token count of the prompt tokenized alone, minus its
    /// trailing special token ([SEP]); it counts the leading [CLS]. With `include_prompt: false`
    /// pooling leaves out this many leading positions.
    public func promptLength(_ prompt: String) -> Int {
        guard !prompt.isEmpty else { return 0 }
        return tokenize(prompt).ids.count - 1
    }

    /// `options` checked and resolved for this model, for callers that tokenize and embed in
    /// separate steps (a streaming batch job): ``tokenize(_:prepared:)`` then ``embed(encodings:prepared:)``.
    public func prepare(_ options: EncodingOptions) throws(SentenceEmbeddingsError) -> PreparedEncoding {
        let prompt = try resolvePrompt(options)
        let plan = OutputPlan(dimensions: try outputDimension(options), normalize: options.normalize)
        // Pooling._exclude_prompt_from_mask zeroes the first prompt_length positions.
        let skip = pooling.includePrompt ? 0 : prompt.map(promptLength) ?? 0
        return PreparedEncoding(prompt: prompt, poolingSkip: skip, plan: plan)
    }

    /// The token ids the model sees for `text` under `prepared`'s prompt, truncated to ``maxSequenceLength``.
    public func tokenize(_ text: String, prepared: PreparedEncoding) -> Encoding {
        tokenize(text, prompt: prepared.prompt)
    }

    /// Embeds encodings from ``tokenize(_:prepared:)``.
    public func embed(encodings: [Encoding], prepared: PreparedEncoding) throws(SentenceEmbeddingsError) -> Embeddings {
        try embed(encodings: encodings, poolingSkip: prepared.poolingSkip, output: prepared.plan)
    }

    /// Embeds `texts` with `options` (prompt, dimensions, normalization) into one row-major matrix.
    public func embed(_ texts: [String], options: EncodingOptions) throws(SentenceEmbeddingsError) -> Embeddings {
        let prepared = try prepare(options)
        return try embed(encodings: texts.map { tokenize($0, prepared: prepared) }, prepared: prepared)
    }

    /// Embeds each text with `options`; row `i` belongs to `texts[i]`.
    public func encode(_ texts: [String], options: EncodingOptions) throws(SentenceEmbeddingsError) -> [[Float]] {
        let batch = try embed(texts, options: options)
        return (0..<batch.count).map { Array(batch[$0]) }
    }

    /// Embeds each text after the model's prompt named `promptName` (e.g. "query").
    public func encode(_ texts: [String], promptName: String) throws(SentenceEmbeddingsError) -> [[Float]] {
        try encode(texts, options: EncodingOptions(promptName: promptName))
    }

    /// Embeds each text after the literal `prompt` (e.g. "query: ").
    public func encode(_ texts: [String], prompt: String) throws(SentenceEmbeddingsError) -> [[Float]] {
        try encode(texts, options: EncodingOptions(prompt: prompt))
    }
}
