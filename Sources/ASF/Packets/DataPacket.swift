import NIOCore

/// An ASF data packet (ASF spec 5.2) parsed as a view over its bytes: every field keeps the
/// length type it was coded with, so `write(to:)` reproduces the original bytes exactly, except
/// that a packet whose last payloads were cut off counts only the payloads kept.
public struct DataPacket: Sendable, Equatable {
    /// Error Correction Flags byte and its data (ASF spec 5.2.1); nil when absent.
    public var errorCorrectionFlags: UInt8?
    public var errorCorrectionData: ByteBuffer
    /// Length Type Flags (ASF spec 5.2.2): bit 0 multiple payloads, bits 1-2 sequence type,
    /// bits 3-4 padding length type, bits 5-6 packet length type.
    public var lengthTypeFlags: UInt8
    /// Property Flags: bits 0-1 replicated data length type, 2-3 offset type, 4-5 media object number type.
    public var propertyFlags: UInt8
    /// Explicit Packet Length, when its length type is not 0.
    public var packetLength: UInt32
    public var sequence: UInt32
    public var paddingLength: UInt32
    /// Milliseconds, preroll included.
    public var sendTime: UInt32
    public var duration: UInt16
    /// Payload Flags (multiple payloads only): bits 0-5 count, bits 6-7 payload length type.
    public var payloadFlags: UInt8
    public var payloads: [Payload]
    /// Every byte after the payloads: the padding, and the bytes past an explicit Packet Length.
    public var padding: ByteBuffer
    /// What in the stored packet departs from the spec; the payloads are what could be saved.
    public var departures: PacketDepartures = []

    public var hasMultiplePayloads: Bool { lengthTypeFlags & 0x01 != 0 }
    var sequenceType: UInt8 { (lengthTypeFlags >> 1) & 3 }
    var paddingLengthType: UInt8 { (lengthTypeFlags >> 3) & 3 }
    var packetLengthType: UInt8 { (lengthTypeFlags >> 5) & 3 }
    var replicatedDataLengthType: UInt8 { propertyFlags & 3 }
    var offsetLengthType: UInt8 { (propertyFlags >> 2) & 3 }
    var mediaObjectNumberLengthType: UInt8 { (propertyFlags >> 4) & 3 }
    var payloadLengthType: UInt8 { payloadFlags >> 6 }

    /// Parses one packet. `bytes` holds exactly one packet as stored (the file's fixed packet size,
    /// or fewer bytes when a transport stripped the padding); `origin` is its absolute offset.
    public init(parsing bytes: ByteBuffer, origin: Int = 0) throws {
        var c = ByteCursor(bytes, origin: origin, context: "data packet")
        let total = bytes.readableBytes
        var first = try c.u8()
        if first & 0x80 != 0 {
            // Error Correction Flags: bits 0-3 data length, bits 5-6 length type (must be 00).
            guard first & 0x60 == 0 else { throw c.error(.invalidValue("error correction length type \((first >> 5) & 3)")) }
            errorCorrectionFlags = first
            errorCorrectionData = try c.slice(Int(first & 0x0F))
            first = try c.u8()
        } else {
            errorCorrectionFlags = nil
            errorCorrectionData = ByteBuffer()
        }
        lengthTypeFlags = first
        propertyFlags = try c.u8()
        packetLength = try c.sized(lengthTypeFlags >> 5)
        sequence = try c.sized(lengthTypeFlags >> 1)
        paddingLength = try c.sized(lengthTypeFlags >> 3)
        sendTime = try c.u32()
        duration = try c.u16()

        // Where the spec puts the end of the payloads: Packet Length (or the stored size) less
        // the padding. Players read past a disagreeing field, and so does this parser.
        var departures = PacketDepartures()
        let explicitLength = (lengthTypeFlags >> 5) & 3 != 0
        var length = explicitLength ? Int(packetLength) : total
        if length > total {
            departures.insert(.packetTruncated)
            length = total
        }
        let consumed = total - c.remaining
        var payloadEnd = length - Int(paddingLength)
        if payloadEnd < consumed {
            departures.insert(.paddingDisagrees)
            payloadEnd = length
        }
        payloads = []
        if lengthTypeFlags & 0x01 != 0 {
            // Multiple payloads (5.2.3.3) carry their lengths: read them up to the stored end.
            var body = c
            payloadFlags = try body.u8()
            let count = Int(payloadFlags & 0x3F)
            guard count > 0 else { throw body.error(.invalidValue("multiple payloads with a count of 0")) }
            payloads.reserveCapacity(count)
            for _ in 0..<count {
                var next = body
                do {
                    payloads.append(try Self.parsePayload(&next, propertyFlags: propertyFlags, payloadLengthType: payloadFlags >> 6))
                } catch {
                    guard !payloads.isEmpty else { throw error }
                    departures.insert(.payloadTruncated)
                    payloadFlags = payloadFlags & 0xC0 | UInt8(payloads.count)
                    break
                }
                body = next
            }
            let end = total - body.remaining
            if explicitLength, end == Int(packetLength), end + Int(paddingLength) == total, end != payloadEnd {
                departures.insert(.lengthExcludesPadding)
            } else if end != payloadEnd, !departures.contains(.payloadTruncated) {
                departures.insert(.paddingDisagrees)
            }
            padding = body.rest()
        } else {
            payloadFlags = 0
            // A single payload runs to the padding. GStreamer's Packet Length stops there already.
            if explicitLength, length < total, length + Int(paddingLength) == total, length >= consumed {
                departures.insert(.lengthExcludesPadding)
                payloadEnd = length
            }
            var body = try c.subCursor(payloadEnd - consumed, context: "payload data")
            padding = c.rest()
            payloads.append(try Self.parsePayload(&body, propertyFlags: propertyFlags, payloadLengthType: nil))
        }
        self.departures = departures
    }

    /// The send time alone, read from the payload parsing information without parsing payloads:
    /// what pacing needs for every packet.
    public static func sendTime(of bytes: ByteBuffer) throws -> UInt32 {
        var c = ByteCursor(bytes, context: "data packet")
        return try readParsingInformation(&c).sendTime
    }

    /// The first payload's stream number, read from the packet's first bytes alone (the first
    /// fragment of a packet will do).
    public static func firstStreamNumber(of bytes: ByteBuffer) throws -> UInt8 {
        var c = ByteCursor(bytes, context: "data packet")
        let flags = try readParsingInformation(&c).lengthTypeFlags
        _ = try c.u16()  // duration
        if flags & 0x01 != 0 { _ = try c.u8() }  // payload flags
        return try c.u8() & 0x7F
    }

    /// Reads the error correction data and the payload parsing information up to the send time.
    private static func readParsingInformation(_ c: inout ByteCursor) throws -> (lengthTypeFlags: UInt8, sendTime: UInt32) {
        var flags = try c.u8()
        if flags & 0x80 != 0 {
            try c.skip(Int(flags & 0x0F))
            flags = try c.u8()
        }
        _ = try c.u8()
        _ = try c.sized(flags >> 5)
        _ = try c.sized(flags >> 1)
        _ = try c.sized(flags >> 3)
        return (flags, try c.u32())
    }

    private static func parsePayload(_ c: inout ByteCursor, propertyFlags: UInt8, payloadLengthType: UInt8?) throws -> Payload {
        let stream = try c.u8()
        let mediaObjectNumber = try c.sized(propertyFlags >> 4)
        let offset = try c.sized(propertyFlags >> 2)
        let replicatedLength = try c.sized(propertyFlags)
        let replicated = try c.slice(Int(replicatedLength))
        let data: ByteBuffer
        if let payloadLengthType {
            let length = try c.sized(payloadLengthType)
            data = try c.slice(Int(length))
        } else {
            data = c.rest()
        }
        guard stream & 0x7F != 0 else { throw c.error(.invalidValue("payload for stream 0")) }
        let payload = Payload(streamNumber: stream & 0x7F, isKeyFrame: stream & 0x80 != 0,
                              mediaObjectNumber: mediaObjectNumber, offsetIntoMediaObject: offset,
                              replicatedData: replicated, data: data)
        if payload.isCompressed { _ = try payload.subPayloads() }
        return payload
    }

    /// Writes the packet with its original field coding.
    public func write(to b: inout ByteBuffer) {
        if let errorCorrectionFlags {
            b.writeInteger(errorCorrectionFlags)
            var e = errorCorrectionData
            b.writeBuffer(&e)
        }
        b.writeInteger(lengthTypeFlags)
        b.writeInteger(propertyFlags)
        b.writeSized(packetLength, type: packetLengthType)
        b.writeSized(sequence, type: sequenceType)
        b.writeSized(paddingLength, type: paddingLengthType)
        b.writeLE(sendTime)
        b.writeLE(duration)
        if hasMultiplePayloads { b.writeInteger(payloadFlags) }
        for p in payloads {
            b.writeInteger(p.streamNumber | (p.isKeyFrame ? 0x80 : 0))
            b.writeSized(p.mediaObjectNumber, type: mediaObjectNumberLengthType)
            b.writeSized(p.offsetIntoMediaObject, type: offsetLengthType)
            b.writeSized(UInt32(p.replicatedData.readableBytes), type: replicatedDataLengthType)
            var r = p.replicatedData
            b.writeBuffer(&r)
            if hasMultiplePayloads { b.writeSized(UInt32(p.data.readableBytes), type: payloadLengthType) }
            var d = p.data
            b.writeBuffer(&d)
        }
        var pad = padding
        b.writeBuffer(&pad)
    }

    /// The streams that have payloads in this packet.
    public var streamNumbers: Set<UInt8> { Set(payloads.map(\.streamNumber)) }

    /// Whether a payload of `stream` begins a key frame here.
    public func startsKeyFrame(of stream: UInt8) -> Bool {
        payloads.contains { $0.streamNumber == stream && $0.isKeyFrame && $0.startsMediaObject }
    }
}

extension ByteBuffer {
    mutating func writeSized(_ value: UInt32, type: UInt8) {
        switch type & 3 {
        case 1: writeInteger(UInt8(truncatingIfNeeded: value))
        case 2: writeLE(UInt16(truncatingIfNeeded: value))
        case 3: writeLE(value)
        default: break
        }
    }
}
