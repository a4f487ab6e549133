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

    /// The first ASF data an RTP packet carries (2.2.1.3): a whole ASF packet (its Length
    /// read either way: with or without the payload format header, CLIENTS.md 3.6 rule 6), or a
    /// fragment and its offset in its ASF packet. Nil when the packet is too short to hold one.
    public static func firstData(inRTP rtp: ByteBuffer) -> (bytes: ByteBuffer, fragmentOffset: Int?)? {
        guard let first = rtp.getInteger(at: rtp.readerIndex, as: UInt8.self) else { return nil }
        var at = rtp.readerIndex + rtpHeaderSize + 4 * Int(first & 0x0F)
        guard let flags = rtp.getInteger(at: at, as: UInt8.self), let high = rtp.getInteger(at: at + 1, as: UInt8.self),
              let low = rtp.getInteger(at: at + 2, as: UInt16.self) else { return nil }
        let lengthOrOffset = Int(high) << 16 | Int(low)
        at += payloadHeaderSize + 4 * [0x20, 0x10, 0x08].filter { flags & $0 != 0 }.count  // R, D, I fields
        let rest = rtp.writerIndex - at
        guard rest > 0 else { return nil }
        guard flags & 0x40 != 0 else { return (rtp.getSlice(at: at, length: rest)!, lengthOrOffset) }
        return (rtp.getSlice(at: at, length: min(rest, lengthOrOffset))!, nil)
    }

    /// An ASF packet to send: bytes of the stored packet itself, or a range of the batch buffer
    /// it was rewritten into.
    public struct Packet {
        public var stored: ByteBuffer?
        public var start: Int
        public var length: Int
        public var keyFrame: Bool
        public var sendTime: UInt32

        /// The packet's bytes once the batch buffer is complete (slicing earlier would make every
        /// later write to it copy the storage).
        public func bytes(in batch: ByteBuffer) -> ByteBuffer {
            stored ?? batch.getSlice(at: start, length: length)!
        }
    }

    /// The ASF packets sent for one stored packet (CLIENTS.md 3.6 rule 5): padding removed with
    /// an explicit Packet Length (2.2.1.4), and a packet of several payloads split into one packet
    /// per payload. ffmpeg's RTSP reader keeps its ASF demuxer's half-read packet across a seek
    /// (PAUSE, PLAY with Range) and parses the next packet as its continuation; with a payload per
    /// packet every frame it returns ends a packet, so a seek always resumes at a boundary. A
    /// single-payload packet with no padding to remove goes out untouched. No packet is ever
    /// longer than the stored one (`a=maxps`): GStreamer's depayloader fails on that.
    ///
    /// Every packet goes out with the standard error correction data (0x82 0 0, ASF spec 5.2.1),
    /// added where the file has none (GStreamer's `asfmux`): libavformat's RTSP reader knows where
    /// an ASF packet ends only in a stream of such packets, and otherwise parses the bytes past
    /// each packet's end as a packet of its own and skips the next packets with it. A full
    /// single-payload packet with no room for it goes out as two packets, each with half the
    /// payload's bytes (two fragments of its media object, ASF spec 5.2.3.1).
    public static func append(_ bytes: ByteBuffer, rewritingInto batch: inout ByteBuffer, to packets: inout [Packet]) throws {
        var packet = try DataPacket(parsing: bytes)
        let addsErrorCorrection = packet.errorCorrectionFlags == nil
        if addsErrorCorrection { packet.addStandardErrorCorrection() }
        guard packet.payloads.count == 1 else { return split(packet, into: &batch, &packets) }
        let payload = packet.payloads[0]
        let key = payload.isKeyFrame && payload.startsMediaObject
        if let stripped = packet.withoutPadding(storedSize: bytes.readableBytes + (addsErrorCorrection ? 3 : 0)),
           Int(stripped.packetLength) <= bytes.readableBytes {
            let start = batch.writerIndex
            stripped.write(to: &batch)
            packets.append(Packet(stored: nil, start: start, length: batch.writerIndex - start, keyFrame: key, sendTime: packet.sendTime))
        } else if addsErrorCorrection, !payload.isCompressed, payload.data.readableBytes >= 2 {
            var halves = packet
            let half = payload.data.readableBytes / 2
            var first = payload, second = payload
            first.data = payload.data.getSlice(at: payload.data.readerIndex, length: half)!
            second.data = payload.data.getSlice(at: payload.data.readerIndex + half, length: payload.data.readableBytes - half)!
            second.offsetIntoMediaObject = payload.offsetIntoMediaObject &+ UInt32(half)
            halves.payloads = [first, second]
            split(halves, into: &batch, &packets)
        } else {
            packets.append(Packet(stored: bytes, start: 0, length: bytes.readableBytes, keyFrame: key, sendTime: packet.sendTime))
        }
    }

    /// One packet per payload, written into `batch`.
    private static func split(_ packet: DataPacket, into batch: inout ByteBuffer, _ packets: inout [Packet]) {
        packet.writeSinglePayloadPackets(to: &batch) { start, length, payload in
            packets.append(Packet(stored: nil, start: start, length: length,
                                  keyFrame: payload.isKeyFrame && payload.startsMediaObject, sendTime: packet.sendTime))
        }
    }
}
