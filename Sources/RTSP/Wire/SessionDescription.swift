import ASF
import Foundation
import NIOCore

/// The SDP of a DESCRIBE reply (MS-SDP, laid out as CLIENTS.md 3.6 found ffmpeg and GStreamer
/// need it): session-level `a=maxps` and `a=pgmpu` (the ASF header in base64) before any m-line;
/// one `x-asf-pf` m-line per audio/video stream with `a=stream`; and the `x-wms-rtx` m-line for
/// retransmission after the first of them (ffmpeg fails if it comes first).
public enum SessionDescription {
    public static let payloadType = 96
    public static let retransmissionPayloadType = 97

    /// `a=range` states no end time, even on demand: that keeps GStreamer out of on-demand
    /// buffering, which waits for data on every RTP session while only one carries the packets
    /// (CLIENTS.md 3.4, 3.6 rule 7). The duration is in the ASF header.
    /// The header's Data Object has an unknown size (0): ffmpeg stops at a known Data Object's
    /// end measured in the bytes of the RTP payloads, which are not the file's (padding removed,
    /// a packet per payload), and so missed the last packets of a file (HEADERS.md).
    public static func make(header: ASFHeader, title: String) -> String {
        let p = header.fileProperties
        let kbps = max(1, p.maximumBitrate / 1000)
        let headerBase64 = Data(header.streamingHeaderOfUnknownSize.readableBytesView).base64EncodedString()
        var lines = [
            "v=0",
            "o=- \(p.creationDate) \(p.creationDate) IN IP4 0.0.0.0",
            "s=\(title)",
            "c=IN IP4 0.0.0.0",
            "b=AS:\(kbps)",
            "t=0 0",
            "a=maxps:\(p.maximumPacketSize)",
            "a=control:*",
            "a=range:npt=0-",
            "a=recvonly",
            "a=pgmpu:data:application/vnd.ms.wms-hdr.asfv1;base64,\(headerBase64)",
        ]
        var media: [[String]] = header.streams.filter { $0.kind == .audio || $0.kind == .video }.map { stream in
            var m = ["m=\(stream.kind.rawValue) 0 RTP/AVP \(payloadType)"]
            if let rate = header.averageBitrate(of: stream.streamNumber) { m.append("b=AS:\(max(1, rate / 1000))") }
            m += ["a=rtpmap:\(payloadType) x-asf-pf/1000", "a=control:stream=\(stream.streamNumber)", "a=stream:\(stream.streamNumber)"]
            return m
        }
        let rtx = ["m=application 0 RTP/AVP \(retransmissionPayloadType)", "a=rtpmap:\(retransmissionPayloadType) x-wms-rtx/1000",
                   "a=control:rtx", "a=stream:65536"]
        media.insert(rtx, at: min(1, media.count))
        lines += media.flatMap { $0 }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
