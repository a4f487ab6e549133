import NIOCore

/// The RTP side of one client's data (MS-RTSP 2.2.1): sequence numbers and timestamps, an ASF
/// packet per RTP packet or fragments above the MTU, and the counts a sender report states.
/// A plain value: the handler decides where the bytes go.
public struct RTPPacketizer {
    public let ssrc: UInt32
    public let payloadType: UInt8
    /// The sequence number of the next RTP packet (RTP-Info `seq`).
    public private(set) var sequence: UInt16
    public private(set) var packetCount: UInt32 = 0
    public private(set) var octetCount: UInt32 = 0
    /// Largest ASF bytes per RTP packet before fragmenting; nil over TCP, where nothing is.
    public let maximumBody: Int?

    /// One RTP packet: its headers at `headerStart` of the batch's header buffer, then `body`.
    public struct Piece {
        public var sequence: UInt16
        public var headerStart: Int
        public var headerLength: Int
        public var body: ByteBuffer
    }

    public init(ssrc: UInt32, payloadType: UInt8, sequence: UInt16, maximumBody: Int?) {
        self.ssrc = ssrc
        self.payloadType = payloadType
        self.sequence = sequence
        self.maximumBody = maximumBody
    }

    /// Appends the RTP packets of one ASF packet to `pieces`, writing their headers (after an
    /// interleaved frame header when `channel` is set: RFC 2326 10.12) into `headers`.
    public mutating func packetize(body: ByteBuffer, keyFrame: Bool, timestamp: UInt32, channel: UInt8?,
                                   headers: inout ByteBuffer, pieces: inout [Piece]) {
        let length = body.readableBytes
        let size = maximumBody.map { max(1, $0) } ?? length
        let whole = length <= size
        var offset = 0
        repeat {
            let chunk = min(size, length - offset)
            let last = offset + chunk == length
            let start = headers.writerIndex
            if let channel {
                headers.writeInteger(UInt8(0x24))
                headers.writeInteger(channel)
                headers.writeInteger(UInt16(ASFPayload.rtpHeaderSize + ASFPayload.payloadHeaderSize + chunk))
            }
            ASFPayload.writeRTPHeader(marker: last, sequence: sequence, timestamp: timestamp, ssrc: ssrc, payloadType: payloadType, to: &headers)
            if whole {
                ASFPayload.writePayloadHeader(keyFrame: keyFrame, packetLength: length, to: &headers)
            } else {
                ASFPayload.writeFragmentHeader(keyFrame: keyFrame, offset: offset, to: &headers)
            }
            pieces.append(Piece(sequence: sequence, headerStart: start, headerLength: headers.writerIndex - start,
                                body: body.getSlice(at: body.readerIndex + offset, length: chunk)!))
            sequence &+= 1
            packetCount &+= 1
            octetCount &+= UInt32(ASFPayload.payloadHeaderSize + chunk)
            offset += chunk
        } while offset < length
    }
}
