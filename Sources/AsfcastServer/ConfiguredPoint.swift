import Multicast
import NIOCore
import Push
import Streaming
import WMSP

/// A point of the configuration as it runs: the publishing point players find, made from its
/// settings (a reload compares them), and what it holds besides, started and ended with it: a
/// pull's connection to its origin, its archive, its multicast sender and its MSBD listener.
final class ConfiguredPoint: @unchecked Sendable {
    let config: ServerConfiguration.Point
    let point: PublishingPoint
    let puller: WMSPPuller?
    let archive: PointArchive?
    let multicast: MulticastPoints.Point?
    /// Bound by the server once the point is in place (`msbd_port`).
    var msbd: Channel?

    init(config: ServerConfiguration.Point, point: PublishingPoint, puller: WMSPPuller? = nil, archive: PointArchive? = nil,
         multicast: MulticastPoints.Point? = nil) {
        self.config = config
        self.point = point
        self.puller = puller
        self.archive = archive
        self.multicast = multicast
    }

    /// What its MSBD clients get: the broadcast playing now.
    var broadcast: BroadcastPoint? {
        switch point.kind {
        case let .broadcast(broadcast): broadcast
        case let .live(live): live.broadcast
        default: nil
        }
    }

    /// Whether its players follow a broadcast (a file's loop, a push, a pull).
    var isBroadcast: Bool {
        switch point.kind {
        case .broadcast, .live: true
        default: false
        }
    }

    /// Its sources begin: the pull connects to its origin, the multicast sender beacons.
    func start() {
        puller?.start()
        multicast?.sender.start()
    }

    /// What it holds is let go, its archive completed.
    private func release() {
        msbd?.close(promise: nil)
        puller?.stop()
        archive?.close()
        multicast?.sender.stop()
    }

    /// A reload removed or replaced it, the API stopped it, or the server stops: its players get
    /// the end of its stream (a broadcast's, a pull's, a push's, whose encoder's connection
    /// closes) and what it holds is let go.
    func end(pushSessions: PushSessions) {
        switch point.kind {
        case let .broadcast(broadcast): broadcast.stop()
        case let .live(live): pushSessions.end(pushingTo: live)
        default: break
        }
        release()
    }
}
