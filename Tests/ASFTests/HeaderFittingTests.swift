@testable import ASF
import NIOCore
import Testing

/// Headers as taggers and other muxers write them, and the header a client of limited size gets.
struct HeaderFittingTests {
    static func utf16(_ text: String) -> ByteBuffer {
        var b = ByteBuffer()
        for unit in (text + "\0").utf16 { b.writeLE(unit) }
        return b
    }

    /// demo.wmv's header with a `picture`-byte WM/Picture in the Extended Content Description,
    /// a large one in a Metadata Library Object, a long description, and a Padding Object.
    static func tagged(picture: Int, libraryPicture: Int) throws -> ASFHeader {
        var header = try ASFFile(path: Samples.path("demo.wmv")).header
        let descriptor = ExtendedContentDescription.Descriptor(name: utf16("WM/Picture"), valueType: 1,
                                                                 value: ByteBuffer(repeating: 0xAB, count: picture))
        let title = ExtendedContentDescription.Descriptor(name: utf16("WM/AlbumTitle"), valueType: 0, value: utf16("Album"))
        var c = ByteCursor(ByteBuffer(bytes: [0, 0]), context: "test")
        var ecd = try ExtendedContentDescription(body: &c)
        ecd.descriptors = [title, descriptor]
        header.objects.append(.extendedContentDescription(ecd))
        var m = ByteCursor(ByteBuffer(bytes: [0, 0]), context: "test")
        var library = try Metadata(body: &m)
        library.records = [Metadata.Record(reserved: 0, streamNumber: 0, dataType: 1, name: utf16("WM/Picture"),
                                           data: ByteBuffer(repeating: 0xCD, count: libraryPicture))]
        for (i, object) in header.objects.enumerated() {
            if case var .headerExtension(e) = object {
                e.objects.append(.metadataLibrary(library))
                header.objects[i] = .headerExtension(e)
            }
        }
        header.objects.append(.other(RawObject(guid: .padding, body: ByteBuffer(repeating: 0, count: 4000))))
        return header
    }

    @Test func metadataLibraryRoundTrips() throws {
        let header = try Self.tagged(picture: 100, libraryPicture: 100_000)
        let reparsed = try ASFHeader(parsing: header.bytes)
        #expect(reparsed == header)
        #expect(reparsed.bytes.readableBytes > 100_000)
    }

    /// Left out in order until it fits: padding, then pictures; the streams, codec list and
    /// the rest of the metadata stay, and what went is said.
    @Test func fittingLeavesOutPaddingThenPictures() throws {
        let header = try Self.tagged(picture: 10_000, libraryPicture: 100_000)
        let (padless, dropped) = try #require(header.fitted(to: header.bytes.readableBytes + 50 - 1000))
        #expect(dropped == [.padding])
        #expect(padless.bytes.readableBytes == header.bytes.readableBytes - 4024)
        let (small, omitted) = try #require(header.fitted(to: 12_240))
        #expect(omitted == [.padding, .pictures])
        #expect(small.bytes.readableBytes + DataObjectHeader.size <= 12_240)
        #expect(small.streams == header.streams && small.codecList == header.codecList && small.exclusions == header.exclusions)
        #expect(small.fileProperties == header.fileProperties)
        let descriptors = small.objects.compactMap { if case let .extendedContentDescription(e) = $0 { e.descriptors } else { nil } }.flatMap { $0 }
        #expect(descriptors.map(\.nameText).contains("WM/AlbumTitle") && !descriptors.map(\.nameText).contains("WM/Picture"))
        // Consistent: it parses as it was written.
        #expect(try ASFHeader(parsing: small.bytes) == small)
        #expect(header.fitted(to: 100) == nil)
        #expect(header.fitted(to: 1 << 20)?.omitted == [])
    }

    /// VLC's muxer declares one object more than it writes; the count is not needed to read
    /// the objects, and the header written back counts right.
    @Test func objectCountThatDisagreesIsADeparture() throws {
        var bytes = try ASFFile(path: Samples.path("demo.wmv")).header.bytes
        let count = bytes.getInteger(at: 24, endianness: .little, as: UInt32.self)!
        bytes.setInteger(count + 1, at: 24, endianness: .little)
        let header = try ASFHeader(parsing: bytes)
        #expect(header.departures == ["Header Object declares \(count + 1) objects, holds \(count)"])
        #expect(header.bytes.getInteger(at: 24, endianness: .little, as: UInt32.self) == count)
    }
}
