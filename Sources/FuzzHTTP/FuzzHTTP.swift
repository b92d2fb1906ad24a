import Foundation
import FuzzSupport
import RequestDecoding

// libFuzzer target `http` (Scripts/fuzz http SECONDS): arbitrary bytes as the body of an
// embedding or rerank request, read the way the server's routes read it (OpenAI `/v1/embeddings`,
// TEI `/embed`, `/tokenize` and `/rerank`, Cohere/Jina `/v1/rerank`). Every refusal must be a
// thrown error; every accepted input list must hold what the reader promises.

struct Refusal: RequestRejection {
    let status: Int
    let message: String
    static func invalidRequest(_ message: String) -> Refusal { Refusal(status: 400, message: message) }
    static func validation(_ message: String) -> Refusal { Refusal(status: 422, message: message) }
}

let maxCount = 32  // the server's --max-client-batch-size

func checkInputs(_ reader: RequestReader<Refusal>, _ field: String) {
    guard let inputs = try? reader.inputs(field, maxCount: maxCount) else { return }
    precondition(inputs.count >= 1 && inputs.count <= maxCount)
    switch inputs {
    case .texts(let texts): precondition(!texts.contains(where: \.isEmpty))
    case .ids(let lists): precondition(!lists.contains(where: \.isEmpty))
    }
}

func fuzzOne(_ bytes: [UInt8]) {
    let reader: RequestReader<Refusal>
    do { reader = try RequestReader(body: bytes) } catch {
        precondition(error.status == 400 || error.status == 422)
        return
    }
    // OpenAI
    checkInputs(reader, "input")
    for field in ["encoding_format", "model", "user"] { _ = try? reader.string(field) }
    if let n = try? reader.dimensions(maximum: 384) { precondition(1...384 ~= n) }
    // TEI
    checkInputs(reader, "inputs")
    for field in ["normalize", "truncate", "add_special_tokens"] { _ = try? reader.bool(field) }
    for field in ["truncation_direction", "prompt_name"] { _ = try? reader.string(field) }
    // TEI /rerank and Cohere/Jina /v1/rerank
    checkInputs(reader, "texts")
    _ = try? reader.string("query")
    for field in ["raw_scores", "return_text", "return_documents"] { _ = try? reader.bool(field) }
    if let documents = try? reader.documents("documents", maxCount: maxCount) {
        precondition(documents.count >= 1 && documents.count <= maxCount && !documents.contains(where: \.isEmpty))
    }
    if let n = try? reader.int("top_n", minimum: 1) { precondition(n >= 1) }
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
