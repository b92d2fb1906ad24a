import Foundation

/// `NFC`, `NFD`, `NFKC`, `NFKD` (tokenizers/src/normalizers/unicode.rs -> `NormalizedString::nfc`
/// ...), with the alignment changes of the crate the reference uses, unicode-normalization-alignments
/// (src/decompose.rs, src/recompose.rs), ported step by step:
/// - decomposition: each scalar's full decomposition, its first scalar a replacement (change 0) and
///   the rest insertions (change 1); each run from a starter (combining class 0) to the next is then
///   stably sorted by combining class, changes moving with their scalars;
/// - composition: the crate's state machine over that stream; a scalar composed into its starter
///   gives the starter `change + other change - 1`.
///
/// Decompositions, combining classes and compositions come from Swift's Unicode data (Foundation's
/// normalization of single scalars and pairs), which is newer than the crate's Unicode 9.0: text
/// with characters assigned since then can normalize differently from the reference.
public struct UnicodeNormalizer: NormalizerStage {
    public enum Form: String, Sendable, CaseIterable {
        case nfc = "NFC", nfd = "NFD", nfkc = "NFKC", nfkd = "NFKD"
        var compatible: Bool { self == .nfkc || self == .nfkd }
        var composes: Bool { self == .nfc || self == .nfkc }
    }

    public let form: Form

    public init(_ form: Form) { self.form = form }

    static func ccc(_ v: UInt32) -> UInt8 {
        guard v >= 0x300, let s = Unicode.Scalar(v) else { return 0 }
        return UInt8(s.properties.canonicalCombiningClass.rawValue)
    }

    static func string(_ scalars: [UInt32]) -> String {
        var view = String.UnicodeScalarView()
        for v in scalars { view.append(Unicode.Scalar(v)!) }
        return String(view)
    }

    /// The full decomposition of one scalar.
    func decompose(_ v: UInt32) -> [UInt32] {
        if v < 0xA0 { return [v] }
        let s = Self.string([v])
        let d = form.compatible ? s.decomposedStringWithCompatibilityMapping : s.decomposedStringWithCanonicalMapping
        return d.unicodeScalars.map(\.value)
    }

    /// The primary composite of `a` followed by `b`, if there is one (`char::compose`).
    static func compose(_ a: UInt32, _ b: UInt32) -> UInt32? {
        if a < 0x80 && b < 0x80 { return nil }
        // Hangul by the Unicode algorithm (3.12), as the crate's `compose_hangul`; Foundation on
        // Linux leaves an LV syllable followed by a T jamo apart.
        if (0x1100...0x1112).contains(a) && (0x1161...0x1175).contains(b) {
            return 0xAC00 + ((a - 0x1100) * 21 + (b - 0x1161)) * 28
        }
        if (0xAC00...0xD7A3).contains(a) && (a - 0xAC00) % 28 == 0 && (0x11A8...0x11C2).contains(b) {
            return a + (b - 0x11A7)
        }
        let composed = Array(string([a, b]).precomposedStringWithCanonicalMapping.unicodeScalars)
        guard composed.count == 1 else { return nil }
        // NFC of the pair may reorder marks inside `a` before composing; only a composite whose
        // canonical decomposition is exactly decompose(a) + b is `a` composed with `b`.
        let expected = string([a]).decomposedStringWithCanonicalMapping.unicodeScalars.map(\.value) + string([b]).decomposedStringWithCanonicalMapping.unicodeScalars.map(\.value)
        guard string([composed[0].value]).decomposedStringWithCanonicalMapping.unicodeScalars.map(\.value) == expected else { return nil }
        return composed[0].value
    }

    /// `Decompositions`: (scalar, change) in output order.
    func decomposed(_ input: [UInt32]) -> [NormalizedText.Edit] {
        var out: [NormalizedText.Edit] = []
        var classes: [UInt8] = []
        var readyEnd = 0
        func sortPending() {
            guard out.count - readyEnd > 1 else { readyEnd = out.count; return }
            let pending = (readyEnd..<out.count).map { (classes[$0], $0, out[$0]) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            for (k, p) in pending.enumerated() { out[readyEnd + k] = p.2; classes[readyEnd + k] = p.0 }
            readyEnd = out.count
        }
        for v in input {
            for (k, d) in decompose(v).enumerated() {
                let c = Self.ccc(d)
                if c == 0 { sortPending() }
                out.append(.init(d, k == 0 ? 0 : 1))
                classes.append(c)
            }
        }
        sortPending()
        return out
    }

    /// `Recompositions` over the decomposed stream.
    func recomposed(_ stream: [NormalizedText.Edit]) -> [NormalizedText.Edit] {
        var out: [NormalizedText.Edit] = []
        var buffer: [NormalizedText.Edit] = []
        var composee: NormalizedText.Edit? = nil
        var lastCCC: UInt8? = nil
        for e in stream {
            let cls = Self.ccc(e.scalar)
            guard let k = composee else {
                if cls != 0 { out.append(e); continue }
                composee = e
                continue
            }
            if let l = lastCCC {
                if l >= cls {
                    if cls == 0 {
                        // Purging: the composee, then the buffered marks, then go on from `e`.
                        out.append(k); out += buffer; buffer.removeAll()
                        composee = e
                        lastCCC = nil
                        continue
                    }
                    buffer.append(e)
                    lastCCC = cls
                    continue
                }
                if let r = Self.compose(k.scalar, e.scalar) {
                    composee = .init(r, k.change + e.change - 1)
                } else {
                    buffer.append(e)
                    lastCCC = cls
                }
            } else {
                if let r = Self.compose(k.scalar, e.scalar) {
                    composee = .init(r, k.change + e.change - 1)
                } else if cls == 0 {
                    out.append(k)
                    composee = e
                } else {
                    buffer.append(e)
                    lastCCC = cls
                }
            }
        }
        // Finished: the composee, then the buffered marks.
        if let k = composee { out.append(k) }
        out += buffer
        return out
    }

    public func normalize(_ text: inout NormalizedText) {
        // Scalars below U+00A0 have no decomposition and compose with nothing among themselves:
        // every change would be 0, which leaves text and alignments as they are.
        guard text.scalars.contains(where: { $0 >= 0xA0 }) else { return }
        let d = decomposed(text.scalars)
        text.transform(with: form.composes ? recomposed(d) : d)
    }
}
