import Testing
import StrictJSON

@Suite struct JSONWriterTests {
    @Test func escapesQuotesBackslashesAndControls() {
        #expect(JSONWriter.quoted("a\"b\\c") == #""a\"b\\c""#)
        #expect(JSONWriter.quoted("\n\t\u{0}\u{1F}") == #""\n\t\u0000\u001f""#)
        #expect(JSONWriter.quoted("é😀/") == "\"é😀/\"")
    }

    @Test func roundTripsThroughTheParser() throws {
        let samples = ["", "plain", "a\u{0}hidden", "\u{7F}\u{85}\u{2028}", "cafe\u{301}", "\"\\\u{8}\u{C}\r"]
        for s in samples {
            let parsed = try JSONParser.parse(Array(JSONWriter.quoted(s).utf8))
            // Compare bytes: String equality would treat canonically equivalent strings as equal.
            #expect(parsed.stringValue.map { Array($0.utf8) } == Array(s.utf8))
        }
    }
}
