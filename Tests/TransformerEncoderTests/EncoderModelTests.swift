import TransformerEncoder
import Foundation
import SafeTensors
import Testing
import TestSupport

@Suite struct WeightBindingTests {
    @Test func bindsAndListsUnexpectedTensors() throws {
        let c = try tinyConfig()
        let model = try EncoderModel(config: c, weights: DictionaryTensors(tensors: randomCheckpoint(c, seed: 1)))
        #expect(model.keyPrefix == "")
        #expect(model.unexpectedTensors == ["embeddings.position_ids", "pooler.dense.bias", "pooler.dense.weight"])
    }

    @Test func detectsBertPrefix() throws {
        let c = try tinyConfig()
        var tensors = randomCheckpoint(c, seed: 1, prefix: "bert.")
        tensors["cls.predictions.bias"] = FloatTensor(shape: [50], [Float](repeating: 0, count: 50))
        let model = try EncoderModel(config: c, weights: DictionaryTensors(tensors: tensors))
        #expect(model.keyPrefix == "bert.")
        #expect(model.unexpectedTensors.contains("cls.predictions.bias"))
        // Same weights, same output whichever prefix they were stored under.
        let plain = try EncoderModel(config: c, weights: DictionaryTensors(tensors: randomCheckpoint(c, seed: 1)))
        let input = [randomInput(length: 5, vocab: 50, seed: 3)]
        #expect(try model.forward(input).values == plain.forward(input).values)
    }

    @Test func reportsAllMissingAndMismatchedTensorsAtOnce() throws {
        let c = try tinyConfig()
        var tensors = randomCheckpoint(c, seed: 1)
        tensors["encoder.layer.1.attention.self.key.bias"] = nil
        tensors["embeddings.LayerNorm.weight"] = nil
        tensors["encoder.layer.0.intermediate.dense.weight"] = FloatTensor(shape: [32, 64], [Float](repeating: 0, count: 2048))
        tensors["embeddings.token_type_embeddings.weight"] = FloatTensor(shape: [1, 32], [Float](repeating: 0, count: 32))
        do {
            _ = try EncoderModel(config: c, weights: DictionaryTensors(tensors: tensors))
            Issue.record("expected a weights error")
        } catch {
            guard case .weightsDoNotMatchConfig(let p) = error else { Issue.record("got \(error)"); return }
            #expect(Set(p.missing) == ["encoder.layer.1.attention.self.key.bias", "embeddings.LayerNorm.weight"])
            #expect(Set(p.shapeMismatches.map(\.name)) == ["encoder.layer.0.intermediate.dense.weight",
                                                            "embeddings.token_type_embeddings.weight"])
            let mismatch = p.shapeMismatches.first { $0.name.hasPrefix("encoder") }!
            #expect(mismatch.expected == [64, 32] && mismatch.actual == [32, 64])
            #expect("\(error)".contains("encoder.layer.1.attention.self.key.bias"))
        }
    }

    @Test func unreadableTensorIsReported() throws {
        struct Failing: TensorProvider {
            let inner: DictionaryTensors
            var tensorNames: [String] { inner.tensorNames }
            func floatTensor(_ name: String) throws -> FloatTensor {
                if name == "encoder.layer.0.output.dense.bias" { throw MissingTensor(name: "I64 is not a float type") }
                return try inner.floatTensor(name)
            }
        }
        let c = try tinyConfig()
        #expect {
            try EncoderModel(config: c, weights: Failing(inner: DictionaryTensors(tensors: randomCheckpoint(c, seed: 1))))
        } throws: { error in
            guard case .weightsDoNotMatchConfig(let p) = error as? EncoderError else { return false }
            return p.unreadable.map(\.name) == ["encoder.layer.0.output.dense.bias"] && p.missing.isEmpty
        }
    }
}

@Suite struct ForwardTests {
    /// Sequences of odd lengths, one two-segment, including a 1-token one.
    static let batch = [
        randomInput(length: 7, vocab: 50, seed: 11),
        randomInput(length: 1, vocab: 50, seed: 12),
        randomInput(length: 17, vocab: 50, seed: 13, pair: true),
        randomInput(length: 3, vocab: 50, seed: 14),
    ]

    @Test(arguments: [HiddenActivation.gelu, .geluNew, .relu])
    func fastForwardMatchesPaddedReference(act: HiddenActivation) throws {
        let c = try tinyConfig(act)
        let model = try EncoderModel(config: c, weights: DictionaryTensors(tensors: randomCheckpoint(c, seed: 2)))
        let fast = try model.forward(Self.batch)
        let reference = try model.referenceForward(Self.batch)
        #expect(fast.sequenceRanges == [0..<7, 7..<8, 8..<25, 25..<28])
        #expect(reference.sequenceRanges == fast.sequenceRanges)
        #expect(fast.values.count == 28 * 32)
        let diff = maxAbsDiff(fast.values, reference.values)
        #expect(diff < 1e-4, "max abs diff \(diff)")
        for t in 0..<28 {
            let row = (t * 32)..<((t + 1) * 32)
            #expect(cosine(fast.values[row], reference.values[row]) > 0.99999)
        }
    }

    /// Every family's fast pass against the padded reference, on sequences that contain the
    /// padding id (RoBERTa and MPNet give it position padding_idx) and reach past MPNet's exact
    /// buckets (distances 0-7 exact, logarithmic after).
    @Test(arguments: EncoderFamily.allCases)
    func everyFamilyMatchesPaddedReference(family: EncoderFamily) throws {
        let c = try tinyConfig(family: family)
        let model = try EncoderModel(config: c, weights: DictionaryTensors(tensors: randomCheckpoint(c, seed: 5)))
        var withPadding = randomInput(length: 30, vocab: 50, seed: 21)
        withPadding.ids[4] = 1
        withPadding.ids[9] = 1
        let batch = Self.batch + [withPadding]
        let fast = try model.forward(batch)
        let reference = try model.referenceForward(batch)
        let diff = maxAbsDiff(fast.values, reference.values)
        #expect(diff < 1e-4, "max abs diff \(diff)")
        for t in 0..<fast.tokenCount {
            let row = (t * 32)..<((t + 1) * 32)
            #expect(cosine(fast.values[row], reference.values[row]) > 0.99999)
        }
    }

    @Test func sequenceAloneEqualsSequenceInBatch() throws {
        let c = try tinyConfig()
        let model = try EncoderModel(config: c, weights: DictionaryTensors(tensors: randomCheckpoint(c, seed: 2)))
        let together = try model.forward(Self.batch)
        for (i, input) in Self.batch.enumerated() {
            let alone = try model.forward([input])
            #expect(maxAbsDiff(alone.values, together.sequence(i)) < 1e-5)
        }
    }

    @Test func typeIdsAndPositionsMatter() throws {
        let c = try tinyConfig()
        let model = try EncoderModel(config: c, weights: DictionaryTensors(tensors: randomCheckpoint(c, seed: 2)))
        let a = TokenSequence(ids: [1, 2, 3], typeIds: [0, 0, 0])
        let b = TokenSequence(ids: [1, 2, 3], typeIds: [0, 1, 1])
        let r = TokenSequence(ids: [3, 2, 1], typeIds: [0, 0, 0])
        let out = try model.forward([a, b, r])
        #expect(maxAbsDiff(out.sequence(0), out.sequence(1)) > 1e-3)
        // Token 1 at position 0 vs position 2: different rows.
        #expect(maxAbsDiff(out.sequence(0).prefix(32), out.sequence(2).suffix(32)) > 1e-3)
    }

    @Test func emptyBatchAndEmptySequence() throws {
        let c = try tinyConfig()
        let model = try EncoderModel(config: c, weights: DictionaryTensors(tensors: randomCheckpoint(c, seed: 2)))
        #expect(try model.forward([]).values.isEmpty)
        let out = try model.forward([TokenSequence(ids: []), TokenSequence(ids: [4, 5])])
        #expect(out.sequenceRanges == [0..<0, 0..<2] && out.values.count == 64)
        #expect(maxAbsDiff(out.sequence(1), try model.forward([TokenSequence(ids: [4, 5])]).values) < 1e-6)
    }

    @Test func invalidInputsThrowInsteadOfReadingOutOfBounds() throws {
        let c = try tinyConfig()
        let model = try EncoderModel(config: c, weights: DictionaryTensors(tensors: randomCheckpoint(c, seed: 2)))
        let bad: [(TokenSequence, String)] = [
            (TokenSequence(ids: [1, 50]), "outside the vocabulary"),
            (TokenSequence(ids: [-1]), "outside the vocabulary"),
            (TokenSequence(ids: [1, 2], typeIds: [0, 2]), "token type id 2"),
            (TokenSequence(ids: [1, 2], typeIds: [0]), "type ids"),
            (TokenSequence(ids: [Int32](repeating: 1, count: 41)), "max_position_embeddings 40"),
        ]
        for (input, message) in bad {
            do {
                _ = try model.forward([TokenSequence(ids: [1]), input])
                Issue.record("accepted \(input)")
            } catch {
                guard case .invalidInput(let sequence, let reason) = error else { Issue.record("got \(error)"); continue }
                #expect(sequence == 1 && reason.contains(message), "\(reason)")
            }
        }
        // Exactly max_position_embeddings tokens is fine.
        #expect(try model.forward([TokenSequence(ids: [Int32](repeating: 1, count: 40))]).values.count == 40 * 32)
    }

    @Test func concurrentForwardsAgreeWithSerial() async throws {
        let c = try tinyConfig()
        let model = try EncoderModel(config: c, weights: DictionaryTensors(tensors: randomCheckpoint(c, seed: 2)))
        let inputs = (0..<8).map { [randomInput(length: 5 + $0 * 3, vocab: 50, seed: UInt64(100 + $0))] }
        let serial = try inputs.map { try model.forward($0).values }
        let parallel = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (i, input) in inputs.enumerated() {
                group.addTask { (i, try model.forward(input).values) }
            }
            var out = [[Float]](repeating: [], count: inputs.count)
            for try await (i, v) in group { out[i] = v }
            return out
        }
        #expect(parallel == serial)
    }
}

@Suite struct ScratchAndChunkTests {
    /// A scratch reused for a large batch and then smaller ones gives what fresh memory gives.
    @Test func reusedScratchEqualsFreshScratch() throws {
        let c = try tinyConfig()
        let model = try EncoderModel(config: c, weights: DictionaryTensors(tensors: randomCheckpoint(c, seed: 2)))
        let batches = [
            (0..<6).map { randomInput(length: 40 - $0 * 5, vocab: 50, seed: UInt64(200 + $0)) },
            [randomInput(length: 3, vocab: 50, seed: 300)],
            (0..<3).map { randomInput(length: 9 + $0, vocab: 50, seed: UInt64(310 + $0), pair: true) },
        ]
        let scratch = EncoderScratch()
        for batch in batches {
            let reused = try model.forward(batch, scratch: scratch)
            let fresh = try model.forward(batch)
            #expect(reused.values == fresh.values)
            #expect(reused.sequenceRanges == fresh.sequenceRanges)
        }
        #expect(scratch.capacity > 0)
    }

    /// One forward shared by several threads (output columns of each GEMM; attention by heads
    /// within each thread's Q/K/V columns, or by (sequence, head) pairs; the activation on each
    /// thread's FFN columns): the padded reference's values, and a one-thread run's up to
    /// rounding, for one sequence, a mixed batch with an empty sequence and pairs, and a batch
    /// past one feed-forward chunk; the scratch then serves a one-thread call. The weights are
    /// packed in one column part, and in as many as the threads (as `encoder` loads them).
    @Test(arguments: [(2, 1), (3, 1), (2, 2), (3, 3), (2, 4)])
    func threadedForwardMatchesReferenceAndOneThread(threads: Int, packedParts: Int) throws {
        let c = try tinyConfig()
        let model = try EncoderModel(config: c, weights: DictionaryTensors(tensors: randomCheckpoint(c, seed: 4)),
                                     threads: packedParts)
        let batches = [
            [randomInput(length: 11, vocab: 50, seed: 500)],
            [randomInput(length: 7, vocab: 50, seed: 501), TokenSequence(ids: []), randomInput(length: 20, vocab: 50, seed: 502, pair: true)],
            (0..<14).map { randomInput(length: 40 - ($0 % 7), vocab: 50, seed: UInt64(510 + $0)) },
        ]
        let scratch = EncoderScratch()
        for batch in batches {
            let threaded = try model.forward(batch, scratch: scratch, threads: threads)
            let one = try model.forward(batch)
            let reference = try model.referenceForward(batch)
            #expect(threaded.sequenceRanges == one.sequenceRanges)
            #expect(maxAbsDiff(threaded.values, reference.values) < 1e-4)
            #expect(maxAbsDiff(threaded.values, one.values) < 1e-5)
            // Up to rounding, not bit for bit: at its default thread count OpenBLAS may split a
            // large GEMM differently while the other test case's threads call it too, and its edge
            // tiles round differently (seen once under ASan).
            #expect(maxAbsDiff(try model.forward(batch, scratch: scratch).values, one.values) < 1e-5)
        }
    }

    /// More than 256 tokens: the feed-forward block runs in several row chunks (the last one
    /// partial), which must agree with the padded reference forward.
    @Test func chunkedFeedForwardMatchesReference() throws {
        let c = try tinyConfig()
        let model = try EncoderModel(config: c, weights: DictionaryTensors(tensors: randomCheckpoint(c, seed: 3)))
        let batch = (0..<14).map { randomInput(length: 40 - ($0 % 7), vocab: 50, seed: UInt64(400 + $0)) }
        let tokens = batch.map(\.ids.count).reduce(0, +)
        #expect(tokens > 512 && tokens % 256 != 0)
        let fast = try model.forward(batch)
        let reference = try model.referenceForward(batch)
        #expect(maxAbsDiff(fast.values, reference.values) < 1e-4)
    }
}
