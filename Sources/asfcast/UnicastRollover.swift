import ASF
import NIOCore
import WMSP

/// The rollover of MS-MSB 3.2.3: the point over mmsh (MS-WMSP), its header and packets
/// written as the tuner writes the multicast stream.
struct UnicastRollover {
    var host: String
    var port: Int
    var path: String

    struct BadURL: Error, CustomStringConvertible {
        var description: String
    }

    init(url: String) throws {
        guard url.lowercased().hasPrefix("mmsh://") || url.lowercased().hasPrefix("http://"), let (host, port, path) = Self.parts(of: url) else {
            throw BadURL(description: "only an mmsh:// or http:// Unicast URL can be played")
        }
        (self.host, self.port, self.path) = (host, port, path)
    }

    /// Host, port (80 by default) and path of `scheme://host[:port]/path`.
    static func parts(of url: String) -> (String, Int, String)? {
        guard let scheme = url.range(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        let hostPort = authority.split(separator: ":", maxSplits: 1)
        guard let host = hostPort.first, !host.isEmpty else { return nil }
        let port = hostPort.count > 1 ? Int(hostPort[1]) : 80
        guard let port else { return nil }
        return (String(host), port, path.isEmpty ? "/" : String(path))
    }

    func play(group: EventLoopGroup, duration: TimeAmount?, to sink: OutputSink) async throws {
        let connection = try await WMSPConnection.connect(group: group, host: host, port: port)
        try await connection.send(.GET, path, pragmas: [
            "no-cache,rate=1.000000,stream-time=0,stream-offset=0:0,request-context=2,max-duration=0",
            "xPlayStrm=1", "xClientGUID={3300AD50-2C39-46c0-AE0A-70BCC4CE2E4E}",
        ])
        let end = duration.map { NIODeadline.now() + $0 }
        var header = ByteBuffer()
        var packetSize: Int?
        var video: Set<UInt8> = []
        var started = false
        for try await part in connection.parts {
            switch part {
            case let .head(head):
                guard head.status == .ok else { throw BadURL(description: "\(head.status.code) \(head.status.reasonPhrase)") }
            case let .frame(frame) where frame.type == UInt8(ascii: "H") && packetSize == nil:
                var piece = frame.payload
                header.writeBuffer(&piece)
                if let parsed = try? ASFHeader(parsing: header) {
                    packetSize = parsed.fileProperties.fixedPacketSize
                    video = Set(parsed.streams.filter { $0.kind == .video }.map(\.streamNumber))
                    started = video.isEmpty
                    try sink.write(header)
                }
            case let .frame(frame) where frame.type == UInt8(ascii: "D"):
                guard let packetSize else { continue }
                var packet = try DataPacket(parsing: frame.payload)
                // As from the group: from the first key frame, whole (the player's first frame).
                if !started {
                    guard video.contains(where: packet.startsKeyFrame(of:)) else { continue }
                    started = true
                    if let trimmed = packet.startingAtKeyFrame(of: video, packetSize: packetSize) { packet = trimmed }
                }
                guard let padded = packet.padded(to: packetSize) else { continue }
                try sink.write(padded)
                if let end, NIODeadline.now() >= end { return try await connection.close() }
            case let .frame(frame) where frame.type == UInt8(ascii: "E"):
                return try await connection.close()
            case .frame, .end:
                continue
            }
        }
    }
}
