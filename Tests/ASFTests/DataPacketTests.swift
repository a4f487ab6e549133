@testable import ASF
import NIOCore
import Testing

struct DataPacketTests {
    @Test(arguments: Samples.all)
    func everyPacketRoundTripsByteExactly(name: String) throws {
        let file = try ASFFile(path: Samples.path(name))
        var reader = file.packets()
        var count = 0
        while let (number, bytes) = try reader.next() {
            let packet = try DataPacket(parsing: bytes, origin: file.dataOffset + number * file.packetSize)
            #expect(packet.bytes == bytes, "packet \(number)")
            count += 1
        }
        #expect(count == file.packetCount)
        #expect(count > 0)
    }

    /// The send time and first stream read from a packet's first bytes alone agree with the
    /// full parse; 40 bytes (a fragment's start) are enough.
    @Test(arguments: Samples.all)
    func sendTimeAndFirstStreamComeFromThePacketsStart(name: String) throws {
        let file = try ASFFile(path: Samples.path(name))
        var reader = file.packets()
        while let (number, bytes) = try reader.next() {
            let packet = try DataPacket(parsing: bytes)
            let start = bytes.getSlice(at: bytes.readerIndex, length: 40)!
            #expect(try DataPacket.sendTime(of: start) == packet.sendTime, "packet \(number)")
            #expect(try DataPacket.firstStreamNumber(of: start) == packet.payloads[0].streamNumber, "packet \(number)")
        }
        #expect(throws: ASFError.self) { try DataPacket.firstStreamNumber(of: ByteBuffer(bytes: [0x82, 0, 0])) }
    }

    /// Each payload of a packet of several rewritten as a packet of its own parses back to the
    /// same payload, with the original's send time and duration, no padding, and is never longer
    /// than the original.
    @Test(arguments: Samples.all)
    func payloadsSplitIntoSinglePayloadPackets(name: String) throws {
        let file = try ASFFile(path: Samples.path(name))
        var reader = file.packets()
        var split = 0
        while let (_, bytes) = try reader.next() {
            let packet = try DataPacket(parsing: bytes)
            guard packet.payloads.count > 1 else { continue }
            var out = ByteBuffer()
            var written: [(start: Int, length: Int, payload: Payload)] = []
            packet.writeSinglePayloadPackets(to: &out) { written.append(($0, $1, $2)) }
            #expect(written.map(\.payload) == packet.payloads)
            #expect(written.last.map { $0.start + $0.length } == out.writerIndex)
            for (start, length, payload) in written {
                let single = try DataPacket(parsing: out.getSlice(at: start, length: length)!)
                #expect(!single.hasMultiplePayloads && single.payloads == [payload] && single.padding.readableBytes == 0)
                #expect(single.sendTime == packet.sendTime && single.duration == packet.duration)
                #expect(length <= bytes.readableBytes)
            }
            split += written.count
        }
        #expect(split > 0)
    }

    @Test func singlePayloadWithBytePaddingAndNoErrorCorrection() throws {
        var b = ByteBuffer()
        b.writeBytes([0x08, 0x5D, 3])                 // padding length BYTE; property flags; padding 3
        b.writeLE(UInt32(1234)); b.writeLE(UInt16(40)) // send time, duration
        b.writeBytes([0x81, 7])                        // stream 1 key frame; media object 7
        b.writeLE(UInt32(0))                           // offset
        b.writeBytes([8]); b.writeLE(UInt32(5)); b.writeLE(UInt32(3100)) // replicated: size 5, time 3100
        b.writeBytes([1, 2, 3, 4, 5, 0, 0, 0])         // data then padding
        let packet = try DataPacket(parsing: b)
        #expect(packet.errorCorrectionFlags == nil)
        #expect(!packet.hasMultiplePayloads)
        #expect(packet.sendTime == 1234 && packet.duration == 40)
        #expect(packet.payloads.count == 1)
        let p = packet.payloads[0]
        #expect(p.streamNumber == 1 && p.isKeyFrame && p.mediaObjectNumber == 7)
        #expect(p.mediaObjectSize == 5 && p.presentationTime == 3100)
        #expect(Array(p.data.readableBytesView) == [1, 2, 3, 4, 5])
        #expect(packet.bytes == b)
        #expect(packet.startsKeyFrame(of: 1))
    }

    @Test func compressedPayloadCarriesSubPayloads() throws {
        var b = ByteBuffer()
        b.writeBytes([0x82, 0, 0, 0x11, 0x5D])          // ECC; multiple payloads, WORD padding
        b.writeLE(UInt16(0)); b.writeLE(UInt32(500)); b.writeLE(UInt16(0))
        b.writeBytes([0x81])                            // one payload, length type WORD (set below)
        b.moveWriterIndex(to: b.writerIndex - 1)
        b.writeBytes([0x81])                            // payload flags: count 1, length type 10
        b.writeBytes([0x02, 9])                         // stream 2, media object 9
        b.writeLE(UInt32(3600))                         // presentation time
        b.writeBytes([1, 40])                           // replicated length 1: delta 40
        b.writeLE(UInt16(7))                            // payload length
        b.writeBytes([2, 0xAA, 0xBB, 3, 0xCC, 0xDD, 0xEE])
        let packet = try DataPacket(parsing: b)
        let p = try #require(packet.payloads.first)
        #expect(p.isCompressed)
        #expect(p.presentationTime == 3600)
        #expect(try p.subPayloads().map { Array($0.readableBytesView) } == [[0xAA, 0xBB], [0xCC, 0xDD, 0xEE]])
        #expect(try p.mediaObjectsStarted() == 2)
        #expect(packet.bytes == b)
    }

    @Test func explicitPacketLengthAndSequenceAreKept() throws {
        var b = ByteBuffer()
        b.writeBytes([0x82, 0, 0])
        b.writeBytes([0x40 | 0x04 | 0x10 | 0x01, 0x5D]) // packet length WORD, sequence WORD, padding WORD, multiple
        let lengthAt = b.writerIndex
        b.writeLE(UInt16(0)); b.writeLE(UInt16(77)); b.writeLE(UInt16(2))
        b.writeLE(UInt32(10)); b.writeLE(UInt16(5))
        b.writeBytes([0x81, 0x01, 0])
        b.writeLE(UInt32(0)); b.writeBytes([0]); b.writeLE(UInt16(3)); b.writeBytes([9, 9, 9])
        b.writeBytes([0, 0])                           // padding
        b.setInteger(UInt16(b.readableBytes), at: lengthAt, endianness: .little)
        b.writeBytes([0, 0, 0, 0])                     // bytes past the explicit length (stored packet size)
        let packet = try DataPacket(parsing: b)
        #expect(packet.packetLength == UInt32(b.readableBytes - 4))
        #expect(packet.sequence == 77)
        #expect(packet.payloads.first?.replicatedData.readableBytes == 0)
        #expect(packet.bytes == b)
    }

    /// A packet cut short keeps the payloads that fit in it, as libavformat does, and says so;
    /// one with no whole payload left is an error.
    @Test func cutPacketsKeepTheirWholePayloads() throws {
        let file = try ASFFile(path: Samples.path("demo.wmv"))
        let bytes = try #require(file.readPackets(0..<1).first)
        let whole = try DataPacket(parsing: bytes)
        #expect(whole.departures.isEmpty)
        for cut in [0, 1, 3, 10, 20] {
            #expect(throws: ASFError.self) { try DataPacket(parsing: bytes.getSlice(at: bytes.readerIndex, length: cut)!) }
        }
        for cut in [100, 1500, 3199] {
            guard let packet = try? DataPacket(parsing: bytes.getSlice(at: bytes.readerIndex, length: cut)!) else { continue }
            #expect(packet.payloads == Array(whole.payloads.prefix(packet.payloads.count)))
            #expect(!packet.departures.isEmpty)
            if packet.payloads.count < whole.payloads.count {
                #expect(packet.departures.contains(.payloadTruncated))
                #expect(Int(packet.payloadFlags & 0x3F) == packet.payloads.count)
            }
        }
    }

    /// GStreamer's asfmux: a Packet Length that stops where the payloads end, and the padding
    /// after it. Every payload is read, and `padded(to:)` makes a packet that states itself.
    @Test func packetLengthThatExcludesThePadding() throws {
        var b = ByteBuffer()
        b.writeBytes([0x51, 0x5D])                     // multiple payloads, WORD padding and packet lengths
        let lengthAt = b.writerIndex
        b.writeLE(UInt16(0)); b.writeLE(UInt16(8))      // packet length (set below), padding 8
        b.writeLE(UInt32(1000)); b.writeLE(UInt16(0))   // send time, duration
        b.writeInteger(UInt8(0x82))                     // two payloads, WORD lengths
        for number in 0..<2 {
            b.writeBytes([0x81, UInt8(number)]); b.writeLE(UInt32(0)); b.writeBytes([8])
            b.writeLE(UInt32(5)); b.writeLE(UInt32(2000)); b.writeLE(UInt16(5)); b.writeBytes([1, 2, 3, 4, 5])
        }
        b.setInteger(UInt16(b.readableBytes), at: lengthAt, endianness: .little)
        b.writeRepeatingByte(0, count: 8)
        let packet = try DataPacket(parsing: b)
        #expect(packet.payloads.count == 2)
        #expect(packet.departures == [.lengthExcludesPadding])
        #expect(packet.bytes == b)
        let padded = try #require(packet.padded(to: 100))
        #expect(padded.readableBytes == 100)
        let reparsed = try DataPacket(parsing: padded)
        #expect(reparsed.departures.isEmpty && reparsed.payloads == packet.payloads)
    }

    /// Over RTSP every packet carries the standard error correction data; an explicit Packet
    /// Length grows with it.
    @Test func standardErrorCorrectionIsAddedWithItsLength() throws {
        var b = ByteBuffer()
        b.writeBytes([0x48, 0x5D]); b.writeLE(UInt16(0)); b.writeBytes([0])   // single payload, WORD length, BYTE padding
        b.writeLE(UInt32(7)); b.writeLE(UInt16(0))
        b.writeBytes([0x81, 0]); b.writeLE(UInt32(0)); b.writeBytes([8]); b.writeLE(UInt32(3)); b.writeLE(UInt32(7)); b.writeBytes([9, 9, 9])
        b.setInteger(UInt16(b.readableBytes), at: 2, endianness: .little)
        var packet = try DataPacket(parsing: b)
        packet.addStandardErrorCorrection()
        let bytes = packet.bytes
        #expect(bytes.readableBytes == b.readableBytes + 3)
        #expect(Array(bytes.readableBytesView.prefix(3)) == [0x82, 0, 0])
        let reparsed = try DataPacket(parsing: bytes)
        #expect(reparsed.departures.isEmpty && reparsed.payloads == packet.payloads && Int(reparsed.packetLength) == bytes.readableBytes)
    }

    @Test func multiplePayloadsWithACountOfZeroAreAnError() throws {
        let file = try ASFFile(path: Samples.path("demo.wmv"))
        let bytes = try #require(file.readPackets(0..<1).first)
        var zeroCount = bytes
        let original = try DataPacket(parsing: bytes)
        #expect(original.hasMultiplePayloads)
        let width = { (type: UInt8) in type == 3 ? 4 : Int(type) }
        let flagsAt = zeroCount.readerIndex + 3 + 2 + width(original.packetLengthType) + width(original.sequenceType)
            + width(original.paddingLengthType) + 6
        #expect(zeroCount.getInteger(at: flagsAt, as: UInt8.self) == original.payloadFlags)
        zeroCount.setInteger(UInt8(0x80), at: flagsAt)
        #expect(throws: ASFError.self) { try DataPacket(parsing: zeroCount) }
    }

    @Test func builderOutputParsesAndPadsToThePacketSize() throws {
        let file = try ASFFile(path: Samples.path("demo.wmv"))
        let packet = try file.packet(3)
        let built = try PacketBuilder.build(payloads: packet.payloads, sendTime: packet.sendTime,
                                            duration: packet.duration, packetSize: 3200)
        let bytes = built.bytes
        #expect(bytes.readableBytes == 3200)
        let reparsed = try DataPacket(parsing: bytes)
        #expect(reparsed.payloads == packet.payloads)
        #expect(reparsed.sendTime == packet.sendTime)
        #expect(throws: PacketBuilder.Failure.self) {
            try PacketBuilder.build(payloads: packet.payloads, sendTime: 0, duration: 0, packetSize: 100)
        }
    }
}

struct PaddingRemovalTests {
    @Test(arguments: Samples.all)
    func strippedPacketsKeepTheirPayloadsAndStateTheirLength(name: String) throws {
        let file = try ASFFile(path: Samples.path(name))
        var reader = file.packets()
        var stripped = 0
        while let (_, bytes) = try reader.next() {
            let packet = try DataPacket(parsing: bytes)
            guard let short = packet.withoutPadding(storedSize: bytes.readableBytes) else {
                // Nothing to remove, or too little to make room for the Packet Length field.
                #expect(packet.padding.readableBytes <= 3)
                continue
            }
            let out = short.bytes
            #expect(out.readableBytes < bytes.readableBytes)
            let reparsed = try DataPacket(parsing: out)
            #expect(reparsed.packetLength == UInt32(out.readableBytes))
            #expect(reparsed.paddingLength == 0)
            #expect(reparsed.payloads == packet.payloads)
            stripped += 1
        }
        #expect(stripped > 0)
    }
}
