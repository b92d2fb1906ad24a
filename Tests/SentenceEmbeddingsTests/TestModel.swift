import Foundation
import Testing
@testable import SentenceEmbeddings

/// Paths the tests share: the repository, the default model, the STS benchmark, the goldens.
enum TestPaths {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let defaultModel = repository.appendingPathComponent("Models/all-MiniLM-L6-v2")
    static let stsBenchmark = repository.appendingPathComponent("Tests/Data/stsb-test.tsv")
    static let goldens = Bundle.module.resourceURL!.appendingPathComponent("Goldens")
}

/// The default model, loaded once for all tests. A missing model is a failure, never a skip:
/// CI fetches it with Scripts/fetch-model (via Scripts/test).
enum DefaultModel {
    static let encoder: Result<SentenceEncoder, Error> = Result {
        guard FileManager.default.fileExists(atPath: TestPaths.defaultModel.appendingPathComponent("model.safetensors").path) else {
            throw ModelMissing()
        }
        return try SentenceEncoder(contentsOf: TestPaths.defaultModel)
    }

    struct ModelMissing: Error, CustomStringConvertible {
        var description: String { "\(TestPaths.defaultModel.path) is missing: run Scripts/fetch-model (Scripts/test does)" }
    }

    static func load() throws -> SentenceEncoder { try encoder.get() }
}
