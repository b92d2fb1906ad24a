import ArgumentParser
import Foundation
import SentenceEmbeddings

/// The MODEL argument every subcommand takes: a model folder or the model.safetensors inside it.
struct ModelOptions: ParsableArguments {
    @Argument(help: "A sentence-transformers model folder, or the model.safetensors inside it.")
    var model: String

    func load() throws -> SentenceEncoder {
        try SentenceEncoder(contentsOf: URL(fileURLWithPath: model))
    }
}
