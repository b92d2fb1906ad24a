/// Compact embeddings for vector stores, as sentence-transformers' `quantize_embeddings` makes them
/// (sentence_transformers/util/quantization.py, 6.3):
///
/// ```python
/// # int8 / uint8, ranges from `ranges`, else `calibration_embeddings`, else the embeddings themselves
/// ranges = ranges.astype(np.float32)                  # [2, D]: per-dimension min, max
/// starts = ranges[0, :]
/// steps = (ranges[1, :] - starts) / 255
/// steps = np.where(steps == 0, 1, steps)
/// q_vals = np.clip(np.floor((embeddings - starts) / steps), 0, 255)
/// uint8: q_vals.astype(np.uint8)       int8: (q_vals - 128).astype(np.int8)
/// # binary / ubinary: one bit per dimension, set when the value is > 0, first dimension in the
/// # high bit, packed eight to a byte (the last byte zero-padded)
/// ubinary: np.packbits(embeddings > 0, axis=-1)       binary: (that - 128).astype(np.int8)
/// ```
///
/// All arithmetic is float32, as NumPy does it for float32 embeddings and ranges, so the bytes are
/// equal to sentence-transformers' bit for bit (Tests/SentenceEmbeddingsTests/QuantizationTests.swift).
public enum OutputPrecision: String, CaseIterable, Sendable {
    /// One signed byte per dimension: the uint8 bucket minus 128.
    case int8
    /// One byte per dimension: the bucket 0...255 of the value within its dimension's range.
    case uint8
    /// One bit per dimension (set when the value is positive), eight to a byte, each byte minus 128 as int8.
    case binary
    /// One bit per dimension (set when the value is positive), eight to a byte, as uint8.
    case ubinary

    /// Whether the stored bytes are read as signed (int8) numbers.
    public var isSigned: Bool { self == .int8 || self == .binary }

    /// Whether the precision buckets values within per-dimension ranges (int8, uint8), which
    /// need a calibration set (or come from the embeddings themselves).
    public var needsRanges: Bool { self == .int8 || self == .uint8 }

    /// Bytes per embedding of `dimension` values: `dimension` for int8/uint8, `ceil(dimension / 8)` for the binary ones.
    public func bytesPerRow(dimension: Int) -> Int { needsRanges ? dimension : (dimension + 7) / 8 }
}

/// The per-dimension minimum and maximum that int8 and uint8 quantization bucket values within:
/// sentence-transformers' `ranges`, a [2, D] array (row 0 the minimums, row 1 the maximums).
public struct QuantizationRanges: Sendable, Equatable {
    public let minimums: [Float]
    public let maximums: [Float]

    public var dimension: Int { minimums.count }

    /// Ranges given directly. Every bound must be finite, each minimum at most its maximum, and
    /// the width `maximum - minimum` finite in float32.
    public init(minimums: [Float], maximums: [Float]) throws(SentenceEmbeddingsError) {
        guard !minimums.isEmpty, minimums.count == maximums.count else {
            throw .invalidOptions("quantization ranges need one minimum and one maximum per dimension; got \(minimums.count) minimums and \(maximums.count) maximums")
        }
        for d in 0..<minimums.count {
            let (lo, hi) = (minimums[d], maximums[d])
            guard lo.isFinite, hi.isFinite, lo <= hi, (hi - lo).isFinite else {
                throw .invalidOptions("quantization range of dimension \(d) is [\(lo), \(hi)]; each range must be finite with its minimum at most its maximum")
            }
        }
        self.minimums = minimums
        self.maximums = maximums
    }

    /// The minimum and maximum of each dimension over a calibration set (sentence-transformers'
    /// `calibration_embeddings`): `values` holds `values.count / dimension` row-major embeddings.
    /// One embedding is enough (its ranges are then zero-wide); none, or a non-finite value, is an error.
    public init(calibration values: [Float], dimension: Int) throws(SentenceEmbeddingsError) {
        guard dimension >= 1, values.count % dimension == 0 else {
            throw .invalidOptions("calibration embeddings: \(values.count) values do not make rows of \(dimension)")
        }
        guard !values.isEmpty else {
            throw .invalidOptions("the calibration set is empty; int8 and uint8 ranges need at least one embedding")
        }
        var lo = Array(values[0..<dimension]), hi = lo
        for (i, v) in values.enumerated() {
            guard v.isFinite else {
                throw .invalidOptions("calibration embedding \(i / dimension) has a non-finite value (\(v)) in dimension \(i % dimension); ranges need finite values")
            }
            let d = i % dimension
            if v < lo[d] { lo[d] = v }
            if v > hi[d] { hi[d] = v }
        }
        try self.init(minimums: lo, maximums: hi)
    }

    /// The ranges of a calibration batch of embeddings.
    public init(calibration embeddings: Embeddings) throws(SentenceEmbeddingsError) {
        try self.init(calibration: embeddings.values, dimension: embeddings.dimension)
    }
}

/// Embeddings stored compactly: `count` rows of ``bytesPerRow`` bytes each.
public struct QuantizedEmbeddings: Sendable, Equatable {
    public let precision: OutputPrecision
    /// The number of float values each row was made from (bits of a binary row).
    public let dimension: Int
    /// Row-major bytes; int8 values in two's complement.
    public let bytes: [UInt8]

    public var bytesPerRow: Int { precision.bytesPerRow(dimension: dimension) }
    public var count: Int { bytes.count / bytesPerRow }

    /// The stored bytes of row `i`.
    public subscript(i: Int) -> ArraySlice<UInt8> { bytes[(i * bytesPerRow)..<((i + 1) * bytesPerRow)] }

    /// Row `i` as numbers: -128...127 for int8 and binary, 0...255 for uint8 and ubinary.
    public func integers(_ i: Int) -> [Int] {
        self[i].map { precision.isSigned ? Int(Int8(bitPattern: $0)) : Int($0) }
    }
}

/// `values` (`values.count / dimension` row-major embeddings) at `precision`, exactly as
/// sentence-transformers' `quantize_embeddings(embeddings, precision, ranges=...)`.
///
/// int8 and uint8 bucket each value within `ranges`; without ranges they come from the
/// embeddings themselves, which sentence-transformers allows but does not recommend (the buckets
/// then depend on what else is in the batch) and refuses for a single embedding. Values outside a
/// range land in bucket 0 or 255. Non-finite values are refused (NumPy would cast NaN to an
/// undefined integer).
public func quantize(
    _ values: [Float], dimension: Int, precision: OutputPrecision, ranges: QuantizationRanges? = nil
) throws(SentenceEmbeddingsError) -> QuantizedEmbeddings {
    guard dimension >= 1, values.count % dimension == 0 else {
        throw .invalidOptions("\(values.count) values do not make embeddings of \(dimension) dimensions")
    }
    let rows = values.count / dimension
    if let i = values.firstIndex(where: { !$0.isFinite }) {
        throw .invalidOptions("embedding \(i / dimension) has a non-finite value (\(values[i])) in dimension \(i % dimension); it cannot be quantized")
    }
    var out: [UInt8] = []
    out.reserveCapacity(rows * precision.bytesPerRow(dimension: dimension))
    switch precision {
    case .int8, .uint8:
        guard rows > 0 else { break }
        let r: QuantizationRanges
        if let ranges {
            guard ranges.dimension == dimension else {
                throw .invalidOptions("the quantization ranges have \(ranges.dimension) dimensions but the embeddings have \(dimension); calibrate with embeddings made with the same model and --dimensions")
            }
            r = ranges
        } else {
            // _get_quantization_ranges: "Cannot compute int8 quantization ranges from a single embedding."
            guard rows > 1 else {
                throw .invalidOptions("cannot compute \(precision.rawValue) quantization ranges from a single embedding; give a calibration set of embeddings")
            }
            r = try QuantizationRanges(calibration: values, dimension: dimension)
        }
        let starts = r.minimums
        let steps = (0..<dimension).map { d -> Float in
            let step = (r.maximums[d] - starts[d]) / 255
            return step == 0 ? 1 : step
        }
        for row in 0..<rows {
            for d in 0..<dimension {
                // (embeddings - starts) / steps in float32, floored and clipped to 0...255.
                let q = min(max(((values[row * dimension + d] - starts[d]) / steps[d]).rounded(.down), 0), 255)
                let bucket = UInt8(q)
                // (q_vals - 128).astype(np.int8): the same byte with its top bit flipped.
                out.append(precision == .int8 ? bucket ^ 0x80 : bucket)
            }
        }
    case .binary, .ubinary:
        let perRow = precision.bytesPerRow(dimension: dimension)
        for row in 0..<rows {
            let base = row * dimension
            for b in 0..<perRow {
                var byte: UInt8 = 0
                for bit in 0..<8 where b * 8 + bit < dimension && values[base + b * 8 + bit] > 0 {
                    byte |= 0x80 >> UInt8(bit)
                }
                // packbits(...) - 128 wraps in uint8, then .astype(np.int8): the top bit flipped.
                out.append(precision == .binary ? byte ^ 0x80 : byte)
            }
        }
    }
    return QuantizedEmbeddings(precision: precision, dimension: dimension, bytes: out)
}

/// `embeddings` at `precision` (see ``quantize(_:dimension:precision:ranges:)``).
public func quantize(
    _ embeddings: Embeddings, precision: OutputPrecision, ranges: QuantizationRanges? = nil
) throws(SentenceEmbeddingsError) -> QuantizedEmbeddings {
    try quantize(embeddings.values, dimension: embeddings.dimension, precision: precision, ranges: ranges)
}
