import ArgumentParser
import SentenceEmbeddings

extension Precision: ExpressibleByArgument {}

/// `--precision fp32|int8`: the arithmetic of the linear layers, for every command that runs the model.
struct PrecisionOption: ParsableArguments {
    @Option(help: "Linear layers in fp32 (sentence-transformers' vectors; the default) or int8 (dynamic quantization: faster, a quarter of the weight memory, vectors within the quality the README reports).")
    var precision: Precision = .float32

    /// `base` with this precision.
    func options(_ base: SentenceEncoder.Options = SentenceEncoder.Options()) -> SentenceEncoder.Options {
        var options = base
        options.precision = precision
        return options
    }
}
