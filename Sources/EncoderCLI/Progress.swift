import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `done / total, texts/s, tokens/s, ETA` line `encoder run` redraws on a terminal's stderr.
final class ProgressLine {
    let enabled: Bool
    var total: Int?
    private let start = ContinuousClock.now
    private var lastDraw: ContinuousClock.Instant? = nil
    private var drawn = false

    init(enabled: Bool, total: Int?) {
        self.enabled = enabled
        self.total = total
    }

    /// Shows `done` texts (`fresh` of them embedded by this process, with `tokens` tokens).
    func update(done: Int, fresh: Int, tokens: Int, force: Bool = false) {
        guard enabled else { return }
        let now = ContinuousClock.now
        if !force, let lastDraw, lastDraw.duration(to: now) < .milliseconds(250) { return }
        lastDraw = now
        let seconds = max(start.duration(to: now).seconds, 1e-9)
        let rate = Double(fresh) / seconds
        var line = total.map { "\(done) / \($0) texts" } ?? "\(done) texts"
        line += String(format: "  %.0f texts/s  %.0f tokens/s", rate, Double(tokens) / seconds)
        if let total, rate > 0, total >= done {
            let eta = Int(Double(total - done) / rate)
            line += String(format: "  ETA %d:%02d:%02d", eta / 3600, eta / 60 % 60, eta % 60)
        }
        Stderr.write("\r\u{1B}[K" + line)
        drawn = true
    }

    /// Removes the line before the summary or an error is printed.
    func clear() {
        guard enabled, drawn else { return }
        Stderr.write("\r\u{1B}[K")
        drawn = false
    }

    static var stderrIsTerminal: Bool { isatty(2) != 0 }
}
