@testable import AsfcastServer
import Foundation
import Multicast
import Streaming
import Testing

struct ConfigurationTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config/asfcast.yaml").path

    /// Every shipped value is the default, but for the examples: the points and the admin port.
    @Test func shippedConfigurationHoldsTheDefaultsAndALiveBroadcast() throws {
        var shipped = try ServerConfiguration.load(path: Self.file)
        var push = ServerConfiguration.Point(name: "push", path: "/push", source: .push)
        push.archive = "/tmp/asfcast-archive/<V>-<Y><m><d>-<H><M><S>.wmv"
        var multicast = ServerConfiguration.Point(name: "multicast", path: "/multicast", source: .broadcast(["demo.wmv"], startImmediately: true))
        multicast.multicast = MulticastSettings(group: "239.255.42.42", port: 16000)
        multicast.multicast?.interface = "127.0.0.1"
        #expect(shipped.points == [.init(name: "live", path: "/live", source: .broadcast(["demo.wmv"], startImmediately: true)), push,
                                   .init(name: "archive", path: "/archive", source: .directory("/tmp/asfcast-archive")), multicast])
        shipped.points = []
        #expect(shipped.adminPort == 8090)
        shipped.adminPort = 0
        #expect(shipped == ServerConfiguration())
    }

    @Test func pushPullAndArchivePoints() throws {
        let yaml = """
        push_idle_timeout_seconds: 15
        points:
          - path: /studio
            push: true
            users: {encoder: secret}
            archive: archive/<V>-<Y><m><d>.wmv
          - path: /relay
            broadcast: mmsh://origin.example/live
        """
        let config = try ServerConfiguration.parse(yaml, file: "p.yaml")
        #expect(config.pushIdleTimeoutSeconds == 15)
        #expect(config.points.map(\.source) == [.push, .pull("mmsh://origin.example/live")])
        #expect(config.points[0].archive == "archive/<V>-<Y><m><d>.wmv")
        #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("points:\n  - path: /x\n    push: true\n    file: a.wmv\n", file: "p.yaml") }
        #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("points:\n  - path: /x\n    file: a.wmv\n    archive: a.wmv\n", file: "p.yaml") }
        #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("push_idle_timeout_seconds: 1\n", file: "p.yaml") }
    }

    @Test func multicastPoints() throws {
        let yaml = """
        points:
          - path: /studio
            push: true
            multicast: {group: "ff15::4242", port: 5004, ttl: 8, fec_span: 0, beacon_seconds: 10, unicast_url: "rtsp://edge/studio"}
            msbd_port: 7007
        """
        let point = try ServerConfiguration.parse(yaml, file: "m.yaml").points[0]
        #expect(point.msbdPort == 7007)
        let settings = try #require(point.multicast)
        #expect(settings.group == "ff15::4242" && settings.port == 5004 && settings.timeToLive == 8 && settings.fecSpan == 0)
        #expect(settings.beaconSeconds == 10 && settings.unicastURL == "rtsp://edge/studio" && settings.interface == nil)
        // Each wrong value is refused with the file and line: not a group, a span that cannot be
        // written (MS-MSB 2.2.2), a beacon period outside 1-10 s (3.1.2), a key it does not know,
        // an on-demand point.
        for (entry, message) in [("{group: 10.0.0.1, port: 5004}", "not a multicast address"),
                                 ("{group: 239.1.1.1, port: 5004, fec_span: 15}", "fec_span 15"),
                                 ("{group: 239.1.1.1, port: 5004, beacon_seconds: 30}", "beacon_seconds"),
                                 ("{group: 239.1.1.1, port: 70000}", "port 70000"),
                                 ("{group: 239.1.1.1, port: 5004, loop: true}", "unknown key 'loop'"),
                                 ("{port: 5004}", "needs a 'group'")] {
            #expect { try ServerConfiguration.parse("points:\n  - path: /x\n    broadcast: a.wmv\n    multicast: \(entry)\n", file: "m.yaml") }
                throws: { "\($0)".contains("m.yaml:") && "\($0)".contains(message) }
        }
        #expect(throws: ServerConfiguration.Failure.self) {
            try ServerConfiguration.parse("points:\n  - path: /x\n    directory: /srv\n    multicast: {group: 239.1.1.1, port: 5004}\n", file: "m.yaml")
        }
        #expect(throws: ServerConfiguration.Failure.self) {
            try ServerConfiguration.parse("points:\n  - path: /x\n    directory: /srv\n    msbd_port: 7007\n", file: "m.yaml")
        }
    }

    @Test func headersAreFittedUnlessTurnedOff() throws {
        #expect(try ServerConfiguration.parse("log_level: info\n", file: "f.yaml").fitHeaders)
        #expect(try !ServerConfiguration.parse("fit_headers: false\n", file: "f.yaml").fitHeaders)
        #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("fit_headers: 3\n", file: "f.yaml") }
    }

    @Test func pointsAndLimits() throws {
        let yaml = """
        max_players: 100
        points:
          - path: /clips
            directory: /srv/clips
            max_bandwidth_kbps: 2000
          - name: tv
            path: /tv
            broadcast: [a.wmv, b.wmv]
            start: first_client
            max_players: 5
            users:
              alice: secret
              bob: ha1-md5:0123456789ABCDEF0123456789abcdef
            auth: [digest, basic]
            allow: [10.0.0.0/8, "2001:db8::/32"]
            deny: 10.1.2.3
        """
        let c = try ServerConfiguration.parse(yaml, file: "p.yaml")
        #expect(c.maximumPlayers == 100)
        #expect(c.points == [
            .init(name: "clips", path: "/clips", source: .directory("/srv/clips"), maximumBandwidthKbps: 2000),
            .init(name: "tv", path: "/tv", source: .broadcast(["a.wmv", "b.wmv"], startImmediately: false), maximumPlayers: 5,
                  access: PointAccess(users: Users(["alice": [.password("secret")], "bob": [.ha1(.md5, hex: "0123456789abcdef0123456789abcdef")]]),
                                      schemes: [.digest, .basic],
                                      addresses: AddressList(allow: [AddressList.Block("10.0.0.0/8")!, AddressList.Block("2001:db8::/32")!],
                                                             deny: [AddressList.Block("10.1.2.3")!]))),
        ])
        let noSource = #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("points:\n  - path: /x\n", file: "p.yaml") }
        #expect(noSource?.description == "p.yaml:2: a point needs one of 'directory', 'file', 'broadcast', 'redirect' or 'push: true'")
        let moved = try ServerConfiguration.parse("points:\n  - path: /old\n    redirect: //media2.example.com\n", file: "p.yaml")
        #expect(moved.points == [.init(name: "old", path: "/old", source: .redirect("//media2.example.com"))])
        let single = try ServerConfiguration.parse("points:\n  - path: /show\n    file: playlist.wsx\n", file: "p.yaml")
        #expect(single.points == [.init(name: "show", path: "/show", source: .file("playlist.wsx"))])
        #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("points:\n  - path: x\n    directory: d\n", file: "p.yaml") }
        #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("points:\n  - path: /x\n    directory: d\n    users: [a]\n", file: "p.yaml") }
    }

    @Test func hardeningSettings() throws {
        let c = try ServerConfiguration.parse("""
            request_header_timeout_seconds: 5
            idle_connection_timeout_seconds: 30
            max_connections_per_address: 10
            max_connection_rate_per_address: 0
            deny: [192.0.2.0/24]
            auth_realm: media
            digest_nonce_seconds: 60
            """, file: "h.yaml")
        #expect(c.requestHeaderTimeoutSeconds == 5 && c.idleConnectionTimeoutSeconds == 30)
        #expect(c.maximumConnectionsPerAddress == 10 && c.maximumConnectionRatePerAddress == 0)
        #expect(c.addresses == AddressList(deny: [AddressList.Block("192.0.2.0/24")!]))
        #expect(c.authRealm == "media" && c.digestNonceSeconds == 60)
        let block = #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("allow: [10.0.0.0/33]\n", file: "h.yaml") }
        #expect(block?.description == "h.yaml:1: 'allow' lists addresses or CIDR blocks (10.0.0.0/8, 2001:db8::/32)")
        #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("points:\n  - path: /x\n    directory: d\n    auth: [ntlm]\n", file: "h.yaml") }
    }

    @Test func emptyFileMeansDefaults() throws {
        #expect(try ServerConfiguration.parse("", file: "x.yaml") == ServerConfiguration())
        let c = try ServerConfiguration.parse("http_port: 8080\nmedia_root: /srv/media\n", file: "x.yaml")
        #expect(c.httpPort == 8080 && c.mediaRoot == "/srv/media")
    }

    @Test func unknownKeysAndWrongTypesNameFileAndLine() throws {
        let unknown = #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("bind: 1.2.3.4\nhttp_prot: 80\n", file: "a.yaml") }
        #expect(unknown?.description == "a.yaml:2: unknown key 'http_prot'")
        let type = #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("http_port: eighty\n", file: "a.yaml") }
        #expect(type?.description == "a.yaml:1: 'http_port' must be a port number (1-65535)")
        #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("- a list\n", file: "a.yaml") }
        #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("log_level: loud\n", file: "a.yaml") }
        // YAML 1.1 base-60 integers that overflow made Yams trap (fuzzing): an error now.
        let sexagesimal = #expect(throws: ServerConfiguration.Failure.self) {
            try ServerConfiguration.parse("http_port: +66:66:66666666666:6666666666666\n", file: "a.yaml")
        }
        #expect(sexagesimal?.description == "a.yaml:1: 'http_port' must be a port number (1-65535)")
        #expect(try ServerConfiguration.parse("http_port: +8080\n", file: "a.yaml").httpPort == 8080)
        // Thousands of nested flow sequences overflowed Yams's stack (fuzzing): refused first.
        let deep = #expect(throws: ServerConfiguration.Failure.self) {
            try ServerConfiguration.parse("allow: " + String(repeating: "[", count: 5000) + "\n", file: "a.yaml")
        }
        #expect(deep?.description == "a.yaml: nested more than 64 deep")
        #expect(ServerConfiguration.flowNesting(of: "a: [1, {b: [2]}]\nc: [x]\n") == 3)
        #expect(ServerConfiguration.flowNesting(of: "ttpn':\n " + String(repeating: "[", count: 100)) == 100, "a quote hides nothing")
    }
}

struct ReadmeTests {
    @Test func readmeShowsTheShippedConfigurationComplete() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let config = try String(contentsOf: root.appendingPathComponent("config/asfcast.yaml"), encoding: .utf8)
        #expect(readme.contains("```yaml\n" + config + "```"))
    }
}
