#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a whole safetensors file: a read-only private memory mapping, or an aligned heap copy.
///
/// `FloatTensor.storage` points at this object for zero-copy views, so the mapping lives as long as
/// the file object or any tensor taken from it. A mapped file keeps its descriptor open, so a few
/// bytes can be read without mapping their pages (``copy(from:byteCount:into:)``).
final class FileBytes: @unchecked Sendable {
    enum Kind { case mapped, heap }

    let base: UnsafeRawPointer
    let count: Int
    let kind: Kind
    /// The mapped file's descriptor (-1 for a heap copy).
    private let descriptor: Int32

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// A 64-byte aligned heap copy of `bytes` (the same alignment guarantees as a page-aligned mapping
    /// for every dtype, so zero-copy decisions do not depend on where the bytes came from).
    init(copying bytes: UnsafeRawBufferPointer) {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        if let source = bytes.baseAddress, bytes.count > 0 { memory.copyMemory(from: source, byteCount: bytes.count) }
        base = UnsafeRawPointer(memory)
        count = bytes.count
        kind = .heap
        descriptor = -1
    }

    private init(base: UnsafeRawPointer, count: Int, kind: Kind, descriptor: Int32 = -1) {
        self.base = base
        self.count = count
        self.kind = kind
        self.descriptor = descriptor
    }

    /// Copies `byteCount` bytes at `source` (inside ``buffer``) to `destination`. From a mapped
    /// file they are read with `pread`, so their pages are not mapped into the process: a read
    /// fault on a file mapping maps up to 16 neighbouring pages ("fault-around"), and gathering a
    /// few hundred rows of a 45 MiB embedding table that way made 10-15 MB of it resident at a
    /// time. The same values either way (a failed or short read falls back to the mapping).
    func copy(from source: UnsafeRawPointer, byteCount: Int, into destination: UnsafeMutableRawPointer) {
        precondition(source >= base && source + byteCount <= base + count, "FileBytes.copy: bytes outside the file")
        var done = 0
        if kind == .mapped {
            let offset = source - base
            while done < byteCount {
                let n = pread(descriptor, destination + done, byteCount - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                done += n
            }
        }
        if done < byteCount { (destination + done).copyMemory(from: source + done, byteCount: byteCount - done) }
    }

    /// Maps or reads the regular file at `path`, refusing anything else before reading a byte of it.
    static func load(path: String, file: String, mode: SafeTensorsFile.Loading) throws(SafeTensorsError) -> FileBytes {
        // stat first, so a FIFO or a device is never opened; fstat again on the descriptor so the file
        // checked is the file read (the path may be swapped in between).
        var status = stat()
        if stat(path, &status) != 0 {
            let code = errno
            throw .cannotOpen(file: file, errno: code, reason: String(cString: strerror(code)))
        }
        if let kind = nonRegularKind(status.st_mode) { throw .notARegularFile(file: file, kind: kind) }

        // O_NONBLOCK: opening a FIFO swapped in after stat must not block waiting for a writer.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            let code = errno
            throw .cannotOpen(file: file, errno: code, reason: String(cString: strerror(code)))
        }
        var keepOpen = false  // a mapping keeps its descriptor (see copy(from:byteCount:into:))
        defer { if !keepOpen { close(fd) } }
        if fstat(fd, &status) != 0 {
            let code = errno
            throw .cannotOpen(file: file, errno: code, reason: String(cString: strerror(code)))
        }
        if let kind = nonRegularKind(status.st_mode) { throw .notARegularFile(file: file, kind: kind) }
        let size = Int(status.st_size)
        guard size >= 8 else { throw .fileTooSmall(file: file, size: size) }

        switch mode {
        case .memoryMap:
            // PROT_READ + MAP_PRIVATE: the weights are never written, and a private mapping keeps any
            // accidental write from reaching the file. Truncating the file while mapped still raises
            // SIGBUS on access: use `.copy` for files others may rewrite.
            guard let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else {
                let code = errno
                throw .readFailed(file: file, reason: "mmap of \(size) bytes failed (errno \(code): \(String(cString: strerror(code))))")
            }
            keepOpen = true
            return FileBytes(base: UnsafeRawPointer(pointer), count: size, kind: .mapped, descriptor: fd)
        case .copy:
            let memory = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
            var done = 0
            while done < size {
                let n = pread(fd, memory + done, size - done, off_t(done))
                if n < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    memory.deallocate()
                    throw .readFailed(file: file, reason: "pread failed at byte \(done) (errno \(code): \(String(cString: strerror(code))))")
                }
                if n == 0 {
                    memory.deallocate()
                    throw .readFailed(file: file, reason: "the file shrank from \(size) to \(done) bytes while being read")
                }
                done += n
            }
            return FileBytes(base: UnsafeRawPointer(memory), count: size, kind: .heap)
        }
    }

    deinit {
        switch kind {
        case .mapped:
            munmap(UnsafeMutableRawPointer(mutating: base), count)
            close(descriptor)
        case .heap: UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }
}

/// nil for a regular file, otherwise what the path is, for the error message.
private func nonRegularKind(_ mode: mode_t) -> String? {
    switch mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFDIR: return "a directory"
    case S_IFIFO: return "a FIFO (named pipe)"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    case S_IFLNK: return "a symbolic link"
    default: return "not a regular file (mode 0o\(String(mode, radix: 8)))"
    }
}
