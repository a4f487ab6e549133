import ASF
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Streaming

/// A broadcast point's source pulled over WMSP (PUSH.md 3): from an encoder that serves its
/// stream (Windows Media Encoder's "pull from encoder", usually port 8080), or from a publishing
/// point of another server, as a WMS distribution server relays its origin. It plays the URL as
/// WMS does, with `User-Agent: NSServer`, so that the origin sends every stream unthinned
/// (MS-WMSP 3.2.5.6), and feeds what arrives to its `LivePoint`: `$H` starts the stream, `$C`
/// and the next `$H` change its header, `$E` ends it. When the connection drops or goes silent
/// it connects again, backing off; the players wait meanwhile, for up to `grace`, and go on
/// where the stream goes on.
public final class WMSPPuller: @unchecked Sendable {
    public let host: String
    public let port: Int
    public let path: String
    private let live: LivePoint
    private let loop: EventLoop
    private let group: EventLoopGroup
    private let grace: TimeAmount
    private var logger: Logger
    // On `loop` only.
    private var channel: Channel?
    private var feed: LiveFeed?
    private var failures = 0
    private var stopped = false
    private var graceTimer: Scheduled<Void>?

    /// WMS's distribution server names itself so (MS-WMSP 2.2.1.8 <46>); any NSServer version will do.
    public static let userAgent = "NSServer/9.0.0.3171"
    /// Waits before each attempt to connect again, the last repeated.
    static let backOff: [TimeAmount] = [.milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(15)]
    /// An origin silent this long is given up and connected to again (Stream Pump: 15 s).
    static let silence = TimeAmount.seconds(15)

    public struct BadURL: Error, CustomStringConvertible {
        public var description: String
    }

    /// - Parameter url: `http://host[:port]/path` or `mmsh://host[:port]/path`.
    public init(url: String, live: LivePoint, group: EventLoopGroup, grace: TimeAmount = .seconds(60), logger: Logger) throws {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), ["http", "mmsh"].contains(scheme),
              let host = parts.host, !host.isEmpty else {
            throw BadURL(description: "\(url): not an http:// or mmsh:// URL")
        }
        self.host = host
        port = parts.port ?? 80
        path = (parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath) + (parts.percentEncodedQuery.map { "?" + $0 } ?? "")
        self.live = live
        self.group = group
        loop = group.next()
        self.grace = grace
        self.logger = logger
        self.logger[metadataKey: "origin"] = "\(host):\(port)\(path)"
    }

    public func start() {
        loop.execute { self.connect() }
    }

    public func stop() {
        try? loop.submit {
            self.stopped = true
            self.channel?.close(promise: nil)
            self.endStream("the server stops")
        }.wait()
    }

    // MARK: On `loop`

    private func connect() {
        guard !stopped else { return }
        let bootstrap = ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(PullHandler(puller: self))
                }
            }
        bootstrap.connect(host: host, port: port).whenComplete { [self] result in
            switch result {
            case let .success(channel):
                self.channel = channel
                channel.writeAndFlush(HTTPClientRequestPart.head(request()), promise: nil)
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            case let .failure(error):
                retry("cannot connect: \(error)")
            }
        }
    }

    /// The Play of MS-WMSP 4.11, as WMS's distribution server sends it (PUSH.md 3.1).
    private func request() -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: port == 80 ? host : "\(host):\(port)")
        headers.add(name: "Accept", value: "*/*")
        headers.add(name: "User-Agent", value: Self.userAgent)
        headers.add(name: "Pragma", value: "no-cache,rate=1.000,stream-time=0,stream-offset=4294967295:4294967295,packet-num=4294967295,max-duration=0")
        headers.add(name: "Pragma", value: "xPlayStrm=1")
        headers.add(name: "Pragma", value: "xClientGUID={\(UUID().uuidString)}")
        headers.add(name: "Supported", value: "com.microsoft.wm.srvppair, com.microsoft.wm.sswitch, com.microsoft.wm.predstrm")
        return HTTPRequestHead(version: .http1_0, method: .GET, uri: path, headers: headers)
    }

    /// The origin answered: the stream flows (or not).
    fileprivate func answered(_ head: HTTPResponseHead) -> Bool {
        guard head.status == .ok else {
            channel?.close(promise: nil)
            logger.notice("origin answers \(head.status.code) \(head.status.reasonPhrase)")
            return false
        }
        return true
    }

    /// A whole header (`$H` pieces gathered): the stream starts or changes.
    fileprivate func received(header bytes: ByteBuffer) {
        do {
            let header = try ASFHeader(parsing: bytes)
            let resumed = feed != nil
            graceTimer?.cancel()
            graceTimer = nil
            feed = live.begin(header: header)
            if failures > 0 || resumed { logger.notice("origin back after \(failures) attempts: the point goes on") }
            failures = 0
            logger.info("pulling \(header.streams.count) streams, \(header.fileProperties.maximumPacketSize)-byte packets")
        } catch {
            logger.error("the origin's header does not parse: \(error)")
            channel?.close(promise: nil)
        }
    }

    fileprivate func received(packet bytes: ByteBuffer) {
        do {
            try feed?.append(bytes)
        } catch {
            logger.debug("a packet from the origin skipped: \(error)")
        }
    }

    /// `$E`: the origin's stream ended (its encoder stopped, say): so does the point's; it is
    /// tried again, as the origin may start another.
    fileprivate func receivedEnd(reason: UInt32) {
        endStream("the origin's stream ended")
        channel?.close(promise: nil)
    }

    fileprivate func closed(_ reason: String) {
        channel = nil
        retry(reason)
    }

    private func retry(_ reason: String) {
        guard !stopped else { return }
        failures += 1
        let delay = Self.backOff[min(failures - 1, Self.backOff.count - 1)]
        if failures == 1 || failures % 10 == 0 {
            logger.warning("\(reason); connecting again in \(delay.nanoseconds / 1_000_000) ms (attempt \(failures))")
        }
        // Players wait for the origin's return, for a while.
        if feed != nil, graceTimer == nil {
            graceTimer = loop.scheduleTask(in: grace) { [self] in
                graceTimer = nil
                endStream("no origin for \(grace.nanoseconds / 1_000_000_000) s")
            }
        }
        loop.scheduleTask(in: delay) { [self] in connect() }
    }

    private func endStream(_ reason: String) {
        graceTimer?.cancel()
        graceTimer = nil
        guard let feed else { return }
        self.feed = nil
        live.end(feed)
        logger.notice("point \(live.name) ended: \(reason)")
    }
}

/// One connection's response: its frames, the `$H` pieces gathered into the whole header.
private final class PullHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    private let puller: WMSPPuller
    private var parser = FrameParser()
    private var header = ByteBuffer()
    private var collecting = true
    private var silence: Scheduled<Void>?
    private var lastRead = NIODeadline.now()
    private var reason = "the origin closed the connection"

    init(puller: WMSPPuller) {
        self.puller = puller
    }

    func channelActive(context: ChannelHandlerContext) {
        watch(context)
        context.fireChannelActive()
    }

    /// Closes a connection on which nothing came for `WMSPPuller.silence`.
    private func watch(_ context: ChannelHandlerContext) {
        silence = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastRead + WMSPPuller.silence) { [self] in
            if context.eventLoop.now >= lastRead + WMSPPuller.silence {
                reason = "nothing from the origin for \(WMSPPuller.silence.nanoseconds / 1_000_000_000) s"
                context.close(promise: nil)
            } else {
                watch(context)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = context.eventLoop.now
        switch unwrapInboundIn(data) {
        case let .head(head):
            if !puller.answered(head) { reason = "the origin refused: \(head.status.code)" }
        case let .body(bytes):
            parser.append(bytes)
            do {
                while let frame = try parser.next() { handle(frame) }
            } catch {
                reason = "the origin's stream is malformed: \(error)"
                context.close(promise: nil)
            }
        case .end:
            context.close(promise: nil)
        }
    }

    private func handle(_ frame: ReceivedFrame) {
        switch frame.type {
        case Frame.header:
            // 2.2.3.5: a header may come in several $H packets; it is whole once the Header
            // Object's size and the Data Object's first 50 bytes are there.
            if !collecting { header.clear(); collecting = true }
            var payload = frame.payload
            header.writeBuffer(&payload)
            if let size = header.getInteger(at: header.readerIndex + 16, endianness: .little, as: UInt64.self),
               UInt64(header.readableBytes) >= size + UInt64(DataObjectHeader.size) {
                collecting = false
                puller.received(header: header)
                header = ByteBuffer()
            }
        case Frame.data:
            puller.received(packet: frame.payload)
        case Frame.streamChange:
            header.clear()
            collecting = true
        case Frame.endOfStream:
            // Reason 1 (2.2.3.4): an entry ended, a $C follows.
            if frame.reason != 1 {
                reason = "the origin's stream ended"
                puller.receivedEnd(reason: frame.reason ?? 0)
            }
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        silence?.cancel()
        puller.closed(reason)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        reason = "connection error: \(error)"
        context.close(promise: nil)
    }
}
