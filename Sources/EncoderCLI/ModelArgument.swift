import ArgumentParser
import Foundation
import SentenceEmbeddings

/// The MODEL argument every subcommand takes: a model folder or the model.safetensors inside it.
struct ModelOptions: ParsableArguments {
    @Argument(help: "A sentence-transformers model folder, or the model.safetensors inside it.")
    var model: String

    /// The model folder: the path itself when it is a folder, else the folder holding the file.
    var folder: URL {
        var isDirectory: ObjCBool = false
        let url = URL(fileURLWithPath: model)
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), !isDirectory.boolValue {
            return url.deletingLastPathComponent()
        }
        return url
    }

    func load() throws -> SentenceEncoder {
        try SentenceEncoder(contentsOf: URL(fileURLWithPath: model))
    }
}
