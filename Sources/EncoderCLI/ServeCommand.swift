import ArgumentParser
import Dispatch
import EncoderServer
import FileEmbedding
import Foundation
import Logging
import SentenceEmbeddings
import ServiceLifecycle

/// `encoder serve`: the HTTP embedding server (OpenAI `/v1/embeddings`, TEI `/embed`, ...).
struct ServeCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve embeddings over HTTP to OpenAI and text-embeddings-inference clients.",
        discussion: """
            Routes: POST /v1/embeddings (OpenAI), POST /embed and POST /tokenize (TEI), GET /v1/models, \
            GET /info, GET /health (503 until the model is loaded and warmed up), GET /metrics (Prometheus). \
            Concurrent requests are merged into batches of at most --max-batch-tokens tokens. \
            SIGTERM or SIGINT stops accepting connections, answers the requests in flight \
            (for at most --shutdown-timeout seconds) and exits 0.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOption

    @Option(help: "Address to listen on. There is no authentication: keep it on loopback unless a proxy guards it.")
    var host = "127.0.0.1"

    @Option(help: "TCP port to listen on (0: any free port, printed at start).")
    var port = 8080

    @Option(help: "Most tokens merged into one forward pass.")
    var maxBatchTokens = ServerConfiguration().maxBatchTokens

    @Option(help: "Most inputs in one request (more is a 422).")
    var maxClientBatchSize = ServerConfiguration().maxClientBatchSize

    @Option(help: "Largest request body in bytes (more is a 413).")
    var maxBodyBytes = ServerConfiguration().maxBodyBytes

    @Option(help: "Most inputs queued or being embedded; a request over it gets 429 with Retry-After.")
    var maxPendingInputs = ServerConfiguration().maxPendingInputs

    @Flag(help: "Truncate over-long inputs when a request does not say `truncate` (default: refuse them with 422).")
    var autoTruncate = false

    @Option(help: "The model name reported to clients (default: the model folder's name).")
    var modelID: String?

    @Option(help: "Seconds to finish requests in flight after SIGTERM/SIGINT before giving up on them.")
    var shutdownTimeout = 30

    @Option(help: "Seconds an idle connection is kept open.")
    var idleTimeout = ServerConfiguration().idleTimeoutSeconds

    @Option(help: "The calibration set for requests with `precision` int8/uint8: a .npy of float32 embeddings [N, D], or a .txt/.jsonl (field \"text\") file of texts embedded with the model's defaults at load; the per-dimension min and max are the ranges (without it, a request's own embeddings are its calibration).")
    var calibration: String?

    @Option(help: "Log level: trace, debug, info (one line per request), notice, warning, error, critical.")
    var logLevel = "info"

    var serverConfiguration: ServerConfiguration {
        var c = ServerConfiguration()
        c.host = host
        c.port = port
        c.maxBatchTokens = maxBatchTokens
        c.precision = precision.precision
        c.maxClientBatchSize = maxClientBatchSize
        c.maxBodyBytes = maxBodyBytes
        c.maxPendingInputs = maxPendingInputs
        c.autoTruncate = autoTruncate
        c.idleTimeoutSeconds = idleTimeout
        c.modelID = modelID ?? (model.isCachedModelID ? model.model : model.folder.standardizedFileURL.lastPathComponent)
        return c
    }

    func validate() throws {
        if let problem = serverConfiguration.problem() { throw ValidationError(problem) }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got \(logLevel)")
        }
        guard shutdownTimeout >= 1 else { throw ValidationError("--shutdown-timeout must be at least 1 second") }
    }

    func execute() throws {
        // Fail before listening when there is plainly no model; everything else is checked while loading.
        let modelURL = try model.location()
        guard FileManager.default.fileExists(atPath: modelURL.path) else {
            throw CLIError("\(model.model): no such file or folder; give a model folder or its model.safetensors (Scripts/fetch-model fetches the default model)")
        }
        if let calibration, !FileManager.default.isReadableFile(atPath: calibration) {
            throw CLIError("\(calibration): no such readable file; --calibration takes a .npy of float32 embeddings or a file of texts")
        }
        let calibration = self.calibration
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "encoder.serve")
        let configuration = serverConfiguration
        let isSparse = SparseEncoder.describes(folder: model.folder)
        let server = EmbeddingServer(configuration: configuration, logger: logger, loadModel: {
            var options = SentenceEncoder.Options()
            options.maxBatchTokens = configuration.maxBatchTokens
            options.precision = configuration.precision
            // A *ForSequenceClassification checkpoint is a cross-encoder: served on the rerank routes.
            if Reranker.isCrossEncoder(modelURL) {
                let reranker = try Reranker(contentsOf: modelURL, options: options)
                for warning in reranker.warnings { logger.warning("\(warning)") }
                return .reranking(RerankerEngine(reranker))
            }
            // A SPLADE folder answers POST /embed_sparse (the dense routes refuse it).
            if isSparse {
                let sparse = try SparseEncoder(contentsOf: modelURL, options: options)
                for warning in sparse.warnings { logger.warning("\(warning)") }
                return .embedding(SparseEncoderEngine(sparse))
            }
            let encoder = try SentenceEncoder(contentsOf: modelURL, options: options)
            for warning in encoder.warnings { logger.warning("\(warning)") }
            // The batch job's calibration reader, with its defaults (EncodingOptions(), .jsonl field "text").
            let ranges = try calibration.map { try FileEmbeddingJob().calibrationRanges($0, encoder: encoder, dimension: encoder.dimension) }
            return .embedding(SentenceEncoderEngine(encoder, quantizationRanges: ranges))
        })
        let app = server.makeApplication { channel in
            let address = channel.localAddress.map { "\($0.ipAddress ?? configuration.host):\($0.port ?? configuration.port)" }
            logger.notice("listening on http://\(address ?? "\(configuration.host):\(configuration.port)")")
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(shutdownTimeout)
        let group = ServiceGroup(configuration: groupConfiguration)

        // The root command is synchronous; the server runs on the concurrency pool while the main
        // thread waits (signals are handled by ServiceLifecycle's dispatch sources, not the main thread).
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await group.run() } catch { outcome.set(error) }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
        logger.notice("stopped")
    }
}

/// The server task's failure, handed to the waiting main thread.
private final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    func set(_ error: any Error) { lock.withLock { stored = error } }
    var error: (any Error)? { lock.withLock { stored } }
}
