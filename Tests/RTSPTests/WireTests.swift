import ASF
import Foundation
import NIOCore
import Testing
@testable import RTSP

struct WireTests {
    @Test func requestsResponsesAndInterleavedDataAreSplit() throws {
        var b = ByteBuffer(string: "OPTIONS rtsp://h/demo.wmv RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        b.writeBytes([0x24, 1, 0, 3, 9, 9, 9])
        b.writeString("RTSP/1.0 501 Not Implemented\r\n\r\nSET_PARAMETER rtsp://h/x RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 4\r\n\r\nabcd")
        let parser = RTSPMessageParser()
        guard case let .request(options) = try parser.parse(&b) else { Issue.record("no request"); return }
        #expect(options.method == "OPTIONS" && options.cseq == "1")
        #expect(try parser.parse(&b) == .interleaved(channel: 1, payload: ByteBuffer(bytes: [9, 9, 9])))
        #expect(try parser.parse(&b) == .response(RTSPResponse(status: 501, reason: "Not Implemented")))
        guard case let .request(set) = try parser.parse(&b) else { Issue.record("no request"); return }
        #expect(String(buffer: set.body) == "abcd")
        #expect(try parser.parse(&b) == nil)
    }

    /// GStreamer's echo of our EndOfStream ends with a NUL its Content-Length does not count;
    /// that and line ends before a request are skipped.
    @Test func nulsAndLineEndsBeforeARequestAreSkipped() throws {
        var b = ByteBuffer(string: "SET_PARAMETER rtsp://h/x RTSP/1.0\r\nCSeq: 6\r\nContent-Length: 4\r\n\r\nEOF\n")
        b.writeBytes([0, 13, 10])
        b.writeString("PAUSE rtsp://h/x RTSP/1.0\r\nCSeq: 7\r\n\r\n")
        let parser = RTSPMessageParser()
        guard case .request = try parser.parse(&b) else { Issue.record("no echo"); return }
        guard case let .request(pause) = try parser.parse(&b) else { Issue.record("no PAUSE"); return }
        #expect(pause.method == "PAUSE" && pause.cseq == "7")
        #expect(b.readableBytes == 0)
    }

    @Test func partialMessagesWaitForMoreBytes() throws {
        var b = ByteBuffer(string: "DESCRIBE rtsp://h/demo.wmv RTSP/1.0\r\nCSeq: 3\r\nContent-Length: 10\r\n\r\nabc")
        #expect(try RTSPMessageParser().parse(&b) == nil)
        #expect(b.readerIndex == 0)
    }

    @Test(arguments: ["GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\n\r\n", "OPTIONS * RTSP/1.0\r\nno colon\r\n\r\n",
                      "OPTIONS * RTSP/1.0\r\nContent-Length: 999999999\r\n\r\n"])
    func malformedMessagesAreRefused(text: String) {
        var b = ByteBuffer(string: text)
        #expect(throws: RTSPMessageParser.Malformed.self) { try RTSPMessageParser().parse(&b) }
    }

    @Test func oversizedHeadersAreRefused() {
        var b = ByteBuffer(string: "OPTIONS * RTSP/1.0\r\nX: " + String(repeating: "a", count: 20_000))
        let error = #expect(throws: RTSPMessageParser.Malformed.self) { try RTSPMessageParser().parse(&b) }
        #expect(error?.status == 431)
    }

    @Test func sdpPutsTheHeaderFirstAndRetransmissionAfterAMediaLine() throws {
        let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Media/demo.wmv").path
        let file = try ASFFile(path: media)
        let sdp = SessionDescription.make(header: file.header, title: "demo")
        let lines = sdp.components(separatedBy: "\r\n")
        let firstMedia = try #require(lines.firstIndex { $0.hasPrefix("m=") })
        let pgmpu = try #require(lines.firstIndex { $0.hasPrefix("a=pgmpu:data:application/vnd.ms.wms-hdr.asfv1;base64,") })
        #expect(pgmpu < firstMedia && lines.contains("a=maxps:3200") && lines.contains("a=range:npt=0-"))
        // The header, then a Data Object of unknown size.
        let sent = try #require(Data(base64Encoded: String(lines[pgmpu].split(separator: ",").last!)))
        let stated = try DataObjectHeader(parsing: ByteBuffer(bytes: sent.suffix(DataObjectHeader.size)), origin: 0)
        #expect(sent.prefix(sent.count - DataObjectHeader.size) == Data(file.header.bytes.readableBytesView))
        #expect(stated.objectSize == 0 && stated.fileID == file.dataObject.fileID)
        let mLines = lines.filter { $0.hasPrefix("m=") }
        #expect(mLines == ["m=video 0 RTP/AVP 96", "m=application 0 RTP/AVP 97", "m=audio 0 RTP/AVP 96"])
        #expect(lines.contains("a=stream:1") && lines.contains("a=stream:2") && lines.contains("a=control:rtx"))
    }

    @Test func payloadHeaderLengthCountsItself() {
        var b = ByteBuffer()
        ASFPayload.writePayloadHeader(keyFrame: true, packetLength: 3000, to: &b)
        #expect(Array(b.readableBytesView) == [0xC0, 0x00, 0x0B, 0xBC])  // S|L, 3004
        var r = ByteBuffer()
        ASFPayload.writeRTPHeader(marker: true, sequence: 7, timestamp: 3100, ssrc: 0xAABBCCDD, payloadType: 96, to: &r)
        #expect(Array(r.readableBytesView) == [0x80, 0xE0, 0, 7, 0, 0, 0x0C, 0x1C, 0xAA, 0xBB, 0xCC, 0xDD])
    }

    /// MS-RTSP 2.2.7.10: the SelectStream body, with and without the `SSEntry:` label, URIs
    /// present exactly for the streams given, lines broken between fields (4.4.4.1).
    @Test func selectStreamBodiesParse() throws {
        let u = "rtsp://h/a.wmv"
        let replace = SSEntry(oldStream: 7, newStream: 6, oldURI: "\(u)/stream=7", newURI: "\(u)/stream=6")
        #expect(try SSEntry.parse("SSEntry: 7 6 0 \(u)/stream=7\r\n\(u)/stream=6\r\n") == [replace])
        #expect(try SSEntry.parse(replace.text) == [replace])
        #expect(replace.text == "SSEntry: 7 6 0 \(u)/stream=7 \(u)/stream=6\r\n")
        let drop = SSEntry(oldStream: 5, newStream: nil, oldURI: "\(u)/audio=5")
        #expect(try SSEntry.parse("5 4294967295 0 \(u)/audio=5") == [drop])
        #expect(try SSEntry.parse(drop.text + replace.text) == [drop, replace])
        #expect(try SSEntry.parse("SSEntry: 2 2 2 \(u)/stream=2 \(u)/stream=2")[0].thinLevel == .nothing)
        for bad in ["", "SSEntry:", "SSEntry: 1 2", "SSEntry: 1 2 3 \(u)/1 \(u)/2", "SSEntry: 1 2 0 \(u)/1", "SSEntry: x 2 0", "SSEntry: 1 2 0 junk junk"] {
            #expect(throws: SSEntry.Malformed.self, "\(bad)") { try SSEntry.parse(bad) }
        }
    }

    /// The ASF data an RTP packet carries, found after the payload format header's optional
    /// fields (2.2.1.3): a whole packet, or a fragment with its offset.
    @Test func firstDataSkipsTheOptionalFields() throws {
        var whole = ByteBuffer()
        ASFPayload.writeRTPHeader(marker: true, sequence: 1, timestamp: 2, ssrc: 3, payloadType: 96, to: &whole)
        ASFPayload.writePayloadHeader(keyFrame: true, packetLength: 3, to: &whole)
        whole.writeBytes([0xA, 0xB, 0xC])
        #expect(ASFPayload.firstData(inRTP: whole).map { (Array($0.bytes.readableBytesView), $0.fragmentOffset) }! == ([0xA, 0xB, 0xC], nil))
        var fragment = ByteBuffer()
        ASFPayload.writeRTPHeader(marker: false, sequence: 1, timestamp: 2, ssrc: 3, payloadType: 96, to: &fragment)
        fragment.writeBytes([0x20 | 0x08, 0, 0x05, 0xDC])  // R and I set, offset 1500
        fragment.writeBytes([UInt8](repeating: 0xEE, count: 8))
        fragment.writeBytes([0x1])
        #expect(ASFPayload.firstData(inRTP: fragment).map { (Array($0.bytes.readableBytesView), $0.fragmentOffset) }! == ([0x1], 1500))
        #expect(ASFPayload.firstData(inRTP: ByteBuffer(bytes: [0x80, 96])) == nil)
    }
}
