import ASF
import Foundation
import Logging
import NIOCore
import Streaming

/// One RTSP connection and its session (MS-RTSP 3.2): requests are parsed, checked against the
/// session's state machine and answered; the media goes out as RTP over this connection
/// (interleaved) or over the loop's UDP endpoint. Content and SETUP are in `+Setup`, playing,
/// RTP and RTCP in `+Play`.
public final class RTSPServerHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    let server: RTSPServerContext
    let scheduler: PacingScheduler
    /// The loop's UDP endpoint; nil when UDP transport is not offered.
    let endpoint: RTPEndpoint?
    var logger: Logger
    var context: ChannelHandlerContext?
    var machine = RTSPSessionStateMachine()

    private let parser = RTSPMessageParser()
    private var pending = ByteBuffer()
    /// A request waits for work off the loop (a remux): later requests wait behind it.
    private var busy = false
    private var idleTimer: Scheduled<Void>?
    private var ownCSeq = 0

    // The content and its set-up RTP sessions (+Setup).
    var content: Content? { didSet { updateSelection() } }
    /// `rtsp://host:port/path` of the content: the base of stream URLs.
    var contentURL = ""
    /// The client's User-Agent, which says how large a header it takes (`ClientHeaderLimit.rtsp`).
    var userAgent = ""
    /// Where in the content the latest Play began, for the access log.
    var startSeconds = 0
    var streams: [SetUpStream] = [] { didSet { updateSelection() } }
    var retransmission: SetUpStream?
    var packetizer: RTPPacketizer?
    let retransmissionSSRC = UInt32.random(in: 1...UInt32.max)
    /// Server-side playlists (MS-RTSP 3.2.1 Playlist-gen-id): the current entry's identifier, 0
    /// for a single file.
    var playlistGenID = 0
    /// The header of an entry announced after the first; its streams are the ones to set up.
    var entryHeader: ASFHeader? { didSet { updateSelection() } }
    /// The playback waiting for the Play that follows an Announce, and the packets it read past
    /// the new entry's header.
    var announced: (playback: PlaySession, read: [StreamPacket])?
    /// The first SETUP after an Announce replaces the streams set up for the previous entry.
    var reselecting = false
    /// The header whose streams the client sets up.
    var currentHeader: ASFHeader? { entryHeader ?? content?.header }
    /// The ASF streams the client selected; nil when that is all of them. Kept in step with the
    /// streams and the header: a broadcast relay reads it for every session at every turn.
    public internal(set) var selection: Set<UInt8>?

    // Playing (+Play).
    var playback: PlaySession?
    var relay: BroadcastRelay?
    var admission: Admission?
    var socketWait = SocketWait()
    var due: [StreamPacket] = []
    var pieces: [RTPPacketizer.Piece] = []
    /// The last 256 RTP packets over UDP: seconds of a stream, for NACKs (MS-RTSP 3.2.5.10).
    var resend = ResendWindow(capacity: 256)
    var resendBudget = ResendBudget()
    var nextReport = NIODeadline.uptimeNanoseconds(0)
    /// ASF send time of the last packet sent: where PLAY without a Range resumes.
    var position: UInt32 = 0
    var statistics = Statistics()
    /// From the first PLAY to the session's end: the player counts as connected meanwhile.
    var presence: ServerActivity.Presence?

    public init(server: RTSPServerContext, scheduler: PacingScheduler, endpoint: RTPEndpoint?) {
        self.server = server
        self.scheduler = scheduler
        self.endpoint = endpoint
        logger = server.logger
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let remote = context.channel.remoteAddress { logger[metadataKey: "client"] = "\(remote)" }
        touch()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        endSession(reason: "connection closed")
        idleTimer?.cancel()
        self.context = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        pending.writeBuffer(&bytes)
        processPending()
    }

    private func processPending() {
        guard let context else { return }
        do {
            while !busy, let message = try parser.parse(&pending) {
                switch message {
                case let .request(request):
                    touch()
                    if let agent = request["User-Agent"] { userAgent = agent }
                    handle(request)
                case let .response(response):
                    receiveResponse(response)
                case let .interleaved(channel, payload):
                    if streams.contains(where: { $0.target.interleavedRTCP == channel }) { receiveRTCP(payload) }
                }
            }
            pending.discardReadBytes()
        } catch let error as RTSPMessageParser.Malformed {
            logger.notice("\(error.status): \(error)")
            send(RTSPResponse(status: error.status, reason: Self.reason(error.status), headers: [("Server", RTSPServerContext.serverHeader)]))
            context.close(promise: nil)
        } catch {
            context.close(promise: nil)
        }
    }

    /// Holds back the requests that follow until `future` completes (a remux off the loop).
    func suspendRequests(until future: EventLoopFuture<Void>) {
        busy = true
        future.assumeIsolated().whenComplete { [self] _ in
            busy = false
            processPending()
        }
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, playback != nil, socketWait.end() {
            scheduler.schedule(self, at: context.eventLoop.now)
        }
        context.fireChannelWritabilityChanged()
    }

    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.info("connection error: \(error)")
        context.close(promise: nil)
    }

    // MARK: Requests

    private func handle(_ request: RTSPRequest) {
        guard let cseq = request.cseq else {
            logger.notice("400: \(request.method) without CSeq")
            return send(RTSPResponse(status: 400, reason: Self.reason(400), headers: [("Server", RTSPServerContext.serverHeader)]))
        }
        let reply = Reply(cseq: cseq, handler: self)
        let named = request["Session"].map { String($0.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces) }
        if case let .refuse(status) = machine.check(session: named) {
            logger.notice("\(status): \(request.method) for session \(named ?? "-")")
            return reply(status)
        }
        switch request.method {
        case "OPTIONS":
            reply(200, [("Public", "DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, OPTIONS, GET_PARAMETER, SET_PARAMETER"),
                        ("Supported", RTSPServerContext.supported)])
        case "DESCRIBE":
            describe(request, reply: reply)
        case "SETUP":
            setup(request, reply: reply)
        case "PLAY":
            play(request, reply: reply)
        case "PAUSE":
            pause(reply: reply)
        case "TEARDOWN" where Self.isSelectStream(request), "SET_PARAMETER" where Self.isSelectStream(request):
            selectStream(request, reply: reply)
        case "TEARDOWN":
            guard machine.teardown() == .accept else { return reply(455) }
            endSession(reason: "teardown")
            reply(200)
        case "GET_PARAMETER":
            reply(200)  // KeepAlive (MS-RTSP 2.2.7.5)
        case "SET_PARAMETER":
            setParameter(request, reply: reply)
        default:
            logger.notice("501: \(request.method)")
            reply(501)
        }
    }

    /// LogConnect and LogPlay (MS-RTSP 2.2.7.6, 2.2.7.7) go to the access log; anything else,
    /// including GStreamer's echo of our EndOfStream (CLIENTS.md 3.4), is acknowledged.
    private func setParameter(_ request: RTSPRequest, reply: Reply) {
        let type = (request["Content-Type"] ?? "").lowercased()
        if type.hasPrefix("application/x-wms-logconnectstats") || type.hasPrefix("application/x-wms-logplaystats") {
            let text = String(buffer: request.body).trimmingCharacters(in: .whitespacesAndNewlines)
            do {
                let entry = text.hasPrefix("<") ? try WMLog(xml: text) : try WMLog(w3c: text)
                server.accessLog.write(entry.withServerFields(clientIP: context?.channel.remoteAddress?.ipAddress ?? "-",
                                                              serverIP: context?.channel.localAddress?.ipAddress ?? "-"))
            } catch {
                logger.notice("400: log data: \(error)")
                return reply(400)
            }
        }
        reply(200)
    }

    /// A reply to one request: CSeq, Server, and the Session once there is one.
    struct Reply {
        let cseq: String
        unowned let handler: RTSPServerHandler

        func callAsFunction(_ status: Int, _ headers: [(name: String, value: String)] = [], body: String = "") {
            var all: [(name: String, value: String)] = [("CSeq", cseq), ("Server", RTSPServerContext.serverHeader)]
            if let id = handler.machine.sessionID {
                all.append(("Session", "\(id);timeout=\(handler.server.sessionTimeout.nanoseconds / 1_000_000_000)"))
            }
            handler.send(RTSPResponse(status: status, reason: RTSPServerHandler.reason(status), headers: all + headers, body: body))
        }
    }

    func send(_ response: RTSPResponse) {
        guard let context else { return }
        var b = context.channel.allocator.buffer(capacity: 256 + response.body.utf8.count)
        response.write(to: &b)
        context.writeAndFlush(wrapOutboundOut(b), promise: nil)
    }

    /// A request of the server's own (EndOfStream: MS-RTSP 2.2.7.3).
    func sendRequest(method: String, uri: String, headers: [(name: String, value: String)], body: String) {
        guard let context else { return }
        ownCSeq += 1
        var b = context.channel.allocator.buffer(capacity: 512 + body.utf8.count)
        b.writeString("\(method) \(uri) RTSP/1.0\r\nCSeq: \(ownCSeq)\r\nServer: \(RTSPServerContext.serverHeader)\r\n")
        for (name, value) in headers { b.writeString("\(name): \(value)\r\n") }
        b.writeString("Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
        context.writeAndFlush(wrapOutboundOut(b), promise: nil)
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 302: "Moved Temporarily"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 413: "Request Entity Too Large"
        case 415: "Unsupported Media Type"
        case 431: "Request Header Fields Too Large"
        case 454: "Session Not Found"
        case 455: "Method Not Valid in This State"
        case 457: "Invalid Range"
        case 459: "Aggregate Operation Not Allowed"
        case 461: "Unsupported Transport"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        default: "Internal Server Error"
        }
    }

    // MARK: Idle timeout (MS-RTSP 3.2.2)

    /// Restarts the Idle-Timeout timer: a request or RTCP came.
    func touch() {
        guard let context else { return }
        idleTimer?.cancel()
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: server.sessionTimeout) { [self] in
            // Over TCP a playing session lives as long as its connection (3.2.5.8).
            if machine.state == .playing, streams.first?.transport.lower == .tcp { return touch() }
            logger.notice("no request for \(server.sessionTimeout.nanoseconds / 1_000_000_000) s: session ended")
            endSession(reason: "idle timeout")
            self.context?.close(promise: nil)
        }
    }
}
