import ASF
import NIOCore

/// RTP packets carrying ASF data packets (MS-RTSP 2.2.1), one ASF packet per RTP packet, as
/// both ffmpeg and GStreamer read them (CLIENTS.md 3.6 rules 5 and 6).
public enum ASFPayload {
    /// The RTP fixed header (RFC 3550 5.1): version 2, the marker set (each RTP packet ends an
    /// ASF packet), the ASF send time as timestamp (2.2.1.2).
    public static func writeRTPHeader(sequence: UInt16, timestamp: UInt32, ssrc: UInt32, payloadType: UInt8, to b: inout ByteBuffer) {
        b.writeInteger(UInt8(0x80))
        b.writeInteger(0x80 | payloadType)
        b.writeInteger(sequence)
        b.writeInteger(timestamp)
        b.writeInteger(ssrc)
    }

    /// The payload format header (2.2.1.3) for a whole ASF packet: S for a key frame, L set, no
    /// optional fields. Length counts this 4-byte header too: ffmpeg reads it that way and
    /// GStreamer caps it at the bytes present (CLIENTS.md 3.3, 3.4).
    public static func writePayloadHeader(keyFrame: Bool, packetLength: Int, to b: inout ByteBuffer) {
        let length = UInt32(packetLength + 4)
        b.writeInteger(UInt8((keyFrame ? 0x80 : 0) | 0x40))
        b.writeInteger(UInt8(truncatingIfNeeded: length >> 16))
        b.writeInteger(UInt16(truncatingIfNeeded: length))
    }

    /// The ASF packet as sent: padding removed with an explicit Packet Length when that makes it
    /// shorter, else the packet's own bytes.
    public static func body(of bytes: ByteBuffer) throws -> (bytes: ByteBuffer, keyFrame: Bool, sendTime: UInt32) {
        let packet = try DataPacket(parsing: bytes)
        let key = packet.payloads.contains { $0.isKeyFrame && $0.startsMediaObject }
        return (packet.withoutPadding(storedSize: bytes.readableBytes)?.bytes ?? bytes, key, packet.sendTime)
    }
}
