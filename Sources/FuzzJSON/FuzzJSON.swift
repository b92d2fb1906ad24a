import TransformerEncoder
import Foundation
import FuzzSupport
import SentenceEmbeddings
import StrictJSON
import Tokenization

// libFuzzer target `json` (Scripts/fuzz json SECONDS): arbitrary bytes as one of the JSON
// files of a model folder, read by the loader that reads that file. Byte 0 picks the file
// (see `files`); the rest is its content. The other files of the folder come from a small
// complete model (FUZZ_JSON_BASE, a test fixture with two Dense modules), copied once to a
// scratch folder. Selector 0 is the bare parser, with a check that every string it returns
// survives JSONWriter.quoted and a re-parse.

/// (file inside the folder, loader) for selectors 1...; selector 0 is the parser alone.
let files: [(String, @Sendable (URL) throws -> Void)] = [
    ("config.json", { _ = try EncoderConfig.load(from: $0.appendingPathComponent("config.json")) }),
    ("tokenizer.json", { _ = try BertTokenizer(folder: $0) }),
    ("tokenizer_config.json", { _ = try BertTokenizer(folder: $0) }),
    ("special_tokens_map.json", { _ = try BertTokenizer(folder: $0) }),
    ("modules.json", { _ = try SentenceTransformersConfig.load(folder: $0) }),
    ("1_Pooling/config.json", { _ = try SentenceTransformersConfig.load(folder: $0) }),
    ("sentence_bert_config.json", { _ = try SentenceTransformersConfig.load(folder: $0) }),
    ("config_sentence_transformers.json", { _ = try SentenceTransformersConfig.load(folder: $0) }),
    ("2_Dense/config.json", { _ = try SentenceTransformersConfig.load(folder: $0) }),
]

/// The scratch copy of the base model folder, and each fuzzed file's original content (absent
/// when the base folder has no such file). Bytes, not `Data`: `Data` keeps its storage behind a
/// tagged pointer, which LeakSanitizer cannot follow from a global.
let folder: (url: URL, originals: [String: [UInt8]]) = {
    let base = ProcessInfo.processInfo.environment["FUZZ_JSON_BASE"] ?? "Tests/SentenceEmbeddingsTests/Fixtures/dense_two"
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-json-\(getpid())")
    do {
        try? FileManager.default.removeItem(at: scratch)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: base), to: scratch)
    } catch {
        fatalError("FUZZ_JSON_BASE=\(base): \(error)")
    }
    atexit { try? FileManager.default.removeItem(at: folder.url) }
    var originals: [String: [UInt8]] = [:]
    for (name, _) in files { originals[name] = (try? Data(contentsOf: scratch.appendingPathComponent(name))).map { [UInt8]($0) } }
    return (scratch, originals)
}()

func checkStrings(_ value: JSONValue, budget: inout Int) {
    guard budget > 0 else { return }
    switch value {
    case .string(let s):
        budget -= 1
        let again = try! JSONParser.parse(Array(JSONWriter.quoted(s).utf8))
        precondition(again == .string(s), "JSONWriter.quoted does not round-trip \(s.debugDescription)")
    case .array(let items):
        for item in items { checkStrings(item, budget: &budget) }
    case .object(let object):
        for (key, item) in object.members {
            checkStrings(.string(key), budget: &budget)
            checkStrings(item, budget: &budget)
        }
    default:
        _ = value.summary
    }
}

func fuzzOne(_ bytes: [UInt8]) {
    guard let selector = bytes.first else { return }
    let content = Array(bytes.dropFirst())
    let index = Int(selector) % (files.count + 1)
    guard index > 0 else {
        do {
            let value = try JSONParser.parse(content)
            var budget = 64
            checkStrings(value, budget: &budget)
        } catch {
            _ = error.description
        }
        return
    }
    let (name, load) = files[index - 1]
    let url = folder.url.appendingPathComponent(name)
    try! Data(content).write(to: url)
    do { try load(folder.url) } catch { _ = "\(error)" }
    if let original = folder.originals[name] {
        try! Data(original).write(to: url)
    } else {
        try! FileManager.default.removeItem(at: url)
    }
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
