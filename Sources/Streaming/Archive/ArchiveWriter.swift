import ASF
import Foundation
import Logging
import NIOCore

/// One archive file of a broadcast: a subscriber of the broadcast's relay on one loop, writing
/// every packet from the first clean point on, its times moved to start at 0. The file is
/// readable while it is written (its header states no size yet, which readers count past) and up
/// to its last whole packet after a crash; `finish` writes the sizes, the packet count, the
/// durations and a Simple Index, after which it is a seekable on-demand file.
final class ArchiveWriter: BroadcastSubscriber {
    let path: String
    private var writer: ASFFileWriter?
    private let logger: Logger
    private var firstSendTime: UInt32?
    private var packets = 0
    private let done: (ArchiveWriter) -> Void
    var selection: Set<UInt8>? { nil }

    init(path: String, header: ASFHeader, logger: Logger, done: @escaping (ArchiveWriter) -> Void) throws {
        self.path = path
        self.logger = logger
        self.done = done
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        writer = try ASFFileWriter(path: path, header: header)
    }

    func receive(_ batch: BroadcastBatch) {
        guard let writer else { return }
        do {
            for packet in batch.packets {
                let first = firstSendTime ?? packet.sendTime
                firstSendTime = first
                if first == 0 {
                    try writer.write(packet: packet.bytes)
                } else {
                    var moved = ByteBuffer()
                    try DataPacket(parsing: packet.bytes).shifted(by: 0 &- first).write(to: &moved)
                    try writer.write(packet: moved)
                }
                packets += 1
            }
        } catch {
            // A full disk, say: this file stops here, readable up to its last whole packet.
            logger.error("archive \(path) stopped after \(packets) packets: \(error)")
            self.writer = nil
            done(self)
        }
    }

    func broadcastEnded() {
        finish()
    }

    /// Completes the file (once).
    func finish() {
        guard let writer else { return }
        self.writer = nil
        do {
            try writer.finish()
            logger.info("archive \(path) closed: \(packets) packets")
        } catch {
            logger.error("archive \(path) could not be completed: \(error)")
        }
        done(self)
    }
}
