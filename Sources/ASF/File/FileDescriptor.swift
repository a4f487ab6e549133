#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// A file opened for positional reads and writes; closed when released.
final class FileDescriptor: @unchecked Sendable {
    let fd: Int32
    let path: String

    init(path: String, writing: Bool) throws {
        let flags = writing ? (O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC) : (O_RDONLY | O_CLOEXEC)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw ASFError(path, at: 0, .io(String(cString: strerror(errno)))) }
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    var size: Int {
        var st = stat()
        return fstat(fd, &st) == 0 ? Int(st.st_size) : 0
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file. Counted in
    /// `FileReads.process`.
    func read(count: Int, at offset: Int) throws -> ByteBuffer {
        let started = NIODeadline.now()
        var buffer = ByteBuffer()
        buffer.reserveCapacity(count)
        let got = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw -> Int in
            var done = 0
            while done < count {
                let n = pread(fd, raw.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ASFError(path, at: offset + done, .io(String(cString: strerror(errno))))
                }
                if n == 0 { break }
                done += n
            }
            return done
        }
        FileReads.process.record(bytes: got, took: NIODeadline.now() - started)
        return buffer
    }

    func write(_ buffer: ByteBuffer, at offset: Int) throws {
        try buffer.withUnsafeReadableBytes { raw in
            var done = 0
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ASFError(path, at: offset + done, .io(String(cString: strerror(errno))))
                }
                done += n
            }
        }
    }
}
