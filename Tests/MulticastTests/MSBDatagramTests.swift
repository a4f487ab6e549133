import Multicast
import NIOCore
import Testing

@Suite struct MSBDatagramTests {
    @Test func aBeaconIsExactlyMSBSpace() throws {
        var buffer = ByteBuffer()
        MSBDatagram.beacon.write(to: &buffer)
        #expect(Array(buffer.readableBytesView) == Array("MSB ".utf8))
        #expect(try MSBDatagram(parsing: buffer) == .beacon)
    }

    @Test func aPacketCarriesItsIDFormatToggleAndSize() throws {
        let packet = MSBPacket(id: 0x2042_534D, formatID: 0x39E, entryToggle: true, data: ByteBuffer(bytes: [0x82, 0, 0, 1, 2, 3]))
        var buffer = ByteBuffer()
        MSBDatagram.packet(packet).write(to: &buffer)
        // 2.2.4: dwPacketID, wStreamID with bit 15 the entry toggle, wPacketSize counting the 8 bytes.
        #expect(Array(buffer.readableBytesView.prefix(8)) == [0x4D, 0x53, 0x42, 0x20, 0x9E, 0x83, 14, 0])
        // An ID equal to the beacon's signature is still a packet: only 4 bytes make a beacon.
        #expect(try MSBDatagram(parsing: buffer) == .packet(packet))
    }

    @Test func refusesDatagramsThatAreNeither() {
        #expect(throws: MSBDatagramError.tooShort(3)) { try MSBDatagram(parsing: ByteBuffer(bytes: [1, 2, 3])) }
        #expect(throws: MSBDatagramError.tooShort(4)) { try MSBDatagram(parsing: ByteBuffer(bytes: [1, 2, 3, 4])) }
        #expect(throws: MSBDatagramError.sizeMismatch(declared: 20, received: 9)) {
            try MSBDatagram(parsing: ByteBuffer(bytes: [0, 0, 0, 0, 1, 0, 20, 0, 0x82]))
        }
        #expect(throws: MSBDatagramError.reservedBits(0x0801)) {
            try MSBDatagram(parsing: ByteBuffer(bytes: [0, 0, 0, 0, 1, 8, 9, 0, 0x82]))
        }
    }
}
