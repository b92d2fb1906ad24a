import Foundation

extension JSONParser {
    /// Decodes a `Decodable` configuration after checking the document strictly.
    ///
    /// `JSONDecoder` alone would accept duplicate keys (keeping the first) and a
    /// byte order mark; running ``parse(_:maxDepth:)`` first turns those into errors
    /// with a line and column. The document is small (a config file), so reading it
    /// twice costs nothing that matters.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        _ = try parse(data)
        return try JSONDecoder().decode(type, from: data)
    }
}
