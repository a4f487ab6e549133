import ASF
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A broadcast point's archive (`archive:` in the configuration): each broadcast the point
/// starts (at start, and at each new header of a pushed point) is written to a new file named
/// by the template.
public final class PointArchive: BroadcastFollower, @unchecked Sendable {
    public let point: String
    private let template: ArchivePath
    private let root: String
    private let logger: Logger
    private let writing = NIOLockedValueBox<[(writer: ArchiveWriter, loop: EventLoop)]>([])

    public init(point: String, template: ArchivePath, root: String, logger: Logger) {
        self.point = point
        self.template = template
        self.root = root
        self.logger = logger
    }

    /// The same archive for a point named `point`.
    public func named(_ point: String) -> PointArchive {
        PointArchive(point: point, template: template, root: root, logger: logger)
    }

    /// Archives `broadcast` from its first clean point to its end, in a file of its own,
    /// written on the broadcast's home loop.
    public func follow(_ broadcast: BroadcastPoint) {
        let path = template.path(point: point, at: Date(), root: root)
        let loop = broadcast.homeLoop
        loop.execute { [self] in
            let writer: ArchiveWriter
            do {
                writer = try ArchiveWriter(path: path, header: broadcast.header, logger: logger) { [weak self] done in
                    self?.writing.withLockedValue { $0.removeAll { $0.writer === done } }
                }
            } catch {
                logger.error("point \(point): cannot archive to \(path): \(error)")
                return
            }
            writing.withLockedValue { $0.append((writer, loop)) }
            logger.info("point \(point): archiving to \(path)")
            let relay = broadcast.relay(on: loop)
            writer.receive(relay.join(writer))
        }
    }

    /// Completes every file being written (at shutdown); waits until they are.
    public func close() {
        for (writer, loop) in writing.withLockedValue({ $0 }) {
            try? loop.submit { writer.finish() }.wait()
        }
    }

    /// The files being written now.
    public var paths: [String] { writing.withLockedValue { $0.map(\.writer.path) } }
}
