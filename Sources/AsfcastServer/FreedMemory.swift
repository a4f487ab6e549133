import CMalloc
import Dispatch
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Gives memory the server freed back to the system, every `interval`, off the event loops.
///
/// glibc's malloc keeps freed memory inside its heaps for reuse, and returns only what lies at
/// a heap's top. After a burst (5,000 players catching up at once after the server was stopped
/// for 5 s) the freed buffers sit below live ones, and RSS stayed 360 MiB higher for the rest of
/// the soak hour, though malloc_trim(3) returned all of it at once (RELIABILITY.md). So the server
/// trims: malloc_trim(0) releases the free pages in the middle of every arena too.
final class FreedMemory: @unchecked Sendable {
    static let interval = DispatchTimeInterval.seconds(30)
    /// A trim that takes this long is worth an operator's notice: allocations on the arena
    /// being trimmed wait for it, the event loops' among them.
    static let slow: UInt64 = 50

    private let logger: Logger
    /// Made by `start`: Dispatch traps when a source that was never resumed is released, which a
    /// server whose start failed would do.
    private var timer: DispatchSourceTimer?

    init(logger: Logger) {
        self.logger = logger
    }

    func start() {
        let logger = logger
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "asfcast.freed-memory", qos: .utility))
        timer.setEventHandler {
            let before = ResidentMemory.bytes
            let began = DispatchTime.now()
            malloc_trim(0)
            let milliseconds = (DispatchTime.now().uptimeNanoseconds - began.uptimeNanoseconds) / 1_000_000
            let line: Logger.Message = "freed memory returned to the system: \((before - ResidentMemory.bytes) >> 20) MiB in \(milliseconds) ms"
            if milliseconds >= Self.slow { logger.notice(line) } else { logger.debug(line) }
        }
        timer.schedule(deadline: .now() + Self.interval, repeating: Self.interval)
        timer.resume()
        self.timer = timer
    }

    func stop() {
        timer?.cancel()
        timer = nil
    }
}

/// The process's resident set size, from /proc/self/statm (its second field, in pages).
enum ResidentMemory {
    static var bytes: Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
