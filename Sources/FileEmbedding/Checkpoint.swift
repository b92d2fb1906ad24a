import Foundation
import StrictJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How far a run writing to a file has got, saved after every chunk so `--resume` can continue
/// after the process is killed at any moment.
///
/// Order of writes per chunk (each step durable before the next starts):
/// 1. the chunk's rows are appended to the partial output (and skipped lines to the partial
///    errors file), then both are fsync'd;
/// 2. this checkpoint is written to a temporary file, fsync'd, and renamed over the previous one.
///
/// A kill between 1 and 2 leaves rows past the checkpoint; resuming truncates the partial files
/// back to the lengths recorded here and re-embeds from the record after `records`. Chunks are
/// aligned to multiples of `--batch-size` records from the start of the input, so the resumed
/// run embeds exactly the chunks the uninterrupted one would: the output is byte-identical.
struct Checkpoint: Codable, Equatable {
    /// Bumped when the meaning of a field changes.
    var version = 1
    /// Everything that changes the output's bytes; a resume with different values is refused.
    var options: [String: String]
    /// Input records read past (embedded, skipped, or before the shard), from the start of the input.
    var records: Int
    /// Rows in the output.
    var rows: Int
    /// Length of the partial output file.
    var outputBytes: Int
    /// Length of the partial errors file (with `--on-error skip`).
    var errorsBytes: Int
    /// Input bytes consumed by those records, and their FNV-1a 64 hash (hex): a resumed run
    /// re-reads them and refuses an input that changed.
    var inputBytes: Int
    var inputHash: String
    // Totals for the summary line.
    var tokens: Int
    var truncated: Int
    var skipped: Int
    var split: Int

    static func url(for destination: URL) -> URL {
        destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).checkpoint")
    }

    /// Writes atomically and durably: temporary file, fsync, rename, fsync of the folder.
    func save(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = [UInt8](try encoder.encode(self)) + [0x0A]
        let temporary = url.path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileEmbeddingError("\(temporary): cannot create (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        try writeAll(fd, bytes, what: temporary)
        guard fsync(fd) == 0 else { throw FileEmbeddingError("\(temporary): fsync failed (\(String(cString: strerror(errno))))") }
        guard rename(temporary, url.path) == 0 else {
            throw FileEmbeddingError("\(url.path): cannot rename the checkpoint into place (\(String(cString: strerror(errno))))")
        }
        syncFolder(of: url)
    }

    /// The checkpoint at `url`, or nil when there is none.
    static func load(from url: URL) throws -> Checkpoint? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        do {
            return try JSONParser.decode(Checkpoint.self, from: data)
        } catch {
            throw FileEmbeddingError("\(url.path): not a checkpoint this version can read (\(error)); run without --resume to start over")
        }
    }

    static func remove(at url: URL) {
        unlink(url.path)
        unlink(url.path + ".tmp")
    }
}

/// FNV-1a 64 of `bytes`, continuing from `hash`: hash = (hash ^ byte) * 0x100000001b3.
@inline(__always)
func fnv1a(_ bytes: some Sequence<UInt8>, continuing hash: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
    var h = hash
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}

/// The hash as 16 hex digits.
func hex(_ value: UInt64) -> String {
    let s = String(value, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}
