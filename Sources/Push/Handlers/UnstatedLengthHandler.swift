import NIOCore

/// Before NIO's HTTP decoder on the HTTP port: reads the heads of an encoder's requests in the
/// raw bytes and gives a PushStart that states no length the one WME states (`UnstatedLength`).
/// It leaves the pipeline at the first request that is not an encoder's (a player's: from then
/// on its bytes cost nothing here), at a PushStart's body, or at a head it cannot read (the
/// decoder answers that one).
public final class UnstatedLengthHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    /// The head read so far, and how much of it was searched for its end (a head that
    /// trickles in a byte at a time is searched once, not once per byte).
    private var pending = ByteBuffer()
    private var searched = 0
    /// What is left of the current request's body.
    private var bodyLeft = 0
    private var leaving = false
    /// A head longer than this is passed on as it is: the decoder refuses it.
    static let maximumHead = 64 << 10
    private static let blankLine = Array("\r\n\r\n".utf8)

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !leaving else { return context.fireChannelRead(data) }
        var bytes = unwrapInboundIn(data)
        while bytes.readableBytes > 0 {
            if bodyLeft > 0 {
                let part = bytes.readSlice(length: min(bodyLeft, bytes.readableBytes))!
                bodyLeft -= part.readableBytes
                context.fireChannelRead(wrapInboundOut(part))
                continue
            }
            pending.writeBuffer(&bytes)
            guard let end = Self.endOfHead(in: pending, from: searched) else {
                searched = max(0, pending.readableBytes - (Self.blankLine.count - 1))
                if pending.readableBytes > Self.maximumHead { leave(context: context) }
                return
            }
            let head = pending.readSlice(length: end)!
            bytes = pending
            pending = ByteBuffer()
            searched = 0
            guard let read = UnstatedLength(head), read.isPush else {
                context.fireChannelRead(wrapInboundOut(head))
                pending = bytes
                return leave(context: context)
            }
            context.fireChannelRead(wrapInboundOut(read.head))
            switch read.body {
            case .none: continue
            case let .length(length): bodyLeft = length
            case .chunked, .toTheEnd:
                pending = bytes
                return leave(context: context)
            }
        }
    }

    /// Passes on what it holds and leaves the pipeline.
    private func leave(context: ChannelHandlerContext) {
        leaving = true
        if pending.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(pending))
            pending = ByteBuffer()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// The length of the head in `buffer` with its blank line, once it is all there; the
    /// search starts `from` bytes in.
    private static func endOfHead(in buffer: ByteBuffer, from start: Int) -> Int? {
        let view = buffer.readableBytesView
        guard view.count >= blankLine.count else { return nil }
        var index = view.startIndex + start
        while index <= view.endIndex - blankLine.count {
            if view[index] == 13, view[index + 1] == 10, view[index + 2] == 13, view[index + 3] == 10 {
                return index - view.startIndex + blankLine.count
            }
            index += 1
        }
        return nil
    }
}
