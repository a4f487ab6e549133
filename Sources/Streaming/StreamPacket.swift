import ASF
import NIOCore

/// A data packet on its stream's clock, as sources hand them to sessions.
public struct StreamPacket: Sendable {
    /// Position in the (possibly virtual) ASF file: MS-WMSP 2.2.3.1.2 LocationId.
    public var locationID: UInt32
    public var bytes: ByteBuffer
    /// Milliseconds on the stream's clock.
    public var sendTime: UInt32
    /// Whether a late joiner can start here: a video key frame begins in this packet (for
    /// audio-only streams, every packet).
    public var isCleanPoint: Bool
    /// Which playlist entry it belongs to, counted from the start of the source, each loop a new
    /// one: a multicast sender marks each change (MS-MSB 3.1.5.1).
    public var entry: UInt32 = 0
}

/// What a source yields: packets, and a new header when the next entry has other streams.
public enum SourceItem: Sendable {
    case packet(StreamPacket)
    /// From here on the packets follow this file's header (MS-WMSP 3.2.4.2: signal with $C and $H).
    case header(ASFFile)
}

/// Where a session's packets come from: one file, or a playlist of files.
public protocol PacketSource {
    /// The header the session starts with.
    var file: ASFFile { get }
    /// The next item, or nil at the end.
    mutating func next() throws -> SourceItem?
    /// Skips the rest of the current playlist entry (MS-WMSP PlayNextEntry).
    mutating func skipEntry()
}

extension PacketSource {
    /// A single file has no next entry: skipping ends it.
    public mutating func skipEntry() {}
}
