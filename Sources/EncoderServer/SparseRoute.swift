import RequestDecoding
import SentenceEmbeddings
import StrictJSON

extension EmbeddingServer {
    /// TEI `POST /embed_sparse`: `inputs`, `truncate` (default --auto-truncate), `truncation_direction`
    /// ("right" only), `prompt_name`; the answer is, per input, its non-zero entries as
    /// `{"index": vocabulary id, "value": weight}` in ascending index order. The model's own
    /// `max_active_dims` applies. Goes through the batcher as the dense routes do: merged with
    /// concurrent requests into shared forward passes, under the same token budget, pending limit
    /// (429), readiness (503) and metrics.
    func teiEmbedSparse(_ reader: RequestReader, _ engine: any EmbeddingEngine) async throws(APIError) -> [UInt8] {
        guard engine.sparse != nil else {
            throw .validation("this model produces dense vectors: POST /embed_sparse needs a SPLADE model (a SparseEncoder folder with SpladePooling); use /embed")
        }
        let inputs = try reader.inputs("inputs", maxCount: configuration.maxClientBatchSize)
        let truncate = try reader.bool("truncate") ?? configuration.autoTruncate
        try checkTruncationDirection(reader)
        let options = EncodingOptions(promptName: try reader.string("prompt_name"), truncation: truncate ? .truncate : .error)
        let request = try libraryRequest(inputs, field: "inputs", options: options, encoder: engine.encoder)
        let result = try await batcher.submit(SparseRequest(request))
        metrics.inputsReceived.increment(by: Int64(result.vectors.count))
        if let i = result.vectors.firstIndex(where: { !$0.values.allSatisfy(\.isFinite) }) {
            throw .server("the model produced non-finite values for input \(i); the vector is not returned")
        }
        var out = JSONOutput(capacity: result.vectors.reduce(0) { $0 + $1.indices.count * 32 } + 8)
        out.raw("[")
        for (i, vector) in result.vectors.enumerated() {
            if i > 0 { out.raw(",") }
            out.raw("[")
            for (k, (index, value)) in zip(vector.indices, vector.values).enumerated() {
                if k > 0 { out.raw(",") }
                out.raw("{\"index\":\(index),\"value\":\(value.description)}")
            }
            out.raw("]")
        }
        out.raw("]")
        return out.bytes
    }

    /// The dense routes on a SPLADE model: a 422 naming the route to use instead.
    func requireDense(_ engine: any EmbeddingEngine, route: String) throws(APIError) {
        if engine.sparse != nil {
            throw .validation("this model produces sparse vectors (SPLADE): \(route) needs a dense model; use POST /embed_sparse")
        }
    }
}
