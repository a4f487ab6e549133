import ASF
import Foundation
import Logging
import NIOCore
import Streaming

/// One RTSP connection (MS-RTSP 3.2): DESCRIBE with the MS-SDP description, SETUP of
/// TCP-interleaved transports, PLAY paced by the loop's scheduler with the ASF packets as RTP on
/// the first set-up stream's channel, PAUSE, keep-alives and TEARDOWN.
public final class RTSPServerHandler: ChannelInboundHandler, PacedSession {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let server: RTSPServerContext
    private let scheduler: PacingScheduler
    private var logger: Logger
    private let parser = RTSPMessageParser()
    private var pending = ByteBuffer()
    private var context: ChannelHandlerContext?

    private var sessionID: String?
    private var file: ASFFile?
    private var contentPath = ""
    /// Set-up streams: control name to the interleaved RTP channel.
    private var channels: [(stream: UInt8, channel: UInt8)] = []
    private var session: PlaySession?
    private var admission: Admission?
    private var sequence = UInt16.random(in: 0...0x7FFF)
    private let ssrc = UInt32.random(in: 1...UInt32.max)
    private var due: [StreamPacket] = []
    private var parked = false
    private var ownCSeq = 0

    public init(server: RTSPServerContext, scheduler: PacingScheduler) {
        self.server = server
        self.scheduler = scheduler
        logger = server.logger
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let remote = context.channel.remoteAddress { logger[metadataKey: "client"] = "\(remote)" }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        stopPlaying()
        self.context = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        pending.writeBuffer(&bytes)
        do {
            while let message = try parser.parse(&pending) {
                switch message {
                case let .request(request): handle(request, context: context)
                case .response, .interleaved: break  // replies to our EndOfStream, RTCP receiver reports
                }
            }
            pending.discardReadBytes()
        } catch let error as RTSPMessageParser.Malformed {
            logger.notice("\(error.status): \(error)")
            send(RTSPResponse(status: error.status, reason: "Bad Request", headers: [("Server", RTSPServerContext.serverHeader)]), context: context)
            context.close(promise: nil)
        } catch {
            context.close(promise: nil)
        }
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, parked, session != nil {
            parked = false
            scheduler.schedule(self, at: context.eventLoop.now)
        }
        context.fireChannelWritabilityChanged()
    }

    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.info("connection error: \(error)")
        context.close(promise: nil)
    }

    // MARK: Requests

    private func handle(_ request: RTSPRequest, context: ChannelHandlerContext) {
        guard let cseq = request.cseq else {
            logger.notice("400: request without CSeq")
            return send(RTSPResponse(status: 400, reason: "Bad Request", headers: [("Server", RTSPServerContext.serverHeader)]), context: context)
        }
        var headers: [(name: String, value: String)] = [("CSeq", cseq), ("Server", RTSPServerContext.serverHeader)]
        func reply(_ status: Int, _ reason: String, _ extra: [(name: String, value: String)] = [], body: String = "") {
            send(RTSPResponse(status: status, reason: reason, headers: headers + extra, body: body), context: context)
        }
        if let id = sessionID, request.method != "OPTIONS", request.method != "DESCRIBE" {
            if let named = request["Session"]?.split(separator: ";").first, String(named) != id {
                return reply(454, "Session Not Found")
            }
            headers.append(("Session", "\(id);timeout=60"))
        }
        switch request.method {
        case "OPTIONS":
            reply(200, "OK", [("Public", "DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, OPTIONS, GET_PARAMETER, SET_PARAMETER")])
        case "DESCRIBE":
            guard let file = open(request.uri) else { return reply(404, "Not Found") }
            let base = request.uri.hasSuffix("/") ? request.uri : request.uri + "/"
            let sdp = SessionDescription.make(header: file.header, streamingHeader: file.header.streamingHeader(dataObject: file.dataObject),
                                              title: (contentPath as NSString).lastPathComponent, live: true)
            reply(200, "OK", [("Content-Type", "application/sdp"), ("Content-Base", base), ("Cache-Control", "no-cache")], body: sdp)
        case "SETUP":
            setup(request, reply: reply)
        case "PLAY":
            play(request, context: context, reply: reply)
        case "PAUSE":
            guard session != nil else { return reply(455, "Method Not Valid in This State") }
            scheduler.cancel(self)
            session = nil
            reply(200, "OK")
        case "TEARDOWN":
            stopPlaying()
            channels = []
            reply(200, "OK")
            sessionID = nil
        case "GET_PARAMETER", "SET_PARAMETER":
            reply(200, "OK")
        default:
            reply(501, "Not Implemented")
        }
    }

    /// The on-demand file a URL names (`rtsp://host:port/path[/control]`).
    private func open(_ uri: String) -> ASFFile? {
        guard let url = URL(string: uri), case let .file(_, path) = server.points.lookup(url.path.isEmpty ? "/" : url.path) else {
            logger.notice("404: \(uri)")
            return nil
        }
        do {
            let file = try ASFFile(path: path)
            self.file = file
            contentPath = path
            return file
        } catch {
            logger.notice("404: \(error)")
            return nil
        }
    }

    private func setup(_ request: RTSPRequest, reply: (Int, String, [(name: String, value: String)], String) -> Void) {
        let parts = request.uri.split(separator: "/")
        guard let control = parts.last else { return reply(400, "Bad Request", [], "") }
        if file == nil {
            guard open(String(request.uri.dropLast(control.count + 1))) != nil else { return reply(404, "Not Found", [], "") }
        }
        guard let file else { return reply(404, "Not Found", [], "") }
        let transport = request["Transport"] ?? ""
        // TCP-interleaved transports only, for now (MS-RTSP 2.2.6.x): UDP is refused with 461.
        guard transport.uppercased().hasPrefix("RTP/AVP/TCP"),
              let interleaved = transport.split(separator: ";").first(where: { $0.hasPrefix("interleaved=") }),
              let first = UInt8(interleaved.dropFirst("interleaved=".count).split(separator: "-").first ?? "") else {
            return reply(461, "Unsupported Transport", [], "")
        }
        if control == "rtx" {
            // Retransmission needs UDP; over TCP nothing is lost.
            return reply(461, "Unsupported Transport", [], "")
        }
        guard control.hasPrefix("stream="), let number = UInt8(control.dropFirst("stream=".count)),
              file.header.streams.contains(where: { $0.streamNumber == number }) else {
            return reply(404, "Not Found", [], "")
        }
        channels.removeAll { $0.stream == number }
        channels.append((number, first))
        if sessionID == nil { sessionID = String(UInt64.random(in: 1_000_000_000...UInt64.max)) }
        reply(200, "OK", [("Transport", "RTP/AVP/TCP;unicast;interleaved=\(first)-\(first &+ 1);ssrc=\(String(format: "%08X", ssrc));mode=PLAY"),
                          ("Session", "\(sessionID!);timeout=60")], "")
    }

    private func play(_ request: RTSPRequest, context: ChannelHandlerContext,
                      reply: (Int, String, [(name: String, value: String)], String) -> Void) {
        guard let file, !channels.isEmpty, sessionID != nil else { return reply(455, "Method Not Valid in This State", [], "") }
        var startMilliseconds: UInt64 = 0
        if let range = request["Range"], range.hasPrefix("npt="), let from = Double(range.dropFirst(4).split(separator: "-").first ?? "") {
            startMilliseconds = UInt64(max(0, from) * 1000)
        }
        let start: Int
        let firstSendTime: UInt32
        do {
            start = startMilliseconds > 0 ? try file.packetNumber(forTime: startMilliseconds) : 0
            firstSendTime = try file.packet(start).sendTime
        } catch {
            logger.error("seek failed: \(error)")
            return reply(500, "Internal Server Error", [], "")
        }
        if admission == nil {
            do {
                admission = try server.admission.admit(point: "rtsp", bitsPerSecond: UInt64(file.header.fileProperties.maximumBitrate))
            } catch {
                logger.notice("503: \(error)")
                return reply(503, "Service Unavailable", [], "")
            }
        }
        scheduler.cancel(self)
        let base = request.uri.hasSuffix("/") ? request.uri : request.uri + "/"
        let info = channels.map { "url=\(base)stream=\($0.stream);seq=\(sequence);rtptime=\(firstSendTime)" }.joined(separator: ",")
        reply(200, "OK", [("Range", String(format: "npt=%.3f-", Double(startMilliseconds) / 1000)), ("RTP-Info", info)], "")
        let selection = Set(channels.map(\.stream))
        let pacing = Pacing.fastStart(prerollMilliseconds: file.header.fileProperties.preroll, buffer: server.fastStartBuffer,
                                      maximumRate: server.maximumRate)
        session = PlaySession(source: FileCursor(file: file, startPacket: start), selection: selection, pacing: pacing,
                              start: context.eventLoop.now)
        logger.info("play \(contentPath) from \(startMilliseconds) ms, streams \(selection.sorted())")
        scheduler.schedule(self, at: context.eventLoop.now)
    }

    private func stopPlaying() {
        if session != nil { scheduler.cancel(self) }
        session = nil
        admission?.release()
        admission = nil
    }

    private func send(_ response: RTSPResponse, context: ChannelHandlerContext) {
        var b = context.channel.allocator.buffer(capacity: 256 + response.body.utf8.count)
        response.write(to: &b)
        context.writeAndFlush(wrapOutboundOut(b), promise: nil)
    }

    // MARK: Pacing

    public func pump(now: NIODeadline) -> NIODeadline? {
        guard let context, var session, let channel = channels.first?.channel else { return nil }
        guard context.channel.isWritable else {
            parked = true
            return nil
        }
        let step: PlaySession.Step
        do {
            due.removeAll(keepingCapacity: true)
            step = try session.sendDue(now: now) { if case let .packet(p) = $0 { due.append(p) } }
            self.session = session
            if !due.isEmpty { try writeRTP(due, channel: channel, context: context) }
        } catch {
            logger.error("stream failed: \(error)")
            context.close(promise: nil)
            return nil
        }
        switch step {
        case let .wait(until):
            return until
        case .finished:
            endOfStream(context: context)
            stopPlaying()
            return nil
        }
    }

    /// Each ASF packet as one RTP packet on the interleaved channel (RFC 2326 10.12): one buffer
    /// holds the batch's framing, RTP and payload headers; the packets go out as their own bytes.
    private func writeRTP(_ packets: [StreamPacket], channel: UInt8, context: ChannelHandlerContext) throws {
        var headers = context.channel.allocator.buffer(capacity: packets.count * 20)
        var bodies: [ByteBuffer] = []
        bodies.reserveCapacity(packets.count)
        for packet in packets {
            let body = try ASFPayload.body(of: packet.bytes)
            headers.writeInteger(UInt8(0x24))
            headers.writeInteger(channel)
            headers.writeInteger(UInt16(12 + 4 + body.bytes.readableBytes))
            ASFPayload.writeRTPHeader(sequence: sequence, timestamp: body.sendTime, ssrc: ssrc,
                                      payloadType: UInt8(SessionDescription.payloadType), to: &headers)
            ASFPayload.writePayloadHeader(keyFrame: body.keyFrame, packetLength: body.bytes.readableBytes, to: &headers)
            sequence &+= 1
            bodies.append(body.bytes)
        }
        for (i, body) in bodies.enumerated() {
            context.write(wrapOutboundOut(headers.getSlice(at: i * 20, length: 20)!), promise: nil)
            context.write(wrapOutboundOut(body), promise: nil)
        }
        context.flush()
    }

    /// MS-RTSP EndOfStream: a SET_PARAMETER the server sends (GStreamer ends its pipeline on it;
    /// ffmpeg answers 501 and waits for TEARDOWN).
    private func endOfStream(context: ChannelHandlerContext) {
        guard let sessionID else { return }
        ownCSeq += 1
        let body = "Session: \(sessionID)\r\nEOF: true\r\n"
        var b = context.channel.allocator.buffer(capacity: 256)
        b.writeString("SET_PARAMETER * RTSP/1.0\r\nCSeq: \(ownCSeq)\r\nSession: \(sessionID)\r\nServer: \(RTSPServerContext.serverHeader)\r\n")
        b.writeString("Content-Type: application/x-wms-extension-cmd\r\nX-Notice: 2101 \"End-of-Stream Reached\"\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        context.writeAndFlush(wrapOutboundOut(b), promise: nil)
        logger.info("end of stream")
    }
}
