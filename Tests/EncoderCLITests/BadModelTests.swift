import Foundation
import SafeTensors
import Testing

/// Broken model files and configs end to end: each gives exit
/// status 1 and exactly one `error:` line on stderr naming the file and the problem.
@Suite(.serialized) struct BadModelTests {
    /// Runs `encoder run FOLDER "text"` and checks the failure's shape.
    func expectRefusal(_ folder: URL, file: String, mentions words: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try CLI.run(["run", folder.path, "hello"])
        #expect(result.status == 1, "exit status \(result.status), stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "printed a vector for a broken model", sourceLocation: sourceLocation)
        let lines = result.stderrLines
        #expect(lines.count == 1, "expected one line on stderr, got:\n\(result.stderr)", sourceLocation: sourceLocation)
        let line = String(lines.first ?? "")
        #expect(line.hasPrefix("error: "), "\(line)", sourceLocation: sourceLocation)
        #expect(line.contains(file), "the message does not name \(file): \(line)", sourceLocation: sourceLocation)
        for word in words {
            #expect(line.localizedCaseInsensitiveContains(word), "the message does not say \"\(word)\": \(line)", sourceLocation: sourceLocation)
        }
    }

    func withHeader(_ json: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
        let header = Array(json.utf8)
        return SafeTensorsWriter.littleEndianBytes(declaredLength ?? UInt64(header.count)) + header + data
    }

    // MARK: 4.1 safetensors

    @Test func malformedCheckpointsAreRefusedWithTheirProblem() throws {
        let cases: [(bytes: [UInt8], words: [String])] = [
            ([], ["header too small"]),                                                            // 1: 0-byte file
            (Array(repeating: 0, count: 7), ["header too small"]),                                  // 2: 7 bytes
            (withHeader("", declaredLength: 0), ["empty"]),                                // 3: N = 0
            (withHeader("{}", declaredLength: 1000), ["header"]),                          // 4: N beyond the file
            (withHeader("{}", declaredLength: UInt64.max), ["header"]),                    // 5: N = 2^64-1
            (withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", data: Array(repeating: 0, count: 8)), ["duplicate"]),  // 27
            (withHeader("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]), ["F128"]),  // 12
            (withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: Array(repeating: 0, count: 12)), ["bytes"]),  // 20: trailing bytes
            (withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]), ["overflow"]),  // 23
        ]
        for (bytes, words) in cases {
            let folder = try CLI.modelFolder(replacing: ["model.safetensors": bytes])
            try expectRefusal(folder, file: "model.safetensors", mentions: words)
        }
    }

    @Test func aCheckpointWithoutTheModelsTensorsListsWhatIsMissing() throws {
        let tiny = SafeTensorsWriter.serialize(floats: [(name: "unrelated.weight", shape: [2], values: [1, 2])])
        try expectRefusal(try CLI.modelFolder(replacing: ["model.safetensors": tiny]), file: "model.safetensors",
                          mentions: ["missing", "embeddings.word_embeddings.weight"])
    }

    @Test func theModelPathMustBeARegularFile() throws {
        let folder = try CLI.temporaryFolder()
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("model.safetensors").path, withDestinationPath: "/dev/zero")
        let result = try CLI.run(["run", folder.appendingPathComponent("model.safetensors").path, "hello"])
        #expect(result.status == 1 && result.stderrLines.count == 1 && result.stderr.hasPrefix("error: "), "\(result.stderr)")
        let missing = try CLI.run(["run", "/nonexistent/model", "hello"])
        #expect(missing.status == 1 && missing.stderr.hasPrefix("error: /nonexistent/model: no such file or folder"), "\(missing.stderr)")
        let empty = try CLI.temporaryFolder()
        let noWeights = try CLI.run(["run", empty.path, "hello"])
        #expect(noWeights.status == 1 && noWeights.stderr.contains("no model.safetensors"), "\(noWeights.stderr)")
    }

    // MARK: 4.2 config.json and the sentence-transformers configs

    /// The real config.json with `edit` applied to its JSON text.
    func config(_ edit: (String) -> String) throws -> [UInt8] {
        let text = try String(contentsOf: CLI.defaultModel.appendingPathComponent("config.json"), encoding: .utf8)
        return Array(edit(text).utf8)
    }

    @Test func badConfigsAreRefusedNamingTheValue() throws {
        try CLI.requireModel()
        let cases: [(file: String, bytes: [UInt8], words: [String])] = [
            ("config.json", Array("{not json".utf8), ["line 1"]),                                                                  // 44
            ("config.json", try config { $0.replacingOccurrences(of: "\"hidden_size\": 384,", with: "\"hidden_size\": 384, \"hidden_size\": 384,") }, ["duplicate"]),  // 44
            ("config.json", try config { $0.replacingOccurrences(of: "\"num_attention_heads\": 12", with: "\"num_attention_heads\": 7") }, ["multiple of the number of attention heads"]),  // 46
            ("config.json", try config { $0.replacingOccurrences(of: "\"vocab_size\": 30522", with: "\"vocab_size\": 30000") }, ["word_embeddings"]),  // 47
            ("config.json", try config { $0.replacingOccurrences(of: "\"hidden_act\": \"gelu\"", with: "\"hidden_act\": \"swish\"") }, ["swish"]),  // 49
            ("config.json", try config { $0.replacingOccurrences(of: "\"position_embedding_type\": \"absolute\"", with: "\"position_embedding_type\": \"relative_key\"") }, ["relative_key"]),  // 49
            ("config.json", try config { $0.replacingOccurrences(of: "\"num_hidden_layers\": 6", with: "\"num_hidden_layers\": 1000000000") }, ["num_hidden_layers"]),  // 50
            ("1_Pooling/config.json", Array("{\"word_embedding_dimension\": 384, \"pooling_mode\": \"median\"}".utf8), ["median"]),  // 49
            ("1_Pooling/config.json", Array("{\"word_embedding_dimension\": 768, \"pooling_mode\": \"mean\"}".utf8), ["768"]),
            ("modules.json", Array("[{\"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"}, {\"path\": \"2_Dense\", \"type\": \"sentence_transformers.models.LSTM\"}]".utf8), ["LSTM"]),
        ]
        for (file, bytes, words) in cases {
            try expectRefusal(try CLI.modelFolder(replacing: [file: bytes]), file: file, mentions: words)
        }
        // 51: no modules.json, so no pooling is known.
        let noModules = try CLI.modelFolder(replacing: ["modules.json": nil])
        try expectRefusal(noModules, file: noModules.lastPathComponent, mentions: ["modules.json"])
    }

    // MARK: 4.3 vocab.txt and tokenizer.json

    @Test func badTokenizerFilesAreRefused() throws {
        try CLI.requireModel()
        let vocab = try [UInt8](Data(contentsOf: CLI.defaultModel.appendingPathComponent("vocab.txt")))
        let json = try String(contentsOf: CLI.defaultModel.appendingPathComponent("tokenizer.json"), encoding: .utf8)
        let withoutUNK = Array(String(decoding: vocab, as: UTF8.self).replacingOccurrences(of: "[UNK]\n", with: "[UNKNOWN]\n").utf8)
        let cases: [(replacing: [String: [UInt8]?], file: String, words: [String])] = [
            (["vocab.txt": [0x61, 0x0A, 0xFF, 0x0A] + vocab, "tokenizer.json": nil], "vocab.txt:2", ["UTF-8"]),     // 53
            (["vocab.txt": vocab + Array("hello\n".utf8), "tokenizer.json": nil], "vocab.txt", ["hello"]),                  // 56
            (["vocab.txt": withoutUNK, "tokenizer.json": nil], "vocab.txt", ["[UNK]"]),                                    // 57
            (["tokenizer.json": Array(json.replacingOccurrences(of: "\"type\": \"BertPreTokenizer\"", with: "\"type\": \"Metaspace\"").replacingOccurrences(of: "\"type\":\"BertPreTokenizer\"", with: "\"type\":\"Metaspace\"").utf8)], "tokenizer.json", ["Metaspace"]),  // 60
        ]
        for (replacing, file, words) in cases {
            try expectRefusal(try CLI.modelFolder(replacing: replacing), file: file, mentions: words)
        }
        // 59: a vocabulary larger than the embedding matrix.
        try expectRefusal(
            try CLI.modelFolder(replacing: ["vocab.txt": vocab + Array("zzextra1\nzzextra2\n".utf8), "tokenizer.json": nil]),
            file: "config.json", mentions: ["30524", "30522"])
    }
}
