import TestSupport
import Foundation
import SafeTensors
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `encoder run --input FILE --output FILE` as a batch tool: formats, bad lines, long texts,
/// shards, streaming and resume after kill -9, through the built binary and the real model.
@Suite(.serialized) struct BatchRunTests {
    let model = "Models/all-MiniLM-L6-v2"

    func write(_ text: String, _ name: String, in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// Rows of a .jsonl output: (index, id JSON text or nil, embedding).
    func jsonlRows(_ url: URL) throws -> [(index: Int, id: Any?, embedding: [Float])] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let e = try #require(o["embedding"] as? [NSNumber]).map(\.floatValue)
            return (try #require(o["index"] as? NSNumber).intValue, o["id"], e)
        }
    }

    /// The rows of an .npy file written by the tool: (shape, descr, values as Float).
    func npy(_ url: URL) throws -> (rows: Int, columns: Int, descr: String, values: [Float]) {
        let bytes = try [UInt8](Data(contentsOf: url))
        #expect(Array(bytes[0..<6]) == [0x93] + Array("NUMPY".utf8))
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        let shape = try #require(header.firstMatch(of: /'shape': \((\d+), (\d+)\)/))
        let descr = try #require(header.firstMatch(of: /'descr': '([<a-z0-9]+)'/)).1
        let data = Array(bytes[(10 + headerLength)...])
        let values: [Float] = descr == "<f2"
            ? stride(from: 0, to: data.count, by: 2).map { Float(Float16(bitPattern: UInt16(data[$0]) | UInt16(data[$0 + 1]) << 8)) }
            : stride(from: 0, to: data.count, by: 4).map { Float(bitPattern: UInt32(data[$0]) | UInt32(data[$0 + 1]) << 8 | UInt32(data[$0 + 2]) << 16 | UInt32(data[$0 + 3]) << 24) }
        return (Int(shape.1)!, Int(shape.2)!, String(descr), values)
    }

    /// Equal up to float noise: a text batched with different neighbours may differ in the last bits.
    func close(_ a: [Float], _ b: [Float]) -> Bool { a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 } }

    func hidden(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? ["<unreadable folder>"]).filter { $0.hasPrefix(".") || $0.hasPrefix("<") }
    }

    @Test func everyOutputFormatRoundTrips() throws {
        try CLI.requireModel()
        let folder = try CLI.temporaryFolder()
        let texts = ["first line", "", "a third, longer line of text to embed", "fourth"]
        let input = try write(texts.joined(separator: "\n") + "\n", "in.txt", in: folder)
        func run(_ out: String, _ extra: [String] = []) throws -> URL {
            let url = folder.appendingPathComponent(out)
            let r = try CLI.run(["run", model, "--input", input.path, "--output", url.path, "--quiet", "--batch-size", "3"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return url
        }
        let reference = try jsonlRows(run("ref.jsonl"))
        #expect(reference.map(\.index) == [0, 1, 2, 3] && reference.allSatisfy { $0.embedding.count == 384 && $0.id == nil })

        let f32 = try npy(run("a.npy"))
        #expect(f32.rows == 4 && f32.columns == 384 && f32.descr == "<f4" && f32.values.count == 4 * 384)
        #expect(f32.values == reference.flatMap(\.embedding), "npy f32 equals the jsonl text exactly (shortest round-trip decimals)")

        let f16 = try npy(run("h.npy", ["--dtype", "f16"]))
        #expect(f16.descr == "<f2" && f16.values.count == 4 * 384)
        #expect(zip(f16.values, f32.values).allSatisfy { $0 == Float(Float16($1)) }, "f16 is the float32 rounded to nearest")

        let st = try SafeTensorsFile(contentsOf: run("e.safetensors"))
        #expect(st.tensors.map(\.name) == ["embeddings"])
        let tensor = try st.floatTensor("embeddings")
        #expect(tensor.shape == [4, 384] && tensor.array == f32.values)
        let st16 = try SafeTensorsFile(contentsOf: run("h.safetensors", ["--dtype", "f16"]))
        #expect(try st16.floatTensor("embeddings").array == f16.values)

        let tsv = try String(contentsOf: run("t.tsv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").map { Float(String($0))! } }
        #expect(tsv == reference.map(\.embedding))
        let forced = try run("forced.out", ["--output-format", "npy"])
        #expect(try npy(forced).values == f32.values, "--output-format overrides the extension")

        // gzip input gives the same rows as the plain file.
        let gz = folder.appendingPathComponent("in.txt.gz")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "gzip -c '\(input.path)' > '\(gz.path)'"]
        try p.run(); p.waitUntilExit()
        let fromGz = folder.appendingPathComponent("gz.jsonl")
        #expect(try CLI.run(["run", model, "--input", gz.path, "--output", fromGz.path, "-q", "--batch-size", "3"]).status == 0)
        #expect(try Data(contentsOf: fromGz) == Data(contentsOf: folder.appendingPathComponent("ref.jsonl")))

        // Ids ride along from .jsonl and .csv inputs.
        let jsonl = try write("{\"id\": \"a-1\", \"text\": \"first line\"}\n{\"id\": 17, \"text\": \"\"}\n", "ids.jsonl", in: folder)
        let idsOut = folder.appendingPathComponent("ids.out.jsonl")
        let r1 = try CLI.run(["run", model, "--input", jsonl.path, "--id-field", "id", "--output", idsOut.path, "-q"])
        #expect(r1.status == 0, "\(r1.stderr)")
        let ids = try jsonlRows(idsOut)
        #expect(ids.map { "\($0.id!)" } == ["a-1", "17"] && close(ids[0].embedding, reference[0].embedding) && close(ids[1].embedding, reference[1].embedding))
        let csv = try write("key,body\nk1,\"first line\"\nk2,fourth\n", "in.csv", in: folder)
        let csvOut = folder.appendingPathComponent("csv.jsonl")
        #expect(try CLI.run(["run", model, "--input", csv.path, "--column", "body", "--id-field", "key", "--output", csvOut.path, "-q"]).status == 0)
        let csvRows = try jsonlRows(csvOut)
        #expect(csvRows.map { "\($0.id!)" } == ["k1", "k2"] && close(csvRows[1].embedding, reference[3].embedding))
        #expect(hidden(folder).isEmpty, "no partial or checkpoint files are left: \(hidden(folder))")
    }

    @Test func badLinesStopTheRunOrAreSkippedAndListed() throws {
        try CLI.requireModel()
        let folder = try CLI.temporaryFolder()
        var bytes = Array("{\"text\":\"ok one\"}\n{\"text\": nope}\n{\"body\":\"x\"}\n".utf8)
        bytes += Array("{\"text\":\"".utf8) + [0xC3, 0x28] + Array("\"}\n{\"text\":\"ok two\"}\n".utf8)
        let input = folder.appendingPathComponent("in.jsonl")
        try Data(bytes).write(to: input)
        let out = folder.appendingPathComponent("out.npy")

        let stop = try CLI.run(["run", model, "--input", input.path, "--output", out.path])
        #expect(stop.status == 1)
        #expect(stop.stderrLines.last?.hasPrefix("error: \(input.path):2: invalid JSON") == true, "\(stop.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path) && hidden(folder).isEmpty, "a failed run leaves nothing")

        let skip = try CLI.run(["run", model, "--input", input.path, "--output", out.path, "--on-error", "skip"])
        #expect(skip.status == 0, "\(skip.stderr)")
        #expect(skip.stderr.contains("embedded 2 texts") && skip.stderr.contains(", 3 skipped"), "\(skip.stderr)")
        #expect(try npy(out).rows == 2)
        let errors = try String(contentsOf: URL(fileURLWithPath: out.path + ".errors.jsonl"), encoding: .utf8).split(separator: "\n")
        let parsed = try errors.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(parsed.map { ($0["line"] as! NSNumber).intValue } == [2, 3, 4])
        #expect((parsed[1]["error"] as! String).contains("no \"text\" field") && (parsed[2]["error"] as! String).contains("invalid UTF-8"))

        // Missing CSV column, by default and skipped.
        let csv = try write("a,b\n1,2\n3\n", "in.csv", in: folder)
        let csvOut = folder.appendingPathComponent("csv.jsonl")
        let r = try CLI.run(["run", model, "--input", csv.path, "--column", "b", "--output", csvOut.path])
        #expect(r.status == 1 && r.stderrLines.last == "error: \(csv.path):3: row has 1 columns, column 2 is missing", "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: csvOut.path))
    }

    @Test func longTextsTruncateChunkOrFail() throws {
        try CLI.requireModel()
        let folder = try CLI.temporaryFolder()
        let long = (0..<400).map { "word\($0 % 37)" }.joined(separator: " ")
        let input = try write("short text\n\(long)\n", "in.txt", in: folder)
        let truncated = folder.appendingPathComponent("t.jsonl"), chunked = folder.appendingPathComponent("c.jsonl")
        let t = try CLI.run(["run", model, "--input", input.path, "--output", truncated.path])
        #expect(t.status == 0 && t.stderr.contains("(") && t.stderr.contains(", 1 truncated)"), "\(t.stderr)")
        let c = try CLI.run(["run", model, "--input", input.path, "--output", chunked.path, "--long-inputs", "chunk"])
        #expect(c.status == 0 && c.stderr.contains(", 0 truncated)") && c.stderr.contains("1 split into windows"), "\(c.stderr)")
        let a = try jsonlRows(truncated), b = try jsonlRows(chunked)
        #expect(close(a[0].embedding, b[0].embedding), "a text that fits is embedded the same way")
        let cosine = zip(a[1].embedding, b[1].embedding).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        let norm = b[1].embedding.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        #expect(cosine < 0.9999 && abs(norm - 1) < 1e-4, "windows see the tokens past 256 (cosine \(cosine)), re-normalized (norm \(norm))")

        let e = try CLI.run(["run", model, "--input", input.path, "--output", folder.appendingPathComponent("e.npy").path, "--long-inputs", "error"])
        #expect(e.status == 1 && e.stderrLines.last?.hasPrefix("error: \(input.path):2: text has ") == true
            && e.stderr.contains("tokens, more than the model's 256"), "\(e.stderr)")
    }

    @Test func argumentErrorsAreValidationErrors() throws {
        for args in [["--batch-size", "0"], ["--shard", "2/2"], ["--shard", "1"], ["--window-overlap", "-1"], ["--dtype", "f16"], ["--resume"]] {
            let r = try CLI.run(["run", model, "--input", "x.txt"] + args)
            #expect(r.status == 64, "\(args): \(r.status) \(r.stderr)")
        }
    }

    @Test func shardsConcatenateToTheSingleRun() throws {
        try CLI.requireModel()
        let folder = try CLI.temporaryFolder()
        let lines = (0..<230).map { i in i % 41 == 0 ? "" : "sentence \(i): " + String(repeating: "more words ", count: i % 13) }
        let input = try write(lines.joined(separator: "\n") + "\n", "in.txt", in: folder)
        for format in ["jsonl", "npy"] {
            let single = folder.appendingPathComponent("single.\(format)")
            #expect(try CLI.run(["run", model, "--input", input.path, "--output", single.path, "-q", "--batch-size", "32"]).status == 0)
            var parts: [URL] = []
            for k in 0..<3 {
                let part = folder.appendingPathComponent("part\(k).\(format)")
                let r = try CLI.run(["run", model, "--input", input.path, "--output", part.path, "-q", "--batch-size", "32", "--shard", "\(k)/3"])
                #expect(r.status == 0, "\(r.stderr)")
                parts.append(part)
            }
            if format == "jsonl" {
                let joined = try parts.map { try Data(contentsOf: $0) }.reduce(Data(), +)
                #expect(joined == (try Data(contentsOf: single)), "concatenated shards are byte-identical to the single run")
            } else {
                let pieces = try parts.map(npy)
                #expect(pieces.map(\.rows).reduce(0, +) == 230)
                #expect(pieces.flatMap(\.values) == (try npy(single)).values)
            }
        }
    }

    @Test func stdinToStdoutStreamsWithBoundedLatency() throws {
        try CLI.requireModel()
        let process = Process()
        process.executableURL = try CLI.executable
        process.arguments = ["run", model, "--input", "-", "--output-format", "jsonl", "--quiet"]
        process.currentDirectoryURL = CLI.repository
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data("the first line, sent alone\n".utf8))
        // The first row must arrive while stdin is still open: nothing waits for a full chunk.
        let first = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var received = Data()
        DispatchQueue.global().async {
            while !received.contains(0x0A) {
                let d = output.fileHandleForReading.availableData
                if d.isEmpty { break }
                received += d
            }
            first.signal()
        }
        let arrived = first.wait(timeout: .now() + 60) == .success
        #expect(arrived && received.contains(0x0A), "no row within 60 s while the input stayed open")
        input.fileHandleForWriting.write(Data("second\nthird\n".utf8))
        try input.fileHandleForWriting.close()
        let rest = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lines = String(decoding: received + rest, as: UTF8.self).split(separator: "\n")
        #expect(process.terminationStatus == 0 && lines.count == 3)
        #expect(lines.enumerated().allSatisfy { $1.hasPrefix("{\"index\":\($0),\"embedding\":[") })
    }

    /// Kill -9 at seeded random moments, resume, and compare bytes with an uninterrupted run.
    @Test func resumeAfterKillIsByteIdentical() throws {
        try CLI.requireModel()
        let folder = try CLI.temporaryFolder()
        var generator = SplitMix64(seed: 20_240_611)
        var lines: [String] = []
        for i in 0..<2000 {
            if i % 397 == 5 { lines.append("{\"text\": broken}"); continue }
            let words = Int(generator.next() % 24) + 1
            lines.append("{\"text\": \"row \(i)" + String(repeating: " token", count: words) + "\"}")
        }
        let input = try write(lines.joined(separator: "\n") + "\n", "in.jsonl", in: folder)
        let common = ["run", model, "--input", input.path, "--batch-size", "100", "--on-error", "skip", "--quiet"]
        let reference = folder.appendingPathComponent("reference.npy")
        let started = ContinuousClock.now
        let r = try CLI.run(common + ["--output", reference.path])
        let wall = started.duration(to: .now)
        #expect(r.status == 0, "\(r.stderr)")
        let referenceBytes = try Data(contentsOf: reference)
        let referenceErrors = try Data(contentsOf: URL(fileURLWithPath: reference.path + ".errors.jsonl"))

        let wallMs = Int(wall.components.seconds * 1000 + wall.components.attoseconds / 1_000_000_000_000_000)
        for attempt in 0..<3 {
            let out = folder.appendingPathComponent("out\(attempt).npy")
            var kills = 0
            var resumed = false
            while true {
                let process = Process()
                process.executableURL = try CLI.executable
                process.arguments = common + ["--output", out.path] + (resumed ? ["--resume"] : [])
                process.currentDirectoryURL = CLI.repository
                process.standardError = FileHandle.nullDevice
                try process.run()
                if kills < 2 {
                    let delay = Int(generator.next() % UInt64(max(wallMs, 200)))
                    usleep(useconds_t(delay * 1000))
                    if process.isRunning { kill(process.processIdentifier, SIGKILL); kills += 1 }
                }
                process.waitUntilExit()
                resumed = true
                if process.terminationReason == .exit {
                    #expect(process.terminationStatus == 0)
                    break
                }
            }
            #expect(try Data(contentsOf: out) == referenceBytes, "attempt \(attempt): output differs after \(kills) kills")
            #expect(try Data(contentsOf: URL(fileURLWithPath: out.path + ".errors.jsonl")) == referenceErrors)
        }
        #expect(hidden(folder).isEmpty, "\(hidden(folder))")

        // A resume with different options or a changed input is refused, keeping the partial files.
        let out = folder.appendingPathComponent("refused.npy")
        let p = Process()
        p.executableURL = try CLI.executable
        p.arguments = common + ["--output", out.path]
        p.currentDirectoryURL = CLI.repository
        p.standardError = FileHandle.nullDevice
        try p.run()
        while p.isRunning && !FileManager.default.fileExists(atPath: folder.appendingPathComponent(".refused.npy.checkpoint").path) { usleep(5000) }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal, "the run was to be killed after its first checkpoint")
        do {
            let changed = try CLI.run(common.map { $0 == "100" ? "50" : $0 } + ["--output", out.path, "--resume"])
            #expect(changed.status == 1 && changed.stderr.contains("batch size: 100 then, 50 now"), "\(changed.stderr)")
            try Data(("{\"text\": \"changed\"}\n" + lines.dropFirst().joined(separator: "\n") + "\n").utf8).write(to: input)
            let edited = try CLI.run(common + ["--output", out.path, "--resume"])
            #expect(edited.status == 1 && edited.stderr.contains("differ from those the interrupted run read"), "\(edited.stderr)")
        }
    }
}

