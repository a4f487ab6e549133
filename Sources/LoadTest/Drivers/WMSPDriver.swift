import ASF
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import WMSP

/// A Windows Media HTTP player (MS-WMSP).
///
/// Non-pipelined: each Play (2.2.2.6) is a GET on a connection of its own whose response is the
/// header and the $D frames; a seek is a new Play with the session's client-id and a stream-time,
/// a switch a SelectStream (2.2.2.9) POST on another connection. Pipelined (3.2): every request
/// goes on one kept-open HTTP/1.1 connection; a seek is Stop then Play, and a SelectStream ends
/// the data response and carries the data on in its own.
struct WMSPDriver: LoadDriver {
    var pipelined: Bool

    func open(_ url: URL, session: LoadSession, group: EventLoopGroup) async throws -> LoadPlayback {
        let playback = WMSPPlayback(url: url, session: session, group: group, pipelined: pipelined)
        do {
            try await playback.start()
        } catch {
            playback.failed(error)
            throw error
        }
        return playback
    }
}

final class WMSPPlayback: LoadPlayback, @unchecked Sendable {
    let url: URL
    let session: LoadSession
    let group: EventLoopGroup
    let pipelined: Bool
    private let endedPromise: EventLoopPromise<Void>
    private let headerPromise: EventLoopPromise<ASFHeader>
    private let state = NIOLockedValueBox<(connection: (Channel, WMSPFrameReader)?, clientID: UInt32?, header: ASFHeader?,
                                           alternatives: StreamAlternatives?)>((nil, nil, nil, nil))
    let guid = UUID().uuidString

    init(url: URL, session: LoadSession, group: EventLoopGroup, pipelined: Bool) {
        self.url = url
        self.session = session
        self.group = group
        self.pipelined = pipelined
        let loop = group.next()
        endedPromise = loop.makePromise()
        headerPromise = loop.makePromise()
    }

    var ended: EventLoopFuture<Void> { endedPromise.futureResult }
    private var path: String { url.path.isEmpty ? "/" : url.path + (url.query.map { "?" + $0 } ?? "") }

    var duration: Double? {
        guard let header = state.withLockedValue({ $0.header }), !header.fileProperties.flags.contains(.broadcast) else { return nil }
        return Double(header.fileProperties.durationMilliseconds) / 1000
    }

    /// The first Play: connected, answered, and the header received.
    func start() async throws {
        try await play(from: 0)
        let header = try await headerPromise.futureResult.get()
        session.update { $0.contentBitsPerSecond = header.fileProperties.maximumBitrate }
    }

    func seek(to seconds: Double) async throws {
        if pipelined, let (channel, reader) = state.withLockedValue({ $0.connection }) {
            // 3.2.5.10 then 3.2.5.6: the data of the response after the Stop's reply counts.
            try await channel.eventLoop.submit { reader.countFrom = reader.responses + 2 }.get()
            try await request(on: channel, pragmas: ["xStopStrm=1"], method: .POST).get()
        }
        try await play(from: UInt64(seconds * 1000))
    }

    func switchStreams() async throws {
        let header = try await headerPromise.futureResult.get()
        let (target, selection) = try state.withLockedValue { s -> (UInt8, Set<UInt8>) in
            var alternatives = try s.alternatives ?? StreamAlternatives(header) ?? { throw LoadFailure("nothing to switch between") }()
            let target = alternatives.next()
            s.alternatives = alternatives
            return (target, alternatives.selection)
        }
        let pragmas = Self.streamSwitch(selection, header)
        guard let (channel, reader) = state.withLockedValue({ $0.connection }) else { throw LoadFailure("not playing") }
        try await channel.eventLoop.submit { reader.awaiting = target }.get()
        if pipelined {
            try await request(on: channel, pragmas: pragmas).get()
        } else {
            let id = state.withLockedValue { $0.clientID }
            var client = WMSPClient(group: group, host: url.host ?? "127.0.0.1", port: url.port ?? 80)
            client.userAgent = Self.userAgent
            let reply = try await client.request(path, pragmas: pragmas + (id.map { ["client-id=\($0)"] } ?? []), method: .POST)
            guard reply.head.status == .ok else { throw LoadFailure("SelectStream: HTTP \(reply.head.status.code)") }
        }
    }

    func close() async {
        let channel = state.withLockedValue { s in
            defer { s.connection = nil }
            return s.connection?.0
        }
        try? await channel?.close()
        endedPromise.fail(LoadFailure("closed"))
    }

    /// A Play from `milliseconds` (2.2.2.6): on the kept-open connection when pipelined, else on
    /// a new one that replaces the current, for a new session (our server does not let a Play
    /// take over a session that is streaming).
    private func play(from milliseconds: UInt64) async throws {
        var pragmas = ["no-cache,rate=1.000000,stream-time=\(milliseconds),stream-offset=4294967295:4294967295,request-context=2,max-duration=0",
                       "xPlayStrm=1", "xClientGUID={\(guid)}"]
        let (existing, header, selection) = state.withLockedValue { ($0.connection, $0.header, $0.alternatives?.selection) }
        if let selection, let header { pragmas += Self.streamSwitch(selection, header) }
        if pipelined { pragmas.append("version11-enabled=1") }
        if pipelined, let (channel, _) = existing {
            return try await request(on: channel, pragmas: pragmas).get()
        }
        if let (old, oldReader) = existing {
            try? await old.eventLoop.submit { oldReader.countFrom = .max }.get()
            try? await old.close()
        }
        let reader = WMSPFrameReader(playback: self)
        let server = try ServerAddress.resolve(host: url.host ?? "127.0.0.1", port: url.port ?? 80)
        // Connected, the request goes out at once on the channel's loop: the times measured
        // are the server's, not this process's hops between its tasks and loops.
        try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelOption(.recvAllocator, value: ReceiveBuffers.allocator)
            .channelOption(.socketOption(.so_rcvbuf), value: ReceiveBuffers.socketBytes)
            .channelInitializer { [pipelined] channel in
                channel.eventLoop.makeCompletedFuture {
                    if pipelined {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    } else {
                        try channel.pipeline.syncOperations.addHandlers(HTTPRequestEncoder(), ClosingResponseDecoder())
                    }
                    try channel.pipeline.syncOperations.addHandler(reader)
                }
            }
            .connect(to: server, from: ServerAddress.source(for: session, to: server))
            .flatMap { [self] channel in
                session.update { $0.connected(at: .now()) }
                session.own(channel)
                state.withLockedValue { $0.connection = (channel, reader) }
                return request(on: channel, pragmas: pragmas)
            }.get()
    }

    static let userAgent = "NSPlayer/12.0.7601.17514"

    /// The stream-switch pragmas selecting `selection` among the header's streams (2.2.1.4.27).
    private static func streamSwitch(_ selection: Set<UInt8>, _ header: ASFHeader) -> [String] {
        StreamSwitchEntry.pragmas(selecting: Set(selection.map(UInt16.init)), of: header.streams.map { UInt16($0.streamNumber) })
    }

    private func request(on channel: Channel, pragmas: [String], method: HTTPMethod = .GET) -> EventLoopFuture<Void> {
        let host = url.host ?? "127.0.0.1", port = url.port ?? 80
        var headers = HTTPHeaders([("Host", "\(host):\(port)"), ("User-Agent", Self.userAgent), ("Accept", "*/*")])
        for pragma in pragmas { headers.add(name: "Pragma", value: pragma) }
        headers.add(name: "Connection", value: pipelined ? "Keep-Alive" : "Close")
        if method == .POST { headers.add(name: "Content-Length", value: "0") }
        let head = HTTPRequestHead(version: pipelined ? .http1_1 : .http1_0, method: method, uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        return channel.writeAndFlush(HTTPClientRequestPart.end(nil))
    }

    // From the readers, on their loops.

    func received(clientID: UInt32) {
        state.withLockedValue { $0.clientID = clientID }
    }

    func received(header: ASFHeader) {
        state.withLockedValue { $0.header = $0.header ?? header }
        headerPromise.succeed(header)
    }

    func finished() {
        endedPromise.succeed()
    }

    func failed(_ failure: Error) {
        headerPromise.fail(failure)
        endedPromise.fail(failure)
    }
}

/// One connection's responses: their heads, then frames; only the $D frames of the responses
/// from `countFrom` on count for the session. A data packet is read whole only while a switch
/// waits for its stream; else its first bytes give its send time (`FrameParser.payloadPrefix`).
final class WMSPFrameReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    private let playback: WMSPPlayback
    private var parser = FrameParser()
    /// Responses begun on this connection.
    var responses = 0
    /// The first response whose data counts; `.max` once the connection is replaced.
    var countFrom = 1
    /// The stream a switch waits for.
    var awaiting: UInt8?
    private var failure: LoadFailure?

    init(playback: WMSPPlayback) {
        self.playback = playback
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            responses += 1
            parser = FrameParser()
            guard head.status == .ok else {
                failure = LoadFailure("HTTP \(head.status.code)")
                context.close(promise: nil)
                return
            }
            if countFrom != .max, let id = Pragma(headerValues: head.headers["Pragma"]).number("client-id").flatMap({ UInt32(exactly: $0) }) {
                playback.received(clientID: id)
            }
        case let .body(bytes):
            parser.append(bytes)
            do {
                try readFrames()
            } catch {
                failure = LoadFailure("malformed frames")
                context.close(promise: nil)
            }
        case .end:
            break
        }
    }

    /// The frames this read completed, counted under one lock: they arrived together.
    private func readFrames() throws {
        let now = NIODeadline.now()
        let counts = responses >= countFrom
        var awaited = awaiting
        var header: ASFHeader?
        var ended = false
        defer {
            awaiting = awaited
            if let header { playback.received(header: header) }
            if ended { playback.finished() }
        }
        try playback.session.update { record in
            while let frame = try parser.next(readingWhole: { $0 == Frame.header || ($0 == Frame.data && awaited != nil) }) {
                switch frame.type {
                case Frame.header:
                    header = header ?? (try? ASFHeader(parsing: frame.payload))
                case Frame.data where counts:
                    let sendTime = (try? DataPacket.sendTime(of: frame.payload)) ?? 0
                    // AFFlags counts the $D frames sent (2.2.3.1.2); LocationId skips the packets a selection leaves out.
                    record.packet(sendTime: sendTime, sequence: UInt32(frame.afFlags), modulus: 256, bytes: frame.payloadLength, at: now)
                    if let target = awaited, let packet = try? DataPacket(parsing: frame.payload), packet.streamNumbers.contains(target) {
                        awaited = nil
                        record.actionAnswered(at: now)
                    }
                case Frame.endOfStream where counts:
                    ended = true
                default:
                    break
                }
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard countFrom != .max else { return }
        playback.failed(failure ?? LoadFailure("connection closed"))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failure = failure ?? LoadFailure("\(error)")
        context.close(promise: nil)
    }
}
