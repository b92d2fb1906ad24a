import Foundation
import Hummingbird
import NIOCore
import Logging
import RequestDecoding
import SentenceEmbeddings
import StrictJSON

/// The HTTP embedding server: OpenAI's `/v1/embeddings`, TEI's `/embed`, `/embed_sparse` (a SPLADE
/// model), `/tokenize`, `/info`, plus `/v1/models`, `/health` and `/metrics`; for a cross-encoder,
/// TEI's `/rerank` and the Cohere/Jina `/v1/rerank` instead of the embedding routes (RerankRoutes.swift).
///
/// ```swift
/// let server = EmbeddingServer(configuration: config, logger: logger) {
///     SentenceEncoderEngine(try SentenceEncoder(contentsOf: folder))
/// }
/// try await server.makeApplication().runService()
/// ```
///
/// The listener starts at once; the model loads in the background and `/health` answers 503
/// until it is loaded and one warm-up pass succeeded (llama.cpp's behaviour).
public struct EmbeddingServer: Sendable {
    public let configuration: ServerConfiguration
    public let batcher: EmbeddingBatcher
    public let metrics: ServerMetrics
    let logger: Logger

    /// - Parameter load: builds the embedding engine, on a background thread, once the server runs.
    public init(
        configuration: ServerConfiguration, logger: Logger,
        load: @escaping @Sendable () throws -> any EmbeddingEngine
    ) {
        self.init(configuration: configuration, logger: logger, loadModel: { .embedding(try load()) })
    }

    /// - Parameter loadModel: builds the engine of an embedding model or a reranker, on a
    ///   background thread, once the server runs.
    public init(
        configuration: ServerConfiguration, logger: Logger,
        loadModel load: @escaping @Sendable () throws -> ServedModel
    ) {
        self.configuration = configuration
        self.logger = logger
        let metrics = ServerMetrics()
        self.metrics = metrics
        self.batcher = EmbeddingBatcher(
            maxBatchTokens: configuration.maxBatchTokens, maxPendingInputs: configuration.maxPendingInputs,
            metrics: metrics, logger: logger, load: load)
    }

    /// The application: the router, the listener and the batcher as a service beside it.
    public func makeApplication(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> Application<RouterResponder<BasicRequestContext>> {
        Application(
            router: makeRouter(),
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            services: [batcher],
            onServerRunning: onServerRunning,
            logger: logger)
    }

    /// The routes, behind the middleware that logs, counts and turns every error into the JSON error shape.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        // Middleware must be added before the routes: Hummingbird wraps each route as it is added.
        router.add(middleware: RequestMiddleware(metrics: metrics))
        router.post("/v1/embeddings") { request, context in
            await self.handle(request, context) { reader, served async throws(APIError) in
                try await self.openAIEmbeddings(reader, try self.embedding(served))
            }
        }
        router.post("/embed") { request, context in
            await self.handle(request, context) { reader, served async throws(APIError) in
                try await self.teiEmbed(reader, try self.embedding(served))
            }
        }
        router.post("/embed_sparse") { request, context in
            await self.handle(request, context) { reader, served async throws(APIError) in
                try await self.teiEmbedSparse(reader, try self.embedding(served))
            }
        }
        router.post("/tokenize") { request, context in
            await self.handle(request, context) { reader, served async throws(APIError) in
                try self.teiTokenize(reader, try self.embedding(served))
            }
        }
        router.post("/rerank") { request, context in
            await self.handle(request, context) { reader, served async throws(APIError) in
                try await self.teiRerank(reader, try self.reranking(served))
            }
        }
        router.post("/v1/rerank") { request, context in
            await self.handle(request, context) { reader, served async throws(APIError) in
                try await self.rerankV1(reader, try self.reranking(served))
            }
        }
        router.get("/health") { _, _ in self.health() }
        router.get("/v1/models") { _, _ in self.models() }
        router.get("/info") { _, _ in self.info() }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition())))
        }
        return router
    }

    // MARK: Request plumbing

    /// Content type (415), body size (413), readiness (503), JSON (400), then the route's own work.
    private func handle(
        _ request: Request, _ context: BasicRequestContext,
        _ body: (RequestReader, ServedModel) async throws(APIError) -> [UInt8]
    ) async -> Response {
        do {
            if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > configuration.maxBodyBytes {
                throw APIError.tooLarge(limit: configuration.maxBodyBytes)
            }
            let contentType = request.headers[.contentType]
            let mediaType = contentType?.split(separator: ";", maxSplits: 1).first?
                .trimmingCharacters(in: .whitespaces).lowercased()
            guard mediaType == "application/json" else { throw APIError.unsupportedMediaType(contentType) }
            let bytes = try await readBody(request)
            guard let served = batcher.served else { throw readinessError() }
            let reader = try RequestReader(body: bytes)
            let output = try await body(reader, served)
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: output)))
        } catch let error as APIError {
            return error.response
        } catch {
            // The client went away mid-body, or a bug: never a crash, never a non-JSON body.
            return APIError.server("unexpected error: \(error)").response
        }
    }

    private func readBody(_ request: Request) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in request.body {
            guard bytes.count + chunk.readableBytes <= configuration.maxBodyBytes else {
                throw APIError.tooLarge(limit: configuration.maxBodyBytes)
            }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return bytes
    }

    /// The embedding engine; a 400 naming the routes to use when the model is a reranker.
    func embedding(_ served: ServedModel) throws(APIError) -> any EmbeddingEngine {
        guard case .embedding(let engine) = served else {
            throw .invalidRequest("the model served is a reranker (cross-encoder): it scores (query, document) pairs through POST /rerank and POST /v1/rerank, and does not embed")
        }
        return engine
    }

    /// The reranking engine; a 400 naming the routes to use when the model embeds.
    func reranking(_ served: ServedModel) throws(APIError) -> any RerankEngine {
        guard case .reranking(let engine) = served else {
            throw .invalidRequest("the model served is an embedding model, not a cross-encoder: serve a *ForSequenceClassification checkpoint to rerank, or embed through POST /v1/embeddings and POST /embed")
        }
        return engine
    }

    /// TEI's `truncation_direction`: only "right", sentence-transformers' truncation.
    func checkTruncationDirection(_ reader: RequestReader) throws(APIError) {
        if let direction = try reader.string("truncation_direction"), direction.lowercased() != "right" {
            throw .validation("`truncation_direction` \(JSONWriter.quoted(direction)) is not supported; only \"right\" (sentence-transformers' truncation) is")
        }
    }

    func readinessError() -> APIError {
        switch batcher.phase {
        case .failed(let message): .unavailable("the model failed to load: \(message)")
        default: .unavailable("the model is loading")
        }
    }

    // MARK: Inputs to library requests

    /// The request's inputs tokenized by the library under `options`, its errors in TEI's words.
    /// The server checks only what bounds its own work: the characters of a text that must not be
    /// truncated, before tokenizing it (TEI's `max_input_length × 250` pre-check).
    func libraryRequest(
        _ inputs: EmbedInputs, field: String, options: EncodingOptions, encoder: SentenceEncoder
    ) throws(APIError) -> EmbeddingRequest {
        let prepared = try prepare(options, encoder: encoder)
        let list: [EncoderInput] = switch inputs {
        case .texts(let texts): texts.map(EncoderInput.text)
        case .ids(let lists): lists.map { .tokenIDs($0.map { Int(clamping: $0) }) }
        }
        let maxChars = configuration.maxInputCharacters(maxSequenceLength: encoder.maxSequenceLength)
        var tokenized: [TokenizedInput] = []
        tokenized.reserveCapacity(list.count)
        for (i, input) in list.enumerated() {
            let name = list.count == 1 ? "`\(field)`" : "`\(field)[\(i)]`"
            if options.truncation == .error, case .text(let text) = input {
                let scalars = (prepared.prompt ?? "").unicodeScalars.count + text.unicodeScalars.count
                guard scalars <= maxChars else {
                    throw .validation("\(name) must have less than \(maxChars) characters. Given: \(scalars)")
                }
            }
            do {
                tokenized.append(try encoder.tokenize(input, prepared: prepared))
            } catch .inputTooLong(_, let tokens, let limit) {
                throw .validation(
                    "\(name) must have at most \(limit) tokens. Given: \(tokens); send `truncate: true` (or start the server with --auto-truncate) to cut it")
            } catch .invalidTokenID(_, let position, let id, let size) {
                throw .validation("\(name)[\(position)] = \(id) is not a token id of this model (ids are 0..<\(size))")
            } catch {
                throw .validation(error.description)
            }
        }
        return EmbeddingRequest(inputs: tokenized, prepared: prepared)
    }

    /// `options` resolved by the library; an unknown prompt name or impossible dimensions is a 422.
    func prepare(_ options: EncodingOptions, encoder: SentenceEncoder) throws(APIError) -> PreparedEncoding {
        do { return try encoder.prepare(options) } catch .unknownPromptName(let name, let known) {
            throw .validation(
                "prompt_name `\(name)` is not one of the model's prompts; available: "
                    + (known.isEmpty ? "none (config_sentence_transformers.json defines no prompts)" : known.joined(separator: ", ")))
        } catch {
            throw .validation(error.description)
        }
    }

    /// Embeds through the batcher; every row checked finite (JSON has no NaN or infinity).
    func embed(_ request: EmbeddingRequest) async throws(APIError) -> Embeddings {
        let embeddings = try await batcher.submit(request)
        metrics.inputsReceived.increment(by: Int64(embeddings.count))
        // A non-finite vector is the model's failure, not the client's.
        if let i = (0..<embeddings.count).first(where: { !embeddings[$0].allSatisfy(\.isFinite) }) {
            throw .server("the model produced non-finite values for input \(i); the vector is not returned")
        }
        return embeddings
    }

    /// `precision`, as sentence-transformers' `encode(precision=...)`: "float32" (the default,
    /// nil here), "int8", "uint8", "binary" or "ubinary". int8 and uint8 bucket within the
    /// server's calibration ranges (`--calibration`) or, without them, within the request's own
    /// embeddings, as `encode` does, which needs two or more inputs.
    func precision(_ reader: RequestReader, inputs: EmbedInputs, _ engine: any EmbeddingEngine) throws(APIError) -> OutputPrecision? {
        guard let name = try reader.string("precision"), name != "float32" else { return nil }
        guard let precision = OutputPrecision(rawValue: name) else {
            throw .validation("`precision` must be \"float32\", \"int8\", \"uint8\", \"binary\" or \"ubinary\", got \(JSONWriter.quoted(name))")
        }
        if precision.needsRanges, engine.quantizationRanges == nil, inputs.count < 2 {
            throw .validation("`precision` \(JSONWriter.quoted(name)) takes its per-dimension ranges from the request's embeddings (the server has no --calibration), so it needs two or more inputs; send more, or use \"binary\" or \"ubinary\"")
        }
        return precision
    }

    /// Compact rows of `embeddings` (finite, checked by ``embed(_:)``), as integer arrays.
    func quantized(_ embeddings: Embeddings, _ precision: OutputPrecision, _ engine: any EmbeddingEngine) throws(APIError) -> QuantizedEmbeddings {
        let ranges = precision.needsRanges ? engine.quantizationRanges : nil
        if let ranges, ranges.dimension != embeddings.dimension {
            throw .validation("`precision` \(JSONWriter.quoted(precision.rawValue)) buckets within the server's calibration ranges (--calibration), which have \(ranges.dimension) dimensions; these embeddings have \(embeddings.dimension) (`dimensions`)")
        }
        do { return try quantize(embeddings, precision: precision, ranges: ranges) } catch { throw .server("cannot quantize to \(precision.rawValue): \(error)") }
    }

    // MARK: Routes

    /// OpenAI `POST /v1/embeddings`.
    ///
    /// The vectors are the model pipeline's (unit length when it ends with Normalize). With
    /// `dimensions` below what the model produces they are truncated and, for normalizing models,
    /// re-normalized: OpenAI documents unit-length vectors for `dimensions`, and TEI truncates then
    /// normalizes. sentence-transformers' `truncate_dim` does not re-normalize; cosine similarities
    /// are the same either way.
    func openAIEmbeddings(_ reader: RequestReader, _ engine: any EmbeddingEngine) async throws(APIError) -> [UInt8] {
        try requireDense(engine, route: "/v1/embeddings")
        let encoder = engine.encoder
        let inputs = try reader.inputs("input", maxCount: configuration.maxClientBatchSize)
        let format = try reader.string("encoding_format") ?? "float"
        guard format == "float" || format == "base64" else {
            throw .validation("`encoding_format` must be \"float\" or \"base64\", got \(JSONWriter.quoted(format))")
        }
        _ = try reader.string("model")  // any name is accepted (one model is served), but it must be a string
        _ = try reader.string("user")
        let dimensions = try reader.dimensions(maximum: encoder.fullDimension)
        let precision = try self.precision(reader, inputs: inputs, engine)
        if precision != nil, format == "base64" {
            throw .validation("`precision` \(JSONWriter.quoted(precision!.rawValue)) answers integer arrays; send `encoding_format` \"float\" with it (base64 carries float32 bytes)")
        }
        let options = EncodingOptions(
            dimensions: dimensions,
            normalize: dimensions.map { $0 < encoder.fullDimension && encoder.normalizes } ?? false,
            truncation: configuration.autoTruncate ? .truncate : .error)
        let embeddings = try await embed(try libraryRequest(inputs, field: "input", options: options, encoder: encoder))
        let compact = try precision.map { (p) throws(APIError) in try quantized(embeddings, p, engine) }

        var out = JSONOutput(capacity: embeddings.values.count * 12 + 200)
        out.raw("{\"object\":\"list\",\"data\":[")
        for i in 0..<embeddings.count {
            if i > 0 { out.raw(",") }
            out.raw("{\"object\":\"embedding\",\"index\":\(i),\"embedding\":")
            if let compact { out.integers(compact.integers(i)) } else if format == "base64" { out.base64Floats(embeddings[i]) } else { out.floats(embeddings[i]) }
            out.raw("}")
        }
        let tokens = embeddings.tokenCounts.reduce(0, +)
        out.raw("],\"model\":")
        out.string(configuration.modelID)
        out.raw(",\"usage\":{\"prompt_tokens\":\(tokens),\"total_tokens\":\(tokens)}}")
        return out.bytes
    }

    /// TEI `POST /embed`: `inputs`, `normalize` (default true), `truncate` (default --auto-truncate),
    /// `prompt_name`, `dimensions`, `precision`; the answer is an array of vectors.
    ///
    /// `normalize: true` L2-normalizes the (truncated) vector. `normalize: false` returns the model
    /// pipeline's vector as it is — still unit length for a model whose modules.json ends with
    /// Normalize, because the library does not expose the pooled vector before that module (TEI
    /// would return it un-normalized).
    func teiEmbed(_ reader: RequestReader, _ engine: any EmbeddingEngine) async throws(APIError) -> [UInt8] {
        try requireDense(engine, route: "/embed")
        let encoder = engine.encoder
        let inputs = try reader.inputs("inputs", maxCount: configuration.maxClientBatchSize)
        let normalize = try reader.bool("normalize") ?? true
        let truncate = try reader.bool("truncate") ?? configuration.autoTruncate
        try checkTruncationDirection(reader)
        let options = EncodingOptions(
            promptName: try reader.string("prompt_name"), dimensions: try reader.dimensions(maximum: encoder.fullDimension),
            normalize: normalize, truncation: truncate ? .truncate : .error)
        let precision = try self.precision(reader, inputs: inputs, engine)
        let embeddings = try await embed(try libraryRequest(inputs, field: "inputs", options: options, encoder: encoder))
        let compact = try precision.map { (p) throws(APIError) in try quantized(embeddings, p, engine) }

        var out = JSONOutput(capacity: embeddings.values.count * 12 + 8)
        out.raw("[")
        for i in 0..<embeddings.count {
            if i > 0 { out.raw(",") }
            if let compact { out.integers(compact.integers(i)) } else { out.floats(embeddings[i]) }
        }
        out.raw("]")
        return out.bytes
    }

    /// TEI `POST /tokenize`: for each input, its tokens as `{id, text, special, start, stop}` with
    /// UTF-8 byte offsets into the input (the prompt included, as TEI), truncated at the model's length.
    func teiTokenize(_ reader: RequestReader, _ engine: any EmbeddingEngine) throws(APIError) -> [UInt8] {
        let encoder = engine.encoder
        let inputs = try reader.inputs("inputs", maxCount: configuration.maxClientBatchSize)
        guard case .texts(let texts) = inputs else { throw .validation("`inputs` must be a string or an array of strings") }
        let addSpecial = try reader.bool("add_special_tokens") ?? true
        let prompt = try prepare(EncodingOptions(promptName: try reader.string("prompt_name")), encoder: encoder).prompt
        let maxChars = configuration.maxInputCharacters(maxSequenceLength: encoder.maxSequenceLength)
        let specials = encoder.tokenizer.specialTokens
        var out = JSONOutput()
        out.raw("[")
        for (i, raw) in texts.enumerated() {
            if i > 0 { out.raw(",") }
            let text = (prompt ?? "") + raw
            guard text.unicodeScalars.count <= maxChars else {
                throw .validation("`inputs` must have less than \(maxChars) characters. Given: \(text.unicodeScalars.count)")
            }
            let encoding = encoder.tokenize(raw, prompt: prompt)
            // Scalar offset -> UTF-8 byte offset.
            var byteOffsets: [Int] = [0]
            byteOffsets.reserveCapacity(text.unicodeScalars.count + 1)
            for scalar in text.unicodeScalars { byteOffsets.append(byteOffsets.last! + UTF8.width(scalar)) }
            out.raw("[")
            var first = true
            for k in 0..<encoding.count {
                let id = encoding.ids[k]
                let special = (k < specials.prefix.count && id == specials.prefix[k])
                    || (k >= encoding.count - specials.suffix.count && id == specials.suffix[k - (encoding.count - specials.suffix.count)])
                if special && !addSpecial { continue }
                if !first { out.raw(",") }
                first = false
                let range = encoding.offsets[k]
                let start = special ? 0 : byteOffsets[min(range.lowerBound, byteOffsets.count - 1)]
                let stop = special ? 0 : byteOffsets[min(range.upperBound, byteOffsets.count - 1)]
                out.raw("{\"id\":\(id),\"text\":")
                out.string(encoding.tokens[k])
                out.raw(",\"special\":\(special),\"start\":\(start),\"stop\":\(stop)}")
            }
            out.raw("]")
        }
        out.raw("]")
        return out.bytes
    }

    /// `GET /health`: 200 `{"status":"ok"}` once the model answered a warm-up pass, 503 before.
    func health() -> Response {
        switch batcher.phase {
        case .ready:
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}")))
        case .loading:
            APIError.unavailable("Loading model").response
        case .failed(let message):
            APIError.unavailable("the model failed to load: \(message)").response
        }
    }

    /// `GET /v1/models`: the one model served.
    func models() -> Response {
        var out = JSONOutput()
        out.raw("{\"object\":\"list\",\"data\":[{\"id\":")
        out.string(configuration.modelID)
        out.raw(",\"object\":\"model\",\"created\":0,\"owned_by\":\"encoder\"}]}")
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: out.bytes)))
    }

    /// `GET /info`: TEI's info fields (and the embedding dimension). 503 while loading.
    func info() -> Response {
        guard let served = batcher.served else { return readinessError().response }
        let c = configuration
        var out = JSONOutput()
        out.raw("{\"model_id\":")
        out.string(c.modelID)
        out.raw(",\"model_sha\":null,\"model_dtype\":\"\(c.precision == .int8 ? "int8" : "float32")\",\"model_type\":")
        let maxInputLength: Int
        var prompts: [String] = []
        switch served {
        case .embedding(let engine):
            let encoder = engine.encoder
            // A SPLADE model as TEI describes one: pooling "splade", the vocabulary as dimension.
            let sparse = engine.sparse
            out.raw("{\"embedding\":{\"pooling\":")
            out.string(sparse != nil ? "splade" : encoder.pooling.modes.map(\.rawValue).joined(separator: "+"))
            out.raw("}},\"dimension\":\(sparse?.dimension ?? encoder.dimension),\"normalized\":\(sparse == nil && encoder.normalizes)")
            maxInputLength = encoder.maxSequenceLength
            prompts = encoder.sentenceConfig.prompts.keys.sorted()
        case .reranking(let engine):
            // TEI: {"reranker": {"id2label": ..., "label2id": ...}}.
            let labels = engine.reranker.classifier.classification.labels
            out.raw("{\"reranker\":{\"id2label\":{")
            out.raw(labels.enumerated().map { "\"\($0.offset)\":\(JSONWriter.quoted($0.element))" }.joined(separator: ","))
            out.raw("},\"label2id\":{")
            out.raw(labels.enumerated().map { "\(JSONWriter.quoted($0.element)):\($0.offset)" }.joined(separator: ","))
            out.raw("}}},\"activation\":")
            out.string(engine.reranker.activation.rawValue)
            maxInputLength = engine.reranker.maxSequenceLength
        }
        out.raw(",\"max_concurrent_requests\":\(c.maxPendingInputs),\"max_input_length\":\(maxInputLength)")
        out.raw(",\"max_batch_tokens\":\(c.maxBatchTokens),\"max_batch_requests\":null,\"max_client_batch_size\":\(c.maxClientBatchSize)")
        out.raw(",\"auto_truncate\":\(c.autoTruncate),\"prompts\":[")
        out.raw(prompts.map { JSONWriter.quoted($0) }.joined(separator: ","))
        out.raw("],\"version\":")
        out.string(c.version)
        out.raw("}")
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: out.bytes)))
    }
}
