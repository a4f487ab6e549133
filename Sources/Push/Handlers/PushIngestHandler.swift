import ASF
import Logging
import NIOCore
import NIOHTTP1
import Streaming

/// The push ingest on the HTTP port (MS-WMHTTP 3.2.5): it sits before the WMSP handler, takes
/// the requests of encoders (PushSetup and PushStart POSTs) and passes every other request on.
/// A PushSetup gets a push-id and 204; a PushStart's body is the stream, its frames fed to the
/// point's `LiveFeed` as they arrive; its answer comes at the body's end (204), or as an error
/// at any time (408 at the Idle-Timeout, 400 for a body no encoder sends).
public final class PushIngestHandler: ChannelInboundHandler {
    public typealias InboundIn = HTTPServerRequestPart
    public typealias InboundOut = HTTPServerRequestPart
    public typealias OutboundOut = HTTPServerResponsePart

    private let server: PushServerContext
    private var logger: Logger
    private var context: ChannelHandlerContext?

    private enum Request {
        /// Not an encoder's: its parts go on to the WMSP handler.
        case passing
        /// `live` nil: a path no point has, which the body's Template-URL may make one of.
        case setup(PushRequest, body: ByteBuffer, live: (name: String, point: LivePoint)?)
        case start(PushRequest, PushSession)
        /// Answered already (refused): the rest of its parts are dropped.
        case discarding
    }

    private var request: Request?
    private var parser = PushFrameParser()
    private var idleTimer: Scheduled<Void>?
    private var lastRead = NIODeadline.now()
    /// Most bytes a PushSetup body may have (its body is a line or two).
    static let maximumSetupBody = 4096

    public init(server: PushServerContext) {
        self.server = server
        logger = server.delivery.logger
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let remote = context.channel.remoteAddress { logger[metadataKey: "client"] = "\(remote)" }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case let .head(head) = part {
            guard let push = PushRequest(head: head) else {
                request = .passing
                return context.fireChannelRead(data)
            }
            request = begin(push, version: head.version, context: context)
            return
        }
        switch request {
        case .passing?, nil:
            context.fireChannelRead(data)
        case .discarding?:
            return
        case let .setup(push, body, live)?:
            switch part {
            case var .body(chunk):
                guard body.readableBytes + chunk.readableBytes <= Self.maximumSetupBody else {
                    return refuse(.payloadTooLarge, "a PushSetup body over \(Self.maximumSetupBody) bytes", context: context)
                }
                var body = body
                body.writeBuffer(&chunk)
                request = .setup(push, body: body, live: live)
            case .end:
                request = nil
                setup(push, body: body, live: live, context: context)
            case .head:
                return
            }
        case let .start(_, session)?:
            switch part {
            case let .body(chunk):
                lastRead = context.eventLoop.now
                session.received(chunk.readableBytes)
                parser.append(chunk)
                frames(of: session, context: context)
            case .end:
                request = nil
                bodyEnded(session, context: context)
            case .head:
                return
            }
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        if case let .start(_, session)? = request, session.isOwned(by: context.channel) {
            logger.notice("encoder connection lost inside its PushStart: point \(session.pointName) waits \(seconds(server.idleTimeout)) s for it")
            expire(session, after: server.idleTimeout, context: context, reason: "the encoder did not come back")
        }
        request = nil
        context.fireChannelInactive()
    }

    // MARK: Requests

    /// A request's head: its point and credentials are checked before any of its body is read.
    private func begin(_ push: PushRequest, version: HTTPVersion, context: ChannelHandlerContext) -> Request {
        let path = push.uri
        let live: (name: String, point: LivePoint)
        switch server.delivery.points.pushTarget(at: path) {
        case let .live(name, point): live = (name, point)
        case let .notLive(name):
            refuse(.forbidden, "point \(name) takes no pushes", context: context)
            return .discarding
        case .unknown where push.kind == .setup && server.createsPoints:
            return .setup(push, body: ByteBuffer(), live: nil)
        case .unknown:
            refuse(.notFound, "no publishing point at \(path)", context: context)
            return .discarding
        }
        let known = server.sessions.session(among: push.pushIDs, point: live.name)
        // WME authenticates its PushSetup only: the push-id stands for it after (PUSH.md 1.7).
        if known == nil {
            do {
                try server.delivery.access.check(AccessRequest(client: context.channel.remoteAddress, authorization: push.authorization,
                                                               method: "POST", uri: push.uri),
                                                 point: live.point.encoders)
            } catch let error as Content.Unauthorized {
                logger.notice("401 for an encoder at point \(live.name): \(error.description)")
                var headers = PushResponse.headers(pushID: nil, timeoutMilliseconds: milliseconds(server.idleTimeout), close: true)
                for challenge in error.challenges { headers.add(name: "WWW-Authenticate", value: challenge) }
                respond(.unauthorized, headers: headers, context: context)
                return .discarding
            } catch {
                refuse(.forbidden, "encoder refused at point \(live.name): \(error)", context: context)
                return .discarding
            }
        }
        switch push.kind {
        case .setup:
            return .setup(push, body: ByteBuffer(), live: live)
        case .start:
            // 3.1.4.2.1: a PushStart states its Length-Remaining, never chunked (PUSH.md 1.3); one
            // that states none has WME's by now (UnstatedLengthHandler).
            guard !push.isChunked, push.contentLength != nil else {
                refuse(.lengthRequired, "a chunked PushStart", context: context)
                return .discarding
            }
            // WMS answers a PushStart of an unknown push-id with a new session (3.2.5.2 <13>).
            let session = known ?? server.sessions.create(pointName: live.name, live: live.point, autoDestroy: false)
            take(session, context: context)
            session.started(userAgent: push.userAgent)
            context.triggerUserOutboundEvent(ConnectionGuard.RequestAccepted(), promise: nil)
            parser = PushFrameParser()
            lastRead = context.eventLoop.now
            armIdleTimer(session, context: context)
            logger.info("PushStart from \(push.userAgent.isEmpty ? "an encoder" : push.userAgent) for point \(live.name), push-id \(session.id)")
            return .start(push, session)
        }
    }

    /// PushSetup (3.2.5.1): a push session and its push-id; the connection stays open for the PushStart.
    private func setup(_ push: PushRequest, body: ByteBuffer, live: (name: String, point: LivePoint)?, context: ChannelHandlerContext) {
        let setup = PushSetupBody(parsing: String(buffer: body))
        var live = live, createdPath: String?
        if live == nil {
            guard let made = create(push, from: setup, context: context) else { return }
            live = (made.name, made.point)
            createdPath = setup.autoDestroy ? made.path : nil
        }
        guard let live else { return }
        let session = server.sessions.create(pointName: live.name, live: live.point, autoDestroy: setup.autoDestroy, createdPath: createdPath)
        logger.info("PushSetup from \(push.userAgent.isEmpty ? "an encoder" : push.userAgent) for point \(live.name): push-id \(session.id)")
        respond(.noContent, headers: PushResponse.headers(pushID: session.id, timeoutMilliseconds: milliseconds(server.idleTimeout), close: false),
                context: context)
        // A session whose PushStart never comes is forgotten after the Inactivity-Timeout.
        let close = closer(reason: "no PushStart came")
        session.release(nil, expiringAfter: server.inactivityTimeout, on: context.eventLoop) {
            if session.feed == nil { close(session) }
        }
    }

    /// A new point at the request's path with the settings of its Template-URL's, a push point
    /// (2.2.2.1.1); its encoder must be one the template takes. Nil when refused (answered).
    private func create(_ push: PushRequest, from setup: PushSetupBody, context: ChannelHandlerContext) -> (name: String, point: LivePoint, path: String)? {
        guard let template = setup.templateURL, case let .live(templateName, templatePoint) = server.delivery.points.pushTarget(at: template) else {
            refuse(.notFound, "no publishing point at \(push.uri), and no push point as its Template-URL (\(setup.templateURL ?? "none"))", context: context)
            return nil
        }
        do {
            try server.delivery.access.check(AccessRequest(client: context.channel.remoteAddress, authorization: push.authorization,
                                                           method: "POST", uri: push.uri),
                                             point: templatePoint.encoders)
        } catch let error as Content.Unauthorized {
            logger.notice("401 for an encoder making a point from \(templateName): \(error.description)")
            var headers = PushResponse.headers(pushID: nil, timeoutMilliseconds: milliseconds(server.idleTimeout), close: true)
            for challenge in error.challenges { headers.add(name: "WWW-Authenticate", value: challenge) }
            request = .discarding
            respond(.unauthorized, headers: headers, context: context)
            return nil
        } catch {
            refuse(.forbidden, "encoder refused at point \(templateName): \(error)", context: context)
            return nil
        }
        let pathOnly = push.uri.split(separator: "?", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let path = "/" + (pathOnly.removingPercentEncoding ?? pathOnly).split(separator: "/").joined(separator: "/")
        let name = String(path.dropFirst())
        guard !name.isEmpty else {
            refuse(.notFound, "no publishing point at \(push.uri)", context: context)
            return nil
        }
        let made = server.delivery.points.created.add(PublishingPoint(name: name, path: path, kind: .live(templatePoint.made(name: name)),
                                                                      access: PointAccess(addresses: templatePoint.encoders.addresses)))
        guard case let .live(point) = made.kind else { return nil }
        logger.info("point \(made.name) made from the template \(templateName)")
        return (made.name, point, made.path)
    }

    /// Ends a session: its feed, its place among the sessions, and the point its PushSetup made
    /// when the encoder asked for AutoDestroy (3.2.5.5, 3.2.6).
    private func closer(reason: String) -> @Sendable (PushSession) -> Void {
        let sessions = server.sessions, created = server.delivery.points.created, logger = logger
        return { session in
            sessions.remove(session)
            if session.end() != nil { logger.notice("point \(session.pointName) ended: \(reason)") }
            if session.autoDestroy, let path = session.createdPath {
                created.remove(path: path)
                logger.info("point \(session.pointName) removed (AutoDestroy)")
            }
        }
    }

    /// This connection streams `session` now. Another encoder streaming to the point is let go:
    /// the new one takes the point over (a dead encoder's connection may still look open), its
    /// players going on when the streams are the same.
    private func take(_ session: PushSession, context: ChannelHandlerContext) {
        if let previous = session.own(by: context.channel) {
            logger.notice("push-id \(session.id) resumed on a new connection: the old one is closed")
            previous.close(promise: nil)
        }
        if let other = server.sessions.streaming(to: session.pointName, except: session) {
            logger.notice("a new encoder takes point \(session.pointName) over from push-id \(other.id)")
            server.sessions.remove(other)
            other.abandon()?.close(promise: nil)
        }
    }

    // MARK: The body

    private func frames(of session: PushSession, context: ChannelHandlerContext) {
        do {
            while let frame = try parser.next() {
                switch session.receive(frame, on: context.channel) {
                case let .begin(header), let .change(header):
                    guard start(session, header: header, context: context) else { return }
                case let .packet(bytes):
                    do {
                        try session.feed?.append(bytes)
                    } catch {
                        if session.countUnreadable() { logger.warning("point \(session.pointName): \(error); such packets are skipped") }
                    }
                case let .finish(reason):
                    finish(session, reason: reason, context: context)
                    return
                case .none:
                    continue
                case let .refuse(reason):
                    return refuseBody(session, reason, context: context)
                }
            }
        } catch {
            refuseBody(session, "\(error)", context: context)
        }
    }

    /// `$H` or `$C`: the stream goes on under this header (Header Object, then the Data Object's start).
    private func start(_ session: PushSession, header bytes: ByteBuffer, context: ChannelHandlerContext) -> Bool {
        let header: ASFHeader
        do {
            header = try ASFHeader(parsing: bytes)
        } catch {
            refuseBody(session, "its header does not parse: \(error)", context: context)
            return false
        }
        let properties = header.fileProperties
        guard properties.minimumPacketSize == properties.maximumPacketSize, properties.maximumPacketSize > 0,
              properties.maximumPacketSize <= UInt32(PushFrame.maximumLength), !header.streams.isEmpty else {
            refuseBody(session, "its header states no usable packet size or no streams", context: context)
            return false
        }
        let feed = session.live.begin(header: header)
        session.setFeed(feed)
        logger.info("point \(session.pointName): \(header.streams.count) streams, \(properties.maximumPacketSize)-byte packets, \(properties.maximumBitrate) bit/s")
        return true
    }

    /// `$E(0)` (3.2.5.5): the session is over; the server closes without answering.
    private func finish(_ session: PushSession, reason: UInt32, context: ChannelHandlerContext) {
        idleTimer?.cancel()
        request = .discarding
        closer(reason: "the encoder's end")(session)
        if reason == 0 {
            logger.info("the encoder ended point \(session.pointName)")
        } else {
            logger.notice("the encoder ended point \(session.pointName) with error 0x\(String(reason, radix: 16))")
        }
        context.close(promise: nil)
    }

    /// The body is complete (its Content-Length used up, 3.1.4.3): 204, and the encoder goes on
    /// with a new PushStart.
    private func bodyEnded(_ session: PushSession, context: ChannelHandlerContext) {
        idleTimer?.cancel()
        if parser.pending > 0 { logger.notice("a PushStart body ends inside a frame: \(parser.pending) bytes dropped") }
        respond(.noContent, headers: PushResponse.headers(pushID: session.id, timeoutMilliseconds: milliseconds(server.idleTimeout), close: false),
                context: context)
        expire(session, after: server.inactivityTimeout, context: context, reason: "no PushStart followed")
    }

    private func refuseBody(_ session: PushSession, _ reason: String, context: ChannelHandlerContext) {
        idleTimer?.cancel()
        expire(session, after: server.idleTimeout, context: context, reason: "the encoder did not come back")
        refuse(.badRequest, "point \(session.pointName): a push body refused: \(reason)", context: context)
    }

    /// The session ends after `timeout` unless the encoder resumes it.
    private func expire(_ session: PushSession, after timeout: TimeAmount, context: ChannelHandlerContext, reason: String) {
        let close = closer(reason: "\(reason) within \(seconds(timeout)) s")
        session.release(context.channel, expiringAfter: timeout, on: context.eventLoop) { close(session) }
    }

    /// The Idle-Timeout inside a body (3.2.6.1): 408, and the session ends.
    private func armIdleTimer(_ session: PushSession, context: ChannelHandlerContext) {
        idleTimer?.cancel()
        let timeout = server.idleTimeout
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastRead + timeout) { [weak self] in
            guard let self, case .start? = request else { return }
            guard context.eventLoop.now >= lastRead + timeout else { return armIdleTimer(session, context: context) }
            request = .discarding
            logger.notice("point \(session.pointName): nothing from the encoder for \(seconds(timeout)) s: 408")
            closer(reason: "the Idle-Timeout")(session)
            respond(.requestTimeout, headers: PushResponse.headers(pushID: session.id, timeoutMilliseconds: milliseconds(timeout), close: true),
                    context: context)
        }
    }

    // MARK: Answers

    private func refuse(_ status: HTTPResponseStatus, _ reason: String, context: ChannelHandlerContext) {
        logger.notice("\(status.code) \(reason)")
        request = .discarding
        respond(status, headers: PushResponse.headers(pushID: nil, timeoutMilliseconds: milliseconds(server.idleTimeout), close: true), context: context)
    }

    /// An answer without a body; with `Connection: close` the connection closes after it.
    private func respond(_ status: HTTPResponseStatus, headers: HTTPHeaders, context: ChannelHandlerContext) {
        let close = headers["Connection"].contains("close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if close { context.close(promise: nil) }
        }
    }
}

private func milliseconds(_ t: TimeAmount) -> Int { Int(t.nanoseconds / 1_000_000) }
private func seconds(_ t: TimeAmount) -> Int { Int(t.nanoseconds / 1_000_000_000) }
