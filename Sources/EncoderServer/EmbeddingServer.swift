import Foundation
import Hummingbird
import NIOCore
import Logging
import RequestDecoding
import SentenceEmbeddings
import StrictJSON

/// The HTTP embedding server: OpenAI's `/v1/embeddings`, TEI's `/embed`, `/embed_sparse`, `/tokenize`, `/info`,
/// plus `/v1/models`, `/health` and `/metrics`.
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

    /// - Parameter load: builds the engine, on a background thread, once the server runs.
    public init(
        configuration: ServerConfiguration, logger: Logger,
        load: @escaping @Sendable () throws -> any EmbeddingEngine
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
            await self.handle(request, context) { reader, engine async throws(APIError) in
                try await self.openAIEmbeddings(reader, engine)
            }
        }
        router.post("/embed") { request, context in
            await self.handle(request, context) { reader, engine async throws(APIError) in
                try await self.teiEmbed(reader, engine)
            }
        }
        router.post("/embed_sparse") { request, context in
            await self.handle(request, context) { reader, engine async throws(APIError) in
                try await self.teiEmbedSparse(reader, engine)
            }
        }
        router.post("/tokenize") { request, context in
            await self.handle(request, context) { reader, engine async throws(APIError) in
                try self.teiTokenize(reader, engine)
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
        _ body: (RequestReader, any EmbeddingEngine) async throws(APIError) -> [UInt8]
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
            guard let engine = batcher.engine else { throw readinessError() }
            let reader = try RequestReader(body: bytes)
            let output = try await body(reader, engine)
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

    private func readinessError() -> APIError {
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
        let options = EncodingOptions(
            dimensions: dimensions,
            normalize: dimensions.map { $0 < encoder.fullDimension && encoder.normalizes } ?? false,
            truncation: configuration.autoTruncate ? .truncate : .error)
        let embeddings = try await embed(try libraryRequest(inputs, field: "input", options: options, encoder: encoder))

        var out = JSONOutput(capacity: embeddings.values.count * 12 + 200)
        out.raw("{\"object\":\"list\",\"data\":[")
        for i in 0..<embeddings.count {
            if i > 0 { out.raw(",") }
            out.raw("{\"object\":\"embedding\",\"index\":\(i),\"embedding\":")
            if format == "base64" { out.base64Floats(embeddings[i]) } else { out.floats(embeddings[i]) }
            out.raw("}")
        }
        let tokens = embeddings.tokenCounts.reduce(0, +)
        out.raw("],\"model\":")
        out.string(configuration.modelID)
        out.raw(",\"usage\":{\"prompt_tokens\":\(tokens),\"total_tokens\":\(tokens)}}")
        return out.bytes
    }

    /// TEI `POST /embed`: `inputs`, `normalize` (default true), `truncate` (default --auto-truncate),
    /// `prompt_name`, `dimensions`; the answer is an array of vectors.
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
        if let direction = try reader.string("truncation_direction"), direction.lowercased() != "right" {
            throw .validation("`truncation_direction` \(JSONWriter.quoted(direction)) is not supported; only \"right\" (sentence-transformers' truncation) is")
        }
        let options = EncodingOptions(
            promptName: try reader.string("prompt_name"), dimensions: try reader.dimensions(maximum: encoder.fullDimension),
            normalize: normalize, truncation: truncate ? .truncate : .error)
        let embeddings = try await embed(try libraryRequest(inputs, field: "inputs", options: options, encoder: encoder))

        var out = JSONOutput(capacity: embeddings.values.count * 12 + 8)
        out.raw("[")
        for i in 0..<embeddings.count {
            if i > 0 { out.raw(",") }
            out.floats(embeddings[i])
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
        guard let encoder = batcher.engine?.encoder else { return readinessError().response }
        let c = configuration
        var out = JSONOutput()
        out.raw("{\"model_id\":")
        out.string(c.modelID)
        out.raw(",\"model_sha\":null,\"model_dtype\":\"\(c.precision == .int8 ? "int8" : "float32")\",\"model_type\":{\"embedding\":{\"pooling\":")
        // A SPLADE model as TEI describes one: pooling "splade", the vocabulary as dimension.
        let sparse = batcher.engine?.sparse
        out.string(sparse != nil ? "splade" : encoder.pooling.modes.map(\.rawValue).joined(separator: "+"))
        out.raw("}},\"dimension\":\(sparse?.dimension ?? encoder.dimension),\"normalized\":\(sparse == nil && encoder.normalizes)")
        out.raw(",\"max_concurrent_requests\":\(c.maxPendingInputs),\"max_input_length\":\(encoder.maxSequenceLength)")
        out.raw(",\"max_batch_tokens\":\(c.maxBatchTokens),\"max_batch_requests\":null,\"max_client_batch_size\":\(c.maxClientBatchSize)")
        out.raw(",\"auto_truncate\":\(c.autoTruncate),\"prompts\":[")
        out.raw(encoder.sentenceConfig.prompts.keys.sorted().map { JSONWriter.quoted($0) }.joined(separator: ","))
        out.raw("],\"version\":")
        out.string(c.version)
        out.raw("}")
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: out.bytes)))
    }
}
