import CZlib
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of an input, read a buffer at a time so memory does not grow with the file.
protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; 0 only at the end of the input.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TextInputError) -> Int
    /// True when a read would return without waiting: always for a regular file; for a pipe,
    /// only when data is waiting. Lets a stream stage embed what it has instead of stalling.
    var isReady: Bool { get }
}

/// A file or standard input, read with `read(2)`.
final class FileDescriptorSource: ByteSource {
    let descriptor: Int32
    let file: String
    private let owned: Bool

    /// Opens `path`; `-` is standard input (never closed here).
    init(path: String) throws(TextInputError) {
        if path == "-" {
            descriptor = 0
            file = "<stdin>"
            owned = false
            return
        }
        file = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TextInputError(file: path, line: nil, message: "no such file")
        }
        guard !isDirectory.boolValue else { throw TextInputError(file: path, line: nil, message: "is a directory, not a file") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw TextInputError(file: path, line: nil, message: "cannot open (\(String(cString: strerror(errno))))")
        }
        descriptor = fd
        owned = true
    }

    deinit {
        if owned { close(descriptor) }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TextInputError) -> Int {
        while true {
            let n = systemRead(descriptor, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw TextInputError(file: file, line: nil, message: "cannot read (\(String(cString: strerror(errno))))")
        }
    }

    var isReady: Bool {
        var p = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0
    }
}

/// gzip (or zlib) decompression of another source, through zlib's `inflate`.
///
/// Concatenated gzip members (as `cat a.gz b.gz` or `pigz` make) are read one after another,
/// as `gzip -d` does. A stream that ends inside a member is an error, never a silent short input.
final class GzipSource: ByteSource {
    private let inner: ByteSource
    private let file: String
    // zlib keeps a pointer back to its z_stream and checks it on every call, so the stream
    // lives at a fixed address rather than in a Swift stored property.
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private var innerEnded = false
    private var finished = false
    private var memberEnded = false

    init(_ inner: ByteSource, file: String) throws(TextInputError) {
        self.inner = inner
        self.file = file
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: 1 << 16, alignment: 8)
        // windowBits 15 + 32: a 32 KiB window, and detect a gzip or zlib header automatically.
        let status = inflateInit2_(stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            input.deallocate()
            throw TextInputError(file: file, line: nil, message: "cannot start zlib (status \(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    private func refill() throws(TextInputError) {
        guard stream.pointee.avail_in == 0, !innerEnded else { return }
        let n = try inner.read(into: input)
        if n == 0 { innerEnded = true }
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(n)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TextInputError) -> Int {
        guard buffer.count > 0 else { return 0 }
        while !finished {
            try refill()
            if memberEnded {
                // Another member follows only if there are more bytes.
                if stream.pointee.avail_in == 0 && innerEnded { finished = true; break }
                inflateReset(stream)
                memberEnded = false
            }
            stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(min(buffer.count, Int(UInt32.max)))
            let status = inflate(stream, Z_NO_FLUSH)
            let produced = min(buffer.count, Int(UInt32.max)) - Int(stream.pointee.avail_out)
            switch status {
            case Z_OK: break
            case Z_STREAM_END: memberEnded = true
            case Z_BUF_ERROR:
                // No progress was possible: zlib needs input that the file no longer has.
                if stream.pointee.avail_in == 0 && innerEnded && produced == 0 {
                    throw TextInputError(file: file, line: nil, message: "the gzip data ends early (truncated file?)")
                }
            default:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
                throw TextInputError(file: file, line: nil, message: "not valid gzip data (zlib: \(reason))")
            }
            if produced > 0 { return produced }
        }
        return 0
    }

    var isReady: Bool { stream.pointee.avail_in > 0 || inner.isReady }
}

/// Opens `path` (`-` = stdin), decompressing when `gzip` is set.
func openByteSource(path: String, gzip: Bool) throws(TextInputError) -> ByteSource {
    let raw = try FileDescriptorSource(path: path)
    return gzip ? try GzipSource(raw, file: raw.file) : raw
}

/// POSIX `read(2)` under one name on Linux and Darwin (a method of the same name hides the global).
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.read(fd, buffer, count)
    #else
    Darwin.read(fd, buffer, count)
    #endif
}
