import Foundation
import Testing
@testable import SentenceEmbeddings

/// Windows over long texts (`encoder run --long-inputs chunk`), against a naive recomputation.
struct LongInputsTests {
    @Test func windowsCoverEveryTokenWithTheRequestedOverlap() throws {
        let encoder = try DefaultModel.load()
        let text = (0..<700).map { "w\($0 % 91)" }.joined(separator: " ")
        let full = encoder.tokenizeUntruncated(text)
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
        #expect(encoder.windows(of: encoder.tokenizeUntruncated("short"), overlap: 32).count == 1)
    }

    @Test func aLongTextIsTheTokenWeightedMeanOfItsWindows() throws {
        let encoder = try DefaultModel.load()
        let long = (0..<600).map { "topic\($0 % 53) " }.joined()
        let encodings = [encoder.tokenizeUntruncated("a short sentence"), encoder.tokenizeUntruncated(long)]
        let combined = try encoder.embedLongInputs(encodings: encodings, overlap: 16)
        #expect(combined.tokenCounts == encodings.map(\.ids.count) && combined.truncatedCount == 0)
        // A text that fits keeps the very vector embed(encodings:) gives it in the same batch.
        let windows = encoder.windows(of: encodings[1], overlap: 16)
        #expect(Array(combined[0]) == Array(try encoder.embed(encodings: [encodings[0]] + windows)[0]))
        #expect(zip(combined[0], try encoder.encode("a short sentence")).allSatisfy { abs($0 - $1) < 1e-5 })

        // Naive: each window alone, weighted sum, divided, normalized (all-MiniLM-L6-v2 normalizes).
        #expect(windows.count >= 3)
        var sum = [Double](repeating: 0, count: encoder.dimension)
        var weight = 0.0
        for w in windows {
            let v = try encoder.embed(encodings: [w])[0]
            for j in 0..<sum.count { sum[j] += Double(w.ids.count) * Double(v[v.startIndex + j]) }
            weight += Double(w.ids.count)
        }
        let mean = sum.map { $0 / weight }
        let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let expected = mean.map { $0 / norm }
        let got = Array(combined[1])
        #expect(zip(got, expected).allSatisfy { abs(Double($0) - $1) < 1e-5 })
    }

    /// Resource limit (issue 9): a 10 MB line is embedded as its first part that fits, exactly,
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
