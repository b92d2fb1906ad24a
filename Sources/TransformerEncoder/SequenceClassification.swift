// The head `*ForSequenceClassification` puts on the encoder (cross-encoder rerankers), one type
// per Hugging Face module, ported from transformers v5.25.0:
//   BERT: https://github.com/huggingface/transformers/blob/v5.25.0/src/transformers/models/bert/modeling_bert.py#L455-L468
//         `BertPooler`, and L1074-L1116 `BertForSequenceClassification`:
//         logits = classifier(tanh(pooler.dense(h[:, 0])))
//   RoBERTa (XLM-RoBERTa and CamemBERT are copies):
//         https://github.com/huggingface/transformers/blob/v5.25.0/src/transformers/models/roberta/modeling_roberta.py#L1149-L1169
//         `RobertaClassificationHead`: logits = out_proj(tanh(dense(h[:, 0]))), no pooler
// Dropout is the identity at inference. Dimension letters: B sequences, H hidden, C labels.
import Foundation
import StrictJSON

/// What config.json says about the classifier: how many labels and their names.
public struct ClassificationConfig: Sendable, Equatable {
    /// C, the classifier's outputs (`num_labels`: the size of `id2label` when present).
    public var numLabels: Int
    /// `id2label` in label order ("LABEL_0", ... when the file has none).
    public var labels: [String]

    public init(numLabels: Int, labels: [String]? = nil) {
        self.numLabels = numLabels
        self.labels = labels ?? (0..<numLabels).map { "LABEL_\($0)" }
    }

    /// Upper bound on labels, far above any published classifier.
    public static let maxLabels = 1 << 16

    /// Reads `id2label` (or `num_labels`, else transformers' default of 2) from a parsed config.json.
    /// PretrainedConfig derives `num_labels` from `id2label`, which is what `save_pretrained` writes.
    public init(_ c: JSONFields) throws(EncoderError) {
        do throws(JSONFieldError) {
            if let field = c.optional("id2label") {
                let members = try field.object().members
                var byIndex: [Int: String] = [:]
                for (key, value) in members {
                    guard let i = Int(key), i >= 0, i < members.count else {
                        throw value.invalid("labels keyed \"0\" ... \"\(members.count - 1)\"")
                    }
                    byIndex[i] = try value.string()
                }
                guard !members.isEmpty, byIndex.count == members.count else { throw field.invalid("a non-empty object of labels keyed \"0\" ... \"N-1\"") }
                self.init(numLabels: members.count, labels: (0..<members.count).map { byIndex[$0]! })
            } else {
                self.init(numLabels: try c.optional("num_labels")?.int(in: 1...Self.maxLabels) ?? 2)
            }
        } catch {
            throw .invalidField(error)
        }
        guard numLabels <= Self.maxLabels else {
            throw .invalidConfig(path: c.file, reason: "id2label has \(numLabels) labels, more than the supported \(Self.maxLabels)")
        }
    }
}

/// modeling_bert.py `BertPooler`: tanh(dense(first token)), `pooler.dense` [H x H].
struct BertPooler {
    let dense: Linear

    init(_ vb: WeightPath, hidden h: Int) {
        dense = Linear(vb.pp("dense"), inFeatures: h, outFeatures: h)
    }

    func forward(_ first: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) {
        dense.apply(first, into: out)
        for i in out.indices { out[i] = tanh(out[i]) }
    }
}

/// modeling_roberta.py `RobertaClassificationHead`: out_proj(tanh(dense(first token))),
/// `classifier.dense` [H x H], `classifier.out_proj` [C x H].
struct RobertaClassificationHead {
    let dense: Linear
    let outProj: Linear

    init(_ vb: WeightPath, hidden h: Int, labels c: Int) {
        dense = Linear(vb.pp("dense"), inFeatures: h, outFeatures: h)
        outProj = Linear(vb.pp("out_proj"), inFeatures: h, outFeatures: c)
    }
}

/// The head of each family's `*ForSequenceClassification`.
enum ClassificationHead {
    /// `BertForSequenceClassification`: `bert.pooler`, then `classifier` [C x H] at the top level.
    case bert(pooler: BertPooler, classifier: Linear)
    /// `RobertaForSequenceClassification` (and XLM-RoBERTa's, CamemBERT's): `classifier.{dense,out_proj}`.
    case roberta(RobertaClassificationHead)

    init(_ binder: WeightBinder, config: EncoderConfig, labels c: Int) throws(EncoderError) {
        let h = config.hiddenSize
        let top = WeightPath(top: binder)
        switch config.family {
        case .bert:
            self = .bert(pooler: BertPooler(WeightPath(root: binder).pp("pooler"), hidden: h),
                         classifier: Linear(top.pp("classifier"), inFeatures: h, outFeatures: c))
        case .roberta:
            self = .roberta(RobertaClassificationHead(top.pp("classifier"), hidden: h, labels: c))
        case .mpnet, .distilbert:
            throw .invalidConfig(path: nil, reason:
                "sequence classification is implemented for BERT and RoBERTa/XLM-RoBERTa checkpoints, not \(config.family)")
        }
    }

    /// logits [C] of one sequence from its first token's hidden state [H]; `scratch` holds H floats.
    func forward(_ first: UnsafeBufferPointer<Float>, scratch: UnsafeMutableBufferPointer<Float>,
                 into logits: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .bert(let pooler, let classifier):
            pooler.forward(first, into: scratch)
            classifier.apply(UnsafeBufferPointer(scratch), into: logits)
        case .roberta(let head):
            head.dense.apply(first, into: scratch)
            for i in scratch.indices { scratch[i] = tanh(scratch[i]) }
            head.outProj.apply(UnsafeBufferPointer(scratch), into: logits)
        }
    }
}

extension Linear {
    /// y = W·x + b for one vector, accumulated in Double: the head sees a few rows per batch, and
    /// a near-exact dot product keeps this side of the comparison with PyTorch the more accurate
    /// one (as the sentence-transformers Dense module does).
    func apply(_ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(x.count == inFeatures && y.count == outFeatures, "Linear.apply: [\(outFeatures) x \(inFeatures)] on \(x.count) -> \(y.count)")
        let w = weight.values.baseAddress!, b = bias.values.baseAddress!
        for o in 0..<outFeatures {
            var sum = Double(b[o])
            let row = w + o * inFeatures
            for i in 0..<inFeatures { sum += Double(row[i]) * Double(x[i]) }
            y[o] = Float(sum)
        }
    }
}

/// An encoder with its sequence-classification head (`BertForSequenceClassification`,
/// `XLMRobertaForSequenceClassification`, ...): the logits of each sequence. Immutable after
/// init, safe to share between threads.
public final class SequenceClassifier: Sendable {
    public let encoder: EncoderModel
    public let classification: ClassificationConfig
    /// Checkpoint tensors neither the encoder nor the head uses (buffers, an unused pooler).
    public let unexpectedTensors: [String]
    let head: ClassificationHead

    /// Binds the encoder and the head, checking every shape; one error lists every problem. The
    /// encoder's linear layers are packed as ``EncoderModel/init(config:weights:precision:threads:)`` says.
    public init(config: EncoderConfig, classification: ClassificationConfig, weights: some TensorProvider,
                precision: Precision = .float32, threads: Int = 1) throws(EncoderError) {
        try config.validate()
        let binder = EncoderModel.binder(config: config, weights: weights)
        let encoder = try EncoderModel(config: config, binder: binder, precision: precision, threads: threads)
        let head = try ClassificationHead(binder, config: config, labels: classification.numLabels)
        if binder.hasProblems { throw .weightsDoNotMatchConfig(binder.problems) }
        self.encoder = encoder
        self.head = head
        self.classification = classification
        self.unexpectedTensors = binder.unexpected
    }

    public var numLabels: Int { classification.numLabels }

    /// Logits [C] of sequence `k` of `hidden` (its first token through the head), written into
    /// `logits`. A sequence without tokens scores as a zero first token would.
    public func logits(_ hidden: HiddenStates, sequence k: Int, into logits: UnsafeMutableBufferPointer<Float>) {
        let h = hidden.hiddenSize
        precondition(logits.count == numLabels, "SequenceClassifier.logits: \(logits.count) outputs for \(numLabels) labels")
        let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2 * h)  // [H] first token, [H] pooled
        defer { scratch.deallocate() }
        scratch.initialize(repeating: 0)
        let range = hidden.sequenceRanges[k]
        if !range.isEmpty {
            hidden.values.withUnsafeBufferPointer { v in
                for c in 0..<h { scratch[c] = v[range.lowerBound * h + c] }
            }
        }
        head.forward(UnsafeBufferPointer(rebasing: scratch[0..<h]), scratch: UnsafeMutableBufferPointer(rebasing: scratch[h...]),
                     into: logits)
    }

    /// Logits [B x C] of a batch (one forward pass; for tests and simple callers).
    public func logits(_ batch: [TokenSequence]) throws(EncoderError) -> [Float] {
        let hidden = try encoder.forward(batch)
        var out = [Float](repeating: 0, count: batch.count * numLabels)
        out.withUnsafeMutableBufferPointer { o in
            for k in batch.indices {
                logits(hidden, sequence: k, into: UnsafeMutableBufferPointer(rebasing: o[(k * numLabels)..<((k + 1) * numLabels)]))
            }
        }
        return out
    }
}
