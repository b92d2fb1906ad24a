import Foundation

/// Where a model is, from what a user types: a folder, the `model.safetensors` inside it, or a
/// Hugging Face model id (`sentence-transformers/all-MiniLM-L6-v2`) whose files another tool has
/// already downloaded into the local Hugging Face cache. Nothing is downloaded: the runtime works
/// offline.
///
/// The cache is found as `huggingface_hub` finds it: `HF_HUB_CACHE`, else `HF_HOME/hub`, else
/// `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`; a model lives there in
/// `models--ORG--NAME/snapshots/REVISION/`, where `refs/main` names the revision.
public enum ModelLocation {
    /// The folder or weights file `name` refers to. A path that exists wins over a model id of the
    /// same spelling, as in `huggingface_hub`.
    public static func resolve(
        _ name: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SentenceEmbeddingsError) -> URL {
        let url = URL(fileURLWithPath: name)
        if FileManager.default.fileExists(atPath: url.path) || !isModelID(name) { return url }
        var looked: [String] = []
        for root in cacheRoots(environment: environment) {
            let repo = root.appendingPathComponent("models--" + name.replacingOccurrences(of: "/", with: "--"))
            looked.append(repo.path)
            if let snapshot = snapshot(in: repo) { return snapshot }
        }
        throw .modelNotInCache(name: name, looked: looked)
    }

    /// `ORG/NAME` or `NAME`, as model ids are spelled: not a path that starts at `/`, `.` or `~`.
    static func isModelID(_ name: String) -> Bool {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !name.hasPrefix("."), !name.hasPrefix("~") else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part != "." && part != ".." && part.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
        }
    }

    /// The cache folders to look in, first the one `huggingface_hub` would use.
    static func cacheRoots(environment: [String: String]) -> [URL] {
        func nonEmpty(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        if let hub = nonEmpty("HF_HUB_CACHE") ?? nonEmpty("HUGGINGFACE_HUB_CACHE") { return [URL(fileURLWithPath: hub)] }
        if let home = nonEmpty("HF_HOME") { return [URL(fileURLWithPath: home).appendingPathComponent("hub")] }
        let cache = nonEmpty("XDG_CACHE_HOME").map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return [cache.appendingPathComponent("huggingface/hub")]
    }

    /// The snapshot `refs/main` names, or the only snapshot when there is no `refs/main`.
    static func snapshot(in repo: URL) -> URL? {
        let snapshots = repo.appendingPathComponent("snapshots")
        if let data = FileManager.default.contents(atPath: repo.appendingPathComponent("refs/main").path),
           let revision = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !revision.isEmpty,
           !revision.contains("/") {
            let folder = snapshots.appendingPathComponent(revision)
            if FileManager.default.fileExists(atPath: folder.path) { return folder }
        }
        let all = (try? FileManager.default.contentsOfDirectory(atPath: snapshots.path)) ?? []
        return all.count == 1 ? snapshots.appendingPathComponent(all[0]) : nil
    }
}

extension SentenceEncoder {
    /// Loads the model `name` refers to: a folder, its `model.safetensors`, or a Hugging Face
    /// model id found in the local cache (``ModelLocation``).
    public convenience init(model name: String, options: Options = Options()) throws(SentenceEmbeddingsError) {
        try self.init(contentsOf: ModelLocation.resolve(name), options: options)
    }
}
