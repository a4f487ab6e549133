import ASF
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A publishing point fed by an encoder (`push: true`): while one pushes, its players join a
/// `BroadcastPoint` of the encoder's header and packets; before the first encoder and after the
/// last, there is nothing to play. An encoder that comes back with the same streams (a
/// reconnect, or a new one taking over) goes on with the same broadcast, so its players go on;
/// one with other streams ends the broadcast (its players get the end of the stream) and starts
/// a new one.
public final class LivePoint: @unchecked Sendable {
    public let name: String
    /// Who may push: the point's users, schemes and address lists (its players are not asked).
    public let encoders: PointAccess
    private let home: PacingScheduler
    private let loops: [EventLoop]
    private let batchInterval: TimeAmount
    private let logger: Logger
    /// Where each of its broadcasts is written, if anywhere.
    public let archive: PointArchive?
    /// What else follows each of its broadcasts (its multicast sender).
    private let followers: [any BroadcastFollower]
    private let current = NIOLockedValueBox<(broadcast: BroadcastPoint, feed: LiveFeed)?>(nil)

    /// - Parameters:
    ///   - home: the scheduler its broadcasts run on.
    ///   - loops: every event loop: each keeps the recent packets, so a late joiner on any starts at once.
    public init(name: String, encoders: PointAccess = PointAccess(), home: PacingScheduler, loops: [EventLoop], batchInterval: TimeAmount,
                archive: PointArchive? = nil, followers: [any BroadcastFollower] = [], logger: Logger) {
        self.name = name
        self.encoders = encoders
        self.archive = archive
        self.followers = followers
        self.home = home
        self.loops = loops
        self.batchInterval = batchInterval
        self.logger = logger
    }

    /// A point with this one's settings (encoders, archive) under another name: what a PushSetup
    /// with this point as its Template-URL makes. Its followers stay with this point (a
    /// multicast group carries one point).
    public func made(name: String) -> LivePoint {
        LivePoint(name: name, encoders: encoders, home: home, loops: loops, batchInterval: batchInterval,
                  archive: archive?.named(name), logger: logger)
    }

    /// What players join now; nil while no encoder pushes.
    public var broadcast: BroadcastPoint? { current.withLockedValue { $0?.broadcast } }

    /// An encoder starts with `header`: the feed its packets go to.
    public func begin(header: ASFHeader) -> LiveFeed {
        let (feed, ended) = current.withLockedValue { current -> (LiveFeed, LiveFeed?) in
            if let running = current, !running.feed.isFinished, running.feed.continues(with: header) {
                running.feed.restart()
                return (running.feed, nil)
            }
            let feed = LiveFeed(header: header, logger: logger)
            let broadcast = BroadcastPoint(name: name, header: header, packetSize: feed.packetSize, source: feed, home: home,
                                           batchInterval: batchInterval, logger: logger)
            for loop in loops { _ = broadcast.relay(on: loop) }
            archive?.follow(broadcast)
            for follower in followers { follower.follow(broadcast) }
            broadcast.start()
            defer { current = (broadcast, feed) }
            return (feed, current?.feed)
        }
        ended?.finish()
        if ended != nil { logger.info("point \(name): the encoder's new header has other streams: a new broadcast") }
        return feed
    }

    /// The encoder of `feed` ended: its players get the end once the point has played what it
    /// holds; new players find nothing to play.
    public func end(_ feed: LiveFeed) {
        feed.finish()
        current.withLockedValue { current in
            if current?.feed === feed { current = nil }
        }
    }
}
