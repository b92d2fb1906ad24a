import Foundation
import Testing
import TestSupport
@testable import SentenceEmbeddings

/// Dense modules, prompts and dimensions: the errors each wrong file or choice gives, and the
/// Dense formula by hand. (Parity with sentence-transformers is VariantParityTests.)
@Suite struct ModuleTests {
    /// A writable copy of a fixture folder.
    func copy(_ variant: String) throws -> URL {
        try FolderCopies.copy(VariantFixtures.root.appendingPathComponent(variant))
    }

    func edit(_ file: URL, _ change: (inout [String: Any]) -> Void) throws {
        try FolderCopies.editJSON(file, change)
    }

    func loadError(_ folder: URL) -> SentenceEmbeddingsError? {
        do { _ = try SentenceEncoder(contentsOf: folder); return nil } catch { return error }
    }

    @Test func denseIsActivationOfLinear() throws {
        // y = tanh(W x + b) with W [2 x 3] as torch.nn.Linear stores it.
        let config = DenseConfig(path: "2_Dense", inFeatures: 3, outFeatures: 2, bias: true, activation: .tanh)
        let layer = DenseLayer(config: config, weight: [1, 2, 3, -1, 0, 0.5], bias: [0.1, -0.2])
        var out = [Float](repeating: 0, count: 2)
        let x: [Float] = [0.5, -0.25, 0.125]
        x.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { layer.apply(i, into: $0) } }
        #expect(abs(out[0] - tanh(Float(0.5 - 0.5 + 0.375 + 0.1))) < 1e-7)
        #expect(abs(out[1] - tanh(Float(-0.5 + 0.0625 - 0.2))) < 1e-7)
        let identity = DenseLayer(config: DenseConfig(path: "d", inFeatures: 3, outFeatures: 2, bias: false, activation: .identity),
                                  weight: [1, 2, 3, -1, 0, 0.5], bias: [])
        x.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { identity.apply(i, into: $0) } }
        #expect(out == [0.375, -0.4375])
    }

    @Test func otherActivationsAreRefusedByName() throws {
        let folder = try copy("dense_tanh")
        try edit(folder.appendingPathComponent("2_Dense/config.json")) { $0["activation_function"] = "torch.nn.modules.activation.ReLU" }
        guard case .invalidField(let field) = loadError(folder) else { Issue.record("ReLU Dense accepted"); return }
        #expect(field.file.hasSuffix("2_Dense/config.json") && field.keyPath == "activation_function")
        #expect(field.message.contains("torch.nn.modules.activation.ReLU") && field.message.contains("Tanh") && field.message.contains("Identity"))
    }

    @Test func denseShapesAreChecked() throws {
        let wrongOut = try copy("dense_tanh")
        try edit(wrongOut.appendingPathComponent("2_Dense/config.json")) { $0["out_features"] = 25 }
        guard case .checkpoint(let error) = loadError(wrongOut) else { Issue.record("a [24, 32] weight accepted as [25, 32]"); return }
        #expect("\(error)".contains("2_Dense/model.safetensors") && "\(error)".contains("linear.weight"), "\(error)")

        let wrongIn = try copy("dense_tanh")
        try edit(wrongIn.appendingPathComponent("2_Dense/config.json")) { $0["in_features"] = 31 }
        guard case .invalidConfig(let file, let reason) = loadError(wrongIn) else { Issue.record("in_features 31 after a 32-wide pooling accepted"); return }
        #expect(file.hasSuffix("2_Dense/config.json") && reason.contains("31") && reason.contains("32"))

        let noBiasClaimed = try copy("dense_tanh")
        try edit(noBiasClaimed.appendingPathComponent("2_Dense/config.json")) { $0["bias"] = false }
        guard case .invalidConfig(_, let r2) = loadError(noBiasClaimed) else { Issue.record("a stray linear.bias was ignored"); return }
        #expect(r2.contains("linear.bias"))

        let missing = try copy("dense_tanh")
        try FileManager.default.removeItem(at: missing.appendingPathComponent("2_Dense/model.safetensors"))
        guard case .invalidConfig(let f3, _) = loadError(missing) else { Issue.record("a Dense without weights loaded"); return }
        #expect(f3.hasSuffix("2_Dense/model.safetensors"))

        let tokenLevel = try copy("dense_tanh")
        try edit(tokenLevel.appendingPathComponent("2_Dense/config.json")) { $0["module_input_name"] = "token_embeddings" }
        guard case .invalidField(let r4) = loadError(tokenLevel) else { Issue.record("a per-token Dense accepted"); return }
        #expect(r4.keyPath == "module_input_name" && r4.message.contains("token_embeddings"))
    }

    @Test func promptAndDimensionChoicesAreChecked() throws {
        let encoder = try SentenceEncoder(contentsOf: VariantFixtures.root.appendingPathComponent("prompts_default_query"))
        #expect(try encoder.resolvePrompt(EncodingOptions()) == "query: ")
        #expect(try encoder.resolvePrompt(EncodingOptions(promptName: "passage")) == "passage: ")
        #expect(try encoder.resolvePrompt(EncodingOptions(promptName: "passage", prompt: "x: ")) == "x: ")
        #expect(try encoder.resolvePrompt(EncodingOptions(prompt: "")) == "")
        do {
            _ = try encoder.encode(["a"], promptName: "question")
            Issue.record("unknown prompt name accepted")
        } catch {
            guard case .unknownPromptName(let name, let known) = error else { Issue.record("\(error)"); return }
            #expect(name == "question" && known == ["document", "passage", "query"])
        }
        // encode(_:prompt:) is encode(prompt + text) with no prompt, when all prompt tokens are pooled.
        #expect(try encoder.encode(["a man"], prompt: "query: ") == encoder.encode(["query: a man"], prompt: ""))
        #expect(encoder.promptLength("query: ") == 3)  // [CLS] query :

        for bad in [0, -1, 33] {
            #expect(throws: SentenceEmbeddingsError.self) { try encoder.embed(["a"], options: EncodingOptions(dimensions: bad)) }
        }
        let four = try encoder.embed(["a", "b"], options: EncodingOptions(dimensions: 4))
        let full = try encoder.embed(["a", "b"])
        #expect(four.dimension == 4 && Array(four[1]) == Array(full[1].prefix(4)))
    }
}
