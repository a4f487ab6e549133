import Atomics
import NIOCore

/// The process's reads from ASF files: how many, their bytes, and the late ones. Reads are
/// synchronous on the event loop that plays the file, so a read that takes long holds back
/// every session of that loop: WMS's "late reads" (/metrics reads these totals).
public final class FileReads: Sendable {
    public static let process = FileReads()

    /// A read that takes this long or longer is late: its loop's packets go out that much later.
    public static let lateAfter = TimeAmount.milliseconds(100)

    private let count = ManagedAtomic<Int>(0)
    private let byteCount = ManagedAtomic<Int>(0)
    private let lateCount = ManagedAtomic<Int>(0)

    public var reads: Int { count.load(ordering: .relaxed) }
    public var bytes: Int { byteCount.load(ordering: .relaxed) }
    public var late: Int { lateCount.load(ordering: .relaxed) }

    func record(bytes: Int, took duration: TimeAmount) {
        count.wrappingIncrement(ordering: .relaxed)
        byteCount.wrappingIncrement(by: bytes, ordering: .relaxed)
        if duration >= Self.lateAfter { lateCount.wrappingIncrement(ordering: .relaxed) }
    }
}
