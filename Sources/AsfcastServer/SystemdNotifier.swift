import CSystemd
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Streaming

/// What the service manager hears (sd_notify(3), systemd.service(5) Type=notify): READY=1 once
/// every listener accepts, then a STATUS= line with the players and the send rate, WATCHDOG=1
/// at half the unit's WatchdogSec when it sets one, RELOADING=1 and READY=1 around a reload,
/// and STOPPING=1 when the server shuts down.
/// Without NOTIFY_SOCKET (not under systemd) nothing is sent and no timer runs.
final class SystemdNotifier: Sendable {
    private let activity: ServerActivity
    private let task: NIOLockedValueBox<RepeatedTask?> = NIOLockedValueBox(nil)

    /// How often STATUS= is refreshed when no watchdog asks for more.
    static let statusInterval = TimeAmount.seconds(5)

    init(activity: ServerActivity) {
        self.activity = activity
    }

    static var isSupervised: Bool { getenv("NOTIFY_SOCKET") != nil }

    /// READY=1 and the first STATUS=; then the refreshes and keep-alives on `loop`.
    func ready(on loop: EventLoop) {
        guard Self.isSupervised else { return }
        var microseconds: UInt64 = 0
        let watchdog = sd_watchdog_enabled(0, &microseconds) > 0 && microseconds > 0
        var interval = Self.statusInterval
        if watchdog { interval = min(interval, .microseconds(Int64(microseconds / 2))) }
        let last = NIOLockedValueBox((bytes: activity.bytesSent, at: NIODeadline.now()))
        Self.notify("READY=1\nSTATUS=\(Self.status(players: activity.playersConnected, bitsPerSecond: 0))")
        let activity = activity
        task.withLockedValue {
            $0 = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                let now = NIODeadline.now()
                let bytes = activity.bytesSent
                let rate = last.withLockedValue { last in
                    let seconds = Double((now - last.at).nanoseconds) / 1e9
                    defer { last = (bytes, now) }
                    return seconds > 0 ? Double(bytes - last.bytes) * 8 / seconds : 0
                }
                Self.notify((watchdog ? "WATCHDOG=1\n" : "") + "STATUS=\(Self.status(players: activity.playersConnected, bitsPerSecond: rate))")
            }
        }
    }

    /// RELOADING=1, with MONOTONIC_USEC as systemd 253 and later want it (systemd.service(5)
    /// Type=notify-reload); `reloaded()` says READY=1 again.
    func reloading() {
        guard Self.isSupervised else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        Self.notify("RELOADING=1\nMONOTONIC_USEC=\(UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000)\nSTATUS=reloading")
    }

    func reloaded() {
        guard Self.isSupervised else { return }
        Self.notify("READY=1")
    }

    func stopping() {
        task.withLockedValue { $0?.cancel(); $0 = nil }
        guard Self.isSupervised else { return }
        Self.notify("STOPPING=1\nSTATUS=stopping")
    }

    /// `3 players, 1.20 Mbit/s`.
    static func status(players: Int, bitsPerSecond: Double) -> String {
        "\(players) player\(players == 1 ? "" : "s"), \(String(format: "%.2f", bitsPerSecond / 1e6)) Mbit/s"
    }

    private static func notify(_ state: String) {
        _ = sd_notify(0, state)
    }
}
