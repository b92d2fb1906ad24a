import Foundation
import Testing

@testable import FileEmbedding

/// The streaming record reader, without the model: framing, parsing, line numbers, hashing, gzip.
struct RecordReaderTests {
    /// Every record of `text` as `(line, parsed)`, read through buffers refilled `piece` bytes at a time.
    func records(_ bytes: [UInt8], _ format: TextInput.Format, idField: String? = nil, piece: Int = 1 << 16) throws -> [(line: Int, parsed: ParsedRecord)] {
        let reader = try RecordReader(source: MemorySource(bytes, piece: piece), file: "in", format: format, idField: idField)
        var out: [(line: Int, parsed: ParsedRecord)] = []
        while let raw = try reader.next() {
            #expect(raw.index == out.count)
            out.append((raw.line, reader.parse(raw)))
        }
        #expect(reader.consumedBytes == bytes.count)
        return out
    }

    func texts(_ r: [(line: Int, parsed: ParsedRecord)]) -> [String] {
        r.compactMap { if case .text(let t, _) = $0.parsed { t } else { nil } }
    }

    @Test func linesKeepEmptyLinesAndLineNumbersWhateverTheBufferSize() throws {
        let bytes = Array("one\r\n\ntwo\nthree".utf8)
        for piece in [1, 2, 3, 5, 1 << 16] {
            let r = try records(bytes, .init(kind: .lines), piece: piece)
            #expect(texts(r) == ["one", "", "two", "three"], "piece \(piece)")
            #expect(r.map(\.line) == [1, 2, 3, 4])
        }
        #expect(try records(Array("a\n".utf8), .init(kind: .lines)).count == 1, "a final newline adds no empty text")
        #expect(try records([], .init(kind: .lines)).isEmpty)
    }

    @Test func badLinesAreRecordsThatSayWhatIsWrong() throws {
        var bytes = Array("{\"text\":\"fine\",\"id\":7}\n{\"text\": oops}\n{\"other\":\"x\",\"id\":1}\n{\"text\":3,\"id\":1}\n".utf8)
        bytes += [0x7B, 0x22, 0x74, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D, 0x0A]  // {"t":"\xFF"}
        bytes += Array("\"bare\"\n{\"text\":\"no id\"}\n{\"text\":\"s\",\"id\":\"a\\\"b\"}\n".utf8)
        let r = try records(bytes, .init(kind: .jsonLines(field: "text")), idField: "id", piece: 3)
        #expect(r.count == 8)
        #expect(r[0].parsed == .text("fine", id: "7"))
        guard case .bad(let m1) = r[1].parsed else { Issue.record("\(r[1])"); return }
        #expect(m1.hasPrefix("invalid JSON"))
        #expect(r[2].parsed == .bad("object has no \"text\" field (choose another with --field)"))
        #expect(r[3].parsed == .bad("field \"text\" is a number, not a string"))
        #expect(r[4].parsed == .bad("invalid UTF-8 at byte 7 of the line"))
        #expect(r[5].parsed == .bad("expected an object with a \"id\" field (--id-field), found a string"))
        #expect(r[6].parsed == .bad("object has no \"id\" field (--id-field)"))
        #expect(r[7].parsed == .text("s", id: "\"a\\\"b\""))
        #expect(r.map(\.line) == Array(1...8))
    }

    @Test func csvFollowsRFC4180AcrossBufferRefills() throws {
        let csv = Array("id,text\n1,\"a, \"\"quoted\"\"\nline\"\n2,plain\r\n3,bad\"quote\n4\n5,\"open".utf8)
        let format = try TextInput.format(of: "x.csv", field: nil, column: "text")
        for piece in [1, 4, 1 << 16] {
            let r = try records(csv, format, idField: "id", piece: piece)
            #expect(r.count == 5, "piece \(piece)")
            #expect(r[0].parsed == .text("a, \"quoted\"\nline", id: "\"1\""))
            #expect(r.map(\.line) == [2, 4, 5, 6, 7], "a quoted newline moves the next record's line")
            #expect(r[1].parsed == .text("plain", id: "\"2\""))
            #expect(r[2].parsed == .bad("quote inside an unquoted field (quote the whole field and double the quote)"))
            #expect(r[3].parsed == .bad("row has 1 columns, column 2 is missing"))
            #expect(r[4].parsed == .bad("unterminated quoted field"))
        }
        let missing = try RecordReader(source: MemorySource(Array("a,b\n1,2\n".utf8)), file: "x.csv", format: format)
        #expect(throws: TextInputError.self) { _ = try missing.next() }
    }

    @Test func tsvIsUnquotedUnlessAsked() throws {
        let tsv = Array("\"Hi,\" he said.\tx\n\"q\tr\"\ty\n".utf8)
        let plain = try records(tsv, try TextInput.format(of: "x.tsv", field: nil, column: "1"))
        #expect(texts(plain) == ["\"Hi,\" he said.", "\"q"], "STS-B style: quotes are text")
        let quoted = try records(tsv, try TextInput.format(of: "x.tsv", field: nil, column: "1", quoting: .rfc4180))
        #expect(quoted[1].parsed == .text("q\tr", id: nil))
        #expect(quoted[0].parsed == .bad("text after the closing quote of a field"))
    }

    @Test func hashIsFNV1aOfTheConsumedBytes() throws {
        let bytes = Array("alpha\nbeta\ngamma\n".utf8)
        let reader = try RecordReader(source: MemorySource(bytes, piece: 2), file: "in", format: .init(kind: .lines))
        _ = try reader.next()
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes[0..<6] { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        #expect(reader.consumedBytes == 6 && reader.hash == h)
    }

    @Test func gzipInputsIncludingConcatenatedMembers() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let plain = (0..<5000).map { "line \($0) with some text" }.joined(separator: "\n") + "\n"
        let a = folder.appendingPathComponent("a.txt"), b = folder.appendingPathComponent("b.txt")
        try Data(plain.utf8).write(to: a)
        try Data("tail one\ntail two\n".utf8).write(to: b)
        func gzip(_ url: URL) throws -> Data {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/gzip")
            p.arguments = ["-c", url.path]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return data
        }
        let gz = folder.appendingPathComponent("both.txt.gz")
        try (gzip(a) + gzip(b)).write(to: gz)
        let format = try TextInput.format(of: gz.path, field: nil, column: nil)
        #expect(format == .init(kind: .lines, gzip: true))
        let texts = try TextInput.read(path: gz.path, format: format).map(\.text)
        #expect(texts.count == 5002 && texts[4999] == "line 4999 with some text" && texts.last == "tail two")

        let whole = try gzip(a)
        try whole.prefix(whole.count / 2).write(to: gz)
        #expect(throws: TextInputError.self) { _ = try TextInput.read(path: gz.path, format: format) }
        try Data(plain.utf8).write(to: gz)  // not gzip at all
        #expect(throws: TextInputError.self) { _ = try TextInput.read(path: gz.path, format: format) }
    }

    @Test func shardsAreContiguousWholeChunksInOrder() {
        #expect(Shard("1/4") == Shard("1/4") && Shard("1/4")?.index == 1)
        for bad in ["4/4", "-1/4", "1/0", "x", "1/2/3", "", "/2"] { #expect(Shard(bad) == nil, "\(bad)") }
        for records in [0, 1, 9, 10, 11, 1000, 1001] {
            for n in 1...7 {
                var next = 0
                for k in 0..<n {
                    let r = Shard("\(k)/\(n)")!.range(records: records, batchSize: 10)
                    #expect(r.lowerBound == next, "records \(records) shard \(k)/\(n)")
                    #expect(r.lowerBound % 10 == 0 || r.isEmpty)
                    next = r.upperBound
                }
                #expect(next == records)
            }
        }
    }
}
