import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// The server's processor load for each access log line's s-cpu-util (MS-WMLOG 2.2.1: the
/// average load on the server's processors, 0 to 100): the process's CPU time over the wall time
/// since the previous reading, across every core. Readings closer than a second apart give the
/// previous value, so that a burst of session ends does not read a few microseconds each.
final class ProcessorLoad: Sendable {
    private let last: NIOLockedValueBox<(wall: TimeInterval, cpu: TimeInterval, percent: Int)>
    private let cores = Double(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    init() {
        last = NIOLockedValueBox((Self.wall, Self.cpu, 0))
    }

    var percent: Int {
        let (wall, cpu) = (Self.wall, Self.cpu)
        return last.withLockedValue { last in
            guard wall - last.wall >= 1 else { return last.percent }
            let load = (cpu - last.cpu) / (wall - last.wall) / cores * 100
            last = (wall, cpu, Int(min(100, max(0, load)).rounded()))
            return last.percent
        }
    }

    private static var wall: TimeInterval { ProcessInfo.processInfo.systemUptime }

    /// User and system time of every thread of the process.
    private static var cpu: TimeInterval {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> TimeInterval { TimeInterval(t.tv_sec) + TimeInterval(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
