import Foundation
import Testing
import TestSupport
@testable import SentenceEmbeddings

/// Windows over long texts (`TruncationPolicy.chunk`, `encoder run --long-inputs chunk`), against
/// a naive recomputation.
struct LongInputsTests {
    @Test func windowsCoverEveryTokenWithTheRequestedOverlap() throws {
        let encoder = try DefaultModel.load()
        let text = (0..<700).map { "w\($0 % 91)" }.joined(separator: " ")
        let full = encoder.tokenizer.encode(text)
        #expect(full.ids.count > 2 * encoder.maxSequenceLength, "\(full.ids.count) tokens")
        #expect(encoder.tokenize(text).ids.count == encoder.maxSequenceLength)
        for overlap in [0, 32, 253, 10_000] {
            let windows = encoder.windows(of: full, overlap: overlap)
            let content = Array(full.ids.dropFirst().dropLast())
            let width = encoder.maxSequenceLength - 2
            let stride = width - min(overlap, width - 1)
            var covered = 0
            for (k, w) in windows.enumerated() {
                #expect(w.ids.count <= encoder.maxSequenceLength)
                #expect(w.ids.first == full.ids.first && w.ids.last == full.ids.last, "[CLS] ... [SEP]")
                let start = k * stride
                #expect(Array(w.ids.dropFirst().dropLast()) == Array(content[start..<min(start + width, content.count)]))
                covered = start + w.ids.count - 2
            }
            #expect(covered == content.count, "the last window ends at the last token (overlap \(overlap))")
        }
        #expect(encoder.windows(of: encoder.tokenizer.encode("short"), overlap: 32).count == 1)
    }

    @Test func aLongTextIsTheTokenWeightedMeanOfItsWindows() throws {
        let encoder = try DefaultModel.load()
        let long = (0..<600).map { "topic\($0 % 53) " }.joined()
        let chunked = EncodingOptions(truncation: .chunk(overlap: 16))
        let combined = try encoder.embed(["a short sentence", long], options: chunked)
        let full = encoder.tokenizer.encode(long)
        #expect(combined.tokenCounts == [encoder.tokenize("a short sentence").count, full.count])
        #expect(combined.truncatedCount == 0 && combined.chunkedCount == 1)
        // A text that fits keeps the very vector it gets without chunking, in the same batch.
        let windows = encoder.windows(of: full, overlap: 16)
        #expect(Array(combined[0]) == Array(try encoder.embed(sequences: [encoder.tokenize("a short sentence")] + windows)[0]))
        // Alone it runs in another batch shape, so only rounding may differ.
        #expect(zip(combined[0], try encoder.encode("a short sentence")).allSatisfy { abs($0 - $1) < 1e-5 })

        // Naive: each window alone, weighted sum, divided, normalized (all-MiniLM-L6-v2 normalizes).
        #expect(windows.count >= 3)
        var sum = [Double](repeating: 0, count: encoder.dimension)
        var weight = 0.0
        for w in windows {
            let v = try encoder.embed(sequences: [w])[0]
            for j in 0..<sum.count { sum[j] += Double(w.ids.count) * Double(v[v.startIndex + j]) }
            weight += Double(w.ids.count)
        }
        let mean = sum.map { $0 / weight }
        let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let expected = mean.map { $0 / norm }
        let got = Array(combined[1])
        #expect(zip(got, expected).allSatisfy { abs(Double($0) - $1) < 1e-5 })

        // Output options apply to the averaged vector: dimensions cut it, normalize rescales it.
        let cut = try encoder.embed([long], options: EncodingOptions(dimensions: 100, normalize: true, truncation: .chunk(overlap: 16)))
        let head = got.prefix(100).map(Double.init)
        let headNorm = head.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(zip(cut[0], head).allSatisfy { abs(Double($0) - $1 / headNorm) < 1e-6 })
        // A prompt has no place in windows after the first: refused, naming the prompt.
        #expect(throws: SentenceEmbeddingsError.self) { try encoder.embed([long], options: EncodingOptions(prompt: "query: ", truncation: .chunk(overlap: 16))) }
    }

    @Test func anOverLongInputIsRefusedUnderTheErrorPolicyNamingItsIndex() throws {
        let encoder = try DefaultModel.load()
        let long = (0..<600).map { "topic\($0 % 53) " }.joined()
        do {
            _ = try encoder.embed(["fits", long], options: EncodingOptions(truncation: .error))
            Issue.record("an over-long input was embedded under .error")
        } catch {
            #expect("\(error)" == "input 1 has \(encoder.tokenizer.encode(long).count) tokens, more than the model's 256; truncate it or embed it in chunks")
        }
        // The prompt counts towards the length: a text that fits alone can be refused with one.
        let edge = (0..<254).map { _ in "a" }.joined(separator: " ")
        #expect(encoder.tokenize(edge).count == 256 && !encoder.tokenize(edge).overflowed)
        _ = try encoder.embed([edge], options: EncodingOptions(truncation: .error))
        #expect(throws: SentenceEmbeddingsError.self) { try encoder.embed([edge], options: EncodingOptions(prompt: "query: ", truncation: .error)) }
    }

    /// Resource limit: a 10 MB line is embedded as its first part that fits, exactly,
    /// and tokenizing it does not cost the whole line (only the tokens truncation keeps).
    @Test func aTenMegabyteLineEmbedsExactlyAsItsFirstPartThatFits() throws {
        let encoder = try DefaultModel.load()
        let phrase = "a man is playing a guitar while the lazy dog sleeps , "
        let line = String(repeating: phrase, count: 10_000_000 / phrase.utf8.count + 1)
        let clock = ContinuousClock()
        let started = clock.now
        let cut = encoder.tokenize(line)
        let d = clock.now - started
        #expect(cut.ids.count == encoder.maxSequenceLength && cut.overflowed)
        // A hang guard for a shared CI machine (and sanitizer builds), not a speed goal.
        #expect(d < .seconds(10), "tokenizing took \(d)")
        // The text up to the end of the last kept token holds exactly the kept tokens.
        let prefix = String(line.unicodeScalars.prefix(cut.offsets[cut.ids.count - 2].upperBound))
        #expect(encoder.tokenize(prefix).ids == cut.ids && !encoder.tokenize(prefix).overflowed)
        let both = try encoder.embed([line, prefix], options: EncodingOptions())
        #expect(both.truncatedCount == 1)
        let a = try encoder.encode(line), b = try encoder.encode(prefix)
        #expect(a == b, "the 10 MB line and its first \(prefix.utf8.count) bytes embed differently")
    }
}
