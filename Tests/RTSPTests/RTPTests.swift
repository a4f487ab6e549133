import NIOCore
import Testing
@testable import RTSP

/// Transport headers, the RTP packetizer and resend window, and RTCP in both directions.
struct RTPTests {
    @Test func transportsAsFFmpegAndGStreamerAskForThem() {
        #expect(RTSPTransport.firstSupported(in: "RTP/AVP/TCP;unicast;interleaved=2-3;mode=play")
            == RTSPTransport(lower: .tcp, interleaved: (2, 3)))
        #expect(RTSPTransport.firstSupported(in: "RTP/AVP/UDP;unicast;client_port=26568;mode=play")
            == RTSPTransport(lower: .udp, clientPort: (26568, nil)))
        #expect(RTSPTransport.firstSupported(in: "RTP/AVP;unicast;client_port=38562-38563")
            == RTSPTransport(lower: .udp, clientPort: (38562, 38563)))
        // The first acceptable alternative wins; multicast and other profiles are not offered.
        #expect(RTSPTransport.firstSupported(in: "RTP/AVP;multicast,x-real-rdt/udp,RTP/AVP/TCP;interleaved=4-5")
            == RTSPTransport(lower: .tcp, interleaved: (4, 5)))
        for refused in ["", "RTP/AVP;unicast", "RTP/AVP/UDP;client_port=0", "RTP/AVP/UDP;client_port=70000", "RTP/AVP/TCP;interleaved=x-1",
                        "RTP/SAVP;unicast;client_port=4000"] {
            #expect(RTSPTransport.firstSupported(in: refused) == nil, "\(refused)")
        }
    }

    @Test func transportRepliesStateOneTransportWithTheSSRC() {
        let tcp = RTSPTransport(lower: .tcp, interleaved: (0, 1)).reply(ssrc: 0xAB, source: nil, serverPorts: nil)
        #expect(tcp == "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=000000ab;mode=PLAY")
        let udp = RTSPTransport(lower: .udp, clientPort: (5000, nil)).reply(ssrc: 0xDEADBEEF, source: "127.0.0.1", serverPorts: (6000, 6001))
        #expect(udp == "RTP/AVP/UDP;unicast;source=127.0.0.1;server_port=6000-6001;client_port=5000;ssrc=deadbeef;mode=PLAY")
    }

    @Test func wholePacketsCarryTheirLengthAndTheMarker() {
        var packetizer = RTPPacketizer(ssrc: 1, payloadType: 96, sequence: 0xFFFF, maximumBody: nil)
        var headers = ByteBuffer()
        var pieces: [RTPPacketizer.Piece] = []
        packetizer.packetize(body: ByteBuffer(repeating: 7, count: 3000), keyFrame: true, timestamp: 500, channel: 4, headers: &headers, pieces: &pieces)
        #expect(pieces.count == 1 && pieces[0].sequence == 0xFFFF && packetizer.sequence == 0)
        let header = Array(headers.readableBytesView)
        #expect(header[0...3] == [0x24, 4, 0x0B, 0xC8])  // interleaved frame: 12 + 4 + 3000
        #expect(header[4] == 0x80 && header[5] == 0xE0, "version 2, marker, payload type 96")
        #expect(header[16...19] == [0xC0, 0x00, 0x0B, 0xBC], "S, L, Length 3004")
        #expect(packetizer.packetCount == 1 && packetizer.octetCount == 3004)
    }

    @Test func largePacketsAreFragmentedWithOffsetsAndTheMarkerOnTheLast() {
        var packetizer = RTPPacketizer(ssrc: 1, payloadType: 96, sequence: 10, maximumBody: 1400)
        var headers = ByteBuffer()
        var pieces: [RTPPacketizer.Piece] = []
        let body = ByteBuffer(bytes: (0..<3200).map { UInt8(truncatingIfNeeded: $0) })
        packetizer.packetize(body: body, keyFrame: false, timestamp: 9, channel: nil, headers: &headers, pieces: &pieces)
        #expect(pieces.map(\.sequence) == [10, 11, 12])
        #expect(pieces.map { $0.body.readableBytes } == [1400, 1400, 400])
        var reassembled = ByteBuffer()
        for piece in pieces {
            let h = headers.getSlice(at: piece.headerStart, length: piece.headerLength)!
            let marker = h.getInteger(at: 1, as: UInt8.self)! & 0x80 != 0
            let flags = h.getInteger(at: 12, as: UInt8.self)!
            let offset = Int(h.getInteger(at: 13, as: UInt8.self)!) << 16 | Int(h.getInteger(at: 14, as: UInt16.self)!)
            #expect(flags & 0x40 == 0, "L clear in fragments")
            #expect(offset == reassembled.readableBytes)
            #expect(marker == (piece.sequence == 12))
            var b = piece.body
            reassembled.writeBuffer(&b)
        }
        #expect(reassembled == body)
    }

    @Test func aNACKCompoundRoundTrips() throws {
        var b = ByteBuffer()
        RTCP.writeReceiverReport(ssrc: 77, to: &b)
        RTCP.writeSourceDescription(ssrc: 77, cname: "12345\(RTCP.wmsCNAMESuffix)", to: &b)
        RTCP.writeNACK(sender: 77, media: 99, lost: [1000, 1003, 1016, 1017, 5, 1000], to: &b)
        let messages = try RTCP.parse(b)
        #expect(messages.count == 3)
        #expect(messages[0] == .receiverReport(ssrc: 77, reports: []))
        #expect(messages[1] == .sourceDescription(cnames: [77: "12345@WMS:7ff42e07-3c7c-4eb5-9c17-6bdd11ad90de"]))
        guard case let .nack(sender, media, lost) = messages[2] else { Issue.record("no NACK"); return }
        #expect(sender == 77 && media == 99)
        #expect(Set(lost) == [5, 1000, 1003, 1016, 1017])
    }

    @Test func senderReportsAndByeParse() throws {
        var b = ByteBuffer()
        RTCP.writeSenderReport(ssrc: 5, ntp: RTCP.ntpTime(unixNanoseconds: 1_500_000_000), rtpTime: 3, packets: 4, octets: 5, to: &b)
        RTCP.writeSourceDescription(ssrc: 5, cname: "asfcast@127.0.0.1", to: &b)
        RTCP.writeBye(ssrc: 5, to: &b)
        #expect(try RTCP.parse(b) == [.senderReport(ssrc: 5), .sourceDescription(cnames: [5: "asfcast@127.0.0.1"]), .bye(ssrcs: [5])])
        #expect(RTCP.ntpTime(unixNanoseconds: 1_500_000_000) == (UInt64(2_208_988_801) << 32 | 1 << 31))
    }

    @Test func receiverReportsKeepASignedLoss() throws {
        var b = ByteBuffer(bytes: [0x81, 201, 0, 7])
        b.writeInteger(UInt32(1))
        b.writeInteger(UInt32(99))  // reporting on SSRC 99
        b.writeInteger(UInt32(0x10FF_FFFF))  // fraction 16/256, cumulative -1
        b.writeInteger(UInt32(70000))
        b.writeInteger(UInt32(12))
        b.writeInteger(UInt64(0))
        guard case let .receiverReport(_, reports) = try RTCP.parse(b).first else { Issue.record("no RR"); return }
        #expect(reports == [RTCP.ReceptionReport(ssrc: 99, fractionLost: 16, cumulativeLost: -1, highestSequence: 70000, jitter: 12)])
    }

    @Test(arguments: [[0x40, 200, 0, 0], [0x80, 200, 0, 9, 1, 2], [0x81, 202, 0, 2, 0, 0, 0, 1, 1, 200, 0, 0], [0x80], [0x81, 203, 0, 0]] as [[UInt8]])
    func malformedRTCPIsAnError(bytes: [UInt8]) {
        #expect(throws: RTCP.Malformed.self) { try RTCP.parse(ByteBuffer(bytes: bytes)) }
    }

    /// Mutated RTCP and RTSP bytes never trap: every length is checked (bounded for CI).
    @Test func fuzzedInputNeverTraps() throws {
        var seed = SystemRandomNumberGenerator()
        var sample = ByteBuffer()
        RTCP.writeReceiverReport(ssrc: 1, to: &sample)
        RTCP.writeSourceDescription(ssrc: 1, cname: "1\(RTCP.wmsCNAMESuffix)", to: &sample)
        RTCP.writeNACK(sender: 1, media: 2, lost: [1, 2, 40], to: &sample)
        let request = Array("SETUP rtsp://h/demo.wmv/stream=1 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;client_port=4-5\r\nContent-Length: 4\r\n\r\nabcd".utf8)
        for _ in 0..<3000 {
            var rtcp = Array(sample.readableBytesView)
            var rtsp = request
            for _ in 0..<Int.random(in: 1...4, using: &seed) {
                rtcp[Int.random(in: 0..<rtcp.count, using: &seed)] = UInt8.random(in: 0...255, using: &seed)
                rtsp[Int.random(in: 0..<rtsp.count, using: &seed)] = UInt8.random(in: 0...255, using: &seed)
            }
            _ = try? RTCP.parse(ByteBuffer(bytes: rtcp.prefix(Int.random(in: 0...rtcp.count, using: &seed))))
            var b = ByteBuffer(bytes: rtsp)
            while let message = try? RTSPMessageParser().parse(&b) {
                if case let .request(r) = message { _ = RTSPTransport.firstSupported(in: r["Transport"] ?? "") }
            }
        }
    }
}
