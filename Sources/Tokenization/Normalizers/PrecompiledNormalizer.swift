import Foundation

/// SentencePiece's compiled normalization rules (`Precompiled`, the `precompiled_charsmap` of a
/// `.model` file; XLM-R's is `nmt_nfkc`: NFKC plus whitespace and control-character clean-ups).
///
/// The charsmap (spm_precompiled/src/lib.rs `parse`): a u32 little-endian trie size in bytes, a
/// Darts double-array trie of that many bytes (u32 units) keyed by UTF-8 bytes, then a blob of
/// NUL-terminated UTF-8 replacement strings that trie values index.
///
/// Applied as tokenizers/src/normalizers/precompiled.rs does, per extended grapheme cluster: a
/// cluster shorter than 6 bytes is looked up whole first; otherwise, or when it has no entry, each
/// of its scalars is looked up alone and kept when it has none. A lookup (`Precompiled::transform`)
/// takes the *first* (shortest) prefix of the key that the trie holds and replaces the whole key by
/// its string: odd, and what the reference's comment says gives 100% XNLI parity with XLM-R, mBART
/// and Marian. Offsets follow the reference's `replace` helper: scalars of a longer replacement
/// past the old length are insertions, a shorter one removes the old scalars after the first.
public struct PrecompiledNormalizer: NormalizerStage {
    /// Double-array units. Shape: (trieBytes / 4).
    let units: [UInt32]
    /// The replacement strings, NUL-terminated, back to back.
    let blob: [UInt8]
    /// `lookup` of each one-byte key, precomputed: most text is mostly ASCII.
    private(set) var ascii: [[UInt32]?] = []

    /// Parses a decoded charsmap; `nil` when it is too short for its declared trie size or the
    /// replacement blob is not UTF-8 (the reference's `PrecompiledError`).
    public init?(charsmap bytes: [UInt8]) {
        guard bytes.count >= 4 else { return nil }
        let trieBytes = Int(UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
        let unitCount = trieBytes / 4
        guard unitCount >= 1, 4 + unitCount * 4 <= bytes.count else { return nil }
        var units = [UInt32](repeating: 0, count: unitCount)
        for i in 0..<unitCount {
            let p = 4 + i * 4
            units[i] = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
        }
        let blob = Array(bytes[(4 + unitCount * 4)...])
        guard String(validating: blob, as: UTF8.self) != nil else { return nil }
        self.units = units
        self.blob = blob
        ascii = (0..<128).map { b in [UInt8(b)].withUnsafeBufferPointer { lookupInTrie($0) } }
    }

    /// The replacement of `key` (UTF-8): the value of the shortest prefix the trie holds
    /// (`DoubleArray::common_prefix_search(key)[0]`), read up to its NUL. A NUL byte ends the key.
    /// A trie or value pointing outside the charsmap counts as no entry (the reference would panic).
    @inline(__always)
    func lookup(_ key: UnsafeBufferPointer<UInt8>) -> [UInt32]? {
        if key.count == 1 && key[0] < 0x80 { return ascii[Int(key[0])] }
        return lookupInTrie(key)
    }

    func lookupInTrie(_ key: UnsafeBufferPointer<UInt8>) -> [UInt32]? {
        // unit: has_leaf = bit 8; value = low 31 bits; label = bit 31 | low 8 bits;
        // offset = (unit >> 10) << ((unit & (1 << 9)) >> 6).
        @inline(__always) func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }
        var pos = 0
        pos ^= offset(units[0])
        for c in key {
            if c == 0 { break }
            pos ^= Int(c)
            guard pos < units.count else { return nil }
            let unit = units[pos]
            if unit & ((1 << 31) | 0xFF) != UInt32(c) { return nil }
            pos ^= offset(unit)
            if (unit >> 8) & 1 == 1 {
                guard pos < units.count else { return nil }
                let start = Int(units[pos] & ((1 << 31) - 1))
                guard start <= blob.count else { return nil }
                var end = start
                while end < blob.count && blob[end] != 0 { end += 1 }
                guard let s = String(validating: blob[start..<end], as: UTF8.self) else { return nil }
                return s.unicodeScalars.map(\.value)
            }
        }
        return nil
    }

    public func normalize(_ text: inout NormalizedText) {
        guard !text.isEmpty else { return }
        var edits: [NormalizedText.Edit] = []
        edits.reserveCapacity(text.count)
        var modified = false
        var key: [UInt8] = []
        key.reserveCapacity(16)

        /// The reference's `replace(transformations, old_part, new_part)`.
        func replace(oldCount: Int, with new: [UInt32]) {
            for c in new { edits.append(.init(c, 0)) }
            let diff = new.count - oldCount
            if diff > 0 {
                for k in (edits.count - diff)..<edits.count { edits[k].change = 1 }
            } else if diff < 0, !edits.isEmpty {
                edits[edits.count - 1].change += diff
            }
        }

        var i = 0
        for cluster in Self.graphemeLengths(text.scalars) {
            let scalars = text.scalars[i..<(i + cluster)]
            i += cluster
            key.removeAll(keepingCapacity: true)
            for s in scalars { appendUTF8(s, to: &key) }
            if key.count < 6, let norm = key.withUnsafeBufferPointer({ lookup($0) }) {
                modified = true
                replace(oldCount: cluster, with: norm)
                continue
            }
            for s in scalars {
                key.removeAll(keepingCapacity: true)
                appendUTF8(s, to: &key)
                if let norm = key.withUnsafeBufferPointer({ lookup($0) }) {
                    modified = true
                    replace(oldCount: 1, with: norm)
                } else {
                    edits.append(.init(s, 0))
                }
            }
        }
        if modified { text.transform(with: edits) }
    }

    /// Lengths in scalars of the extended grapheme clusters of `scalars` (what the reference gets
    /// from `unicode_segmentation`'s `graphemes(true)`; Swift's `Character` is one such cluster).
    static func graphemeLengths(_ scalars: [UInt32]) -> [Int] {
        // ASCII alone: every scalar is a cluster but CR LF (GB3); extending scalars are not ASCII.
        if scalars.allSatisfy({ $0 < 0x80 }) {
            var out: [Int] = []
            out.reserveCapacity(scalars.count)
            var i = 0
            while i < scalars.count {
                let n = scalars[i] == 0x0D && i + 1 < scalars.count && scalars[i + 1] == 0x0A ? 2 : 1
                out.append(n)
                i += n
            }
            return out
        }
        var view = String.UnicodeScalarView()
        view.reserveCapacity(scalars.count)
        for v in scalars { view.append(Unicode.Scalar(v)!) }
        let s = String(view)
        var out: [Int] = []
        out.reserveCapacity(scalars.count)
        for c in s { out.append(c.unicodeScalars.count) }
        return out
    }
}
