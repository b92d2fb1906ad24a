import Foundation
import FuzzSupport
import Tokenization

// libFuzzer target `tokenizer` (Scripts/fuzz tokenizer SECONDS): arbitrary bytes as text for
// the real all-MiniLM-L6-v2 tokenizer (folder in FUZZ_MODEL), then for the general pipeline's
// Unigram and BPE fixtures (folders in FUZZ_PIPELINES, `:`-separated; default the XLM-R Unigram,
// RoBERTa byte-level BPE, `##`/`</w>` BPE and byte-fallback BPE fixtures of the tests). Byte 0
// picks a truncation length, byte 1 where a pair splits; the rest is the text. Checked: the
// byte path accepts exactly the valid UTF-8 and agrees with the String path; every encoding has
// the tokenizer's specials around known ids, within the truncation length, offsets inside the text.

let tokenizer: BertTokenizer = {
    let path = ProcessInfo.processInfo.environment["FUZZ_MODEL"] ?? "Models/all-MiniLM-L6-v2"
    do {
        return try BertTokenizer(folder: URL(fileURLWithPath: path))
    } catch {
        fatalError("FUZZ_MODEL=\(path): \(error)")
    }
}()

func check(_ e: Encoding, maxLength: Int?, scalars: Int, pairScalars: Int? = nil) {
    let n = e.ids.count
    precondition(n >= 2 && e.typeIds.count == n && e.tokens.count == n && e.offsets.count == n && e.attentionMask.count == n)
    precondition(e.ids.first == tokenizer.classifierID && e.ids.last == tokenizer.separatorID)
    if let maxLength, maxLength >= 2 + (pairScalars == nil ? 0 : 1) { precondition(n <= maxLength, "\(n) tokens > maxLength \(maxLength)") }
    for i in 0..<n {
        precondition(tokenizer.token(for: e.ids[i]) == e.tokens[i], "id \(e.ids[i]) is not token \(e.tokens[i].debugDescription)")
        let limit = e.typeIds[i] == 0 ? scalars : (pairScalars ?? -1)
        precondition(e.offsets[i].lowerBound >= 0 && e.offsets[i].upperBound <= limit, "offset \(e.offsets[i]) outside 0..<\(limit)")
    }
}

let pipelines: [PipelineTokenizer] = {
    let root = "Tests/TokenizationTests/Goldens/"
    let fallback = ["unigram/xlmr", "bpe/roberta", "bpe/wordend", "bpe/fallback"].map { root + $0 }.joined(separator: ":")
    let paths = (ProcessInfo.processInfo.environment["FUZZ_PIPELINES"] ?? fallback).split(separator: ":").map(String.init)
    return paths.map { path in
        do {
            guard let t = try loadTokenizer(folder: URL(fileURLWithPath: path)) as? PipelineTokenizer else { fatalError("\(path) is not a pipeline tokenizer") }
            return t
        } catch {
            fatalError("FUZZ_PIPELINES \(path): \(error)")
        }
    }
}()

/// The pipeline's invariants: specials around the text, known ids, truncation, offsets inside the text.
func checkPipeline(_ t: PipelineTokenizer, _ e: Encoding, maxLength: Int?, scalars: Int, pairScalars: Int?) {
    let n = e.ids.count
    precondition(e.typeIds.count == n && e.tokens.count == n && e.offsets.count == n && e.attentionMask.count == n)
    let specials = t.specialTokens
    precondition(e.ids.starts(with: specials.prefix), "\(e.ids.prefix(4)) does not start with \(specials.prefix)")
    if pairScalars == nil { precondition(e.ids.reversed().starts(with: specials.suffix.reversed()), "\(e.ids.suffix(4)) does not end with \(specials.suffix)") }
    let added = t.postProcessor.addedTokens(pair: pairScalars != nil)
    if let maxLength, maxLength >= added { precondition(n <= maxLength, "\(n) tokens > maxLength \(maxLength)") }
    let limit = max(scalars, pairScalars ?? 0)
    for i in 0..<n {
        precondition(e.ids[i] >= 0 && Int(e.ids[i]) < t.vocabularySize, "id \(e.ids[i]) outside the vocabulary")
        precondition(t.token(for: e.ids[i]) == e.tokens[i], "id \(e.ids[i]) is not token \(e.tokens[i].debugDescription)")
        precondition(e.offsets[i].lowerBound >= 0 && e.offsets[i].upperBound <= limit, "offset \(e.offsets[i]) outside 0..<\(limit)")
    }
}

func fuzzOne(_ bytes: [UInt8]) {
    fuzzBert(bytes)
    guard bytes.count >= 2, let string = String(validating: bytes.dropFirst(2), as: UTF8.self) else { return }
    let maxLength: Int? = bytes[0] == 0 ? nil : Int(bytes[0] % 40)
    let all = Array(string.unicodeScalars)
    let cut = all.isEmpty ? 0 : Int(bytes[1]) % (all.count + 1)
    var first = String.UnicodeScalarView(), second = String.UnicodeScalarView()
    first.append(contentsOf: all[..<cut])
    second.append(contentsOf: all[cut...])
    for t in pipelines {
        let fromBytes: Encoding
        do { fromBytes = try t.encode(utf8: Array(bytes.dropFirst(2)), maxLength: maxLength) } catch { preconditionFailure("valid UTF-8 refused: \(error)") }
        precondition(fromBytes == t.encode(string, maxLength: maxLength), "encode(String) and encode(utf8:) differ")
        checkPipeline(t, fromBytes, maxLength: maxLength, scalars: all.count, pairScalars: nil)
        checkPipeline(t, t.encode(String(first), pair: String(second), maxLength: maxLength), maxLength: maxLength, scalars: first.count, pairScalars: second.count)
    }
}

func fuzzBert(_ bytes: [UInt8]) {
    guard bytes.count >= 2 else { return }
    let maxLength: Int? = bytes[0] == 0 ? nil : Int(bytes[0] % 40)
    let text = Array(bytes.dropFirst(2))
    let string = String(validating: text, as: UTF8.self)
    let fromBytes: Encoding
    do {
        fromBytes = try tokenizer.encode(utf8: text, maxLength: maxLength)
    } catch {
        _ = error.description
        precondition(string == nil, "valid UTF-8 refused: \(error)")
        return
    }
    guard let string else { preconditionFailure("invalid UTF-8 accepted by encode(utf8:)") }
    let scalars = string.unicodeScalars.count
    check(fromBytes, maxLength: maxLength, scalars: scalars)
    let fromString = tokenizer.encode(string, maxLength: maxLength)
    precondition(fromString == fromBytes, "encode(String) and encode(utf8:) differ")

    // A pair, split at a scalar boundary picked by byte 1.
    let all = Array(string.unicodeScalars)
    let cut = all.isEmpty ? 0 : Int(bytes[1]) % (all.count + 1)
    var first = String.UnicodeScalarView(), second = String.UnicodeScalarView()
    first.append(contentsOf: all[..<cut])
    second.append(contentsOf: all[cut...])
    let pair = tokenizer.encode(String(first), pair: String(second), maxLength: maxLength)
    check(pair, maxLength: maxLength, scalars: first.count, pairScalars: second.count)
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(FuzzHarness.bytes(data, size))
    return 0
}
#else
/// A normal build: `FuzzX FILE...` replays files through the harness (FuzzSupport).
@main enum Replay {
    static func main() throws { try FuzzHarness.replay(fuzzOne) }
}
#endif
