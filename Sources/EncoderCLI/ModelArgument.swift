import ArgumentParser
import Foundation
import SentenceEmbeddings

/// The MODEL argument every subcommand takes: a model folder, the model.safetensors inside it, or
/// a Hugging Face model id already in the local cache.
struct ModelOptions: ParsableArguments {
    @Argument(help: "A sentence-transformers model folder, the model.safetensors inside it, or a Hugging Face model id (e.g. sentence-transformers/all-MiniLM-L6-v2) already in the local Hugging Face cache.")
    var model: String

    /// The folder or file MODEL names (``ModelLocation``); a missing one throws, saying where it looked.
    func location() throws -> URL { try ModelLocation.resolve(model) }

    /// Whether MODEL was found as a model id in the Hugging Face cache rather than as a path.
    var isCachedModelID: Bool {
        !FileManager.default.fileExists(atPath: model) && (try? ModelLocation.resolve(model)) != nil
    }

    /// The model folder: the location itself when it is a folder, else the folder holding the file.
    var folder: URL {
        let url = (try? location()) ?? URL(fileURLWithPath: model)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            return url.deletingLastPathComponent()
        }
        return url
    }

    func load(options: SentenceEncoder.Options = SentenceEncoder.Options()) throws -> SentenceEncoder {
        try SentenceEncoder(contentsOf: location(), options: options)
    }

    func loadReranker(options: SentenceEncoder.Options = SentenceEncoder.Options()) throws -> Reranker {
        try Reranker(contentsOf: location(), options: options)
    }
}
