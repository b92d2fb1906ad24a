import Foundation
import Testing
@testable import SentenceEmbeddings

@Suite struct BatchPlanTests {
    static func lengths(_ count: Int, seed: UInt64) -> [Int] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return 2 + Int((state >> 33) % 60)
        }
    }

    @Test(arguments: [(1, 512, 2), (7, 512, 2), (300, 512, 2), (300, 64, 3), (50, 10_000, 2), (5, 1, 2)])
    func everyTextOnceLongestFirstWithinBudget(args: (Int, Int, Int)) {
        let (count, budget, workers) = args
        let lengths = Self.lengths(count, seed: UInt64(count * 31 + budget))
        let plan = BatchPlan.make(lengths: lengths, maxBatchTokens: budget, workers: workers)
        #expect(plan.batches.flatMap { $0 }.sorted() == Array(0..<count))
        let flat = plan.batches.flatMap { $0 }
        #expect(zip(flat, flat.dropFirst()).allSatisfy { lengths[$0] >= lengths[$1] })
        for batch in plan.batches {
            #expect(!batch.isEmpty)
            #expect(batch.count == 1 || batch.map { lengths[$0] }.reduce(0, +) <= budget)
        }
    }

    @Test func smallRequestIsSplitBetweenWorkers() {
        // 20 texts of 10 tokens fit one 512-token budget, but two workers should both get work.
        let plan = BatchPlan.make(lengths: [Int](repeating: 10, count: 20), maxBatchTokens: 512, workers: 2)
        #expect(plan.batches.count == 2)
        #expect(plan.batches.map(\.count) == [10, 10])
        #expect(BatchPlan.make(lengths: [], maxBatchTokens: 512, workers: 2).batches.isEmpty)
        #expect(BatchPlan.make(lengths: [300], maxBatchTokens: 100, workers: 2).batches == [[0]])
    }
}

@Suite struct ThreadingTests {
    static let texts: [String] = {
        var out: [String] = []
        let words = ["guitar", "a", "man", "is", "playing", "the", "onion", "slices", "woman", "quickly", "über", "東京"]
        var state: UInt64 = 7
        for i in 0..<120 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let n = 1 + Int((state >> 33) % UInt64(i % 3 == 0 ? 200 : 20))
            out.append((0..<n).map { words[($0 * 7 + i) % words.count] }.joined(separator: " "))
        }
        return out
    }()

    func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) { dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y) }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    /// Two workers with small batches give the vectors one worker with one big batch gives.
    @Test func multiWorkerEmbedEqualsSingleWorker() throws {
        let folder = TestPaths.defaultModel
        _ = try DefaultModel.load()  // a missing model fails here with the fetch hint
        var one = SentenceEncoder.Options()
        one.threads = 1
        one.maxBatchTokens = 100_000
        var two = SentenceEncoder.Options()
        two.threads = 2
        two.maxBatchTokens = 300
        let single = try SentenceEncoder(contentsOf: folder, options: one).embed(Self.texts)
        let multi = try SentenceEncoder(contentsOf: folder, options: two).embed(Self.texts)
        #expect(single.tokenCounts == multi.tokenCounts)
        for i in 0..<Self.texts.count {
            let c = cosine(single[i], multi[i])
            #expect(c >= 0.99999, "text \(i): cosine \(c)")
        }
    }

    /// `encode` called from many threads at once equals the same calls made one after another.
    @Test func concurrentEncodeEqualsSerial() async throws {
        let encoder = try DefaultModel.load()
        let requests = (0..<12).map { Array(Self.texts[($0 * 9)..<($0 * 9 + 1 + $0 % 5)]) }
        let serial = try requests.map { try encoder.encode($0) }
        let parallel = try await withThrowingTaskGroup(of: (Int, [[Float]]).self) { group in
            for (i, request) in requests.enumerated() {
                group.addTask { (i, try encoder.encode(request)) }
            }
            var out = [[[Float]]](repeating: [], count: requests.count)
            for try await (i, v) in group { out[i] = v }
            return out
        }
        for (s, p) in zip(serial, parallel) {
            #expect(s.count == p.count)
            for (a, b) in zip(s, p) { #expect(cosine(a[...], b[...]) >= 0.99999) }
        }
    }
}
