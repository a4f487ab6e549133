import Foundation
import Streaming

/// What announces a multicast point to players: its `.nsc` (MS-MSB 2.2.1), and a `.asx` that
/// lists the `.nsc` first and the point's unicast URLs after it as the rollover, as WMS's
/// multicast wrappers do (MULTICAST.md §2).
public struct MulticastAnnouncement: Sendable {
    public var point: String
    /// The point's path, "/live".
    public var path: String
    public var settings: MulticastSettings
    public var formats: [NSCFile.Format]
    /// host[:port] of the HTTP listener, as players reach it.
    public var httpHost: String
    /// host[:port] of the RTSP listener.
    public var rtspHost: String

    public init(point: String, path: String, settings: MulticastSettings, formats: [NSCFile.Format], httpHost: String, rtspHost: String) {
        self.point = point
        self.path = path.hasSuffix("/") ? String(path.dropLast()) : path
        self.settings = settings
        self.formats = formats
        self.httpHost = httpHost
        self.rtspHost = rtspHost
    }

    public var nscURL: String { "http://\(httpHost)\(path).nsc" }
    /// Where receivers POST their MS-WMLOG logs (MS-WMLOG 2.3).
    public var logURL: String { "http://\(httpHost)\(path).log" }
    public var unicastURL: String { settings.unicastURL ?? "mmsh://\(httpHost)\(path)" }

    public var nsc: NSCFile {
        var file = NSCFile(ipAddress: settings.group, ipPort: UInt16(settings.port), formats: formats)
        file.name = "\(ProcessInfo.processInfo.hostName), \(point)"
        file.multicastAdapter = settings.interface
        file.timeToLive = UInt32(settings.timeToLive)
        file.defaultECC = UInt32(settings.fecSpan)
        file.logURL = logURL
        file.unicastURL = unicastURL
        return file
    }

    /// The `.asx`: the `.nsc` first, then the point over mmsh and RTSP; a player takes the
    /// first reference it can play (the Ref elements of one Entry are its rollover).
    public var asx: String {
        ASXAnnouncement(title: point, references: [nscURL, unicastURL, "rtsp://\(rtspHost)\(path)"]).text
    }

    /// The answer MS-WMLOG 2.3 has a Log URL give to a client's GET before it POSTs a log.
    public static let logValidationPage = "<html><head><title>WMS ISAPI Log Dll/9.00.00.3372</title></head><body><h1>WMS ISAPI Log Dll/9.00.00.3372</h1></body></html>"
}
