#if !FUZZING
import ASF
import Foundation
import MMS
import Multicast
import NIOCore
import Push
import RTSP
import WMSP

/// Without libFuzzer: `asfcast-fuzz seed MEDIA DIR` writes a seed corpus per target (from the
/// sample media and the requests real clients send, CLIENTS.md), and `asfcast-fuzz replay DIR…`
/// runs every file under DIR/<target>/ through its target: the corpora and the regressions.
@main
struct Replay {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        switch arguments.first {
        case "seed" where arguments.count == 3:
            try seed(media: arguments[arguments.startIndex + 1], into: arguments[arguments.startIndex + 2])
        case "replay" where arguments.count >= 2:
            var inputs = 0
            for directory in arguments.dropFirst() { inputs += try replay(directory) }
            print("\(inputs) inputs through \(FuzzTargets.all.count) fuzz targets, none trapped")
        default:
            FileHandle.standardError.write(Data("usage: asfcast-fuzz seed MEDIA DIR | replay DIR...\n".utf8))
            exit(2)
        }
    }

    static func replay(_ directory: String) throws -> Int {
        var count = 0
        for (name, run) in FuzzTargets.all.sorted(by: { $0.key < $1.key }) {
            let folder = URL(fileURLWithPath: directory).appendingPathComponent(name)
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { continue }
            for file in files.sorted() {
                let data = try Data(contentsOf: folder.appendingPathComponent(file))
                run(ByteBuffer(bytes: data))
                count += 1
            }
        }
        return count
    }

    static func seed(media: String, into directory: String) throws {
        var seeds: [String: [Data]] = [:]
        func add(_ target: String, _ bytes: ByteBuffer) { seeds[target, default: []].append(Data(bytes.readableBytesView)) }
        func add(_ target: String, _ text: String) { seeds[target, default: []].append(Data(text.utf8)) }
        let files = try FileManager.default.contentsOfDirectory(atPath: media).filter { $0.hasSuffix(".wmv") || $0.hasSuffix(".wma") }.sorted()
        for name in files {
            let file = try ASFFile(path: media + "/" + name)
            add("asf-header", file.headerBytes)
            for packet in try file.readPackets(0..<min(4, file.packetCount)) { add("asf-packet", packet) }
            var frames = Frame.headerPackets(file.headerBytes, allocator: ByteBufferAllocator())
            if let packet = try file.readPackets(0..<1).first {
                Frame.writeDataHeader(type: Frame.data, locationID: 0, incarnation: 0, afFlags: 0, payloadLength: packet.readableBytes, to: &frames)
                var copy = packet
                frames.writeBuffer(&copy)
            }
            Frame.writeNotification(type: Frame.endOfStream, reason: 0, to: &frames)
            add("wmsp-frames", frames)
            let metadata = EntryMetadata(header: file.header, playlistGenID: 1, broadcastID: 0, features: "seekable,stridable")
            var payload = Frame.metadataPackets(metadata, allocator: ByteBufferAllocator())
            payload.moveReaderIndex(forwardBy: min(payload.readableBytes, 12))
            add("entry-metadata", payload)
            // An encoder's body: $H, packets without padding, an entry change, the end.
            var push = ByteBuffer()
            PushFrame.header(file.header.broadcast().streamingHeaderOfUnknownSize).write(to: &push)
            for packet in try file.readPackets(0..<min(3, file.packetCount)) {
                let stripped = (try? DataPacket(parsing: packet))?.withoutPadding(storedSize: packet.readableBytes)
                var short = ByteBuffer()
                stripped?.write(to: &short)
                PushFrame.data(stripped == nil ? packet : short).write(to: &push)
            }
            PushFrame.filler(16).write(to: &push)
            PushFrame.end(reason: 1).write(to: &push)
            PushFrame.change(reason: 0, header: file.header.broadcast().streamingHeaderOfUnknownSize).write(to: &push)
            PushFrame.end(reason: 0).write(to: &push)
            add("push-body", push)
            var stream = file.header.streamingHeaderOfUnknownSize
            for var packet in try file.readPackets(0..<min(3, file.packetCount)) { stream.writeBuffer(&packet) }
            add("asf-stream", stream)
            // A group's datagrams: packets and parity, as the sender makes them.
            var sender = MSBSender(fecSpan: 3)
            sender.newEntry(formatID: 0x39E)
            var group = ByteBuffer()
            for packet in try file.readPackets(0..<min(7, file.packetCount)) {
                var datagrams: [ByteBuffer] = []
                switch sender.datagrams(for: packet) {
                case let .packet(d): datagrams = [d]
                case let .packetAndParity(d, p): datagrams = [d, p]
                case .dropped: break
                }
                for var d in datagrams {
                    group.writeInteger(UInt16(d.readableBytes), endianness: .little)
                    group.writeBuffer(&d)
                }
            }
            add("msb-stream", group)
            var msbd = ByteBuffer()
            MSBDMessage.requestConnect(flags: 1, channel: "NetShow").write(to: &msbd)
            MSBDMessage.streamInfo(MSBDStreamInfo(streamID: 0x39E, packetSize: UInt16(clamping: file.packetSize), bitRate: 1,
                                                  header: Array(file.header.streamingHeaderOfUnknownSize.readableBytesView)), response: false, hr: 0).write(to: &msbd)
            for packet in try file.readPackets(0..<min(2, file.packetCount)) { MSBDMessage.packet(id: 0, streamID: 0x39E, data: packet).write(to: &msbd) }
            MSBDMessage.responsePing.write(to: &msbd)
            MSBDMessage.endOfStream.write(to: &msbd)
            add("msbd-message", msbd)
        }
        // The requests of ffmpeg, VLC and libmms (CLIENTS.md 1.2-1.4), and a plain download.
        let wmsp = "GET /demo.wmv HTTP/1.0\r\nAccept: */*\r\nUser-Agent: NSPlayer/7.10.0.3059\r\nHost: 127.0.0.1\r\n"
        add("http-request", wmsp + "Pragma: no-cache,rate=1.000000,stream-time=0,stream-offset=0:0,request-context=1,max-duration=0\r\nPragma: xClientGUID={c77e7400-738a-11d2-9add-0020af0a3278}\r\n\r\n")
        add("http-request", wmsp + "Pragma: no-cache,rate=1.000000,stream-time=10000,stream-offset=4294967295:4294967295,request-context=2,max-duration=0\r\nPragma: xPlayStrm=1\r\nPragma: client-id=1234\r\nPragma: stream-switch-count=2\r\nPragma: stream-switch-entry=ffff:1:0 ffff:2:0 \r\n\r\n")
        add("http-request", "GET /demo.wmv HTTP/1.1\r\nHost: x\r\nUser-Agent: NSPlayer/9.0.0.2980\r\nPragma: xPlayStrm=1\r\nPragma: version11-enabled=1\r\n\r\nGET /demo.wmv HTTP/1.1\r\nHost: x\r\nPragma: pipeline-request=1\r\n\r\n")
        add("http-request", "POST //live HTTP/1.1\r\nContent-Type: application/x-wms-pushsetup\r\nX-Accept-Authentication: Negotiate, NTLM, Digest\r\nUser-Agent: WMEncoder/11.0.5721.5145\r\nHost: localhost:8888\r\nContent-Length: 16\r\nConnection: Keep-Alive\r\nCache-Control: no-cache\r\nCookie: push-id=0\r\n\r\nAutoDestroy: 1\r\n")
        add("http-request", "POST /live HTTP/1.1\r\nContent-Type: application/x-wms-pushstart\r\nUser-Agent: WMEncoder/9.0.0.3287\r\nContent-Length: 2147483647\r\nCookie: push-id=35201712; __utma=1; push-id=7\r\n\r\n$H\u{4}\u{0}abcd")
        add("http-request", "GET /demo.wmv HTTP/1.1\r\nHost: x\r\nRange: bytes=100-199\r\nAuthorization: Basic YWxpY2U6c2VjcmV0\r\n\r\n")
        let rtsp = "rtsp://127.0.0.1:554/demo.wmv"
        add("rtsp-message", "OPTIONS \(rtsp) RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf59.27.100\r\n\r\nDESCRIBE \(rtsp) RTSP/1.0\r\nAccept: application/sdp\r\nCSeq: 2\r\n\r\n")
        add("rtsp-message", "SETUP \(rtsp)/stream=1 RTSP/1.0\r\nTransport: RTP/AVP/UDP;unicast;client_port=5000-5001\r\nCSeq: 3\r\n\r\nSETUP \(rtsp)/stream=2 RTSP/1.0\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nCSeq: 4\r\nSession: 123\r\n\r\n")
        add("rtsp-message", "PLAY \(rtsp) RTSP/1.0\r\nRange: npt=10.000-\r\nCSeq: 5\r\nSession: 123\r\n\r\n$\u{0}\u{0}\u{4}abcd")
        add("rtsp-message", "SET_PARAMETER \(rtsp) RTSP/1.0\r\nCSeq: 6\r\nSession: 123\r\nContent-Type: application/x-wms-streamswitch\r\nContent-Length: 38\r\n\r\nSSEntry: 0 1 3 4294967295 4294967295 0")
        var rtcp = ByteBuffer()
        RTCP.writeReceiverReport(ssrc: 1, to: &rtcp)
        RTCP.writeSourceDescription(ssrc: 1, cname: "client", to: &rtcp)
        RTCP.writeNACK(sender: 1, media: 2, lost: [10, 11, 40], to: &rtcp)
        add("rtcp", rtcp)
        var mms = ByteBuffer()
        let messages: [ClientMessage] = [
            .connect(playIncarnation: 0xF0F0F0EF, subscriberName: "NSPlayer/7.0.0.1956; {3300AD50-2C39-46c0-AE0A-70B64F32B7D1}; Host: 127.0.0.1"),
            .connectFunnel(funnelName: "\\\\127.0.0.1\\UDP\\1755"),
            .openFile(playIncarnation: 1, fileName: "demo.wmv", token: ByteBuffer(string: "YWxpY2U6c2VjcmV0")),
            .startPlaying(.init(position: 10)),
            .streamSwitch([StreamSwitchEntry(destination: 1), StreamSwitchEntry(destination: 2, thinning: 2)]),
        ]
        for (i, message) in messages.enumerated() { message.message.write(sequence: UInt16(i), to: &mms) }
        add("mms-message", mms)
        var resend = ByteBuffer()
        ResendRequest(clientID: 7, sourceID: 1, sequences: [1, 2, 300]).write(to: &resend)
        add("mms-udp", resend)
        add("wsx", (try? String(contentsOfFile: media + "/playlist.wsx", encoding: .utf8)) ?? "<smil><seq><media src=\"demo.wmv\"/></seq></smil>")
        add("config", "http_port: 8080\nallow: [10.0.0.0/8]\npoints:\n  - name: live\n    path: /live\n    broadcast: [demo.wmv]\n    users: {alice: secret}\n    auth: [digest, basic]\n")
        add("digest", #"Digest username="alice", realm="asfcast", nonce="0000", uri="/x", algorithm=MD5, response="00", qop=auth, nc=00000001, cnonce="abc""#)
        add("digest", "Basic YWxpY2U6c2VjcmV0")
        add("wmlog", "127.0.0.1 2026-12-01 10:00:00 - /demo.wmv 0 20 1 200 {c77e7400} 7.10.0.3059 en-US - - wmplayer.exe 12.0 - - - mms 0 - - 1000 - - - - - - - - - - - 1")
        // The .nsc of MS-MSB 4.3 as WMS writes it, and a beacon and an MSB packet.
        var nsc = NSCFile(ipAddress: "239.192.48.179", ipPort: 19009, formats: [.init(id: 0x39E, header: [0x30, 0x26, 0xB2, 0x75], description: "Windows Media")])
        nsc.unicastURL = "mmsh://127.0.0.1/live"
        nsc.timeToLive = 1
        add("nsc", nsc.text)
        add("nsc", "[Address]\nip address=239.1.2.3\nIP Port=0x4A41\nLog URL=\n[Formats]\nFormat1=020W0000000002000\n")
        add("msb-datagram", "MSB ")
        var msb = ByteBuffer()
        MSBDatagram.packet(MSBPacket(id: 1, formatID: 0x39E, entryToggle: true, data: ByteBuffer(bytes: [0x82, 0, 0, 0x09, 0x5D]))).write(to: &msb)
        add("msb-datagram", msb)
        for (target, inputs) in seeds {
            let folder = URL(fileURLWithPath: directory).appendingPathComponent(target)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (i, data) in inputs.enumerated() { try data.write(to: folder.appendingPathComponent("seed-\(i)")) }
        }
        print("seeds for \(seeds.count) targets in \(directory)")
    }
}
#endif
