import Multicast
import Testing

/// The vectors of MS-MSB 4.3 and MULTICAST.md §2, decoded and written again byte for byte.
@Suite struct NSCEncodingTests {
    @Test(arguments: [
        ("029G0000000008Cm0k0300000", "3.0"),
        ("020G000000000UCW0p03a0BW0n03a0CW0k03G0E00k0340Dm0v0000", "239.192.48.179"),
        ("0230000000000UCG0r03S0BW0r03K0BW0n03G0EG0k0340C00o0000", "157.55.149.102"),
        ("020W0000000002000", ""),
        ("02AW000000000SLm1D0580HG1C0440MG0m0380800i0200GG0000", "WMRELAY02 , A"),
    ])
    func specVectorsDecodeAndEncodeAgain(vector: String, text: String) throws {
        let block = try NSCEncodedBlock(decoding: Substring(vector))
        #expect(block.key == 0)
        #expect(try block.string() == text)
        #expect(NSCEncodedBlock(string: text).encoded == vector)
    }

    @Test func theVersionVectorHoldsItsCRCAndLength() throws {
        // 4.3, figures 4-5: CRC 0x25, Length 8 ("3.0" and its NUL in UTF-16LE).
        let block = try NSCEncodedBlock(decoding: "029G0000000008Cm0k0300000")
        #expect(block.data == [0x33, 0, 0x2E, 0, 0x30, 0, 0, 0])
        #expect(block.encoded.count == 2 + (9 + 8) * 8 / 6 + 1)
    }

    @Test func theSpecsNameVectorHasAWrongCRCAndIsRefused() {
        // MULTICAST.md §2: the spec's `Name=` example stores 0x26 where its bytes give 0x00.
        let named = NSCEncodedBlock(string: "MY_COMPUTER, bpp").encoded
        var broken = Array(named.utf8)
        broken[2] = UInt8(ascii: "9")  // the CRC's first six bits
        #expect(throws: NSCFormatError.self) { try NSCEncodedBlock(decoding: Substring(String(decoding: broken, as: UTF8.self))) }
        #expect(throws: Never.self) { try NSCEncodedBlock(decoding: Substring(named)) }
    }

    @Test func binaryBlocksKeepTheirKeyAndEveryLength() throws {
        for count in 0..<40 {
            let data = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            let block = NSCEncodedBlock(key: 0x39E, data: data)
            #expect(block.encoded.count == 2 + ((9 + count) * 8 + 5) / 6)
            #expect(try NSCEncodedBlock(decoding: Substring(block.encoded)) == block)
        }
    }

    @Test func badValuesSayWhatIsWrong() {
        #expect(throws: NSCFormatError.notEncoded) { try NSCEncodedBlock(decoding: "hello") }
        #expect(throws: NSCFormatError.badCharacter("=")) { try NSCEncodedBlock(decoding: "029G00=0000008Cm0k0300000") }
        #expect(throws: NSCFormatError.tooShort) { try NSCEncodedBlock(decoding: "029G00") }
        // The Length says 8, the characters hold 3 bytes of data.
        #expect(throws: NSCFormatError.lengthPastEnd(declared: 8, held: 3)) { try NSCEncodedBlock(decoding: "029G0000000008Cm0k0") }
    }
}
