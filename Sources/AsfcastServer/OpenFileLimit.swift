import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The process's open-file limit (RLIMIT_NOFILE), raised at start from the soft limit to the
/// hard one: each client connection is a descriptor, and the soft limit (often 1,024) is far
/// below what the server holds. Connections are refused a reserve short of it, so that media
/// files, UDP sockets and listeners still open.
enum OpenFileLimit {
    static let reserve = 256

    /// The limit now in force and the connections it leaves room for.
    static func raise(logger: Logger) -> (files: Int, connections: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, .max) }
        if limit.rlim_cur < limit.rlim_max {
            let before = limit.rlim_cur
            limit.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) != 0 {
                logger.warning("cannot raise the open-file limit from \(before) to \(limit.rlim_max): errno \(errno)")
                limit.rlim_cur = before
            }
        }
        let files = Int(clamping: limit.rlim_cur)
        logger.info("open-file limit \(files): connections refused beyond \(max(16, files - reserve))")
        return (files, max(16, files - reserve))
    }
}
