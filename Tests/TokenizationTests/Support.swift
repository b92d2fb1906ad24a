import TestSupport
import Foundation
import Testing
@testable import Tokenization

enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelFolder = packageRoot.appendingPathComponent("Models/all-MiniLM-L6-v2")

    /// The model's own tokenizer. Missing model files fail the test (run Scripts/fetch-model), never skip it.
    static let uncased: BertTokenizer? = try? BertTokenizer(folder: modelFolder)

    /// Same vocabulary, `lowercase = false, strip_accents = false` (what the goldens' cased variant uses).
    static let cased: BertTokenizer? = uncased.map { u in
        var o = u.options
        o.normalizer = BertNormalizerOptions(cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: false)
        return BertTokenizer(vocabulary: u.vocabulary, options: o)
    }

    static func tokenizer(_ model: String) -> BertTokenizer? { model == "cased" ? cased : uncased }

    static func golden(_ name: String) throws -> [Data] {
        let url = Bundle.module.url(forResource: "Goldens/" + name, withExtension: nil)
            ?? Bundle.module.resourceURL!.appendingPathComponent("Goldens").appendingPathComponent(name)
        let data = try Data(contentsOf: url)
        return data.split(separator: UInt8(ascii: "\n")).map { Data($0) }
    }

    static func pairs(_ flat: [Int]) -> [Range<Int>] {
        stride(from: 0, to: flat.count, by: 2).map { flat[$0]..<flat[$0 + 1] }
    }
}

