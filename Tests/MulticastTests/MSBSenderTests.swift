import ASF
import Multicast
import NIOCore
import Testing

@Suite struct MSBSenderTests {
    static func packets() throws -> [ByteBuffer] { Array(try MSBRoundTripTests.packets("demo.wmv").1.prefix(25)) }

    @Test func idsCountDataPacketsAndAParityRepeatsTheIDBeforeIt() throws {
        var sender = MSBSender(fecSpan: 10)
        sender.newEntry(formatID: 0x39E)
        var sent: [MSBPacket] = []
        for packet in try Self.packets() {
            switch sender.datagrams(for: packet) {
            case let .packet(d): sent.append(try Self.parse(d))
            case let .packetAndParity(d, p): sent += [try Self.parse(d), try Self.parse(p)]
            case let .dropped(reason): Issue.record("\(reason)")
            }
        }
        // 2.2.4: dwPacketID from 0, +1 per data packet; 2.2.2: the parity after each 10 with the
        // ID of the 10th.
        #expect(sent.map(\.id) == Array(0...9) + [9] + Array(10...19) + [19] + Array(20...24))
        #expect(sent.allSatisfy { $0.formatID == 0x39E && $0.entryToggle })
        #expect(sender.dataPackets == 25 && sender.parityPackets == 2)
    }

    @Test func paddingIsStrippedAndSaidSo() throws {
        var sender = MSBSender(fecSpan: 0)
        for stored in try Self.packets() {
            guard case let .packet(d) = sender.datagrams(for: stored) else { Issue.record("not one packet"); continue }
            let sent = try DataPacket(parsing: try Self.parse(d).data)
            let original = try DataPacket(parsing: stored)
            #expect(sent.padding.readableBytes == 0 && sent.paddingLength == 0)
            #expect(sent.payloads == original.payloads && sent.sendTime == original.sendTime)
            if original.padding.readableBytes > 4 { #expect(d.readableBytes < stored.readableBytes) }
        }
    }

    @Test func eachEntryFlipsTheToggleAndEndsTheOpenSpanWithoutParity() throws {
        var sender = MSBSender(fecSpan: 10)
        sender.newEntry(formatID: 1)
        let packets = try Self.packets()
        for packet in packets.prefix(4) { _ = sender.datagrams(for: packet) }
        sender.newEntry(formatID: 2)
        guard case let .packet(d) = sender.datagrams(for: packets[4]) else { Issue.record("a parity after 5 packets"); return }
        let packet = try Self.parse(d)
        #expect(packet.formatID == 2 && !packet.entryToggle && packet.id == 4)
        // A new span: Number 1 of the next cycle (3.1.5.1 and <8>).
        #expect(ParitySpan.fields(of: packet.data)! == (false, 1, 1))
    }

    @Test func announcementsNameTheGroupAndTheRollover() throws {
        var settings = MulticastSettings(group: "239.1.2.3", port: 5004)
        settings.interface = "192.0.2.10"
        let announcement = MulticastAnnouncement(point: "live", path: "/live/", settings: settings,
                                                 formats: [.init(id: 7, header: [1, 2, 3])], httpHost: "example.org:8080", rtspHost: "example.org:554")
        let nsc = try NSCFile(parsing: announcement.nsc.text)
        #expect(nsc.ipAddress == "239.1.2.3" && nsc.ipPort == 5004 && nsc.multicastAdapter == "192.0.2.10" && nsc.timeToLive == 1)
        #expect(nsc.unicastURL == "mmsh://example.org:8080/live" && nsc.logURL == "http://example.org:8080/live.log")
        #expect(nsc.formats == [.init(id: 7, header: [1, 2, 3], description: nil)])
        #expect(announcement.asx.contains(#"<Ref href="http://example.org:8080/live.nsc"/>"#))
        #expect(announcement.asx.contains(#"<Ref href="rtsp://example.org:554/live"/>"#))
        // IPv6 groups, and what is not a group.
        #expect(throws: Never.self) { try MulticastSettings(group: "ff15::1", port: 5004).groupAddress() }
        #expect(throws: MulticastSettings.Invalid.self) { try MulticastSettings(group: "fe80::1", port: 5004).groupAddress() }
    }

    static func parse(_ datagram: ByteBuffer) throws -> MSBPacket {
        guard case let .packet(packet) = try MSBDatagram(parsing: datagram) else { throw MSBDatagramError.tooShort(4) }
        return packet
    }
}
