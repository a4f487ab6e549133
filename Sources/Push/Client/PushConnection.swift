import NIOCore
import NIOHTTP1
import NIOPosix

/// One TCP connection of the encoder client: requests out, answers in. Used from the client's own
/// thread, which blocks on it; the answers are collected on the connection's loop.
final class PushConnection {
    let channel: Channel
    private let answers: AnswerCollector

    private init(channel: Channel, answers: AnswerCollector) {
        self.channel = channel
        self.answers = answers
    }

    static func connect(host: String, port: Int, group: EventLoopGroup) throws -> PushConnection {
        let channel = try ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HTTPRequestEncoder())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try channel.pipeline.syncOperations.addHandler(AnswerCollector())
                }
            }
            .connect(host: host, port: port).wait()
        let answers = try channel.pipeline.handler(type: AnswerCollector.self).wait()
        return PushConnection(channel: channel, answers: answers)
    }

    /// A request; with `body`, the whole of it (its end too), else the head only and the body
    /// follows with `write`.
    func send(_ head: HTTPRequestHead, body: ByteBuffer?) throws {
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
            try channel.writeAndFlush(HTTPClientRequestPart.end(nil)).wait()
        } else {
            channel.flush()
        }
    }

    /// Body bytes of the request under way; returns once they are written.
    func write(_ bytes: ByteBuffer) throws {
        try channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(bytes))).wait()
    }

    /// The next answer, waiting up to `timeout`.
    func answer(within timeout: TimeAmount) throws -> HTTPResponseHead {
        let loop = channel.eventLoop
        let answers = answers
        return try loop.flatSubmit {
            let promise = loop.makePromise(of: HTTPResponseHead.self)
            answers.next(promise)
            let timer = loop.scheduleTask(in: timeout) { promise.fail(PushClient.Failure(description: "no answer within \(timeout.nanoseconds / 1_000_000_000) s")) }
            promise.futureResult.whenComplete { _ in timer.cancel() }
            return promise.futureResult
        }.wait()
    }

    /// An answer that came already, if any (the server's error in the middle of a body).
    func answerIfAny() throws -> HTTPResponseHead? {
        let answers = answers
        return try channel.eventLoop.submit { answers.takeIfAny() }.wait()
    }

    var isOpen: Bool { channel.isActive }

    func close() {
        try? channel.close().wait()
    }
}

/// Collects response heads as each response ends.
private final class AnswerCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    private var head: HTTPResponseHead?
    private var answers: [HTTPResponseHead] = []
    private var waiting: EventLoopPromise<HTTPResponseHead>?
    private var closed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            if let waiting {
                self.waiting = nil
                waiting.succeed(head)
            } else {
                answers.append(head)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        waiting?.fail(PushClient.ConnectionLost())
        waiting = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func next(_ promise: EventLoopPromise<HTTPResponseHead>) {
        if !answers.isEmpty { return promise.succeed(answers.removeFirst()) }
        if closed { return promise.fail(PushClient.ConnectionLost()) }
        waiting = promise
    }

    func takeIfAny() -> HTTPResponseHead? {
        answers.isEmpty ? nil : answers.removeFirst()
    }
}
