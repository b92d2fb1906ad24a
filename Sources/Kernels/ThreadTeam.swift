// Threads of our own for a forward pass that has the machine to itself (one interactive text).
//
// A forward of a short text is ~24 parallel regions of 100-400 µs each. Handing each region to
// libdispatch (or any pool whose idle threads sleep) costs a futex wake-up per region, of the
// order of the region itself: most of what splitting the work saves (Scripts/BENCHMARKS.md has
// the measurement). So a team's helpers spin for a while after each region (~0.2 ms, like
// OpenMP's active wait policy) and only then sleep; a forward's next region finds them awake.
import Dispatch
import Foundation
import Synchronization

/// `size` threads (the caller and `size - 1` helpers) that run the parts of one region at a
/// time: ``run(_:_:)`` gives part p to thread p % size and returns when all parts are done.
/// Helpers never wait for each other, so nothing can deadlock whatever the machine's load.
/// One region at a time: a team must not be used by two callers at once (each forward's
/// scratch owns its own). The helpers stop when the team is released.
public final class ThreadTeam: @unchecked Sendable {
    public let size: Int
    private let state: TeamState

    /// A team of one is the calling thread alone and starts no thread.
    public init(size: Int) {
        precondition(size >= 1, "ThreadTeam: size must be at least 1")
        self.size = size
        state = TeamState(size: size)
        for helper in 1..<size {
            let state = state
            let thread = Thread { state.helperLoop(helper) }
            thread.name = "encoder-team-\(helper)"
            thread.start()
        }
    }

    deinit { state.stop() }

    /// Runs `body(p)` for every p in 0..<parts, part p on thread p % size (part 0 on the
    /// caller), and returns when all have finished.
    public func run(_ parts: Int, _ body: (Int) -> Void) {
        guard size > 1, parts > 1 else {
            for p in 0..<parts { body(p) }
            return
        }
        withoutActuallyEscaping(body) { body in
            state.publish(parts: parts, body)
            var p = 0
            while p < parts {
                body(p)
                p += size
            }
            state.waitForHelpers()
        }
    }
}

/// What the caller and the helpers share. `job` and `parts` are written by the caller before it
/// bumps `generation` (release) and read by helpers after they see the new generation (acquire).
private final class TeamState: @unchecked Sendable {
    let size: Int
    let generation = Atomic<Int>(0)
    /// Helpers that finished their share, counted over the team's life.
    let finished = Atomic<Int>(0)
    var job: ((Int) -> Void)?
    var parts = 0
    var stopping = false
    /// Finished count the caller waits for (caller-only).
    var target = 0
    /// Helpers asleep, under `condition`.
    var sleepers = 0
    let condition = NSCondition()
    let exited = DispatchSemaphore(value: 0)

    /// How long a helper waits awake for the next region before it sleeps.
    static let helperSpinNanoseconds: UInt64 = 200_000
    /// Spins of a thread waiting for the others before it yields its core between checks.
    static let callerSpins = 20_000

    init(size: Int) { self.size = size }

    func publish(parts: Int, _ body: @escaping (Int) -> Void) {
        job = body
        self.parts = parts
        target += size - 1
        generation.wrappingAdd(1, ordering: .releasing)
        wakeSleepers()
    }

    func waitForHelpers() {
        var spins = 0
        while finished.load(ordering: .acquiring) != target {
            spins += 1
            if spins > Self.callerSpins { sched_yield() }
        }
        job = nil
    }

    func stop() {
        stopping = true
        generation.wrappingAdd(1, ordering: .releasing)
        wakeSleepers()
        for _ in 1..<size { exited.wait() }
    }

    private func wakeSleepers() {
        condition.lock()
        if sleepers > 0 { condition.broadcast() }
        condition.unlock()
    }

    func helperLoop(_ index: Int) {
        var seen = 0
        while true {
            var spins = 0
            let start = DispatchTime.now().uptimeNanoseconds
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                guard spins % 64 == 0 else { continue }
                if DispatchTime.now().uptimeNanoseconds - start > Self.helperSpinNanoseconds {
                    condition.lock()
                    sleepers += 1
                    while generation.load(ordering: .acquiring) == seen { condition.wait() }
                    sleepers -= 1
                    condition.unlock()
                } else if spins > Self.callerSpins {
                    sched_yield()  // more threads than cores: let the others run
                }
            }
            seen = generation.load(ordering: .acquiring)
            if stopping {
                exited.signal()
                return
            }
            runShare(index)
            finished.wrappingAdd(1, ordering: .releasing)
        }
    }

    /// A helper's parts of the current region. A function of its own so that the helper's
    /// reference to the job is gone before it reports: `run` checks that its non-escaping body
    /// did not escape as soon as the last helper has reported.
    @inline(never)
    private func runShare(_ index: Int) {
        let body = job!
        var p = index
        while p < parts {
            body(p)
            p += size
        }
    }
}
