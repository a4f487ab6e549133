import Multicast
import NIOCore
import Testing

@Suite struct ParitySpanTests {
    /// Packets of differing lengths, as stripped of their padding.
    static func packets(_ n: Int) -> [ByteBuffer] {
        (0..<n).map { i in ByteBuffer(bytes: [0x82, 0, 0] + (0..<(40 + i * 7 % 23)).map { UInt8(truncatingIfNeeded: $0 * 31 + i * 17) }) }
    }

    @Test func aParityPacketFollowsEverySpanAndIsTheXOROfIt() throws {
        var fec = ParitySpan(span: 10)
        var sent = Self.packets(25)
        var parities: [ByteBuffer] = []
        for i in sent.indices { if let parity = fec.add(&sent[i]) { parities.append(parity) } }
        #expect(parities.count == 2)
        // 2.2.2: Type 1 and Number 1...10 on data, Opaque Data, Type 2 and Number 11 on parity,
        // one Cycle per span and its parity.
        #expect(Array(sent[0].readableBytesView.prefix(3)) == [0x82, 0x11, 0])
        #expect(Array(sent[9].readableBytesView.prefix(3)) == [0x82, 0xA1, 0])
        #expect(Array(sent[10].readableBytesView.prefix(3)) == [0x82, 0x11, 1])
        #expect(Array(parities[1].readableBytesView.prefix(3)) == [0x92, 0xB2, 1])
        #expect(ParitySpan.fields(of: parities[0])! == (true, 11, 0))
        #expect(ParitySpan.fields(of: sent[3])! == (false, 4, 0))
        let longest = sent[0..<10].map(\.readableBytes).max()!
        #expect(parities[0].readableBytes == longest)
        var xor = [UInt8](repeating: 0, count: longest - 3)
        for packet in sent[0..<10] { for (i, b) in packet.readableBytesView.dropFirst(3).enumerated() { xor[i] ^= b } }
        #expect(Array(parities[0].readableBytesView.dropFirst(3)) == xor)
    }

    @Test(arguments: 0..<10)
    func anyOnePacketOfASpanIsRebuilt(lost: Int) throws {
        var fec = ParitySpan(span: 10, cycle: 255)
        var sent = Self.packets(10)
        var parity: ByteBuffer?
        for i in sent.indices { parity = fec.add(&sent[i]) ?? parity }
        let others = sent.enumerated().filter { $0.offset != lost }.map(\.element)
        let rebuilt = ParitySpan.recover(number: lost + 1, cycle: 255, from: others, parity: try #require(parity))
        // Byte for byte, then the zeros that padded it to the longest of the span.
        let original = Array(sent[lost].readableBytesView)
        #expect(Array(rebuilt.readableBytesView.prefix(original.count)) == original)
        #expect(rebuilt.readableBytesView.dropFirst(original.count).allSatisfy { $0 == 0 })
        #expect(fec.cycle == 0)
    }
}
