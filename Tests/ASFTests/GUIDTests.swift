@testable import ASF
import NIOCore
import Testing

struct GUIDTests {
    @Test func textFormRoundTrips() {
        #expect(GUID.header.description == "75B22630-668E-11CF-A6D9-00AA0062CE6C")
        #expect(GUID(parsing: "{8cabdca1-a947-11cf-8ee4-00c00c205365}") == .fileProperties)
        #expect(GUID(parsing: "not a guid") == nil)
    }

    @Test func wireOrderIsLittleEndianInTheFirstThreeFields() throws {
        // ASF files begin with these bytes.
        #expect(GUID.header.wireBytes == [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11,
                                          0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C])
        var b = ByteBuffer()
        b.writeGUID(.data)
        var c = ByteCursor(b, context: "test")
        #expect(try c.guid() == .data)
    }
}
