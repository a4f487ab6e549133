import Foundation
import Multicast
import NIOCore
import Testing

@Suite struct NSCFileTests {
    static let file: NSCFile = {
        var file = NSCFile(ipAddress: "239.255.42.42", ipPort: 16000, formats: [
            .init(id: 0x39E, header: Array(repeating: 0x30, count: 937), description: "Windows Media"),
            .init(id: 7, header: [1, 2, 3, 4, 5]),
        ])
        file.name = "asfcast, live"
        file.multicastAdapter = "10.200.0.1"
        file.timeToLive = 1
        file.defaultECC = 10
        file.logURL = "http://10.200.0.1:8080/live.log"
        file.unicastURL = "mmsh://10.200.0.1:8080/live"
        return file
    }()

    @Test func writesWhatWMSWritesInTheABNFsOrder() {
        let lines = Self.file.text.components(separatedBy: "\r\n")
        #expect(lines.map { $0.split(separator: "=").first.map(String.init) ?? "" } == [
            "[Address]", "Name", "NSC Format Version", "Multicast Adapter", "IP Address", "IP Port", "Time To Live", "Default Ecc",
            "Log URL", "Unicast URL", "", "[Formats]", "Format1", "Description1", "Format2", "",
        ])
        // Integers as 0x and 8 digits (2.2.1.1), strings encoded, the version as in 4.3.
        #expect(lines.contains("IP Port=0x00003E80"))
        #expect(lines.contains("NSC Format Version=029G0000000008Cm0k0300000"))
        #expect(Self.file.text.allSatisfy { $0.isASCII })
    }

    @Test func readsBackWhatItWrites() throws {
        #expect(try NSCFile(parsing: Self.file.text) == Self.file)
    }

    @Test func readsPlainValuesLowercaseKeysLFAndOlderKeys() throws {
        let text = "[Address]\nip address = 239.1.2.3\nIP Port=0x4A41\nPlayer Version=6.4\nColour=red\nLog URL=\n[Formats]\nFormat1=\(NSCEncodedBlock(key: 1, data: [9, 9]).encoded)\n"
        let file = try NSCFile(parsing: text)
        #expect(file.ipAddress == "239.1.2.3")
        #expect(file.ipPort == 19009)
        #expect(file.logURL == nil)
        #expect(file.formats == [.init(id: 1, header: [9, 9])])
        #expect(file.warnings == ["line 5: unknown key \"Colour\" ignored"])
    }

    @Test(arguments: [
        ("[Address]\nIP Port=0x10\n", nil as Int?, "no IP Address in [Address]"),
        ("[Address]\nIP Address=1.2.3.4\nIP Port=16000\n", 3, "ip port: not an integer (0x and hexadecimal digits)"),
        ("[Address]\nIP Address=1.2.3.4\nIP Port=0x00010000\n", 3, "IP Port 65536 is not a UDP port"),
        ("IP Address=1.2.3.4\n", 1, "\"IP Address\" outside [Address] and [Formats]"),
        ("[Address\n", 1, "a section name without its ]"),
        ("[Address]\nIP Address\n", 2, "no \"=\" between a name and a value"),
        ("[Address]\nIP Address=029G0000000008Cn0k0300000\n", 2, "CRC 0x25, the bytes give 0x35"),
        ("[Address]\nIP Address=1.2.3.4\nIP Port=0x10\n[Formats]\nFormat1=0200\n", 5, "Format1: shorter than the 9 bytes of CRC, Key and Length"),
    ])
    func refusesBadFilesNamingTheLine(text: String, line: Int?, reason: String) {
        #expect(throws: NSCParseError(line: line, reason: reason)) { try NSCFile(parsing: text) }
    }

    @Test func refusesAFormatIDTwiceAndKeysPastElevenBits() {
        let twice = "[Address]\nIP Address=1.2.3.4\nIP Port=0x10\n[Formats]\nFormat1=\(NSCEncodedBlock(key: 5, data: [1]).encoded)\nFormat2=\(NSCEncodedBlock(key: 5, data: [2]).encoded)\n"
        #expect(throws: NSCParseError(line: 6, reason: "Format2: Format ID 5 given twice")) { try NSCFile(parsing: twice) }
        let wide = "[Address]\nIP Address=1.2.3.4\nIP Port=0x10\n[Formats]\nFormat1=\(NSCEncodedBlock(key: 0x800, data: [1]).encoded)\n"
        #expect(throws: NSCParseError(line: 5, reason: "Format1: Key 2048 is not an 11-bit Format ID")) { try NSCFile(parsing: wide) }
    }

    @Test func aHeadersFormatIDIsAnElevenBitHashOfIt() {
        let header = ByteBuffer(bytes: Array(repeating: 0x30, count: 1000))
        let same = NSCFile.Format(streamingHeader: header), again = NSCFile.Format(streamingHeader: header)
        var changed = header
        changed.setInteger(UInt8(0x31), at: 500)
        #expect(same == again)
        #expect(same.id <= 0x7FF)
        #expect(NSCFile.Format(streamingHeader: changed).id != same.id)
        #expect(same.header == Array(header.readableBytesView))
    }

    @Test func refusesOverlongLines() {
        let text = "[Address]\nName=" + String(repeating: "a", count: NSCFile.maximumLineLength) + "\n"
        #expect(throws: NSCParseError.self) { try NSCFile(parsing: text) }
    }
}
