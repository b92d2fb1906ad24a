import StrictJSON
import Testing

@Suite struct JSONFieldsTests {
    enum Mode: String, CaseIterable { case cls, mean, weighted = "weightedmean" }

    func reader(_ text: String, file: String = "model/config.json") throws -> JSONFields {
        try JSONFields(document: try JSONParser.parse(Array(text.utf8)), file: file)
    }

    /// The error `body` throws (nil when it succeeds).
    func failure<T>(_ body: () throws(JSONFieldError) -> T) -> JSONFieldError? {
        do { _ = try body(); return nil } catch { return error }
    }

    @Test func readsEachType() throws {
        let r = try reader(#"{"s": "x", "b": false, "i": -7, "d": 1e-12, "e": "weightedmean", "o": {"k": 1}, "a": [1, 2]}"#)
        #expect(try r["s"].string() == "x")
        #expect(try r["b"].bool() == false)
        #expect(try r["i"].int() == -7)
        #expect(try r["d"].double() == 1e-12)
        #expect(try r["i"].double() == -7)
        #expect(try r["e"].oneOf(Mode.self) == .weighted)
        #expect(try r["o"].object()["k"].int() == 1)
        #expect(try r["a"].array().map { (v) throws(JSONFieldError) in try v.int() } == [1, 2])
        #expect(try r["d"].number().literal == "1e-12")
        #expect(r.count == 7 && r.members.map(\.key) == ["s", "b", "i", "d", "e", "o", "a"])
    }

    @Test func optionalIsNilForAbsentAndNullOnly() throws {
        let r = try reader(#"{"n": null, "f": false, "z": 0, "s": ""}"#)
        #expect(r.optional("absent") == nil && r.optional("n") == nil)
        #expect(try r.optional("f")?.bool() == false)
        #expect(try r.optional("z")?.int() == 0)
        #expect(try r.optional("s")?.string() == "")
        #expect(try r.optional("absent")?.bool() ?? true)
    }

    @Test func missingNullAndWrongTypeAreToldApart() throws {
        let r = try reader(#"{"n": null, "s": "384"}"#)
        let missing = failure { () throws(JSONFieldError) in try r["hidden_size"].int() }
        #expect(missing == JSONFieldError(file: "model/config.json", keyPath: "hidden_size", expected: "an integer", found: nil))
        #expect(missing?.description == "model/config.json: hidden_size is missing; it must be an integer")
        let null = failure { () throws(JSONFieldError) in try r["n"].string() }
        #expect(null?.description == "model/config.json: n must be a string, found null")
        let wrong = failure { () throws(JSONFieldError) in try r["s"].int() }
        #expect(wrong?.description == #"model/config.json: s must be an integer, found "384""#)
        #expect(failure { () throws(JSONFieldError) in try r["s"].bool() }?.message == #"s must be true or false, found "384""#)
        #expect(failure { () throws(JSONFieldError) in try r["s"].object() }?.expected == "an object")
        #expect(failure { () throws(JSONFieldError) in try r["s"].array() }?.expected == "an array")
        #expect(failure { () throws(JSONFieldError) in try r["s"].double() }?.expected == "a number")
    }

    @Test func theDocumentMustBeAnObject() {
        do {
            _ = try reader("[1]", file: "modules.json")
            Issue.record("an array accepted as an object")
        } catch let error as JSONFieldError {
            #expect(error.description == "modules.json: the document must be an object, found an array")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func integersAreExact() throws {
        let r = try reader(#"{"float": 3.0, "exp": 3e0, "big": 9223372036854775808, "max": 9223372036854775807, "neg": -0}"#)
        #expect(failure { () throws(JSONFieldError) in try r["float"].int() }?.found == "3.0")
        #expect(failure { () throws(JSONFieldError) in try r["exp"].int() }?.found == "3e0")
        #expect(failure { () throws(JSONFieldError) in try r["big"].int() }?.found == "9223372036854775808")
        #expect(try r["max"].int() == Int.max)
        #expect(try r["neg"].int() == 0)
        // An untrusted file's long literal is counted, not copied into the message.
        let long = try reader("{\"n\": \(String(repeating: "9", count: 400))}")
        #expect(failure { () throws(JSONFieldError) in try long["n"].int() }?.found == "a number of 400 characters")
    }

    @Test func rangesAreCheckedAndNamed() throws {
        let r = try reader(#"{"zero": 0, "big": 513}"#)
        #expect(failure { () throws(JSONFieldError) in try r["zero"].int(in: 1...) }?.message == "zero must be a positive integer, found 0")
        #expect(failure { () throws(JSONFieldError) in try r["big"].int(in: 1...512) }?.message == "big must be an integer in 1...512, found 513")
        #expect(failure { () throws(JSONFieldError) in try r["zero"].int(in: 2...) }?.expected == "an integer of at least 2")
        #expect(try r["zero"].int(in: 0...) == 0)
        #expect(failure { () throws(JSONFieldError) in try r["missing"].int(in: 0...) }?.expected == "a non-negative integer")
    }

    @Test func nestedKeyPathsAppearInErrors() throws {
        let r = try reader(#"{"normalizer": {"lowercase": "yes"}, "added_tokens": [{"id": 0}, {"id": "1"}], "model": {"vocab": {"[UNK]": -1, "a.b": 2}}}"#)
        let normalizer = try r["normalizer"].object()
        #expect(normalizer.keyPath == "normalizer")
        #expect(failure { () throws(JSONFieldError) in try normalizer["lowercase"].bool() }?.keyPath == "normalizer.lowercase")
        let tokens = try r["added_tokens"].array()
        #expect(failure { () throws(JSONFieldError) in try tokens[1].object()["id"].int() }?.description
                == #"model/config.json: added_tokens[1].id must be an integer, found "1""#)
        #expect(failure { () throws(JSONFieldError) in try tokens[1].object()["content"].string() }?.keyPath == "added_tokens[1].content")
        // Keys that are not plain identifiers are quoted, so dots inside them are not mistaken for nesting.
        let vocab = try r["model"].object()["vocab"].object()
        #expect(vocab.members.map(\.value.keyPath) == [#"model.vocab["[UNK]"]"#, #"model.vocab["a.b"]"#])
        #expect(failure { () throws(JSONFieldError) in try vocab["[UNK]"].int(in: 0...) }?.message
                == #"model.vocab["[UNK]"] must be a non-negative integer, found -1"#)
    }

    @Test func enumErrorsListTheAllowedValues() throws {
        let r = try reader(#"{"mode": "median", "n": 3}"#)
        let error = failure { () throws(JSONFieldError) in try r["mode"].oneOf(Mode.self, hint: "see pooling.py") }
        #expect(error?.message == #"mode must be one of "cls", "mean", "weightedmean", found "median"; see pooling.py"#)
        #expect(failure { () throws(JSONFieldError) in try r["n"].oneOf(Mode.self) }?.found == "3")
        // A parser of its own (e.g. accepting a dotted class name by its last part).
        let dotted = try reader(#"{"act": "torch.nn.Tanh"}"#)
        #expect(try dotted["act"].oneOf(["Tanh"]) { $0.hasSuffix(".Tanh") ? 1 : nil } == 1)
    }

    @Test func customChecksReportTheSameWay() throws {
        let r = try reader(#"{"cls": ["[CLS]", 101, 7]}"#)
        let error = r["cls"].invalid("[token, id]", hint: "as tokenizers writes it")
        #expect(error.description == "model/config.json: cls must be [token, id], found an array; as tokenizers writes it")
    }
}
