import ASF
import Foundation
import NIOCore
import NIOHTTP1
import Streaming

/// Request sequencing, sessions and the control requests of MS-WMSP 2.2.2: SelectStream,
/// PlayNextEntry, Stop, KeepAlive, Log, SendEvent and the Pipeline test.
extension WMSPServerHandler {
    func dispatch(_ request: WMSPRequest, version: HTTPVersion, context: ChannelHandlerContext) {
        logger.debug("request \(request.kind)")
        switch connection.received(request.kind) {
        case .respond:
            pipelined = request.kind == .play && request.wantsChunked && version == .http1_1
            respond(to: request, version: version, context: context)
        case .startPipelineTest:
            startPipelineTest(context: context)
        case let .send(replies, endOpen):
            pipelineTimer?.cancel()
            if endOpen { context.write(wrapOutboundOut(.end(nil)), promise: nil) }
            send(replies, context: context)
            context.flush()
        case .queued:
            _ = control(request, context: context)
        case let .continueData(flush):
            // 3.2.5.7, 3.2.5.9: end the data response, send what waited, answer, and go on
            // sending $D packets in the body of this answer.
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
            send(flush, context: context)
            _ = control(request, context: context)
            writeWMSPHead(contentType: "application/x-mms-framed", features: nil, context: context)
            context.flush()
        case .forward:
            guard let applied = control(request, context: context) else {
                return sendError(.badRequest, "no session with this client-id", context: context)
            }
            // Reply once the session's own loop has applied the request.
            applied.whenComplete { _ in self.reply(.ok, context: context) }
        case let .reject(reason):
            logger.notice("400: \(reason)")
            sendError(.badRequest, reason, context: context)
        case let .abort(reason):
            logger.notice("400: \(reason)")
            pipelineTimer?.cancel()
            endPlayback()
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
            sendError(.badRequest, reason, context: context)
        case let .ignore(reason):
            logger.notice("ignored: \(reason)")
        }
    }

    /// Applies a control request, to this connection's session when it carries the data
    /// (pipelined), else to the session its client-id names (non-pipelined). False when the
    /// request needs a session and names none that exists (3.2.5.1).
    private func control(_ request: WMSPRequest, context: ChannelHandlerContext) -> EventLoopFuture<Void>? {
        let done = context.eventLoop.makeSucceededVoidFuture()
        switch request.kind {
        case .log:
            log(request, context: context)
            return done
        case .sendEvent:
            logger.info("remote event: \(String(buffer: bodyBuffer))")
            return done
        default:
            break
        }
        if session != nil || relay != nil {
            apply(request)
            return done
        }
        // A request names its session, or, on a pipelined connection, belongs to the connection's.
        guard let id = request.clientID ?? clientID, server.sessions.touch(id, on: context.eventLoop) else {
            logger.notice("400: \(request.kind) for an unknown session")
            return nil
        }
        clientID = id
        guard request.kind != .keepAlive, let data = server.sessions.dataConnection(of: id) else { return done }
        return data.eventLoop.submit { data.value.apply(request) }.hop(to: context.eventLoop)
    }

    /// A control request for the data this handler sends.
    func apply(_ request: WMSPRequest) {
        switch request.kind {
        case .selectStream:
            guard let entries = request.pragma["stream-switch-entry"], let header = session?.source.file.header ?? relayHeader else { return }
            let available = Set(header.streams.map(\.streamNumber))
            guard let chosen = StreamSwitchEntry.selection(entries, available: available, decimalFirst: request.printsDecimalStreamNumbers),
                  !chosen.isEmpty else { return }
            selection = chosen == available ? nil : chosen
            session?.select(selection)
            logger.info("streams now \(selection.map { $0.sorted().description } ?? "all")")
        case .playNextEntry:
            session?.skipEntry()
        case .stop:
            // 3.2.5.10: stop sending $D packets; the session idles.
            guard let context else { return }
            logger.info("stopped by the client")
            endPlayback()
            finishDataResponse(context: context)
        default:
            break
        }
    }

    /// The response that carried data is over: $E was written. In pipelined mode the connection
    /// stays open and the replies that waited go out; otherwise it closes.
    func finishDataResponse(context: ChannelHandlerContext) {
        let waiting = connection.dataEnded()
        if pipelined {
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
            send(waiting, context: context)
            context.flush()
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// A session for a Describe (3.2.3): a new Client-ID unless the request names a known one.
    func describeSession(_ request: WMSPRequest, context: ChannelHandlerContext) -> UInt32 {
        if let id = request.clientID, server.sessions.touch(id, on: context.eventLoop) { return id }
        return server.sessions.create(on: context.eventLoop)
    }

    /// Play (3.2.5.6): the session streams on this connection. A session already streaming is
    /// not taken over (it could be a hijack): 400.
    func startStreaming(_ request: WMSPRequest, context: ChannelHandlerContext) -> Bool {
        var id = request.clientID
        if let known = id, let state = server.sessions.state(of: known) {
            guard state != .streaming else {
                logger.notice("400: session \(known) is already streaming")
                sendError(.badRequest, "session already streaming", context: context)
                admission?.release()
                admission = nil
                return false
            }
        } else {
            id = server.sessions.create(on: context.eventLoop)
        }
        clientID = id
        server.sessions.streaming(id!, on: NIOLoopBound(self, eventLoop: context.eventLoop))
        connection.dataStarted(pipelined: pipelined)
        playStarted = context.eventLoop.now
        return true
    }

    var relayHeader: ASFHeader? { relay == nil ? nil : broadcastPoint?.header }

    // MARK: Replies

    func reply(_ reply: WMSPConnectionStateMachine.Reply, context: ChannelHandlerContext) {
        send([reply], context: context)
        if pipelined || connection.open != .none {
            context.flush()
        } else {
            context.flush()
            context.close(promise: nil)
        }
    }

    private func send(_ replies: [WMSPConnectionStateMachine.Reply], context: ChannelHandlerContext) {
        for reply in replies {
            switch reply {
            case .ok:
                writeWMSPHead(contentType: nil, features: nil, context: context)
            case let .pipelineResult(result):
                writeWMSPHead(contentType: nil, features: nil, extraPragma: "pipeline-result=\(result ? 1 : 0)", context: context)
            }
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    /// 3.2.5.5: the first Pipeline request gets a chunked response holding a $T packet, left open
    /// until the second request, or until the 1-second Pipeline-Test timer ends it.
    private func startPipelineTest(context: ChannelHandlerContext) {
        pipelined = true
        writeWMSPHead(contentType: "application/x-mms-framed", features: nil, context: context)
        var test = context.channel.allocator.buffer(capacity: 4)
        Frame.writeTest(to: &test)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(test))), promise: nil)
        pipelineTimer = context.eventLoop.scheduleTask(in: .seconds(1)) { [weak self] in
            guard let self, connection.pipelineTimerExpired() else { return }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    // MARK: Log

    /// 3.2.5.11: the client's statistics go to the access log, with its real address.
    private func log(_ request: WMSPRequest, context: ChannelHandlerContext) {
        do {
            let entry: WMLog
            if let line = request.pragma["log-line"] {
                entry = try WMLog(w3c: line)
            } else {
                entry = try WMLog(xml: String(buffer: bodyBuffer))
            }
            server.accessLog.write(entry.withServerFields(clientIP: context.channel.remoteAddress?.ipAddress ?? "-",
                                                          serverIP: context.channel.localAddress?.ipAddress ?? "-"))
        } catch {
            logger.notice("malformed client log: \(error)")
        }
    }
}
