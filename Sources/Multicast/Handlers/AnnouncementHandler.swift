import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Streaming

/// The multicast points' announcements on the HTTP port: it sits before the WMSP handler and
/// answers GETs of a point's `.nsc` and `.asx`, and the Log URL the `.nsc` names (MS-WMLOG 2.3:
/// a GET is validated, a POSTed log line goes to the access log); every other request goes on.
public final class AnnouncementHandler: ChannelInboundHandler {
    public typealias InboundIn = HTTPServerRequestPart
    public typealias InboundOut = HTTPServerRequestPart
    public typealias OutboundOut = HTTPServerResponsePart

    public struct Context: Sendable {
        /// The multicast points now (a reload changes them).
        public var points: @Sendable () -> MulticastPoints
        public var accessLog: AccessLog
        public var logger: Logger
        /// The RTSP listener's port, for the `.asx`'s rtsp:// reference (known once it listens).
        public var rtspPort: @Sendable () -> Int

        public init(points: @escaping @Sendable () -> MulticastPoints, accessLog: AccessLog, logger: Logger, rtspPort: @escaping @Sendable () -> Int) {
            self.points = points
            self.accessLog = accessLog
            self.logger = logger
            self.rtspPort = rtspPort
        }
    }

    private let server: Context
    private enum Request {
        case passing
        /// Answered at its end; its body is dropped.
        case answering(HTTPRequestHead, MulticastPoints.Point, MulticastPoints.Resource)
        case logging(HTTPRequestHead, MulticastPoints.Point, body: ByteBuffer)
        /// Answered already (refused): the rest of its parts are dropped.
        case discarding
    }
    private var request: Request?
    /// A log line is one line of W3C fields.
    static let maximumLogBody = 65536

    public init(server: Context) {
        self.server = server
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case let .head(head) = part {
            guard let resource = server.points().resource(at: head.uri) else {
                request = .passing
                return context.fireChannelRead(data)
            }
            switch (head.method, resource) {
            case let (.POST, .log(point)): request = .logging(head, point, body: ByteBuffer())
            case let (.GET, .nsc(point)), let (.HEAD, .nsc(point)), let (.GET, .asx(point)), let (.HEAD, .asx(point)),
                 let (.GET, .log(point)), let (.HEAD, .log(point)):
                request = .answering(head, point, resource)
            default:
                request = .passing
                return context.fireChannelRead(data)
            }
            return
        }
        switch request {
        case .passing?, nil:
            context.fireChannelRead(data)
        case .discarding?:
            return
        case let .logging(head, point, body)?:
            switch part {
            case var .body(chunk):
                guard body.readableBytes + chunk.readableBytes <= Self.maximumLogBody else {
                    request = .discarding
                    server.logger.notice("point \(point.name): a multicast log over \(Self.maximumLogBody) bytes: 413")
                    return respond(head, status: .payloadTooLarge, type: nil, body: nil, context: context)
                }
                var body = body
                body.writeBuffer(&chunk)
                request = .logging(head, point, body: body)
            case .end:
                request = nil
                log(String(buffer: body), point: point, context: context)
                respond(head, status: .ok, type: nil, body: nil, context: context)
            case .head:
                break
            }
        case let .answering(head, point, resource)?:
            guard case .end = part else { return }
            request = nil
            answer(head, point: point, resource: resource, context: context)
        }
    }

    private func answer(_ head: HTTPRequestHead, point: MulticastPoints.Point, resource: MulticastPoints.Resource, context: ChannelHandlerContext) {
        if case .log = resource {
            return respond(head, status: .ok, type: "text/html", body: MulticastAnnouncement.logValidationPage, context: context)
        }
        let formats = point.sender.formats
        guard !formats.isEmpty else {
            server.logger.notice("point \(point.name): its .nsc has no header to announce yet (no encoder has pushed): 503")
            return respond(head, status: .serviceUnavailable, type: nil, body: nil, context: context)
        }
        let host = head.headers.first(name: "Host") ?? context.channel.localAddress.map { "\($0.ipAddress ?? "localhost"):\($0.port ?? 80)" } ?? "localhost"
        let hostName = host.hasPrefix("[") ? String(host[...(host.firstIndex(of: "]") ?? host.startIndex)])
                                           : String(host.split(separator: ":").first ?? "localhost")
        let announcement = MulticastAnnouncement(point: point.name, path: point.path, settings: point.sender.settings, formats: formats,
                                                 httpHost: host, rtspHost: "\(hostName):\(server.rtspPort())")
        if case .nsc = resource {
            respond(head, status: .ok, type: "application/x-netshow-channel", body: announcement.nsc.text, context: context)
        } else {
            respond(head, status: .ok, type: "video/x-ms-asf", body: announcement.asx, context: context)
        }
    }

    /// MS-WMLOG 2.3: `MX_STATS_LogLine:` and the W3C fields of 2.2.1.
    private func log(_ body: String, point: MulticastPoints.Point, context: ChannelHandlerContext) {
        let line = body.range(of: "MX_STATS_LogLine:").map { String(body[$0.upperBound...]) } ?? body
        do {
            let entry = try WMLog(w3c: line.trimmingCharacters(in: .whitespacesAndNewlines))
            server.accessLog.write(entry.withServerFields(clientIP: context.channel.remoteAddress?.ipAddress ?? "-",
                                                          serverIP: context.channel.localAddress?.ipAddress ?? "-"))
        } catch {
            server.logger.notice("point \(point.name): a malformed multicast log: \(error)")
        }
    }

    private func respond(_ head: HTTPRequestHead, status: HTTPResponseStatus, type: String?, body: String?, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Server", value: "Cougar/9.01.01.3841")
        headers.add(name: "Cache-Control", value: "no-cache")
        if let type { headers.add(name: "Content-Type", value: type) }
        let bytes = body.map { ByteBuffer(string: $0) }
        headers.add(name: "Content-Length", value: "\(bytes?.readableBytes ?? 0)")
        let keepAlive = head.isKeepAlive && status == .ok
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if let bytes, head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
