import ArgumentParser
import FileEmbedding
import Foundation
import SentenceEmbeddings

extension RunCommand {
    /// `encoder run` on a SparseEncoder (SPLADE) folder: one JSON line `{"indices": [...], "values": [...]}`
    /// per text, in input order, to stdout or to an .jsonl --output. Texts are encoded --batch-size
    /// at a time and each chunk is written before the next is read into vectors.
    func executeSparse() throws {
        try refuseDenseOnlyFlags()
        var options = precision.options()
        options.maxBatchTokens = batchTokens
        options.threads = threads
        let start = ContinuousClock.now
        let encoder = try SparseEncoder(contentsOf: model.location(), options: options)
        let texts = input.input == nil ? self.texts : try input.readTexts()
        let encoding = SparseEncodingOptions(promptName: self.encoding.promptName, prompt: self.encoding.prompt,
                                             truncation: longInputs.policy(overlap: windowOverlap))
        let reports = !quiet && input.input != nil
        for warning in encoder.warnings where reports { Stderr.write("warning: \(warning)\n") }

        // A file output appears complete or not at all (written beside it, renamed into place).
        let staged = try output.flatMap { $0 == "-" ? nil : try StagedFile(destination: URL(fileURLWithPath: $0)) }
        var tokens = 0, truncated = 0
        do {
            var first = 0
            while first < texts.count {
                let batch = Array(texts[first..<min(first + batchSize, texts.count)])
                let result: SparseEmbeddings
                do { result = try encoder.embed(batch.map(EncoderInput.text), options: encoding) } catch {
                    // The library counts inputs from this chunk's start; the user counts from the first text.
                    if case .inputTooLong(let i?, let tokens, let limit) = error { throw SentenceEmbeddingsError.inputTooLong(index: first + i, tokens: tokens, limit: limit) }
                    throw error
                }
                tokens += result.tokenCounts.reduce(0, +)
                truncated += result.truncatedCount
                // A line per vector: a chunk's text is never held whole (a vector can have thousands of entries).
                for vector in result.vectors {
                    let line = Array((vector.jsonObject + "\n").utf8)
                    if let staged { try staged.write(line) } else { FileHandle.standardOutput.write(Data(line)) }
                }
                first += batch.count
            }
            try staged?.commit()
        } catch {
            staged?.discard()
            throw error
        }
        if reports {
            let seconds = (ContinuousClock.now - start).seconds
            Stderr.write(String(format: "encoded %d texts as sparse vectors (%d tokens, %d truncated) in %.2f s\n",
                                texts.count, tokens, truncated, seconds))
        }
    }

    /// Flags of the dense file engine that cannot apply to sparse vectors, refused by name.
    private func refuseDenseOnlyFlags() throws {
        let why = "cannot hold sparse vectors: a SPLADE model (SpladePooling in modules.json) writes JSON Lines of {\"indices\": [...], \"values\": [...]}"
        if let f = outputFormat, f != .jsonl { throw CLIError("--output-format \(f.rawValue) \(why); use --output-format jsonl") }
        if let output, output != "-", outputFormat == nil, !output.lowercased().hasSuffix(".jsonl") {
            throw CLIError("--output \(output): this format \(why); name the file .jsonl or give --output-format jsonl")
        }
        if dtype != .f32 { throw CLIError("--dtype \(dtype.rawValue) \(why) (values are written as decimal float32)") }
        if encoding.dimensions != nil { throw CLIError("--dimensions does not apply to sparse vectors (their dimension is the vocabulary)") }
        if encoding.normalize { throw CLIError("--normalize does not apply to sparse vectors (SparseEncoder.encode does not normalize)") }
        if longInputs == .chunk { throw CLIError("--long-inputs chunk is not supported for sparse vectors; use truncate or error") }
        if idField != nil { throw CLIError("--id-field is not supported for sparse vectors yet") }
        if resume { throw CLIError("--resume is not supported for sparse vectors yet") }
        if shard != nil { throw CLIError("--shard is not supported for sparse vectors yet") }
        if onError != .stop { throw CLIError("--on-error \(onError.rawValue) is not supported for sparse vectors yet") }
    }
}
