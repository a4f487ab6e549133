@testable import ASF
import NIOCore
import Testing

struct HeaderTests {
    @Test(arguments: Samples.all)
    func headerRoundTripsByteExactly(name: String) throws {
        let file = try ASFFile(path: Samples.path(name))
        let reparsed = try ASFHeader(parsing: file.headerBytes)
        #expect(reparsed.bytes == file.headerBytes)
        #expect(reparsed == file.header)
    }

    @Test func demoHeaderFacts() throws {
        let header = try ASFFile(path: Samples.path("demo.wmv")).header
        let p = header.fileProperties
        #expect(p.fixedPacketSize == 3200)
        #expect(p.flags.contains(.seekable))
        #expect(!p.flags.contains(.broadcast))
        #expect(header.streams.map(\.streamNumber) == [1, 2])
        #expect(header.streams.map(\.kind) == [.video, .audio])
        #expect(header.streams[0].videoFormat?.fourCC == "WMV2")
        #expect(header.streams[0].videoFormat?.width == 320)
        #expect(header.streams[1].audioFormat?.formatTag == 0x0161)
        #expect(header.streams[1].audioFormat?.channels == 2)
        #expect(header.averageBitrate(of: 1) != nil)
        #expect(header.codecList?.entries.count == 2)
    }

    @Test func multiBitrateSampleDeclaresItsExclusion() throws {
        let header = try ASFFile(path: Samples.path("multibitrate.wmv")).header
        #expect(header.exclusions == [.init(type: "bitrate", streams: [[1], [2], [3]], object: "bitrate")])
        let rates = (1...3).map { header.averageBitrate(of: $0)! }
        #expect(rates == rates.sorted(by: >), "stream 1 is the highest bit rate, 3 the lowest")
    }

    @Test func broadcastRewriteMarksTheStreamLive() throws {
        let header = try ASFFile(path: Samples.path("demo.wmv")).header.broadcast()
        let p = header.fileProperties
        #expect(p.flags.contains(.broadcast))
        #expect(!p.flags.contains(.seekable))
        #expect(p.dataPacketsCount == 0 && p.fileSize == 0 && p.playDuration == 0)
        let reparsed = try ASFHeader(parsing: header.bytes)
        #expect(reparsed == header)
    }

    @Test func removingStreamsDropsTheirObjectsAndExclusions() throws {
        let header = try ASFFile(path: Samples.path("multibitrate.wmv")).header
        let kept = header.removingStreams([2, 3])
        #expect(kept.streams.map(\.streamNumber) == [1, 4])
        #expect(kept.exclusions.isEmpty, "an exclusion with one stream left means nothing")
        #expect(kept.averageBitrate(of: 2) == nil)
        let two = header.removingStreams([3])
        #expect(two.exclusions.first?.streams == [[1], [2]])
        #expect(try ASFHeader(parsing: kept.bytes) == kept)
    }

    @Test func streamingHeaderEndsWithTheDataObjectStart() throws {
        let file = try ASFFile(path: Samples.path("demo.wmv"))
        let bytes = file.header.streamingHeader(dataObject: file.dataObject)
        let raw = try Samples.bytes("demo.wmv")
        #expect(bytes == raw.getSlice(at: 0, length: file.dataOffset))
    }

    // MARK: Malformed headers

    @Test func wrongFirstGUIDIsRejected() throws {
        var bytes = try Samples.bytes("demo.wmv")
        bytes.setInteger(UInt8(0), at: 0)
        #expect(throws: ASFError.self) { try ASFHeader(parsing: bytes) }
        do {
            _ = try ASFHeader(parsing: bytes)
        } catch let error as ASFError {
            #expect(error.offset == 0)
            guard case .unexpectedGUID = error.reason else { Issue.record("reason \(error.reason)"); return }
        }
    }

    @Test func objectSizePastTheHeaderNamesTheObjectAndOffset() throws {
        let raw = try Samples.bytes("demo.wmv")
        let file = try ASFFile(path: Samples.path("demo.wmv"))
        var header = file.headerBytes
        // The first object after the 30-byte Header Object preamble is File Properties.
        header.setInteger(UInt64(1 << 40), at: 30 + 16, endianness: .little)
        let error = #expect(throws: ASFError.self) { try ASFHeader(parsing: header) }
        #expect(error?.offset == 30)
        #expect(error?.reason == .invalidSize(1 << 40))
        #expect(raw.readableBytes > header.readableBytes)
    }

    @Test func truncatedHeaderIsATypedError() throws {
        let header = try ASFFile(path: Samples.path("demo.wmv")).headerBytes
        for cut in [0, 10, 29, 30, 100, header.readableBytes - 1] {
            #expect(throws: ASFError.self) { try ASFHeader(parsing: header.getSlice(at: 0, length: cut)!) }
        }
    }

    @Test func missingFilePropertiesIsRejected() throws {
        var header = try ASFFile(path: Samples.path("demo.wmv")).header
        header.objects.removeAll { if case .fileProperties = $0 { true } else { false } }
        #expect(throws: ASFError.self) { try ASFHeader(parsing: header.bytes) }
    }

    @Test func unknownObjectsArePreserved() throws {
        var header = try ASFFile(path: Samples.path("demo.wmv")).header
        let unknown = RawObject(guid: GUID("01234567-89AB-CDEF-0123-456789ABCDEF"), body: ByteBuffer(bytes: [1, 2, 3, 4, 5]))
        header.objects.append(.other(unknown))
        let reparsed = try ASFHeader(parsing: header.bytes)
        #expect(reparsed.objects.last == .other(unknown))
        #expect(reparsed.bytes == header.bytes)
    }
}
