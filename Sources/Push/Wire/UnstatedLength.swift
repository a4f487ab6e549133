import Foundation
import NIOCore

/// A request head on the HTTP port as raw bytes, read for what it says of its body before
/// NIO's HTTP decoder reads it: a PushStart that states no Content-Length, or 0 (the PushSetup's
/// reused), runs to the connection's end, as tsukasa's encoder sends it (PUSH.md 1.7). The
/// decoder would take such a body as empty and read its first frame as the next request, so its
/// head is given the length Windows Media Encoder states without a proxy (2³¹ − 1, MS-WMHTTP
/// 3.1.4.2.1) and the ingest reads the body as any other.
public struct UnstatedLength: Equatable {
    public enum Body: Equatable {
        case none
        case length(Int)
        case chunked
        /// A PushStart's stream: the rest of the connection.
        case toTheEnd
    }

    /// Whether it is an encoder's request (a PushSetup or a PushStart).
    public var isPush: Bool
    public var body: Body
    /// The head as the decoder is to read it: as it came, or with WME's length.
    public var head: ByteBuffer

    /// What WME states as a PushStart's length when no proxy is known.
    public static let encoderLength = 2_147_483_647

    /// `head`: a request line and headers, up to and with the blank line. Nil when it does not
    /// read as one (the decoder answers it).
    public init?(_ head: ByteBuffer) {
        let text = String(decoding: head.readableBytesView, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let requestLine = lines.first, requestLine.contains(" HTTP/") else { return nil }
        var headers: [(name: String, line: Substring)] = []
        var type = "", lengths: [Int?] = [], chunked = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append((name, line))
            switch name {
            case "content-type": type = value.lowercased()
            case "content-length": lengths.append(Int(value))
            case "transfer-encoding": chunked = chunked || value.lowercased().contains("chunked")
            default: break
            }
        }
        isPush = requestLine.hasPrefix("POST ") && (type.hasPrefix(PushRequest.setupType) || type.hasPrefix(PushRequest.startType))
        let unstated = lengths.isEmpty || lengths == [0]
        if chunked {
            body = .chunked
        } else if isPush, type.hasPrefix(PushRequest.startType), unstated {
            body = .toTheEnd
        } else if lengths.count == 1, let length = lengths[0], length > 0 {
            body = .length(length)
        } else {
            body = .none
        }
        guard body == .toTheEnd else {
            self.head = head
            return
        }
        var stated = ByteBuffer()
        stated.writeString(requestLine + "\r\n")
        for (name, line) in headers where name != "content-length" {
            stated.writeString(line + "\r\n")
        }
        stated.writeString("Content-Length: \(Self.encoderLength)\r\n\r\n")
        self.head = stated
    }
}
