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
/// time: ``run(_:_:)`` returns when every part has run exactly once. Parts are claimed, not
/// assigned: each thread takes the next unclaimed part until none is left, so a helper that the
/// machine has not scheduled (other processes on the cores) leaves its share to the caller
/// instead of making it wait. Part-indexed resources (a column block, a scratch slot) are
/// therefore safe; thread-indexed ones are not. Helpers never wait for each other, so nothing can
/// deadlock whatever the machine's load. One region at a time: a team must not be used by two
/// callers at once (each forward's scratch owns its own). The helpers stop when the team is released.
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

    /// Runs `body(p)` for every p in 0..<parts, each exactly once on one of the team's threads
    /// (the caller included), and returns when all have finished.
    public func run(_ parts: Int, _ body: (Int) -> Void) {
        guard size > 1, parts > 1 else {
            for p in 0..<parts { body(p) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let region = state.publish(parts: parts, body)
            state.runParts(region)
            state.waitForParts()
        }
    }
}

/// What the caller and the helpers share. A region is published as one word, `claims`: its number
/// (bits 40-62), its part count (bits 20-39) and the next unclaimed part (bits 0-19). A claim is a
/// compare-and-swap of that word, so a helper that wakes late can never take a part of a region it
/// did not read, nor miscount one. `job` is written before the word is published (release) and read
/// only after a successful claim (acquire); the caller replaces it only once every part of its
/// region has reported done, after which no claim of that region can succeed.
private final class TeamState: @unchecked Sendable {
    let size: Int
    /// Published regions: helpers wake when it changes.
    let generation = Atomic<Int>(0)
    /// region << 40 | parts << 20 | next unclaimed part.
    let claims = Atomic<Int>(0)
    /// Parts of the current region finished.
    let done = Atomic<Int>(0)
    var job: ((Int) -> Void)?
    /// The current region's part count (caller-only; helpers read it from `claims`).
    var parts = 0
    var stopping = false
    /// Helpers asleep, under `condition`.
    var sleepers = 0
    let condition = NSCondition()
    let exited = DispatchSemaphore(value: 0)

    /// How long a helper waits awake for the next region before it sleeps.
    static let helperSpinNanoseconds: UInt64 = 200_000
    /// Spins of a thread waiting for the others before it yields its core between checks.
    static let callerSpins = 20_000
    /// Region numbers wrap at 23 bits.
    static let regionMask = 0x7f_ffff

    init(size: Int) { self.size = size }

    /// Publishes a region of `parts` parts; returns its number.
    func publish(parts: Int, _ body: @escaping (Int) -> Void) -> Int {
        precondition(parts < 1 << 20, "ThreadTeam: at most 2^20 - 1 parts per region")
        job = body
        self.parts = parts
        done.store(0, ordering: .relaxed)
        let region = (generation.load(ordering: .relaxed) + 1) & Self.regionMask
        claims.store(region << 40 | parts << 20, ordering: .releasing)
        generation.store(region, ordering: .releasing)
        wakeSleepers()
        return region
    }

    /// Claims and runs parts of `region` until none is left.
    func runParts(_ region: Int) {
        while true {
            var word = claims.load(ordering: .acquiring)
            var part = -1
            while word >> 40 == region && word & 0xf_ffff < (word >> 20) & 0xf_ffff {
                let (exchanged, original) = claims.compareExchange(expected: word, desired: word + 1, ordering: .acquiringAndReleasing)
                if exchanged {
                    part = word & 0xf_ffff
                    break
                }
                word = original
            }
            guard part >= 0 else { return }
            job!(part)
            done.wrappingAdd(1, ordering: .releasing)
        }
    }

    func waitForParts() {
        var spins = 0
        while done.load(ordering: .acquiring) != parts {
            spins += 1
            if spins > Self.callerSpins { sched_yield() }
        }
        job = nil
    }

    func stop() {
        stopping = true
        generation.store(-1, ordering: .releasing)  // no region has this number
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
            runParts(seen)
        }
    }
}
