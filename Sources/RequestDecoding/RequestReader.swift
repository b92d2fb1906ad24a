import StrictJSON

/// The error a ``RequestReader`` throws, built by the two kinds of refusal it knows; the HTTP
/// layer (EncoderServer's `APIError`) supplies the status codes and the response body.
///
/// This module decodes request bodies without any server framework, so that it builds and
/// fuzzes on its own (`Scripts/fuzz http`).
public protocol RequestRejection: Error {
    /// 400: the body is not JSON, or an input list is empty.
    static func invalidRequest(_ message: String) -> Self
    /// 422: well-formed JSON with a wrong type or value.
    static func validation(_ message: String) -> Self
}

/// The inputs of an embedding request: texts, or token-id sequences (OpenAI and TEI accept both).
public enum EmbedInputs: Sendable, Equatable {
    case texts([String])
    case ids([[Int64]])

    public var count: Int {
        switch self {
        case .texts(let t): t.count
        case .ids(let i): i.count
        }
    }
}

/// Reads request fields from a parsed JSON object, with the status each mistake earns:
/// 400 for an empty input list or an empty input (TEI), 422 for wrong types and values.
public struct RequestReader<Failure: RequestRejection> {
    public let object: JSONObject

    /// Parses a body; 400 when it is not JSON, 422 when it is JSON but not an object.
    public init(body: [UInt8]) throws(Failure) {
        let value: JSONValue
        do { value = try JSONParser.parse(body) } catch {
            throw .invalidRequest("the request body is not valid JSON: \(error)")
        }
        guard let object = value.objectValue else {
            throw .validation("the request body must be a JSON object, found \(value.kindName)")
        }
        self.object = object
    }

    /// `field` as inputs: a string, an array of strings, an array of token ids or an array of those.
    public func inputs(_ field: String, maxCount: Int) throws(Failure) -> EmbedInputs {
        guard let value = object[field], !value.isNull else {
            throw .validation("`\(field)` is required")
        }
        let inputs: EmbedInputs
        switch value {
        case .string(let s):
            inputs = .texts([s])
        case .array(let items):
            guard !items.isEmpty else { throw .invalidRequest("`\(field)` cannot be empty") }
            if items.allSatisfy({ $0.stringValue != nil }) {
                inputs = .texts(items.map { $0.stringValue! })
            } else if items.allSatisfy({ $0.numberValue != nil }) {
                inputs = .ids([try Self.ids(items, field: field)])
            } else if items.allSatisfy({ $0.arrayValue != nil }) {
                var all: [[Int64]] = []
                for (i, item) in items.enumerated() {
                    all.append(try Self.ids(item.arrayValue!, field: "\(field)[\(i)]"))
                }
                inputs = .ids(all)
            } else {
                throw .validation("`\(field)` must be a string, an array of strings, an array of token ids, or an array of token-id arrays")
            }
        default:
            throw .validation("`\(field)` must be a string or an array, found \(value.kindName)")
        }
        guard inputs.count <= maxCount else {
            throw .validation("batch size \(inputs.count) > maximum allowed batch size \(maxCount) (--max-client-batch-size)")
        }
        switch inputs {
        case .texts(let texts):
            if let i = texts.firstIndex(where: \.isEmpty) {
                throw .invalidRequest(texts.count == 1 ? "`\(field)` cannot be empty" : "`\(field)[\(i)]` cannot be empty")
            }
        case .ids(let lists):
            if let i = lists.firstIndex(where: \.isEmpty) {
                throw .invalidRequest(lists.count == 1 ? "`\(field)` cannot be empty" : "`\(field)[\(i)]` cannot be empty")
            }
        }
        return inputs
    }

    /// `field` as rerank documents: an array of strings, or of objects with a string `text` (Cohere
    /// and Jina accept both). 400 for an empty list or document, 422 for anything else wrong.
    public func documents(_ field: String, maxCount: Int) throws(Failure) -> [String] {
        guard let value = object[field], !value.isNull else { throw .validation("`\(field)` is required") }
        guard let items = value.arrayValue else {
            throw .validation("`\(field)` must be an array of strings or of {\"text\": string} objects, found \(value.kindName)")
        }
        guard !items.isEmpty else { throw .invalidRequest("`\(field)` cannot be empty") }
        guard items.count <= maxCount else {
            throw .validation("batch size \(items.count) > maximum allowed batch size \(maxCount) (--max-client-batch-size)")
        }
        var texts: [String] = []
        texts.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard let text = item.stringValue ?? item.objectValue?["text"]?.stringValue else {
                throw .validation("`\(field)[\(i)]` must be a string or a {\"text\": string} object, found \(item.summary)")
            }
            guard !text.isEmpty else { throw .invalidRequest("`\(field)[\(i)]` cannot be empty") }
            texts.append(text)
        }
        return texts
    }

    private static func ids(_ items: [JSONValue], field: String) throws(Failure) -> [Int64] {
        var ids: [Int64] = []
        ids.reserveCapacity(items.count)
        for (j, item) in items.enumerated() {
            // Exact integers only: 3.0, 1e2 and numbers beyond Int64 are not token ids.
            guard let literal = item.numberValue?.literal, let id = Int64(literal) else {
                throw .validation("`\(field)[\(j)]` must be an integer token id, found \(item.summary)")
            }
            ids.append(id)
        }
        return ids
    }

    /// The body's fields through the typed reader every model file is read with.
    private var fields: JSONFields { JSONFields(object, file: "the request body") }

    /// A wrong field is a 422 naming the field, what it must be and what was sent.
    private static func refusal(_ error: JSONFieldError) -> Failure {
        .validation("`\(error.keyPath)` must be \(error.expected), found \(error.found ?? "nothing")")
    }

    public func string(_ field: String) throws(Failure) -> String? {
        do { return try fields.optional(field)?.string() } catch { throw Self.refusal(error) }
    }

    public func bool(_ field: String) throws(Failure) -> Bool? {
        do { return try fields.optional(field)?.bool() } catch { throw Self.refusal(error) }
    }

    /// An integer of at least `minimum`, or absent.
    public func int(_ field: String, minimum: Int) throws(Failure) -> Int? {
        let value: Int?
        do { value = try fields.optional(field)?.int() } catch { throw Self.refusal(error) }
        if let n = value, n < minimum { throw .validation("`\(field)` must be at least \(minimum), got \(n)") }
        return value
    }

    /// `dimensions`: an integer in 1...maximum, or absent.
    public func dimensions(maximum: Int) throws(Failure) -> Int? {
        let value: Int?
        do { value = try fields.optional("dimensions")?.int() } catch { throw Self.refusal(error) }
        guard let n = value else { return nil }
        guard n > 0 else { throw .validation("`dimensions` should be positive, got \(n)") }
        guard n <= maximum else {
            throw .validation("`dimensions` should be at most the model's embedding dimension \(maximum), got \(n)")
        }
        return n
    }
}
