/// `Sequence` of normalizers (tokenizers/src/normalizers/utils.rs): each runs on the output of
/// the one before.
public struct SequenceNormalizer: NormalizerStage {
    public var normalizers: [any NormalizerStage]

    public init(_ normalizers: [any NormalizerStage]) { self.normalizers = normalizers }

    public func normalize(_ text: inout NormalizedText) {
        for n in normalizers { n.normalize(&text) }
    }
}
