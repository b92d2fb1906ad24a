// Test utilities: seeded random data, a dictionary TensorProvider, a tiny random BERT.
import TestSupport
@testable import TransformerEncoder
import Foundation
import SafeTensors


struct MissingTensor: Error, CustomStringConvertible {
    let name: String
    var description: String { "no tensor \(name)" }
}

/// Tensors held in a dictionary (tests only).
struct DictionaryTensors: TensorProvider {
    var tensors: [String: FloatTensor]
    var tensorNames: [String] { tensors.keys.sorted() }
    func floatTensor(_ name: String) throws -> FloatTensor {
        guard let t = tensors[name] else { throw MissingTensor(name: name) }
        return t
    }
}

/// 2 layers, hidden 32, 4 heads, FFN 64, vocab 50, 40 positions.
func tinyConfig(_ act: HiddenActivation = .gelu) throws -> EncoderConfig {
    try EncoderConfig(vocabSize: 50, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4,
                   intermediateSize: 64, hiddenAct: act, maxPositionEmbeddings: 40, typeVocabSize: 2,
                   layerNormEps: 1e-12)
}

/// Every tensor a checkpoint of `config`'s family holds (keys composed by prefix, named as
/// ``WeightNames`` says), plus the extras real checkpoints carry (position_ids, pooler), filled
/// with seeded random values.
func randomCheckpoint(_ c: EncoderConfig, seed: UInt64, prefix: String = "") -> [String: FloatTensor] {
    var g = SplitMix64(seed: seed)
    var out: [String: FloatTensor] = [:]
    func put(_ key: String, _ shape: [Int], around center: Float = 0, spread: Float = 0.5) {
        let count = shape.reduce(1, *)
        out[prefix + key] = FloatTensor(shape: shape, (0..<count).map { _ in center + Float.random(in: -spread...spread, using: &g) })
    }
    let h = c.hiddenSize, i = c.intermediateSize
    let n = c.family.names
    func layerNorm(_ p: String) { put(p + ".weight", [h], around: 1, spread: 0.2); put(p + ".bias", [h], spread: 0.1) }
    func linear(_ p: String, _ inF: Int, _ outF: Int) {
        put(p + ".weight", [outF, inF], spread: 1 / Float(inF).squareRoot())
        put(p + ".bias", [outF], spread: 0.1)
    }
    put(n.wordEmbeddings + ".weight", [c.vocabSize, h])
    put(n.positionEmbeddings + ".weight", [c.maxPositionEmbeddings, h])
    if let types = n.tokenTypeEmbeddings { put(types + ".weight", [c.typeVocabSize, h]) }
    layerNorm(n.embeddingsLayerNorm)
    put("embeddings.position_ids", [1, c.maxPositionEmbeddings])
    for l in 0..<c.numHiddenLayers {
        let p = "\(n.layers).\(l)."
        for name in [n.query, n.key, n.value, n.attentionOutput] { linear(p + name, h, h) }
        layerNorm(p + n.attentionLayerNorm)
        linear(p + n.intermediate, h, i)
        linear(p + n.output, i, h)
        layerNorm(p + n.outputLayerNorm)
    }
    if let bias = n.relativeAttentionBias { put(bias + ".weight", [c.relativeAttentionNumBuckets, c.numAttentionHeads], spread: 2) }
    linear("pooler.dense", h, h)
    return out
}

/// ``tinyConfig()`` as `family` (positions after padding id 1 where the family counts so).
func tinyConfig(family: EncoderFamily) throws -> EncoderConfig {
    try EncoderConfig(vocabSize: 50, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4,
                   intermediateSize: 64, maxPositionEmbeddings: 40, typeVocabSize: family.hasTokenTypes ? 2 : 0,
                   layerNormEps: 1e-5, padTokenId: 1, family: family)
}

func randomInput(length: Int, vocab: Int, seed: UInt64, pair: Bool = false) -> TokenSequence {
    var g = SplitMix64(seed: seed)
    let ids = (0..<length).map { _ in Int32.random(in: 0..<Int32(vocab), using: &g) }
    let types = (0..<length).map { pair && $0 >= length / 2 ? Int32(1) : 0 }
    return TokenSequence(ids: ids, typeIds: types)
}



func maxAbsDiff(_ a: some Collection<Float>, _ b: some Collection<Float>) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// Writes `text` to a fresh temporary file and returns its URL.
func temporaryFile(_ text: String, name: String = "config.json") throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("TransformerEncoderTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url
}
