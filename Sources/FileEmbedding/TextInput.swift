import Foundation
import StrictJSON
import Tokenization

/// One input text and the 1-based line of the file it came from (for error messages).
public struct TextRecord: Sendable, Equatable {
    public var text: String
    public var line: Int

    public init(text: String, line: Int) {
        self.text = text
        self.line = line
    }
}

/// A problem with an input file, naming the file and line: printed as `error: FILE:LINE: message`.
public struct TextInputError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var line: Int?
    public var message: String

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// Input formats and the whole-file reader the small commands use; `encoder run` streams
/// records with ``RecordReader`` instead.
///
/// Formats, chosen from the file extension (a trailing `.gz` means gzip-compressed; stdin `-`
/// is read as `.txt` unless `--input-format` says otherwise):
/// - `.txt`: one text per line; `\n` or `\r\n`; a final newline does not add an empty text;
///   blank lines are kept as empty texts so output lines match input lines.
/// - `.jsonl`: one JSON value per line: a string, or an object whose `field` (default `text`)
///   is a string. Blank lines are errors.
/// - `.csv`: RFC 4180 (`,`-separated, `"`-quoted, `""` is a quote, quoted fields may span lines).
///   `.tsv`: tab-separated without quoting, as IANA's text/tab-separated-values defines it and as
///   STS-B ships (its sentences start with `"` and are not quoted); `--quoting rfc4180` turns
///   quoting on. Both need `column`: a 1-based number (every row is data) or a header name
///   (the first row is the header).
/// Input must be valid UTF-8: a bad byte is an error naming its line, never a silent U+FFFD.
public enum TextInput {
    public struct Format: Equatable, Sendable, CustomStringConvertible {
        var kind: Kind
        /// gzip-compressed (`.gz`).
        var gzip: Bool = false

        /// A stable spelling, recorded in `--resume` checkpoints (e.g. `csv column=2 quoted gzip`).
        public var description: String {
            var parts: [String]
            switch kind {
            case .lines: parts = ["txt"]
            case .jsonLines(let field): parts = ["jsonl", "field=\(field)"]
            case .delimited(let separator, let quoted, let column):
                parts = [separator == UInt8(ascii: ",") ? "csv" : "tsv"]
                switch column {
                case .index(let i): parts.append("column=\(i + 1)")
                case .name(let n): parts.append("column=\(n)")
                }
                if quoted { parts.append("quoted") }
            }
            if gzip { parts.append("gzip") }
            return parts.joined(separator: " ")
        }
    }

    enum Kind: Equatable, Sendable {
        case lines
        case jsonLines(field: String)
        case delimited(separator: UInt8, quoted: Bool, column: Column)
    }

    enum Column: Equatable, Sendable {
        case index(Int)  // 0-based
        case name(String)

        init(_ text: String) {
            if let n = Int(text), n >= 1 { self = .index(n - 1) } else { self = .name(text) }
        }
    }

    /// How `"` is treated in delimited files.
    public enum Quoting: String, CaseIterable, Sendable {
        case auto, rfc4180, none
    }

    static let extensions = ".txt, .jsonl, .csv, .tsv (each optionally .gz)"

    /// The format of `path`; `field` applies to `.jsonl`, `column` to `.csv`/`.tsv`.
    /// `override` (`txt`, `jsonl`, `csv`, `tsv`, optionally with `.gz`) replaces the extension.
    public static func format(
        of path: String, field: String?, column: String?, override: String? = nil, quoting: Quoting = .auto
    ) throws(TextInputError) -> Format {
        var name = override.map { "input.\($0)" } ?? (path == "-" ? "input.txt" : path)
        var gzip = false
        if (name as NSString).pathExtension.lowercased() == "gz" {
            gzip = true
            name = (name as NSString).deletingPathExtension
        }
        let ext = (name as NSString).pathExtension.lowercased()
        switch ext {
        case "txt", "text": return Format(kind: .lines, gzip: gzip)
        case "jsonl", "ndjson": return Format(kind: .jsonLines(field: field ?? "text"), gzip: gzip)
        case "tsv", "csv":
            guard let column else {
                throw TextInputError(file: path, line: nil, message: "a .csv/.tsv input needs --column (a 1-based number or a header name)")
            }
            let tab = ext == "tsv"
            let quoted = quoting == .auto ? !tab : quoting == .rfc4180
            return Format(kind: .delimited(separator: tab ? 0x09 : 0x2C, quoted: quoted, column: Column(column)), gzip: gzip)
        default:
            let what = override == nil ? "unknown input type" : "unknown --input-format \"\(override!)\""
            throw TextInputError(file: path, line: nil, message: "\(what); use one of \(extensions), or - for stdin")
        }
    }

    /// Reads every text of `path` (`-` = standard input); the first bad record is an error.
    public static func read(path: String, format: Format) throws(TextInputError) -> [TextRecord] {
        let reader = try RecordReader(source: openByteSource(path: path, gzip: format.gzip), file: path == "-" ? "<stdin>" : path, format: format)
        var out: [TextRecord] = []
        while let raw = try reader.next() {
            switch reader.parse(raw) {
            case .text(let text, _): out.append(TextRecord(text: text, line: raw.line))
            case .bad(let message): throw TextInputError(file: reader.file, line: raw.line, message: message)
            }
        }
        return out
    }

    /// Parses in-memory bytes (tests and small inputs).
    static func parse(_ bytes: [UInt8], file: String, format: Format) throws(TextInputError) -> [TextRecord] {
        let reader = try RecordReader(source: MemorySource(bytes), file: file, format: format)
        var out: [TextRecord] = []
        while let raw = try reader.next() {
            switch reader.parse(raw) {
            case .text(let text, _): out.append(TextRecord(text: text, line: raw.line))
            case .bad(let message): throw TextInputError(file: file, line: raw.line, message: message)
            }
        }
        return out
    }
}

/// Bytes already in memory, served in small pieces (so tests exercise buffer refills).
final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0
    private let piece: Int

    init(_ bytes: [UInt8], piece: Int = 1 << 16) {
        self.bytes = bytes
        self.piece = max(1, piece)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TextInputError) -> Int {
        let n = min(buffer.count, piece, bytes.count - position)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { b in
            buffer.baseAddress!.copyMemory(from: b.baseAddress! + position, byteCount: n)
        }
        position += n
        return n
    }

    var isReady: Bool { true }
}
