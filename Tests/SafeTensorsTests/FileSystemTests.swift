import TestSupport
import Foundation
import Testing
@testable import SafeTensors
#if canImport(Glibc)
import Glibc
#endif

/// Opening paths: only regular files are read, and `.copy` survives the file changing after it
/// was opened.
@Suite final class FileSystemTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func write(_ bytes: [UInt8], _ name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    func openError(_ url: URL) -> SafeTensorsError? {
        do { _ = try SafeTensorsFile(contentsOf: url); return nil } catch { return error }
    }

    @Test func case104_symlinkToDevZeroIsNotARegularFile() throws {
        let link = directory.appendingPathComponent("model.safetensors")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "/dev/zero")
        #expect(openError(link) == .notARegularFile(file: link.path, kind: "a character device"))
    }

    @Test func case104_fifoIsRefusedWithoutBlocking() throws {
        let fifo = directory.appendingPathComponent("pipe.safetensors")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        #expect(openError(fifo) == .notARegularFile(file: fifo.path, kind: "a FIFO (named pipe)"))
    }

    @Test func case104_directory() {
        #expect(openError(directory) == .notARegularFile(file: directory.path, kind: "a directory"))
    }

    @Test func missingFileAndNonFileURL() throws {
        let missing = directory.appendingPathComponent("absent.safetensors")
        #expect(openError(missing) == .cannotOpen(file: missing.path, errno: ENOENT, reason: "No such file or directory"))
        let web = try #require(URL(string: "https://example.com/model.safetensors"))
        #expect(openError(web) == .cannotOpen(file: web.absoluteString, errno: 0, reason: "not a file URL"))
    }

    @Test func errorsFromFilesNameThePath() throws {
        let url = try write([1, 2, 3], "short.safetensors")
        #expect(openError(url) == .fileTooSmall(file: url.path, size: 3))
        #expect(openError(url)?.description.hasPrefix(url.path + ": header too small") == true)
        let header = "{" + entry("w", shape: [2], 0, 8) + "}"
        let n: Int = header.utf8.count
        let bad = try write(rawFile(header, data: [0, 0, 0, 0]), "bad.safetensors")
        let expected = SafeTensorsError.truncatedData(file: bad.path, expectedSize: 8 + n + 8, actualSize: 8 + n + 4)
        #expect(openError(bad) == expected)
    }

    @Test func memoryMappedFileGivesViewsIntoTheMapping() throws {
        let values: [Float] = (0..<1000).map { Float($0) * 0.5 - 7 }
        let url = try write(SafeTensorsWriter.serialize(floats: [("w", [10, 100], values)], metadata: ["format": "pt"]), "w.safetensors")
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.isMemoryMapped && file.url == url && file.metadata == ["format": "pt"])
        let w = try file.floatTensor("w")
        #expect(ObjectIdentifier(w.storage) == ObjectIdentifier(file.bytes))
        #expect(w.array == values)
    }

    @Test func tensorsOutliveTheFileObject() throws {
        let url = try write(SafeTensorsWriter.serialize(floats: [("w", [3], [1, 2, 3])]), "w.safetensors")
        var file: SafeTensorsFile? = try SafeTensorsFile(contentsOf: url)
        let w = try #require(try file?.floatTensor("w"))
        file = nil  // the mapping stays alive through w.storage
        #expect(w.array == [1, 2, 3])
    }

    @Test func case43_copyModeSurvivesTruncationAfterOpening() throws {
        let values: [Float] = [3, 1, 4, 1, 5, 9, 2, 6]
        let url = try write(SafeTensorsWriter.serialize(floats: [("w", [8], values)]), "w.safetensors")
        let file = try SafeTensorsFile(contentsOf: url, loading: .copy)
        #expect(!file.isMemoryMapped)
        #expect(truncate(url.path, 0) == 0)  // with .memoryMap, touching the weights now would raise SIGBUS
        #expect(try file.floatTensor("w").array == values)
    }
}
