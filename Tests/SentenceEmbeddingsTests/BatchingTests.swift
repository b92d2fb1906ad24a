import Foundation
import Testing
import TestSupport
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

    /// Two workers with small batches give the vectors one worker with one big batch gives.
    @Test func multiWorkerEmbedEqualsSingleWorker() throws {
        let folder = RepositoryPaths.defaultModel
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

    /// What one thread asks of the shared encoder in ``eightThreadsShareOneEncoder()``.
    struct Answers: Equatable {
        var tokens: [[Int32]]
        var encoded: [[Float]]
        var embedded: [Float]
        var prompted: [Float]
        var long: [Float]
    }

    static func answers(_ encoder: SentenceEncoder, _ texts: [String], long: String) throws -> Answers {
        Answers(
            tokens: texts.map { encoder.tokenize($0).ids },
            encoded: try encoder.encode(texts),
            embedded: try encoder.embed(texts).values,
            prompted: try encoder.embed(texts, options: EncodingOptions(prompt: "query: ", dimensions: 64, normalize: true)).values,
            long: try encoder.embed([long], options: EncodingOptions(truncation: .chunk(overlap: 16))).values)
    }

    /// Each thread's answers, one list per thread, behind an NSLock (a pthread mutex, which
    /// ThreadSanitizer sees; `Synchronization.Mutex` it cannot, see `Scripts/sanitize`).
    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var answers: [[Result<Answers, any Error>]]
        init(_ threads: Int) { answers = Array(repeating: [], count: threads) }
        func append(_ answer: Result<Answers, any Error>, thread: Int) { lock.withLock { answers[thread].append(answer) } }
        var all: [[Result<Answers, any Error>]] { lock.withLock { answers } }
    }

    /// One encoder used by 8 OS threads at once, each calling tokenize, encode, embed (with and
    /// without a prompt) and chunked long inputs on its own texts, several rounds: every answer equals,
    /// bit for bit, the answer the same calls give one after another. Real threads rather than
    /// tasks: the cooperative pool has only as many threads as cores (2 in CI), and with its own
    /// 2 workers per call this puts up to 16 threads in forward passes at once. Under
    /// `Scripts/sanitize thread` this is the test that the library API is race-free.
    @Test func eightThreadsShareOneEncoder() throws {
        let encoder = try DefaultModel.load()
        let threadCount = 8, rounds = 3
        let requests = (0..<threadCount).map { t in Array(Self.texts[(t * 13)..<(t * 13 + 2 + t % 4)]) }
        // A text over the 256-token window, different in each thread.
        let longTexts = (0..<threadCount).map { t in Self.texts.filter { $0.count > 400 }.prefix(3 + t).joined(separator: " ") }
        let expected = try (0..<threadCount).map { try Self.answers(encoder, requests[$0], long: longTexts[$0]) }
        #expect(longTexts.allSatisfy { encoder.tokenizer.encode($0).ids.count > encoder.maxSequenceLength })

        let results = Collected(threadCount)
        let ready = DispatchGroup(), go = DispatchSemaphore(value: 0), done = DispatchGroup()
        for t in 0..<threadCount {
            ready.enter()
            done.enter()
            let thread = Thread {
                ready.leave()
                go.wait()  // all threads start together
                for _ in 0..<rounds {
                    let r = Result { try Self.answers(encoder, requests[t], long: longTexts[t]) }
                    results.append(r, thread: t)
                }
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        ready.wait()
        for _ in 0..<threadCount { go.signal() }
        done.wait()

        let all = results.all
        for t in 0..<threadCount {
            #expect(all[t].count == rounds)
            for r in all[t] {
                switch r {
                case .success(let answers): #expect(answers == expected[t], "thread \(t) differs from the serial answers")
                case .failure(let error): Issue.record("thread \(t): \(error)")
                }
            }
        }
    }
}
