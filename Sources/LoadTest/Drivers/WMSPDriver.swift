import ASF
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import WMSP

/// A Windows Media HTTP player (MS-WMSP 2.2.2.6 Play, non-pipelined): one GET whose response
/// is the header and the $D frames, read as they come.
struct WMSPDriver: LoadDriver {
    func play(_ url: URL, session: LoadSession, group: EventLoopGroup) async throws {
        let host = url.host ?? "127.0.0.1", port = url.port ?? 80
        let done = group.next().makePromise(of: Void.self)
        defer { done.fail(LoadFailure("ended")) }  // a no-op once completed
        let handler = FrameReader(session: session, done: done)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: host, port: port).get()
        session.update { $0.connected(at: .now()) }
        session.own(channel)
        let path = url.path.isEmpty ? "/" : url.path + (url.query.map { "?" + $0 } ?? "")
        var headers = HTTPHeaders([("Host", "\(host):\(port)"), ("User-Agent", "NSPlayer/12.0.7601.17514"), ("Accept", "*/*")])
        for pragma in ["no-cache,rate=1.000000,stream-time=0,stream-offset=0:0,request-context=2,max-duration=0",
                       "xPlayStrm=1", "xClientGUID={\(UUID().uuidString)}"] { headers.add(name: "Pragma", value: pragma) }
        headers.add(name: "Connection", value: "Close")
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_0, method: .GET, uri: path, headers: headers)), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        try await done.futureResult.get()
    }

    /// The response: its status, then frames; $E ends the content, the connection's close
    /// ends the session.
    private final class FrameReader: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPClientResponsePart
        let session: LoadSession
        let done: EventLoopPromise<Void>
        var parser = FrameParser()
        var failure: LoadFailure?
        var finished = false

        init(session: LoadSession, done: EventLoopPromise<Void>) {
            self.session = session
            self.done = done
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case let .head(head):
                if head.status != .ok { failure = LoadFailure("HTTP \(head.status.code)") }
            case let .body(bytes):
                guard failure == nil else { return }
                parser.append(bytes)
                do {
                    while let frame = try parser.next() {
                        switch frame.type {
                        case Frame.header:
                            if let header = try? ASFHeader(parsing: frame.payload) {
                                session.update { $0.contentBitsPerSecond = header.fileProperties.maximumBitrate }
                            }
                        case Frame.data:
                            let sendTime = (try? DataPacket.sendTime(of: frame.payload)) ?? 0
                            session.packet(sendTime: sendTime, sequence: frame.locationID, bytes: frame.payload.readableBytes)
                        case Frame.endOfStream:
                            finished = true
                        default:
                            break
                        }
                    }
                } catch {
                    failure = LoadFailure("malformed frames")
                    context.close(promise: nil)
                }
            case .end:
                break
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if let failure { done.fail(failure) } else if finished { done.succeed() } else { done.fail(LoadFailure("connection closed")) }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            failure = failure ?? LoadFailure("\(error)")
            context.close(promise: nil)
        }
    }
}
