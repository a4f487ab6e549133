import ASF
import NIOCore
import NIOHTTP1
import Streaming

/// The ASF header as a response carries it: Describe's whole body, and the start of Play's and
/// of each playlist entry with other streams.
extension WMSPServerHandler {
    /// The features a version 9 client is told of (2.2.1.7): stream switching, packet pairs, and
    /// the next entry's streams chosen without a SelectStream (playlists go on after $C and $H).
    static let supportedFeatures = "com.microsoft.wm.srvppair, com.microsoft.wm.sswitch, com.microsoft.wm.predstrm"

    /// The header as this client takes it (`ClientHeaderLimit.wmsp`).
    func clientHeader(_ header: ASFHeader, _ request: WMSPRequest) -> ClientHeader {
        server.delivery.header(header, for: .wmsp(userAgent: request.userAgent))
    }

    /// Describe (3.2.5.4): the header, after three $P packets when the client asks for a
    /// packet-pair experiment; the head and the first $P go in one segment, the second alone.
    func describe(_ streamingHeader: ByteBuffer, of header: ASFHeader, features: String, broadcastID: UInt32,
                  request: WMSPRequest, context: ChannelHandlerContext) {
        clientID = describeSession(request, context: context)
        let pairs = request.wantsPacketPairs
        let headLength = writeWMSPHead(contentType: "application/vnd.ms.wms-hdr.asfv1", features: features,
                                       extraPragma: pairs ? "packet-pair-experiment=1" : nil, context: context)
        if pairs {
            for packet in Frame.packetPairs(responseHeadLength: headLength, allocator: context.channel.allocator) {
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(packet))), promise: nil)
            }
        }
        writeHeader(streamingHeader, of: header, features: features, broadcastID: broadcastID, context: context)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
        logger.info("describe\(pairs ? " with packet pairs" : "")")
    }

    /// An entry's header as $H packets, after its $M packets for a version 9 client (3.2.5.4,
    /// 3.2.5.6, 3.2.4.2: the server names itself Cougar 9, so it must send them, right before $H).
    func writeHeader(_ streamingHeader: ByteBuffer, of header: ASFHeader, features: String, broadcastID: UInt32,
                     context: ChannelHandlerContext) {
        let allocator = context.channel.allocator
        if isVersion9Client {
            let metadata = EntryMetadata(header: header, playlistGenID: playlistGenID, broadcastID: broadcastID, features: features)
            context.write(wrapOutboundOut(.body(.byteBuffer(Frame.metadataPackets(metadata, allocator: allocator)))), promise: nil)
        }
        context.write(wrapOutboundOut(.body(.byteBuffer(Frame.headerPackets(streamingHeader, allocator: allocator)))), promise: nil)
    }
}

extension HTTPResponseHead {
    /// Its size as NIO's encoder writes it: the status line, a `name: value` line per header, and
    /// the blank line.
    var encodedLength: Int {
        let statusLine = "HTTP/\(version.major).\(version.minor) \(status.code) \(status.reasonPhrase)\r\n"
        return headers.reduce(statusLine.utf8.count + 2) { $0 + $1.name.utf8.count + 2 + $1.value.utf8.count + 2 }
    }
}
