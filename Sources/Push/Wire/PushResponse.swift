import Foundation
import NIOHTTP1

/// The answers an encoder takes, as Windows Media Services gives them (MS-WMHTTP 2.2.2.1, 4.8;
/// PUSH.md 1.2): WME refuses a success whose Server is not Cougar, and is particular about the
/// spelling of Content-Length, so every header is written exactly so, in WMS's order.
public enum PushResponse {
    /// The Server token of WMS 9 that the servers proven with WME 9 send.
    public static let server = "Cougar/9.01.01.3841"
    public static let supported = "com.microsoft.wm.srvppair, com.microsoft.wm.sswitch, com.microsoft.wm.predstrm, com.microsoft.wm.fastcache, com.microsoft.wm.startupprofile"

    /// The headers of every answer: `timeout` is the Idle-Timeout in milliseconds (3.2.2).
    public static func headers(pushID: String?, timeoutMilliseconds: Int, close: Bool, date: Date = Date()) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Server", value: server)
        headers.add(name: "Content-Length", value: "0")
        headers.add(name: "Date", value: httpDate(date))
        headers.add(name: "Pragma", value: "no-cache, timeout=\(timeoutMilliseconds)")
        headers.add(name: "Cache-Control", value: "no-cache")
        if let pushID { headers.add(name: "Set-Cookie", value: "push-id=\(pushID)") }
        headers.add(name: "Supported", value: supported)
        if close { headers.add(name: "Connection", value: "close") }
        return headers
    }

    /// RFC 9110 5.6.7 IMF-fixdate.
    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
