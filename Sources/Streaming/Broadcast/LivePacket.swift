import ASF
import NIOCore

/// A packet of a live stream, on the stream's own clock.
public struct LivePacket: Sendable {
    /// Position in the "virtual" ASF file the live stream forms (MS-WMSP 2.2.3.1.2 LocationId).
    public var locationID: UInt32
    public var bytes: ByteBuffer
    /// Milliseconds on the live stream's clock.
    public var sendTime: UInt32
    /// Whether a late joiner can start here: a video key frame begins in this packet (for
    /// audio-only streams, every packet).
    public var isCleanPoint: Bool
}
