import ArgumentParser
import Foundation
import NIOCore

/// Standard output or a file, written as the bytes come.
final class OutputSink: Sendable {
    private let handle: FileHandle

    init(_ path: String) throws {
        if path == "-" {
            handle = .standardOutput
        } else {
            guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
                throw ValidationError("cannot write \(path)")
            }
            handle = file
        }
    }

    @Sendable func write(_ bytes: ByteBuffer) throws {
        try handle.write(contentsOf: Data(bytes.readableBytesView))
    }
}
