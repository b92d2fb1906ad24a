import Foundation
import StrictJSON
import Tokenization

/// One record as framed from the input: its bytes without the line terminator, its 0-based
/// index among the records (a CSV header is not a record) and the 1-based line it starts on.
struct RawRecord: Equatable {
    var index: Int
    var line: Int
    var bytes: [UInt8]
}

/// What a record holds: a text (and the id to carry to the output, as JSON text), or why not.
enum ParsedRecord: Equatable {
    case text(String, id: String?)
    case bad(String)
}

/// Reads records one at a time from a ``ByteSource``, holding only the current buffer
/// (peak memory is the longest record plus 1 MiB, whatever the file's size).
///
/// Framing (where a record ends) is separate from parsing (what it holds), so that records
/// before a resume point or outside a shard are skipped without parsing them, and a record
/// that does not parse is still a record: its index and line are known, and `--on-error skip`
/// can leave it out without shifting the records after it.
///
/// The reader also keeps the count and an FNV-1a 64 hash of every byte consumed so far;
/// a checkpoint records both so a resumed run can check it reads the same input.
final class RecordReader {
    let file: String
    let format: TextInput.Format
    let idField: String?
    private let source: ByteSource

    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0  // first unconsumed byte
    private var end = 0  // end of valid bytes
    private var scan = 0  // where the search for the record's end continues
    private var atEnd = false

    // RFC 4180 framing state, carried across buffer refills.
    private var inQuotes = false
    private var pendingQuote = false
    private var fieldStart = true
    private var innerNewlines = 0

    private(set) var nextIndex = 0
    private var nextLine = 1
    /// Input bytes consumed by the records (and header) returned so far.
    private(set) var consumedBytes = 0
    /// FNV-1a 64 of those bytes.
    private(set) var hash: UInt64 = 0xcbf2_9ce4_8422_2325

    private var headerDone = false
    private var textColumn: Int?
    private var idColumn: Int?

    /// The default of `--max-line-bytes`: a record longer than this is refused rather than
    /// buffered without bound (the model keeps 256 tokens, about 1 KB of text).
    static let defaultMaxRecordBytes = 64 << 20

    /// A record (its bytes without the line terminator) longer than this is an error; the
    /// buffer never grows past it (plus 2 bytes for `\r\n`).
    let maxRecordBytes: Int

    init(source: ByteSource, file: String, format: TextInput.Format, idField: String? = nil,
         maxRecordBytes: Int = RecordReader.defaultMaxRecordBytes) throws(TextInputError) {
        self.source = source
        self.file = file
        self.format = format
        self.idField = idField
        self.maxRecordBytes = max(1, maxRecordBytes)
        buffer = .allocate(byteCount: min(1 << 20, self.maxRecordBytes + 2), alignment: 16)
    }

    /// The error for a record of more than ``maxRecordBytes`` bytes starting on `line`.
    private func tooLong(line: Int) -> TextInputError {
        let what = quotedFraming ? "record (a quoted field may span lines)" : "line"
        return TextInputError(file: file, line: line, message: "\(what) longer than \(maxRecordBytes) bytes; raise --max-line-bytes if it is meant, or check that the file is the format its extension says")
    }

    deinit { buffer.deallocate() }

    private var quotedFraming: Bool {
        if case .delimited(_, true, _) = format.kind { return true }
        return false
    }

    private var separator: UInt8 {
        if case .delimited(let s, _, _) = format.kind { return s }
        return 0
    }

    /// The next record, or `nil` at the end of the input.
    func next() throws(TextInputError) -> RawRecord? {
        if !headerDone { try readHeader() }
        guard let (bytes, line) = try frame() else { return nil }
        defer { nextIndex += 1 }
        return RawRecord(index: nextIndex, line: line, bytes: bytes)
    }

    /// True when ``next()`` would return without waiting for a slow producer: a whole record
    /// is buffered, the input has ended, or the source has data waiting.
    var hasRecordReady: Bool {
        if atEnd { return true }
        if end > start, memchr(buffer.baseAddress! + start, 0x0A, end - start) != nil { return true }
        return source.isReady
    }

    // MARK: Framing

    /// The bytes of the next record (terminator and one trailing `\r` removed) and its first line.
    private func frame() throws(TextInputError) -> (bytes: [UInt8], line: Int)? {
        while true {
            if let terminator = findTerminator() {
                var stop = terminator
                if stop > start, buffer[stop - 1] == 0x0D { stop -= 1 }
                if stop - start > maxRecordBytes { throw tooLong(line: nextLine) }
                return take(contentEnd: stop, consumedEnd: terminator + 1)
            }
            if atEnd {
                guard end > start else { return nil }
                var stop = end
                if !inQuotes && buffer[stop - 1] == 0x0D { stop -= 1 }
                if stop - start > maxRecordBytes { throw tooLong(line: nextLine) }
                return take(contentEnd: stop, consumedEnd: end)
            }
            try fill()
        }
    }

    private func take(contentEnd: Int, consumedEnd: Int) -> (bytes: [UInt8], line: Int) {
        let bytes = [UInt8](UnsafeRawBufferPointer(rebasing: buffer[start..<contentEnd]))
        hash = fnv1a(UnsafeRawBufferPointer(rebasing: buffer[start..<consumedEnd]), continuing: hash)
        consumedBytes += consumedEnd - start
        let line = nextLine
        nextLine += 1 + innerNewlines
        innerNewlines = 0
        inQuotes = false; pendingQuote = false; fieldStart = true
        start = consumedEnd
        scan = start
        return (bytes, line)
    }

    /// The offset of the `\n` that ends the record starting at `start`, if buffered.
    private func findTerminator() -> Int? {
        guard scan < end else { return nil }
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        if !quotedFraming {
            if let p = memchr(base + scan, 0x0A, end - scan) {
                return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
            }
            scan = end
            return nil
        }
        let sep = separator
        var i = scan
        while i < end {
            let b = base[i]
            if inQuotes {
                if pendingQuote {
                    pendingQuote = false
                    if b == 0x22 { i += 1; continue }  // "" inside quotes: one quote
                    inQuotes = false  // the previous quote closed the field; read b outside
                } else {
                    if b == 0x22 { pendingQuote = true } else if b == 0x0A { innerNewlines += 1 }
                    i += 1
                    continue
                }
            }
            if b == 0x0A { scan = i; return i }
            if b == 0x22 && fieldStart { inQuotes = true; fieldStart = false } else { fieldStart = b == sep }
            i += 1
        }
        scan = end
        return nil
    }

    /// Moves the unconsumed bytes to the front, grows the buffer if one record fills it, reads more.
    private func fill() throws(TextInputError) {
        if start > 0 {
            let count = end - start
            if count > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: count) }
            scan -= start
            end = count
            start = 0
        }
        if end == buffer.count {
            // The buffer holds one unfinished record; without its terminator (and a `\r` that may
            // precede it) it already has at least `end - 1` bytes.
            guard end - 1 <= maxRecordBytes else { throw tooLong(line: nextLine) }
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: min(buffer.count * 2, maxRecordBytes + 2), alignment: 16)
            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
            buffer.deallocate()
            buffer = bigger
        }
        let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        if n == 0 { atEnd = true }
        end += n
    }

    // MARK: Header and parsing

    private func readHeader() throws(TextInputError) {
        headerDone = true
        guard case .delimited(_, _, let column) = format.kind else { return }
        let idColumnSpec = idField.map(TextInput.Column.init)
        var needsHeader = false
        if case .name = column { needsHeader = true }
        if case .name = idColumnSpec { needsHeader = true }
        if case .index(let i) = column { textColumn = i }
        if case .index(let i) = idColumnSpec { idColumn = i }
        guard needsHeader else { return }
        guard let (bytes, line) = try frame() else { return }
        let fields: [String]
        switch splitFields(bytes) {
        case .success(let f): fields = f
        case .failure(let e): throw TextInputError(file: file, line: line, message: "header: \(e.message)")
        }
        func find(_ name: String, _ option: String) throws(TextInputError) -> Int {
            guard let i = fields.firstIndex(of: name) else {
                throw TextInputError(file: file, line: line, message: "no column named \"\(name)\" in the header (\(fields.joined(separator: ", "))); choose another with \(option)")
            }
            return i
        }
        if case .name(let n) = column { textColumn = try find(n, "--column") }
        if case .name(let n) = idColumnSpec { idColumn = try find(n, "--id-field") }
    }

    /// What `raw` holds. Never throws: a bad record is a value, so the caller decides to stop or skip.
    func parse(_ raw: RawRecord) -> ParsedRecord {
        if let bad = UTF8Validation.firstInvalidByte(raw.bytes) {
            return .bad("invalid UTF-8 at byte \(bad + 1) of the line")
        }
        switch format.kind {
        case .lines:
            return .text(String(decoding: raw.bytes, as: UTF8.self), id: nil)
        case .jsonLines(let field):
            let value: JSONValue
            do { value = try JSONParser.parse(raw.bytes) } catch { return .bad("invalid JSON: \(error)") }
            if let s = value.stringValue {
                if let idField { return .bad("expected an object with a \"\(idField)\" field (--id-field), found a string") }
                return .text(s, id: nil)
            }
            guard let o = value.objectValue else { return .bad("expected a JSON string or object, found \(value.kindName)") }
            guard let v = o[field] else { return .bad("object has no \"\(field)\" field (choose another with --field)") }
            guard let s = v.stringValue else { return .bad("field \"\(field)\" is \(v.kindName), not a string") }
            var id: String? = nil
            if let idField {
                guard let v = o[idField] else { return .bad("object has no \"\(idField)\" field (--id-field)") }
                switch v {
                case .string(let s): id = JSONWriter.quoted(s)
                case .number(let n): id = n.literal
                default: return .bad("id field \"\(idField)\" is \(v.kindName), not a string or number")
                }
            }
            return .text(s, id: id)
        case .delimited:
            let fields: [String]
            switch splitFields(raw.bytes) {
            case .success(let f): fields = f
            case .failure(let e): return .bad(e.message)
            }
            guard let c = textColumn else { return .bad("the file has no header row to find the column in") }
            guard c < fields.count else { return .bad("row has \(fields.count) columns, column \(c + 1) is missing") }
            var id: String? = nil
            if let i = idColumn {
                guard i < fields.count else { return .bad("row has \(fields.count) columns, id column \(i + 1) is missing") }
                id = JSONWriter.quoted(fields[i])
            }
            return .text(fields[c], id: id)
        }
    }

    /// The fields of one delimited record. With quoting, RFC 4180: a field that starts with `"`
    /// runs to the matching `"` (`""` inside is one `"`) and must be followed by the separator
    /// or the end of the record.
    func splitFields(_ bytes: [UInt8]) -> Result<[String], RecordReader.FieldErrorMessage> {
        guard case .delimited(let sep, let quoted, _) = format.kind else { return .success([String(decoding: bytes, as: UTF8.self)]) }
        if let bad = UTF8Validation.firstInvalidByte(bytes) { return .failure(.init("invalid UTF-8 at byte \(bad + 1) of the line")) }
        var fields: [String] = []
        var field: [UInt8] = []
        var i = 0
        let n = bytes.count
        while true {
            if quoted && i < n && bytes[i] == 0x22 {
                i += 1
                var closed = false
                while i < n {
                    if bytes[i] == 0x22 {
                        if i + 1 < n && bytes[i + 1] == 0x22 { field.append(0x22); i += 2; continue }
                        closed = true; i += 1
                        break
                    }
                    field.append(bytes[i]); i += 1
                }
                guard closed else { return .failure(.init("unterminated quoted field")) }
                guard i == n || bytes[i] == sep else { return .failure(.init("text after the closing quote of a field")) }
            } else {
                while i < n && bytes[i] != sep {
                    if quoted && bytes[i] == 0x22 { return .failure(.init("quote inside an unquoted field (quote the whole field and double the quote)")) }
                    field.append(bytes[i]); i += 1
                }
            }
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            if i >= n { break }
            i += 1  // the separator
        }
        return .success(fields)
    }

    struct FieldErrorMessage: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }
}
