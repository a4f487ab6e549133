import NIOCore

extension DataPacket {
    /// Writes one packet per payload (ASF spec 5.2.3.1, single payload), each unpadded with an
    /// explicit WORD Packet Length and a WORD Padding Length of 0 (GStreamer's depayloader pads
    /// each packet to the packet size and writes the padding's length there, CLIENTS.md 3.4:
    /// more than a BYTE holds), keeping this packet's error
    /// correction data, send time, duration and property flags. For a packet of several payloads
    /// each is shorter than this packet (a full single-payload packet would grow by 3 bytes). A client whose demuxer must stop
    /// at a packet boundary (ffmpeg's RTSP ASF reader after a seek) finds one after every frame.
    /// Calls `emit` with the byte range of each packet written to `b` and its payload.
    public func writeSinglePayloadPackets(to b: inout ByteBuffer, _ emit: (_ start: Int, _ length: Int, _ payload: Payload) -> Void) {
        func width(_ type: UInt8) -> Int { type == 3 ? 4 : Int(type) }
        let fixed = (errorCorrectionFlags == nil ? 0 : 1 + errorCorrectionData.readableBytes)
            + 2 /* flags */ + 2 /* packet length */ + 2 /* padding length */ + 4 + 2 /* send time, duration */
        let payloadFields = 1 + width(mediaObjectNumberLengthType) + width(offsetLengthType) + width(replicatedDataLengthType)
        // Single payload, sequence absent, padding length and packet length WORDs.
        let flags: UInt8 = (2 << 3) | (2 << 5)
        for p in payloads {
            let length = fixed + payloadFields + p.replicatedData.readableBytes + p.data.readableBytes
            let start = b.writerIndex
            if let errorCorrectionFlags {
                b.writeInteger(errorCorrectionFlags)
                var e = errorCorrectionData
                b.writeBuffer(&e)
            }
            b.writeInteger(flags)
            b.writeInteger(propertyFlags)
            b.writeLE(UInt16(truncatingIfNeeded: length))
            b.writeLE(UInt16(0))
            b.writeLE(sendTime)
            b.writeLE(duration)
            b.writeInteger(p.streamNumber | (p.isKeyFrame ? 0x80 : 0))
            b.writeSized(p.mediaObjectNumber, type: mediaObjectNumberLengthType)
            b.writeSized(p.offsetIntoMediaObject, type: offsetLengthType)
            b.writeSized(UInt32(p.replicatedData.readableBytes), type: replicatedDataLengthType)
            var r = p.replicatedData
            b.writeBuffer(&r)
            var d = p.data
            b.writeBuffer(&d)
            emit(start, length, p)
        }
    }
}
