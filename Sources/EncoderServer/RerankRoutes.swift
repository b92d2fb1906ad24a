import SentenceEmbeddings
import StrictJSON
import Tokenization

/// The rerank routes of a server that runs a cross-encoder: TEI's `POST /rerank` and the
/// Cohere/Jina shape `POST /v1/rerank`. Pairs are tokenized and scored by the library's
/// ``Reranker`` through the same batcher, limits and error contract as the embedding routes:
/// 400 for an empty list or text, 422 for wrong types, more than --max-client-batch-size
/// documents or a pair over the model's length while `truncate` is false, 429 when the queue is full.
extension EmbeddingServer {
    /// The pairs of `query` with each text, tokenized by the library, its errors in TEI's words.
    /// Like `libraryRequest`, the server checks only what bounds its own work: the characters of a
    /// pair that must not be truncated, before tokenizing it.
    func rerankRequest(
        query: String, texts: [String], field: String, truncate: Bool, rawScores: Bool, reranker: Reranker
    ) throws(APIError) -> RerankRequest {
        // TEI refuses /rerank on a classifier with several labels: there is no one score to sort by.
        guard reranker.numLabels == 1 else {
            throw .validation("the model has \(reranker.numLabels) labels (config.json id2label); reranking needs a cross-encoder with one score per pair")
        }
        let maxChars = configuration.maxInputCharacters(maxSequenceLength: reranker.maxSequenceLength)
        var encodings: [Encoding] = []
        encodings.reserveCapacity(texts.count)
        for (i, text) in texts.enumerated() {
            let name = "`\(field)[\(i)]` with the query"
            if !truncate {
                let scalars = query.unicodeScalars.count + text.unicodeScalars.count
                guard scalars <= maxChars else { throw .validation("\(name) must have less than \(maxChars) characters. Given: \(scalars)") }
            }
            do {
                encodings.append(try reranker.tokenize(RerankPair(query: query, document: text), truncate: truncate))
            } catch .inputTooLong(_, let tokens, let limit) {
                throw .validation(
                    "\(name) must have at most \(limit) tokens. Given: \(tokens); send `truncate: true` (or start the server with --auto-truncate) to cut it")
            } catch {
                throw .validation(error.description)
            }
        }
        return RerankRequest(encodings: encodings, activation: rawScores ? .identity : reranker.activation)
    }

    /// Scores through the batcher; every score checked finite (JSON has no NaN or infinity).
    func rerank(_ request: RerankRequest) async throws(APIError) -> PairScores {
        let scores = try await batcher.submit(request)
        metrics.inputsReceived.increment(by: Int64(scores.count))
        if let i = scores.values.firstIndex(where: { !$0.isFinite }) {
            throw .server("the model produced a non-finite score for pair \(i); the scores are not returned")
        }
        return scores
    }

    /// `query`: a non-empty string.
    func query(_ reader: RequestReader) throws(APIError) -> String {
        guard let query = try reader.string("query") else { throw .validation("`query` is required") }
        guard !query.isEmpty else { throw .invalidRequest("`query` cannot be empty") }
        return query
    }

    /// TEI `POST /rerank`: `query`, `texts`, `raw_scores` (the logits, default false),
    /// `return_text` (default false), `truncate` (default --auto-truncate); the answer is
    /// `[{"index", "score"[, "text"]}]`, best first.
    func teiRerank(_ reader: RequestReader, _ engine: any RerankEngine) async throws(APIError) -> [UInt8] {
        let query = try query(reader)
        guard case .texts(let texts) = try reader.inputs("texts", maxCount: configuration.maxClientBatchSize) else {
            throw .validation("`texts` must be an array of strings")
        }
        let rawScores = try reader.bool("raw_scores") ?? false
        let returnText = try reader.bool("return_text") ?? false
        let truncate = try reader.bool("truncate") ?? configuration.autoTruncate
        try checkTruncationDirection(reader)
        let scores = try await rerank(try rerankRequest(
            query: query, texts: texts, field: "texts", truncate: truncate, rawScores: rawScores, reranker: engine.reranker))
        var out = JSONOutput(capacity: 40 * texts.count + 8)
        out.raw("[")
        for (k, (index, score)) in scores.ranked().enumerated() {
            if k > 0 { out.raw(",") }
            out.raw("{\"index\":\(index),")
            if returnText {
                out.raw("\"text\":")
                out.string(texts[index])
                out.raw(",")
            }
            out.raw("\"score\":\(score.description)}")
        }
        out.raw("]")
        return out.bytes
    }

    /// `POST /v1/rerank` in the shape Cohere and Jina clients send: `query`, `documents` (strings or
    /// `{"text": ...}`), `top_n`, `return_documents` (default false), `model`; the answer is
    /// `{"model", "results": [{"index", "relevance_score"[, "document": {"text"}]}], "usage": {"total_tokens"}}`,
    /// best first. Documents are truncated to the model's length, as those services do.
    func rerankV1(_ reader: RequestReader, _ engine: any RerankEngine) async throws(APIError) -> [UInt8] {
        let query = try query(reader)
        let documents = try reader.documents("documents", maxCount: configuration.maxClientBatchSize)
        let topN = try reader.int("top_n", minimum: 1)
        let returnDocuments = try reader.bool("return_documents") ?? false
        _ = try reader.string("model")  // any name is accepted (one model is served), but it must be a string
        let scores = try await rerank(try rerankRequest(
            query: query, texts: documents, field: "documents", truncate: true, rawScores: false, reranker: engine.reranker))
        var out = JSONOutput(capacity: 60 * documents.count + 100)
        out.raw("{\"model\":")
        out.string(configuration.modelID)
        out.raw(",\"results\":[")
        for (k, (index, score)) in scores.ranked(topK: topN).enumerated() {
            if k > 0 { out.raw(",") }
            out.raw("{\"index\":\(index),\"relevance_score\":\(score.description)")
            if returnDocuments {
                out.raw(",\"document\":{\"text\":")
                out.string(documents[index])
                out.raw("}")
            }
            out.raw("}")
        }
        out.raw("],\"usage\":{\"total_tokens\":\(scores.tokenCounts.reduce(0, +))}}")
        return out.bytes
    }
}
