import ASF
import NIOCore

/// RTP packets carrying ASF data packets (MS-RTSP 2.2.1), one ASF packet per RTP packet, as
/// both ffmpeg and GStreamer read them (CLIENTS.md 3.6 rules 5 and 6), or in fragments when an
/// ASF packet does not fit the path's MTU.
public enum ASFPayload {
    public static let rtpHeaderSize = 12
    public static let payloadHeaderSize = 4

    /// The RTP fixed header (RFC 3550 5.1): version 2, the marker set on the last RTP packet of
    /// an ASF packet, the ASF send time as timestamp (2.2.1.2).
    public static func writeRTPHeader(marker: Bool, sequence: UInt16, timestamp: UInt32, ssrc: UInt32, payloadType: UInt8, to b: inout ByteBuffer) {
        b.writeInteger(UInt8(0x80))
        b.writeInteger((marker ? 0x80 : 0) | payloadType)
        b.writeInteger(sequence)
        b.writeInteger(timestamp)
        b.writeInteger(ssrc)
    }

    /// The payload format header (2.2.1.3) for a whole ASF packet: S for a key frame, L set, no
    /// optional fields. Length counts this 4-byte header too: ffmpeg reads it that way and
    /// GStreamer caps it at the bytes present (CLIENTS.md 3.3, 3.4).
    public static func writePayloadHeader(keyFrame: Bool, packetLength: Int, to b: inout ByteBuffer) {
        let length = UInt32(packetLength + payloadHeaderSize)
        b.writeInteger(UInt8((keyFrame ? 0x80 : 0) | 0x40))
        b.writeInteger(UInt8(truncatingIfNeeded: length >> 16))
        b.writeInteger(UInt16(truncatingIfNeeded: length))
    }

    /// The payload format header of a fragment: L clear, the fragment's byte offset in the ASF
    /// packet (2.2.1.3); fragments start at offset 0 and the last carries the marker.
    public static func writeFragmentHeader(keyFrame: Bool, offset: Int, to b: inout ByteBuffer) {
        b.writeInteger(UInt8(keyFrame ? 0x80 : 0))
        b.writeInteger(UInt8(truncatingIfNeeded: offset >> 16))
        b.writeInteger(UInt16(truncatingIfNeeded: offset))
    }

    /// The ASF packet as sent: padding removed with an explicit Packet Length when that makes it
    /// shorter, else the packet's own bytes (never longer than `a=maxps`: CLIENTS.md 3.4).
    public static func body(of bytes: ByteBuffer) throws -> (bytes: ByteBuffer, keyFrame: Bool, sendTime: UInt32) {
        let packet = try DataPacket(parsing: bytes)
        let key = packet.payloads.contains { $0.isKeyFrame && $0.startsMediaObject }
        return (packet.withoutPadding(storedSize: bytes.readableBytes)?.bytes ?? bytes, key, packet.sendTime)
    }
}
