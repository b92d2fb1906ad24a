/// A piece of the input text as the normalizers changed it, with, for every normalized scalar, the
/// range of original scalars it came from: Hugging Face's `NormalizedString`
/// (tokenizers/src/tokenizer/normalizer.rs), in Unicode scalars instead of UTF-8 bytes.
///
/// The reference keeps one alignment per normalized *byte*, but every byte of a char gets the same
/// alignment and every alignment bounds whole original chars, so one per scalar holds the same
/// information; offsets come out in scalars, as `Encoding.offsets` with `OffsetType::Char`.
/// Alignments here are absolute (into the whole input text), where the reference keeps them
/// relative to a slice plus its `original_shift`: the sum is the same.
///
/// Every stage changes the text through ``transform(_:with:initialOffset:)``, the port of
/// `transform_range`, fed the same `(char, change)` lists the reference's stages build: offsets
/// then agree with the reference by construction, its odd cases included (a removed first char
/// shifts the alignment of the chars after it by one, exactly as `transform_range` does).
public struct NormalizedText: Sendable, Equatable {
    /// The normalized text. Shape: (n) Unicode scalar values.
    public internal(set) var scalars: [UInt32]
    /// Per normalized scalar, its original range. Shape: (n), absolute scalar offsets into the input.
    public internal(set) var alignments: [Alignment]
    /// The original scalars this piece covers (`offsets_original`: `original_shift ..< shift + len`).
    public internal(set) var originalRange: Range<Int>

    /// A `(start, end)` pair of original scalar offsets (end exclusive).
    public struct Alignment: Sendable, Equatable {
        public var start: Int32
        public var end: Int32
        @inlinable public init(_ start: Int32, _ end: Int32) { self.start = start; self.end = end }
    }

    /// `scalars` of an original text starting at original offset `origin`, unchanged.
    public init(original scalars: some Collection<UInt32>, origin: Int = 0) {
        self.scalars = Array(scalars)
        var a: [Alignment] = []
        a.reserveCapacity(self.scalars.count)
        for i in 0..<self.scalars.count { a.append(Alignment(Int32(origin + i), Int32(origin + i + 1))) }
        alignments = a
        originalRange = origin..<(origin + self.scalars.count)
    }

    init(scalars: [UInt32], alignments: [Alignment], originalRange: Range<Int>) {
        self.scalars = scalars
        self.alignments = alignments
        self.originalRange = originalRange
    }

    public init(_ text: String, origin: Int = 0) {
        self.init(original: text.unicodeScalars.lazy.map(\.value), origin: origin)
    }

    /// The normalized text as a String.
    public var string: String {
        var s = String.UnicodeScalarView()
        for v in scalars { s.append(Unicode.Scalar(v)!) }
        return String(s)
    }

    public var isEmpty: Bool { scalars.isEmpty }
    public var count: Int { scalars.count }

    /// One edit of ``transform(_:with:initialOffset:)``: the reference's `(char, isize)`.
    /// `change` 0 replaces the next old scalar; 1 inserts (the new scalar takes the alignment of
    /// the old scalar before it); -k replaces the next old scalar and removes the k after it.
    public struct Edit: Sendable, Equatable {
        public var scalar: UInt32
        public var change: Int
        @inlinable public init(_ scalar: UInt32, _ change: Int) { self.scalar = scalar; self.change = change }
    }

    /// Replaces the scalars in `range` by `edits`, `initialOffset` old scalars at the start of
    /// `range` being removed first: `NormalizedString::transform_range` with a normalized range.
    ///
    /// ```
    /// align = change > 0 ? (idx < 1 ? (0, 0) : alignments[idx - 1]) : alignments[idx]
    /// ```
    /// where `idx` walks the old scalars: +1 per replaced scalar, +k per removed one.
    public mutating func transform(_ range: Range<Int>, with edits: some Sequence<Edit>, initialOffset: Int) {
        var newScalars: [UInt32] = []
        var newAlignments: [Alignment] = []
        newScalars.reserveCapacity(range.count)
        newAlignments.reserveCapacity(range.count)
        var idx = range.lowerBound + initialOffset
        for e in edits {
            let align: Alignment
            if e.change > 0 {
                // `(0, 0)` of the reference is relative to this piece's own original text.
                align = idx < 1 ? Alignment(Int32(originalRange.lowerBound), Int32(originalRange.lowerBound)) : alignments[idx - 1]
            } else {
                align = alignments[idx]
                idx += 1
                if e.change < 0 { idx += -e.change }
            }
            newScalars.append(e.scalar)
            newAlignments.append(align)
        }
        scalars.replaceSubrange(range, with: newScalars)
        alignments.replaceSubrange(range, with: newAlignments)
    }

    /// `transform(0..<count, ...)`: the reference's `transform` on the whole text.
    public mutating func transform(with edits: some Sequence<Edit>, initialOffset: Int = 0) {
        transform(0..<scalars.count, with: edits, initialOffset: initialOffset)
    }

    /// Replaces each range of `matches` (sorted, disjoint, in normalized scalars) by `content`:
    /// `NormalizedString::replace`. Every inserted scalar takes the alignment of the last scalar
    /// of its match (the reference inserts them with change 1 after removing the match).
    public mutating func replace(_ matches: [Range<Int>], with content: [UInt32]) {
        guard !matches.isEmpty else { return }
        var newScalars: [UInt32] = []
        var newAlignments: [Alignment] = []
        newScalars.reserveCapacity(scalars.count)
        newAlignments.reserveCapacity(scalars.count)
        var last = 0
        for m in matches {
            newScalars.append(contentsOf: scalars[last..<m.lowerBound])
            newAlignments.append(contentsOf: alignments[last..<m.lowerBound])
            // offset = start + removed; align = idx < 1 ? (0, 0) : alignments[idx - 1]
            let idx = m.upperBound
            let align = idx < 1 ? Alignment(Int32(originalRange.lowerBound), Int32(originalRange.lowerBound)) : alignments[idx - 1]
            for c in content {
                newScalars.append(c)
                newAlignments.append(align)
            }
            last = m.upperBound
        }
        newScalars.append(contentsOf: scalars[last...])
        newAlignments.append(contentsOf: alignments[last...])
        scalars = newScalars
        alignments = newAlignments
    }

    /// `prepend(s)`: the first char of `s` replaces the first scalar's place, the rest of `s`
    /// and the old first scalar are inserted after it, all with the first scalar's alignment.
    public mutating func prepend(_ s: [UInt32]) {
        guard let first = scalars.first, !s.isEmpty else { return }
        var edits: [Edit] = []
        for (i, c) in s.enumerated() { edits.append(Edit(c, i != 0 ? 1 : 0)) }
        edits.append(Edit(first, 1))
        transform(0..<1, with: edits, initialOffset: 0)
    }

    /// The normalized scalars `range` as their own piece (`slice(Range::Normalized)`): its
    /// original range is what `convert_offsets` gives, the first alignment's start to the last's end.
    public func slice(_ range: Range<Int>) -> NormalizedText {
        let original: Range<Int>
        if range.isEmpty {
            original = originalRange.lowerBound..<originalRange.lowerBound
        } else {
            let s = Int(alignments[range.lowerBound].start), e = Int(alignments[range.upperBound - 1].end)
            original = s..<max(s, e)
        }
        return NormalizedText(scalars: Array(scalars[range]), alignments: Array(alignments[range]), originalRange: original)
    }

    /// Original offsets of the normalized scalars `range` (`convert_offsets` + `expand_alignments`).
    @inline(__always)
    func originalOffsets(_ range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else { return originalRange.lowerBound..<originalRange.lowerBound }
        let s = Int(alignments[range.lowerBound].start), e = Int(alignments[range.upperBound - 1].end)
        return s..<max(s, e)
    }

    /// How `split` treats the scalars a pattern matched (`SplitDelimiterBehavior`).
    public enum SplitBehavior: Sendable, Equatable {
        case removed, isolated, mergedWithPrevious, mergedWithNext, contiguous
    }

    /// Splits at the scalars for which `isDelimiter` holds (each scalar one match, as a `char`
    /// pattern matches; runs of matches stay separate matches): `NormalizedString::split`.
    /// Empty pieces are the caller's to drop (`PreTokenizedString::split` does).
    public func split(behavior: SplitBehavior, where isDelimiter: (UInt32) -> Bool) -> [NormalizedText] {
        // find_matches: alternating (range, isMatch) covering the text; each matching char is its own match.
        var matches: [(Range<Int>, Bool)] = []
        var start = 0
        for (i, c) in scalars.enumerated() where isDelimiter(c) {
            if start < i { matches.append((start..<i, false)) }
            matches.append((i..<(i + 1), true))
            start = i + 1
        }
        if start < scalars.count { matches.append((start..<scalars.count, false)) }
        return split(matches: matches, behavior: behavior)
    }

    /// `split` given the pattern's matches: ranges covering the text in order, each flagged as a match.
    public func split(matches: [(Range<Int>, Bool)], behavior: SplitBehavior) -> [NormalizedText] {
        var pieces: [(Range<Int>, remove: Bool)] = []
        switch behavior {
        case .isolated:
            pieces = matches.map { ($0.0, false) }
        case .removed:
            pieces = matches.map { ($0.0, $0.1) }
        case .contiguous:
            var previous = false
            for (r, isMatch) in matches {
                if isMatch == previous, let last = pieces.last {
                    pieces[pieces.count - 1].0 = last.0.lowerBound..<r.upperBound
                } else {
                    pieces.append((r, false))
                }
                previous = isMatch
            }
        case .mergedWithPrevious:
            var previous = false
            for (r, isMatch) in matches {
                if isMatch && !previous, let last = pieces.last {
                    pieces[pieces.count - 1].0 = last.0.lowerBound..<r.upperBound
                } else {
                    pieces.append((r, false))
                }
                previous = isMatch
            }
        case .mergedWithNext:
            var previous = false
            for (r, isMatch) in matches.reversed() {
                if isMatch && !previous, let last = pieces.last {
                    pieces[pieces.count - 1].0 = r.lowerBound..<last.0.upperBound
                } else {
                    pieces.append((r, false))
                }
                previous = isMatch
            }
            pieces.reverse()
        }
        return pieces.compactMap { $0.remove ? nil : slice($0.0) }
    }
}
