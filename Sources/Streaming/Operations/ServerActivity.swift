import Atomics
import CoreMetrics
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// What the server is doing now, across engines: the players connected, what they were sent, and
/// a way to disconnect each. The systemd STATUS= line, the admin API and the Prometheus counters
/// read it. A play session holds a `Presence` from its first packet to its end, and adds what it
/// sends there.
public final class ServerActivity: Sendable {
    private let players = ManagedAtomic<Int>(0)
    private let bytes = ManagedAtomic<Int>(0)
    private let nextID = ManagedAtomic<Int>(1)
    private let present = NIOLockedValueBox<[Int: Presence.Entry]>([:])
    private let metrics: (any MetricsFactory)?
    /// What brings the counters kept elsewhere up to date, just before /metrics is read.
    private let collectors = NIOLockedValueBox<[@Sendable () -> Void]>([])
    public let started = Date()

    /// With `metrics`, players, connections and bytes are counted there too, per point, protocol
    /// and transport (WMS's "connected players", "connection rate" and "player send rate"), and
    /// the time from each player's connection to its first data.
    public init(metrics: (any MetricsFactory)? = nil) {
        self.metrics = metrics
    }

    public var playersConnected: Int { players.load(ordering: .relaxed) }
    /// Media and framing bytes sent to players since the start.
    public var bytesSent: Int { bytes.load(ordering: .relaxed) }

    /// Who a player is, as the admin API lists it.
    public struct Player: Sendable {
        /// `wmsp`, `rtsp` or `mms`.
        public var protocolName: String
        /// `tcp` or `udp`: how the data goes.
        public var transport: String
        public var point: String
        public var path: String
        public var client: String
        /// Its User-Agent, or MMS's player information.
        public var player: String

        public init(protocolName: String, transport: String, point: String, path: String, client: String, player: String) {
            (self.protocolName, self.transport, self.point, self.path, self.client, self.player) =
                (protocolName, transport, point, path, client, player)
        }
    }

    /// A connected player at one moment.
    public struct Snapshot: Sendable {
        public var id: Int
        public var player: Player
        public var connected: Date
        public var bytesSent: Int
        /// The ASF send time of the last packet sent, in seconds: the time into an on-demand
        /// file, or into a broadcast's stream; nil before the first.
        public var position: Double?
    }

    /// A player starts playing; it is counted until its presence is let go of. `disconnect`
    /// ends its connection from any thread (the admin API's "disconnect"). `connected` is when
    /// its connection was accepted, for the time to its first data.
    public func arrive(_ player: Player, connected: NIODeadline? = nil, disconnect: @escaping @Sendable () -> Void) -> Presence {
        Presence(self, player: player, accepted: connected, disconnect: disconnect)
    }

    /// A counter of /metrics beside the players' (an encoder's bytes, a multicast group's
    /// datagrams, the scheduler's late sends); nil without the admin listener.
    public func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Counter? {
        metrics.map { Counter(label: label, dimensions: dimensions, factory: $0) }
    }

    /// A gauge of /metrics (the encoders connected to a point); nil without the admin listener.
    public func meter(_ label: String, _ dimensions: [(String, String)] = []) -> Meter? {
        metrics.map { Meter(label: label, dimensions: dimensions, factory: $0) }
    }

    /// Adds `update`, which brings some of /metrics up to date from totals or states kept
    /// elsewhere (the process's file reads, the bandwidth admitted); run at each `collect()`.
    public func whenCollected(_ update: @escaping @Sendable () -> Void) {
        guard metrics != nil else { return }
        collectors.withLockedValue { $0.append(update) }
    }

    /// Runs the updates, just before /metrics is read.
    public func collect() {
        for update in collectors.withLockedValue({ $0 }) { update() }
    }

    /// Every connected player, the longest connected first.
    public var snapshot: [Snapshot] {
        present.withLockedValue { $0.values.map(\.snapshot) }.sorted { $0.id < $1.id }
    }

    /// Disconnects the player with `id`; false when there is none.
    public func disconnect(_ id: Int) -> Bool {
        guard let entry = present.withLockedValue({ $0[id] }) else { return false }
        entry.disconnect()
        return true
    }

    /// One player's place in the count: released with the session that holds it, so an engine
    /// cannot count a player twice or forget one that ended.
    public final class Presence: Sendable {
        private let activity: ServerActivity
        private let id: Int
        private let bytes = ManagedAtomic<Int>(0)
        /// The last packet's send time in milliseconds, -1 before the first.
        private let sendTime = ManagedAtomic<Int>(-1)
        public let connected = Date()
        private let counters: Counters?
        /// The connection's acceptance, until the first data is sent.
        private let since: NIODeadline?
        private let firstSent = ManagedAtomic(false)

        /// The counters of one point, protocol and transport.
        private struct Counters: Sendable {
            var players: Meter
            var bytes: Counter
            var timeToFirstPacket: CoreMetrics.Timer
            /// RTCP receiver reports (RFC 3550 6.4.1), with their loss and jitter.
            var receiverReports: Counter
            var fractionLost: Recorder
            var jitter: CoreMetrics.Timer
            /// Packets players asked to be sent again (MMS over UDP, RTSP's NACKs), and those resent.
            var resendRequests: Counter
            var resent: Counter
            /// Streams that failed under the player: its content unreadable or cut short (WMS's
            /// "stream errors").
            var streamErrors: Counter
        }

        fileprivate struct Entry: Sendable {
            var id: Int
            var player: Player
            var connected: Date
            var bytes: ManagedAtomic<Int>
            var sendTime: ManagedAtomic<Int>
            var disconnect: @Sendable () -> Void
            var snapshot: Snapshot {
                let milliseconds = sendTime.load(ordering: .relaxed)
                return Snapshot(id: id, player: player, connected: connected, bytesSent: bytes.load(ordering: .relaxed),
                                position: milliseconds < 0 ? nil : Double(milliseconds) / 1000)
            }
        }

        fileprivate init(_ activity: ServerActivity, player: Player, accepted: NIODeadline?, disconnect: @escaping @Sendable () -> Void) {
            self.activity = activity
            since = accepted
            id = activity.nextID.loadThenWrappingIncrement(ordering: .relaxed)
            if let factory = activity.metrics {
                let labels = [("point", player.point), ("protocol", player.protocolName), ("transport", player.transport)]
                Counter(label: "asfcast_player_connections_total", dimensions: labels, factory: factory).increment()
                counters = Counters(players: Meter(label: "asfcast_players", dimensions: labels, factory: factory),
                                    bytes: Counter(label: "asfcast_sent_bytes_total", dimensions: labels, factory: factory),
                                    timeToFirstPacket: CoreMetrics.Timer(label: "asfcast_time_to_first_packet_seconds", dimensions: labels, factory: factory),
                                    receiverReports: Counter(label: "asfcast_rtcp_receiver_reports_total", dimensions: labels, factory: factory),
                                    fractionLost: Recorder(label: "asfcast_rtcp_fraction_lost", dimensions: labels, factory: factory),
                                    jitter: CoreMetrics.Timer(label: "asfcast_rtcp_jitter_seconds", dimensions: labels, factory: factory),
                                    resendRequests: Counter(label: "asfcast_resend_requested_packets_total", dimensions: labels, factory: factory),
                                    resent: Counter(label: "asfcast_resent_packets_total", dimensions: labels, factory: factory),
                                    streamErrors: Counter(label: "asfcast_stream_errors_total", dimensions: labels, factory: factory))
                counters?.players.increment()
            } else {
                counters = nil
            }
            let entry = Entry(id: id, player: player, connected: connected, bytes: bytes, sendTime: sendTime, disconnect: disconnect)
            activity.present.withLockedValue { $0[id] = entry }
            activity.players.wrappingIncrement(ordering: .relaxed)
        }

        /// What this player was sent.
        public var bytesSent: Int { bytes.load(ordering: .relaxed) }

        public func sent(_ count: Int) {
            activity.bytes.wrappingIncrement(by: count, ordering: .relaxed)
            bytes.wrappingIncrement(by: count, ordering: .relaxed)
            guard let counters else { return }
            counters.bytes.increment(by: Int64(count))
            if let since, !firstSent.exchange(true, ordering: .relaxed) {
                counters.timeToFirstPacket.recordNanoseconds((NIODeadline.now() - since).nanoseconds)
            }
        }

        /// The player was sent packets up to `sendTime` (milliseconds on the stream's clock).
        public func reached(_ sendTime: UInt32?) {
            guard let sendTime else { return }
            self.sendTime.store(Int(sendTime), ordering: .relaxed)
        }

        /// A receiver report of the player's: the fraction of packets lost since the last one
        /// (0-1) and the interarrival jitter (RFC 3550 6.4.1).
        public func receiverReport(fractionLost: Double, jitterNanoseconds: Int64) {
            guard let counters else { return }
            counters.receiverReports.increment()
            counters.fractionLost.record(fractionLost)
            counters.jitter.recordNanoseconds(jitterNanoseconds)
        }

        /// The player asked for `requested` packets again, and `resent` of them were sent.
        public func resendRequested(_ requested: Int, resent: Int) {
            guard let counters else { return }
            counters.resendRequests.increment(by: Int64(requested))
            counters.resent.increment(by: Int64(resent))
        }

        /// The player's stream failed (its content unreadable or cut short).
        public func streamFailed() {
            counters?.streamErrors.increment()
        }

        deinit {
            counters?.players.decrement()
            activity.present.withLockedValue { _ = $0.removeValue(forKey: id) }
            activity.players.wrappingDecrement(ordering: .relaxed)
        }
    }
}
