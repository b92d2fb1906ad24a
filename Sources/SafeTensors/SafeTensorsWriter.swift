import StrictJSON

/// Serializes tensors into the safetensors format, as the reference writer (`prepare` + `serialize` in
/// `safetensors/src/tensor.rs`) does: tensors ordered by descending element size then name, so that
/// every tensor starts aligned to its element size; the header padded with spaces so the data buffer
/// starts at a multiple of 8.
///
/// Used by tests and fixture generators; inconsistent input (bytes that do not match shape and dtype,
/// duplicate names) is a programmer error and traps.
public enum SafeTensorsWriter {
    public static func serialize(
        _ tensors: [(name: String, dtype: DType, shape: [Int], bytes: [UInt8])], metadata: [String: String] = [:]
    ) -> [UInt8] {
        let ordered = tensors.sorted { a, b in
            if a.dtype.bitSize != b.dtype.bitSize { return a.dtype.bitSize > b.dtype.bitSize }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var entries: [String] = []
        if !metadata.isEmpty {
            let members = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { "\(JSONWriter.quoted($0.key)):\(JSONWriter.quoted($0.value))" }
            entries.append("\"__metadata__\":{\(members.joined(separator: ","))}")
        }
        var offset = 0
        var seen = Set<[UInt8]>()
        for t in ordered {
            precondition(seen.insert(Array(t.name.utf8)).inserted, "duplicate tensor name \(t.name)")
            let bits = t.shape.reduce(1, *) * t.dtype.bitSize
            precondition(bits % 8 == 0 && bits / 8 == t.bytes.count,
                         "tensor \(t.name): \(t.bytes.count) bytes for \(t.dtype.rawValue) \(t.shape)")
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append(
                "\(JSONWriter.quoted(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + t.bytes.count)]}")
            offset += t.bytes.count
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while (8 + header.count) % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var file: [UInt8] = []
        file.reserveCapacity(8 + header.count + offset)
        file += littleEndianBytes(UInt64(header.count))
        file += header
        for t in ordered { file += t.bytes }
        return file
    }

    /// F32 tensors from Float arrays (stored little-endian).
    public static func serialize(
        floats tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String] = [:]
    ) -> [UInt8] {
        serialize(
            tensors.map { t in
                (name: t.name, dtype: DType.F32, shape: t.shape, bytes: t.values.flatMap { littleEndianBytes($0.bitPattern) })
            }, metadata: metadata)
    }

    /// `value`'s bytes, least significant first.
    public static func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }
}
