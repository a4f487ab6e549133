import ASF
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// How one protocol's player opens a URL for a session.
protocol LoadDriver: Sendable {
    /// Connects and starts playing every stream from the start; the packets go to `session`.
    func open(_ url: URL, session: LoadSession, group: EventLoopGroup) async throws -> LoadPlayback
}

/// One session's playback, which its profile drives.
protocol LoadPlayback: Sendable {
    /// The content's length in seconds; nil for a broadcast.
    var duration: Double? { get }
    /// Succeeds at the content's end; fails when the playback cannot go on (its connection
    /// closed, an error).
    var ended: EventLoopFuture<Void> { get }
    /// Plays on from `seconds` into the content. Packets sent before do not count.
    func seek(to seconds: Double) async throws
    /// Switches to the content's next alternative stream; the session's pending action is
    /// answered by the first payload of that stream.
    func switchStreams() async throws
    func close() async
}

extension LoadPlayback {
    /// Waits `interval` while playing: true when it passed, false when the content ended first.
    func plays(for interval: TimeAmount) async throws -> Bool {
        let loop = ended.eventLoop
        let result = loop.makePromise(of: Bool.self)
        let timer = loop.scheduleTask(in: interval) { result.succeed(true) }
        ended.whenComplete { outcome in
            timer.cancel()
            result.completeWith(outcome.map { false })
        }
        return try await result.futureResult.get()
    }
}

/// Receive buffers of a fixed 16 KiB for the stream connections. NIO's adaptive ones grow to
/// 64 KiB and a connection keeps two: at 10,000 WMSP sessions the tool reached 1.4 GB, and the
/// kernel zeroing those fresh pages during the ramp held up its loops (first packet p99 100-300
/// ms; 25-60 ms with these, 620 MB).
enum ReceiveBuffers {
    static let allocator = FixedSizeRecvByteBufferAllocator(capacity: 16 << 10)
    /// The kernel's receive buffer of a WMSP stream connection (SO_RCVBUF), which it would
    /// otherwise grow to megabytes: when the tool falls behind, what is unread waits at the
    /// server instead of filling loopback buffers past the kernel's TCP memory limits
    /// (`tcp_mem`), where pruning queues and dropping segments stalled every session.
    static let socketBytes = 128 << 10
}

/// A server's address, resolved once: connecting by name would run getaddrinfo on a dispatch
/// thread for every connection, thousands a second.
enum ServerAddress {
    private static let resolved = NIOLockedValueBox<[String: SocketAddress]>([:])

    static func resolve(host: String, port: Int) throws -> SocketAddress {
        let key = "\(host):\(port)"
        if let known = resolved.withLockedValue({ $0[key] }) { return known }
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        resolved.withLockedValue { $0[key] = address }
        return address
    }

    /// Where a session connects from: to a loopback server, one of 127.0.0.1 to 127.0.0.16 in
    /// turn. From 127.0.0.1 alone, a test's connections and the last test's in TIME_WAIT share
    /// about 28,000 ephemeral ports: at 15,000 sessions the kernel's search for a free one
    /// (`__inet_hash_connect`) took 43 % of the machine and stalled the ramp for a second.
    static func source(for session: LoadSession, to server: SocketAddress) -> SocketAddress? {
        guard server.protocol == .inet, server.ipAddress?.hasPrefix("127.") == true else { return nil }
        return loopbackSources[session.index % loopbackSources.count]
    }

    private static let loopbackSources = (1...16).map { try! SocketAddress(ipAddress: "127.0.0.\($0)", port: 0) }
}

/// The streams a switch profile goes through: the content's video streams (its bit rates) when
/// it has several, else its audio streams; the other streams stay selected.
struct StreamAlternatives: Sendable {
    let all: [UInt8]
    let alternatives: [UInt8]
    private(set) var current = 0

    /// Nil when there are no two streams of one kind to switch between.
    init?(_ header: ASFHeader) {
        all = header.streams.map(\.streamNumber)
        let video = header.streams.filter { $0.kind == .video }.map(\.streamNumber)
        let audio = header.streams.filter { $0.kind == .audio }.map(\.streamNumber)
        guard let alternatives = [video, audio].first(where: { $0.count > 1 }) else { return nil }
        self.alternatives = alternatives
    }

    /// Moves to the next alternative; returns it.
    mutating func next() -> UInt8 {
        current = (current + 1) % alternatives.count
        return alternatives[current]
    }

    /// Every stream that is not an alternative, and the current alternative.
    var selection: Set<UInt8> { Set(all.filter { !alternatives.contains($0) } + [alternatives[current]]) }
}

extension LoadPlan.Profile {
    /// Runs this profile for one session until its content ends or an interval after its last
    /// action (returns), it fails (throws), or the test stops it (its connections close).
    func run(_ driver: LoadDriver, url: URL, session: LoadSession, group: EventLoopGroup, interval: TimeAmount, actions: Int) async throws {
        var done = 0
        switch self {
        case .play:
            try await driver.open(url, session: session, group: group).ended.get()
        case .seek:
            let playback = try await driver.open(url, session: session, group: group)
            guard let duration = playback.duration else {
                await playback.close()
                throw LoadFailure("not seekable (a broadcast)")
            }
            // Positions that leave two intervals and more of content (its end can come sooner
            // than its duration says: send times run ahead of presentation), else the start.
            let span = duration - 2 * Double(interval.nanoseconds) / 1e9 - 3
            while try await playback.plays(for: interval), done < actions {
                session.actionAsked(restartsPlay: true)
                try await playback.seek(to: span > 0 ? Double.random(in: 0..<span) : 0)
                done += 1
            }
            await playback.close()
        case .openClose:
            // An opening lasts the interval: content that ends sooner (a download) is not reopened before.
            while true {
                let opened = NIODeadline.now()
                let playback = try await driver.open(url, session: session, group: group)
                let cutShort = !(try await playback.plays(for: interval))
                await playback.close()
                if cutShort, case let rest = opened + interval - .now(), rest > .zero { try await Task.sleep(nanoseconds: UInt64(rest.nanoseconds)) }
                guard !session.isStopping, done < actions else { return }
                session.actionAsked(restartsPlay: true)
                done += 1
            }
        case .switchStreams:
            let playback = try await driver.open(url, session: session, group: group)
            // Down to one alternative first; the timed switches start an interval later.
            try await playback.switchStreams()
            while try await playback.plays(for: interval), done < actions {
                session.actionAsked(restartsPlay: false)
                try await playback.switchStreams()
                done += 1
            }
            await playback.close()
        }
    }
}
