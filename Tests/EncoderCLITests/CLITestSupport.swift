import Foundation
import Testing

/// Runs the built `encoder` binary and captures what it prints.
enum CLI {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let defaultModel = repository.appendingPathComponent("Models/all-MiniLM-L6-v2")

    /// The `encoder` executable built beside this test bundle.
    static var executable: URL {
        get throws {
            var folder = Bundle.main.bundleURL
            for _ in 0..<3 {
                let candidate = folder.appendingPathComponent("encoder")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                folder = folder.deletingLastPathComponent()
            }
            throw Failure("the encoder executable is not beside \(Bundle.main.bundleURL.path); build it with swift build")
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var stderrLines: [Substring] { stderr.split(separator: "\n") }
    }

    /// Runs `encoder arguments...`, feeding `stdin` when given, with `environment` added to this process's.
    static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = try executable
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.currentDirectoryURL = repository
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes before waiting, so a large output cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Fails unless the default model has been fetched.
    static func requireModel() throws {
        guard FileManager.default.fileExists(atPath: defaultModel.appendingPathComponent("model.safetensors").path) else {
            throw Failure("\(defaultModel.path) is missing: run Scripts/fetch-model (Scripts/test does)")
        }
    }

    /// A temporary folder.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("encoder-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A copy of the default model folder whose files are links to the real ones, except those
    /// in `replacing`, which hold the given bytes (a missing value removes the file).
    static func modelFolder(replacing: [String: [UInt8]?]) throws -> URL {
        try requireModel()
        let folder = try temporaryFolder()
        let files = ["config.json", "model.safetensors", "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
                     "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "1_Pooling/config.json"]
        for file in files {
            let destination = folder.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            if let replacement = replacing[file] {
                if let bytes = replacement { try Data(bytes).write(to: destination) }
            } else {
                try FileManager.default.createSymbolicLink(at: destination, withDestinationURL: defaultModel.appendingPathComponent(file))
            }
        }
        return folder
    }
}
