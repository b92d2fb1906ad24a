import Foundation
import StrictJSON
import Tokenization

/// One input text and the 1-based line of the file it came from (for error messages).
struct TextRecord: Sendable, Equatable {
    var text: String
    var line: Int
}

/// A problem with an input file, naming the file and line: printed as `error: FILE:LINE: message`.
struct TextInputError: Error, CustomStringConvertible, Equatable {
    var file: String
    var line: Int?
    var message: String

    var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// Reads batches of texts for the CLI commands.
///
/// Formats, chosen from the file extension (stdin `-` is read as `.txt`):
/// - `.txt`: one text per line; `\n` or `\r\n`; a final newline does not add an empty text;
///   blank lines are kept as empty texts so output lines match input lines.
/// - `.jsonl`: one JSON value per line: a string, or an object whose `field` (default `text`)
///   is a string. Blank lines are errors.
/// - `.tsv`: tab-separated, no quoting (as STS-B ships); `.csv`: RFC 4180 with `"` quoting.
///   Both need `column`: a 1-based number (every row is data) or a header name (the first
///   row is the header).
/// Input must be valid UTF-8: a bad byte is an error naming its line, never a silent U+FFFD.
enum TextInput {
    enum Format: Equatable {
        case lines
        case jsonLines(field: String)
        case delimited(separator: UInt8, quoted: Bool, column: Column)
    }

    enum Column: Equatable {
        case index(Int)  // 0-based
        case name(String)

        init(_ text: String) {
            if let n = Int(text), n >= 1 { self = .index(n - 1) } else { self = .name(text) }
        }
    }

    static let extensions = ".txt, .jsonl, .csv, .tsv"

    /// The format of `path`; `field` applies to `.jsonl`, `column` to `.csv`/`.tsv`.
    static func format(of path: String, field: String?, column: String?) throws(TextInputError) -> Format {
        if path == "-" { return .lines }
        switch (path as NSString).pathExtension.lowercased() {
        case "txt", "text": return .lines
        case "jsonl", "ndjson": return .jsonLines(field: field ?? "text")
        case "tsv", "csv":
            guard let column else {
                throw TextInputError(file: path, line: nil, message: "a .csv/.tsv input needs --column (a 1-based number or a header name)")
            }
            let tab = (path as NSString).pathExtension.lowercased() == "tsv"
            return .delimited(separator: tab ? 0x09 : 0x2C, quoted: !tab, column: Column(column))
        default:
            throw TextInputError(file: path, line: nil, message: "unknown input type; use one of \(extensions), or - for stdin")
        }
    }

    /// Reads every text of `path` (`-` = standard input).
    static func read(path: String, format: Format) throws(TextInputError) -> [TextRecord] {
        let bytes: [UInt8]
        if path == "-" {
            bytes = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw TextInputError(file: path, line: nil, message: "no such file")
            }
            guard !isDirectory.boolValue else { throw TextInputError(file: path, line: nil, message: "is a directory, not a file") }
            do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                throw TextInputError(file: path, line: nil, message: "cannot read (\(error.localizedDescription))")
            }
        }
        return try parse(bytes, file: path == "-" ? "<stdin>" : path, format: format)
    }

    static func parse(_ bytes: [UInt8], file: String, format: Format) throws(TextInputError) -> [TextRecord] {
        switch format {
        case .lines:
            return try lines(bytes, file: file).map { TextRecord(text: $0.text, line: $0.line) }
        case .jsonLines(let field):
            var out: [TextRecord] = []
            for l in try lines(bytes, file: file) {
                let value: JSONValue
                do { value = try JSONParser.parse(Array(l.text.utf8)) } catch {
                    throw TextInputError(file: file, line: l.line, message: "invalid JSON: \(error)")
                }
                if let s = value.stringValue {
                    out.append(TextRecord(text: s, line: l.line))
                } else if let o = value.objectValue {
                    guard let v = o[field] else {
                        throw TextInputError(file: file, line: l.line, message: "object has no \"\(field)\" field (choose another with --field)")
                    }
                    guard let s = v.stringValue else {
                        throw TextInputError(file: file, line: l.line, message: "field \"\(field)\" is \(v.kindName), not a string")
                    }
                    out.append(TextRecord(text: s, line: l.line))
                } else {
                    throw TextInputError(file: file, line: l.line, message: "expected a JSON string or object, found \(value.kindName)")
                }
            }
            return out
        case .delimited(let separator, let quoted, let column):
            let rows = try quoted ? csvRows(bytes, file: file) : lines(bytes, file: file).map { l in
                (fields: l.text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init), line: l.line)
            }
            var index: Int
            var data = rows[...]
            switch column {
            case .index(let i): index = i
            case .name(let name):
                guard let header = data.popFirst() else { return [] }
                guard let i = header.fields.firstIndex(of: name) else {
                    throw TextInputError(file: file, line: header.line, message: "no column named \"\(name)\" in the header (\(header.fields.joined(separator: ", ")))")
                }
                index = i
            }
            var out: [TextRecord] = []
            for row in data {
                guard index < row.fields.count else {
                    throw TextInputError(file: file, line: row.line, message: "row has \(row.fields.count) columns, column \(index + 1) is missing")
                }
                out.append(TextRecord(text: row.fields[index], line: row.line))
            }
            return out
        }
    }

    /// Lines split on `\n` with one trailing `\r` removed, validated as UTF-8.
    /// `.jsonl` blank lines are rejected by the JSON parser (empty document).
    static func lines(_ bytes: [UInt8], file: String) throws(TextInputError) -> [(text: String, line: Int)] {
        var out: [(text: String, line: Int)] = []
        var start = 0
        var line = 1
        while start < bytes.count {
            var end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            let next = end + 1
            if end > start && bytes[end - 1] == 0x0D { end -= 1 }
            let slice = Array(bytes[start..<end])
            if let bad = UTF8Validation.firstInvalidByte(slice) {
                throw TextInputError(file: file, line: line, message: "invalid UTF-8 at byte \(bad + 1) of the line")
            }
            out.append((String(decoding: slice, as: UTF8.self), line))
            start = next
            line += 1
        }
        return out
    }

    /// RFC 4180 rows: fields separated by `,`, optionally quoted with `"` (`""` inside
    /// quotes is one `"`; quoted fields may span lines). Each row keeps its first line.
    static func csvRows(_ bytes: [UInt8], file: String) throws(TextInputError) -> [(fields: [String], line: Int)] {
        if let bad = UTF8Validation.firstInvalidByte(bytes) {
            let line = bytes[..<bad].filter { $0 == 0x0A }.count + 1
            throw TextInputError(file: file, line: line, message: "invalid UTF-8")
        }
        var rows: [(fields: [String], line: Int)] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1, rowLine = 1
        var i = 0
        var inQuotes = false
        var rowHasContent = false
        func endField() { fields.append(String(decoding: field, as: UTF8.self)); field.removeAll() }
        while i < bytes.count {
            let b = bytes[i]
            if inQuotes {
                if b == 0x22 {
                    if i + 1 < bytes.count && bytes[i + 1] == 0x22 { field.append(0x22); i += 2; continue }
                    inQuotes = false
                } else {
                    if b == 0x0A { line += 1 }
                    field.append(b)
                }
                i += 1
                continue
            }
            switch b {
            case 0x22:
                guard field.isEmpty else { throw TextInputError(file: file, line: line, message: "quote inside an unquoted field") }
                inQuotes = true; rowHasContent = true
            case 0x2C:
                endField(); rowHasContent = true
            case 0x0A:
                if !field.isEmpty && field.last == 0x0D { field.removeLast() }
                endField()
                rows.append((fields, rowLine))
                fields.removeAll(); rowHasContent = false
                line += 1; rowLine = line
            default:
                field.append(b); rowHasContent = true
            }
            i += 1
        }
        if inQuotes { throw TextInputError(file: file, line: rowLine, message: "unterminated quoted field") }
        if rowHasContent || !field.isEmpty {
            if field.last == 0x0D { field.removeLast() }
            endField()
            rows.append((fields, rowLine))
        }
        return rows
    }
}
