import Testing
@testable import StrictJSON

@Suite struct JSONParserTests {
    func parse(_ text: String) throws(JSONError) -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    func kind(of text: String) -> JSONError.Kind? {
        do { _ = try parse(text); return nil } catch { return error.kind }
    }

    @Test func parsesNestedDocumentsInOrder() throws {
        let v = try parse(#" {"b": [1, -2.5e3, true, null], "a": {"x": "y\n\u00e9\ud83d\ude00"}} "#)
        let o = try #require(v.objectValue)
        #expect(o.keys == ["b", "a"])
        #expect(o["b"]?.arrayValue?.count == 4)
        #expect(o["b"]?.arrayValue?[1].numberValue?.literal == "-2.5e3")
        #expect(o["a"]?.objectValue?["x"]?.stringValue == "y\né😀")
    }

    @Test func keepsIntegersExact() throws {
        #expect(try parse("18446744073709551615").numberValue?.exactUInt64 == UInt64.max)
        #expect(try parse("18446744073709551616").numberValue?.exactUInt64 == nil)
        #expect(try parse("9007199254740993").numberValue?.exactUInt64 == 9_007_199_254_740_993)
        #expect(try parse("4e0").numberValue?.exactUInt64 == nil)
        #expect(try parse("-4").numberValue?.exactUInt64 == nil)
        #expect(try parse("4.0").numberValue?.exactUInt64 == nil)
    }

    @Test func rejectsDuplicateKeysByteForByte() throws {
        #expect(kind(of: #"{"a": 1, "a": 2}"#) == .duplicateKey("a"))
        // Canonically equal but different bytes: distinct keys, as in Rust's serde.
        let o = try #require(try parse("{\"caf\u{E9}\": 1, \"cafe\u{301}\": 2}").objectValue)
        #expect(o.count == 2)
    }

    @Test func rejectsMalformedInput() {
        #expect(kind(of: "") == .unexpectedEnd)
        #expect(kind(of: "{") == .unexpectedEnd)
        #expect(kind(of: "{}\0\0") == .trailingCharacters)
        #expect(kind(of: "\u{FEFF}{}") == .byteOrderMark)
        #expect(kind(of: "01") == .invalidNumber)
        #expect(kind(of: "-") == .invalidNumber)
        #expect(kind(of: "1.") == .invalidNumber)
        #expect(kind(of: "NaN") == .unexpectedCharacter("'N'"))
        #expect(kind(of: #""\ud800""#) == .loneSurrogate)
        #expect(kind(of: #""\udc00x""#) == .loneSurrogate)
        #expect(kind(of: #""\x""#) == .invalidEscape)
        #expect(kind(of: "\"a\u{1}\"") == .controlCharacterInString)
        #expect(kind(of: "[1,]") == .unexpectedCharacter("']'"))
        #expect(kind(of: String(repeating: "[", count: 65) + String(repeating: "]", count: 65)) == .tooDeep(limit: 64))
    }

    @Test func rejectsInvalidUTF8WithItsOffset() {
        for bad: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xE2, 0x82]] {
            #expect(throws: JSONError.self) { try JSONParser.parse(bad) }
            do { _ = try JSONParser.parse(bad) } catch { #expect(error.kind == .invalidUTF8 && error.offset == 1) }
        }
    }

    @Test func reportsLineAndColumn() {
        do { _ = try parse("{\n  \"a\": 1,\n  \"a\": 2\n}"); Issue.record("accepted a duplicate key") } catch {
            #expect(error.line == 3 && error.column == 3)
        }
    }
}
