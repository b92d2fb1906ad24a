import Foundation

/// Writable copies of fixture folders, edited to make a wrong one.
public enum FolderCopies {
    /// A copy of `folder` in the temporary directory.
    public static func copy(_ folder: URL) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fixture-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: folder, to: url)
        return url
    }

    /// Rewrites the JSON object in `file` through `change`.
    public static func editJSON(_ file: URL, _ change: (inout [String: Any]) -> Void) throws {
        guard var object = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any] else {
            throw NotAnObject(file: file.path)
        }
        change(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: file)
    }

    struct NotAnObject: Error, CustomStringConvertible {
        let file: String
        var description: String { "\(file): not a JSON object" }
    }
}
