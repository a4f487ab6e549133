import ASF
import NIOCore
import Streaming

/// What `asfcast push` sends: a header, then the packets with their send times, and a new header
/// where a playlist entry has other streams (sent as `$E(1)` and `$C`).
public protocol PushInput {
    /// The first header: the Header Object and the Data Object's start, as `$H` carries it.
    var header: ByteBuffer { get }
    mutating func next() throws -> PushItem?
}

public enum PushItem {
    case packet(ByteBuffer, sendTime: UInt32)
    case header(ByteBuffer)
}

/// `$H` and `$C` hold at most a frame's worth (MS-WMHTTP 2.2.3.1: 65,531 bytes): a larger
/// header loses what playback does not need first (`HeaderOmission`), as a client's does.
enum PushHeader {
    static let limit = PushFrame.maximumLength - 4

    static func bytes(_ header: ASFHeader) throws -> ByteBuffer {
        let live = header.broadcast()
        guard let (fitted, _) = live.fitted(to: limit) else {
            throw PushClient.Failure(description: "the header cannot be made to fit in \(limit) bytes")
        }
        return fitted.streamingHeaderOfUnknownSize
    }
}

/// An ASF stream as it arrives (standard input from a live encoder).
public struct StreamedInput: PushInput {
    private var reader: ASFStreamReader
    public let header: ByteBuffer

    public init(_ reader: ASFStreamReader) throws {
        self.reader = reader
        header = try PushHeader.bytes(reader.header)
    }

    public mutating func next() throws -> PushItem? {
        guard let packet = try reader.next() else { return nil }
        return .packet(packet, sendTime: try DataPacket.sendTime(of: packet))
    }
}

/// Files and playlists, one after another on one clock, looped or not (`SplicedSource`).
public struct SourceInput: PushInput {
    private var source: any PacketSource
    public let header: ByteBuffer

    public init(_ source: any PacketSource) throws {
        self.source = source
        header = try PushHeader.bytes(source.file.header)
    }

    public mutating func next() throws -> PushItem? {
        switch try source.next() {
        case nil: return nil
        case let .packet(packet)?: return .packet(packet.bytes, sendTime: packet.sendTime)
        case let .header(file)?: return .header(try PushHeader.bytes(file.header))
        }
    }
}
