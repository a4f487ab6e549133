import Foundation
import NIOCore

/// An RTSP 1.0 request (RFC 2326 6) as the server receives it.
public struct RTSPRequest: Sendable, Equatable {
    public var method: String
    public var uri: String
    public var headers: [(name: String, value: String)]
    public var body: ByteBuffer

    public static func == (a: RTSPRequest, b: RTSPRequest) -> Bool {
        a.method == b.method && a.uri == b.uri && a.body == b.body
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    /// The first value of a header, by case-insensitive name.
    public subscript(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) }?.value
    }

    public var cseq: String? { self["CSeq"] }
}

extension String {
    func caseInsensitiveCompare(_ other: String) -> Bool { lowercased() == other.lowercased() }
}

/// What arrives on an RTSP connection: requests, responses to the server's own requests, and
/// RTP/RTCP interleaved in the TCP stream (RFC 2326 10.12).
public enum RTSPInbound: Sendable, Equatable {
    case request(RTSPRequest)
    case response(RTSPResponse)
    case interleaved(channel: UInt8, payload: ByteBuffer)
}

/// Splits an RTSP byte stream into messages, with limits on everything that grows.
public struct RTSPMessageParser {
    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public var status: Int
        public var description: String
    }

    public static let maximumHeaderBytes = 16 << 10
    public static let maximumHeaders = 64
    public static let maximumBody = 64 << 10

    public init() {}

    /// The next message at the reader index of `buffer`, consuming it; nil when more bytes are needed.
    public func parse(_ buffer: inout ByteBuffer) throws -> RTSPInbound? {
        // Line ends before a message are skipped (RFC 7230 3.5), and NULs: GStreamer's echo of
        // our EndOfStream ends its body with a C string's NUL that its Content-Length does not
        // count, which made its next request (PAUSE) unknown and then one in a few of its
        // TEARDOWNs find the connection closed.
        while let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), byte == 13 || byte == 10 || byte == 0 {
            buffer.moveReaderIndex(forwardBy: 1)
        }
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        if first == 0x24 {  // "$": interleaved binary data
            guard buffer.readableBytes >= 4 else { return nil }
            let channel = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)!
            let length = Int(buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self)!)
            guard buffer.readableBytes >= 4 + length else { return nil }
            buffer.moveReaderIndex(forwardBy: 4)
            return .interleaved(channel: channel, payload: buffer.readSlice(length: length)!)
        }
        let view = buffer.readableBytesView
        guard let end = Self.endOfHeaders(view) else {
            if view.count > Self.maximumHeaderBytes { throw Malformed(status: 431, description: "header block over \(Self.maximumHeaderBytes) bytes") }
            return nil
        }
        guard end <= Self.maximumHeaderBytes else { throw Malformed(status: 431, description: "header block over \(Self.maximumHeaderBytes) bytes") }
        let text = String(decoding: view.prefix(end), as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        guard !lines.isEmpty else { throw Malformed(status: 400, description: "empty message") }
        let startLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: true)
        guard lines.count <= Self.maximumHeaders else { throw Malformed(status: 400, description: "more than \(Self.maximumHeaders) headers") }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw Malformed(status: 400, description: "header line without a colon") }
            headers.append((String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                            String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
        }
        let lengthText = headers.first { $0.name.caseInsensitiveCompare("Content-Length") }?.value ?? "0"
        guard let length = Int(lengthText), length >= 0, length <= Self.maximumBody else {
            throw Malformed(status: 413, description: "Content-Length \(lengthText)")
        }
        let total = end + 4 + length
        guard buffer.readableBytes >= total else { return nil }
        buffer.moveReaderIndex(forwardBy: end + 4)
        let body = buffer.readSlice(length: length)!
        if startLine.first?.hasPrefix("RTSP/") == true {
            guard startLine.count >= 2, let status = Int(startLine[1]) else { throw Malformed(status: 400, description: "bad status line") }
            return .response(RTSPResponse(status: status, reason: startLine.dropFirst(2).joined(separator: " "), headers: headers,
                                          body: String(buffer: body)))
        }
        guard startLine.count == 3, startLine[2].hasPrefix("RTSP/1.") else {
            throw Malformed(status: 400, description: "bad request line")
        }
        return .request(RTSPRequest(method: String(startLine[0]), uri: String(startLine[1]), headers: headers, body: body))
    }

    /// Offset of the blank line that ends the header block.
    private static func endOfHeaders(_ view: ByteBufferView) -> Int? {
        var i = view.startIndex
        let limit = min(view.endIndex, view.startIndex + maximumHeaderBytes + 4)
        while i + 3 < limit {
            if view[i] == 13, view[i + 1] == 10, view[i + 2] == 13, view[i + 3] == 10 { return i - view.startIndex }
            i += 1
        }
        return nil
    }
}

/// An RTSP response (RFC 2326 7).
public struct RTSPResponse: Sendable, Equatable {
    public var status: Int
    public var reason: String
    public var headers: [(name: String, value: String)]
    public var body: String

    public init(status: Int, reason: String, headers: [(name: String, value: String)] = [], body: String = "") {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    public static func == (a: RTSPResponse, b: RTSPResponse) -> Bool {
        a.status == b.status && a.reason == b.reason && a.body == b.body
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    /// The first value of a header, by case-insensitive name.
    public subscript(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) }?.value
    }

    public func write(to b: inout ByteBuffer) {
        b.writeString("RTSP/1.0 \(status) \(reason)\r\n")
        for (name, value) in headers { b.writeString("\(name): \(value)\r\n") }
        if !body.isEmpty { b.writeString("Content-Length: \(body.utf8.count)\r\n") }
        b.writeString("\r\n")
        b.writeString(body)
    }
}
