import Foundation
import Testing
import TestSupport
@testable import SentenceEmbeddings

/// Model ids found in a Hugging Face cache laid out as huggingface_hub lays it out, offline.
struct ModelLocationTests {
    /// A cache holding `org/tiny` (a fixture checkpoint) at revision `abc123`, as `refs/main` names it.
    func cache(refsMain: String? = "abc123", snapshots: [String] = ["abc123"]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hub-\(UUID().uuidString)")
        let repo = root.appendingPathComponent("models--org--tiny")
        for revision in snapshots {
            try FileManager.default.createDirectory(at: repo.appendingPathComponent("snapshots"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                at: repo.appendingPathComponent("snapshots/\(revision)"), withDestinationURL: VariantFixtures.folder("mean_normalize"))
        }
        if let refsMain {
            try FileManager.default.createDirectory(at: repo.appendingPathComponent("refs"), withIntermediateDirectories: true)
            try (refsMain + "\n").write(to: repo.appendingPathComponent("refs/main"), atomically: true, encoding: .utf8)
        }
        return root
    }

    @Test func aModelIDIsFoundInTheCacheAndEmbedsAsItsFolder() throws {
        let root = try cache()
        defer { try? FileManager.default.removeItem(at: root) }
        let url = try ModelLocation.resolve("org/tiny", environment: ["HF_HUB_CACHE": root.path])
        #expect(url.path == root.appendingPathComponent("models--org--tiny/snapshots/abc123").path)
        let fromCache = try SentenceEncoder(contentsOf: url)
        let direct = try VariantFixtures.encoder("mean_normalize")
        #expect(try fromCache.encode(["a man plays"]) == direct.encode(["a man plays"]))
        // HF_HOME/hub, and the default under XDG_CACHE_HOME, as huggingface_hub looks.
        let home = root.deletingLastPathComponent().appendingPathComponent("home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        try FileManager.default.createSymbolicLink(at: home.appendingPathComponent("hub"), withDestinationURL: root)
        #expect(try ModelLocation.resolve("org/tiny", environment: ["HF_HOME": home.path]).path.hasSuffix("models--org--tiny/snapshots/abc123"))
        try FileManager.default.createSymbolicLink(at: home.appendingPathComponent("huggingface"), withDestinationURL: home)
        #expect(try ModelLocation.resolve("org/tiny", environment: ["XDG_CACHE_HOME": home.path]).path.hasSuffix("snapshots/abc123"))
    }

    @Test func withoutRefsMainTheOnlySnapshotIsUsedAndSeveralAreAmbiguous() throws {
        let one = try cache(refsMain: nil)
        defer { try? FileManager.default.removeItem(at: one) }
        #expect(try ModelLocation.resolve("org/tiny", environment: ["HF_HUB_CACHE": one.path]).lastPathComponent == "abc123")
        let two = try cache(refsMain: nil, snapshots: ["abc123", "def456"])
        defer { try? FileManager.default.removeItem(at: two) }
        #expect(throws: SentenceEmbeddingsError.self) { try ModelLocation.resolve("org/tiny", environment: ["HF_HUB_CACHE": two.path]) }
    }

    @Test func aMissingModelSaysWhereItLooked() throws {
        do {
            _ = try ModelLocation.resolve("org/absent", environment: ["HF_HUB_CACHE": "/nonexistent/hub"])
            Issue.record("an absent model id resolved")
        } catch {
            let message = "\(error)"
            #expect(message.contains("/nonexistent/hub/models--org--absent"), "\(message)")
            #expect(message.contains("HF_HUB_CACHE"), "\(message)")
        }
        // Paths are never taken for ids: an absent path is reported as a path.
        #expect(!ModelLocation.isModelID("./org/tiny") && !ModelLocation.isModelID("/abs/path") && !ModelLocation.isModelID("a/b/c"))
        #expect(ModelLocation.isModelID("sentence-transformers/all-MiniLM-L6-v2") && ModelLocation.isModelID("bert-base-uncased"))
        #expect(try ModelLocation.resolve("/nonexistent/folder", environment: [:]).path == "/nonexistent/folder")
    }

    @Test func anExistingPathIsTakenAsItIsWhateverTheCacheHolds() throws {
        let root = try cache()
        defer { try? FileManager.default.removeItem(at: root) }
        let here = FileManager.default.currentDirectoryPath
        let relative = VariantFixtures.folder("pool_cls").path.replacingOccurrences(of: here + "/", with: "")
        #expect(try ModelLocation.resolve(relative, environment: ["HF_HUB_CACHE": root.path]).path.hasSuffix("pool_cls"))
    }
}
