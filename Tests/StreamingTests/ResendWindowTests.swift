import NIOCore
import Streaming
import Testing

struct ResendWindowTests {
    @Test func theLatestDatagramPerSlotIsKept() {
        var window = ResendWindow(capacity: 4)
        for sequence in UInt32(0)..<6 { window.keep(ByteBuffer(bytes: [UInt8(sequence)]), sequence: sequence) }
        #expect(window.datagram(5) == ByteBuffer(bytes: [5]))
        #expect(window.datagram(1) == nil, "overwritten by 5")
        #expect(window.datagram(2) == ByteBuffer(bytes: [2]))
        #expect(window.datagram(9) == nil)
    }
}
