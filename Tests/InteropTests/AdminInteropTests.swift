import Foundation
import Testing
import Yams

extension Interop {
    /// Issue 18 §1-3: the admin listener. curl reads the JSON API and /metrics while real players
    /// play; Prometheus's own parser (prometheus_client) reads the counters; the OpenAPI document
    /// beside the Admin module describes every answer.
    @Suite
    struct AdminInteropTests {
        static let document = ServerProcess.root.appendingPathComponent("Sources/Admin/openapi.yaml")

        /// An answer of the admin listener: status and body.
        static func get(_ server: ServerProcess, _ path: String, method: String = "GET", token: String? = nil,
                        body: String? = nil) throws -> (status: Int, body: String) {
            var arguments = ["-s", "-X", method, "-w", "\n%{http_code}", "http://\(server.adminURL)\(path)"]
            if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
            if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
            let out = try run("/usr/bin/curl", arguments, limit: 30)
            guard out.status == 0, let newline = out.output.lastIndex(of: "\n") else { throw Failure("curl \(path): \(out.output)") }
            return (Int(out.output[newline...].dropFirst()) ?? 0, String(out.output[..<newline]))
        }

        static func json(_ server: ServerProcess, _ path: String) throws -> Any {
            let answer = try get(server, path)
            guard answer.status == 200 else { throw Failure("\(path): \(answer.status) \(answer.body)") }
            return try JSONSerialization.jsonObject(with: Data(answer.body.utf8))
        }

        static func sessions(_ server: ServerProcess) throws -> [[String: Any]] {
            (try json(server, "/api/v1/sessions") as? [String: Any])?["items"] as? [[String: Any]] ?? []
        }

        /// Two ffmpegs play /live, over WMSP and over RTSP with RTP over UDP: the API lists both
        /// with their protocol, transport, point, client and a rate; /metrics counts them per
        /// protocol and transport; one is
        /// disconnected through the API and its ffmpeg ends while the other plays on.
        @Test
        func listsCountsAndDisconnectsPlayers() throws {
            let server = try ServerProcess()
            let players = try [["-i", "mmsh://\(server.url)/live"], ["-rtsp_transport", "udp", "-i", "rtsp://\(server.rtspURL)/live"]].map {
                try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error"] + $0 + ["-t", "120", "-c", "copy", "-f", "asf", "-y", "/dev/null"])
            }
            var listed: [[String: Any]] = []
            try waitUntil("both players listed with bytes sent") {
                listed = (try? Self.sessions(server)) ?? []
                return listed.count == 2 && listed.allSatisfy { ($0["bytesSent"] as? Int ?? 0) > 0 }
            }
            let wmsp = try #require(listed.first { $0["protocol"] as? String == "wmsp" }, "\(listed)")
            let rtsp = try #require(listed.first { $0["protocol"] as? String == "rtsp" }, "\(listed)")
            #expect(wmsp["transport"] as? String == "tcp")
            #expect(rtsp["transport"] as? String == "udp")
            for session in [wmsp, rtsp] {
                #expect(session["point"] as? String == "live")
                #expect(session["path"] as? String == "/live")
                #expect(session["client"] as? String == "127.0.0.1")
                #expect((session["player"] as? String ?? "").hasPrefix("Lavf") || (session["player"] as? String ?? "").contains("NSPlayer"), "\(session)")
                #expect((session["bitsPerSecond"] as? Double ?? 0) > 0)
                #expect(session["position"] as? Double != nil, "\(session)")
            }
            // ffmpeg calls itself NSPlayer/4.1.0.3856 over WMSP (CLIENTS.md 1.1), Lavf… over RTSP.
            #expect((wmsp["playerVersion"] as? String ?? "").hasPrefix("4.1."), "\(wmsp)")
            #expect(rtsp["playerVersion"] == nil, "\(rtsp)")

            // The counters, read by Prometheus's own parser.
            let metrics = try Self.get(server, "/metrics")
            #expect(metrics.status == 200)
            let samples = try Self.prometheusSamples(metrics.body)
            for (protocolName, transport) in [("wmsp", "tcp"), ("rtsp", "udp")] {
                let labels = "point=live,protocol=\(protocolName),transport=\(transport)"
                #expect(samples["asfcast_players{\(labels)}"] == 1, "\(samples)")
                #expect((samples["asfcast_player_connections_total{\(labels)}"] ?? 0) >= 1, "\(samples)")
                #expect((samples["asfcast_sent_bytes_total{\(labels)}"] ?? 0) > 0, "\(samples)")
                #expect(samples["asfcast_time_to_first_packet_seconds_count{\(labels)}"] == 1, "\(samples)")
                #expect((samples["asfcast_time_to_first_packet_seconds_sum{\(labels)}"] ?? 0) > 0, "\(samples)")
            }
            let points = try #require((try Self.json(server, "/api/v1/points") as? [String: Any])?["items"] as? [[String: Any]])
            #expect(points.first { $0["name"] as? String == "live" }?["players"] as? Int == 2, "\(points)")
            // ffmpeg's RTCP receiver reports over UDP, with their loss and jitter; the shipped
            // multicast point's datagrams; the loops' late sends, none on an idle machine's loopback.
            let rtcp = "point=live,protocol=rtsp,transport=udp"
            var reported: [String: Double] = [:]
            try waitUntil("a receiver report counted: \(reported.filter { $0.key.hasPrefix("asfcast_rtcp") })") {
                reported = (try? Self.prometheusSamples(Self.get(server, "/metrics").body)) ?? [:]
                return (reported["asfcast_rtcp_receiver_reports_total{\(rtcp)}"] ?? 0) >= 1
            }
            #expect(reported["asfcast_rtcp_fraction_lost_count{\(rtcp)}"] == reported["asfcast_rtcp_receiver_reports_total{\(rtcp)}"], "\(reported)")
            #expect(reported["asfcast_rtcp_jitter_seconds_count{\(rtcp)}"] == reported["asfcast_rtcp_receiver_reports_total{\(rtcp)}"], "\(reported)")
            #expect(reported["asfcast_rtcp_fraction_lost_sum{\(rtcp)}"] == 0, "loss on loopback: \(reported)")
            #expect((reported["asfcast_multicast_datagrams_total{kind=data,point=multicast}"] ?? 0) > 0, "\(reported)")
            #expect(reported["asfcast_late_sends_total{}"] != nil, "\(reported)")
            // The content read as the broadcast plays (WMS's file read rate is their rate()),
            // none late enough to be counted as such here or not; no stream failed; the bit rate
            // admitted to the point's two players (WMS's allocated bandwidth).
            var reread: [String: Double] = [:]
            try waitUntil("the file read counter rising: \(reported["asfcast_file_read_bytes_total{}"] ?? -1)") {
                reread = (try? Self.prometheusSamples(Self.get(server, "/metrics").body)) ?? [:]
                return (reread["asfcast_file_read_bytes_total{}"] ?? 0) > (reported["asfcast_file_read_bytes_total{}"] ?? 0)
            }
            #expect((reported["asfcast_file_read_bytes_total{}"] ?? 0) > 0 && (reported["asfcast_file_reads_total{}"] ?? 0) > 0, "\(reported)")
            #expect(reported["asfcast_late_reads_total{}"] != nil, "\(reported)")
            for labels in ["point=live,protocol=wmsp,transport=tcp", rtcp] {
                #expect(reported["asfcast_stream_errors_total{\(labels)}"] == 0, "\(reported)")
            }
            let allocated = reported["asfcast_allocated_bandwidth_bits_per_second{point=live}"] ?? 0
            #expect(allocated > 0, "\(reported)")
            // The API's point has it too, and no limits of its own.
            let live = try #require(((try Self.json(server, "/api/v1/points") as? [String: Any])?["items"] as? [[String: Any]])?
                .first { $0["name"] as? String == "live" })
            #expect(live["allocatedBitsPerSecond"] as? Int == Int(allocated) && live["maxPlayers"] == nil, "\(live)")

            // Disconnected: the WMSP player's connection ends, so its ffmpeg does, 100 s before
            // its -t (finish throws past its limit); RTSP plays on.
            let id = try #require(wmsp["id"] as? Int)
            #expect(try Self.get(server, "/api/v1/sessions/\(id)", method: "DELETE").status == 204)
            _ = try players[0].finish(limit: 20)
            try waitUntil("one player left") { ((try? Self.sessions(server)) ?? []).map { $0["id"] as? Int } == [rtsp["id"] as? Int] }
            #expect(try Self.get(server, "/api/v1/sessions/\(id)", method: "DELETE").status == 404)
            let after = try Self.prometheusSamples(Self.get(server, "/metrics").body)
            #expect(after["asfcast_players{point=live,protocol=wmsp,transport=tcp}"] == 0, "\(after)")
            #expect(after["asfcast_allocated_bandwidth_bits_per_second{point=live}"] == allocated / 2, "\(after)")
            server.stop()
            _ = try? players[1].finish(limit: 30)
        }

        /// A file cut short under its player: the player's stream fails, its ffmpeg ends, and
        /// /metrics counts a stream error for its point and protocol (WMS's "stream errors").
        @Test
        func aStreamThatFailsIsCounted() throws {
            let root = temporaryFile("media")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let file = root + "/demo.wmv"
            try FileManager.default.copyItem(atPath: ServerProcess.root.appendingPathComponent("Media/demo.wmv").path, toPath: file)
            let server = try ServerProcess(config: "points: []\n", mediaRoot: root)
            let player = try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", "mmsh://\(server.url)/demo.wmv",
                                                           "-c", "copy", "-f", "asf", "-y", "/dev/null"])
            try waitUntil("the player listed") { ((try? Self.sessions(server)) ?? []).count == 1 }
            // Its header and a few packets are left: the reads after the Fast Start's find the end.
            let size = try #require(FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
            #expect(truncate(file, off_t(size / 10)) == 0)
            _ = try player.finish(limit: 60)
            let labels = "point=default,protocol=wmsp,transport=tcp"
            var samples: [String: Double] = [:]
            try waitUntil("a stream error counted: \(samples.filter { $0.key.hasPrefix("asfcast_stream") })") {
                samples = (try? Self.prometheusSamples(Self.get(server, "/metrics").body)) ?? [:]
                return samples["asfcast_stream_errors_total{\(labels)}"] == 1
            }
            #expect(server.logText.contains("stream failed"), "\(server.logText)")
        }

        /// Each path of the OpenAPI document answers as documented, while a player plays and an
        /// encoder (`asfcast push`) pushes: the status, and a JSON body with every required
        /// property of its schema, of its type, and no property it does not describe.
        @Test
        func answersAsTheOpenAPIDocumentSays() throws {
            let server = try ServerProcess()
            let player = try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", "mmsh://\(server.url)/live", "-t", "60", "-c", "copy", "-f", "asf", "-y", "/dev/null"])
            let encoder = try ClientRun(ServerProcess.asfcast, ["push", "--loop", "--quiet", "http://\(server.url)/push",
                                                                PushInteropTests.demo])
            defer { try? PushInteropTests.stop(encoder) }
            try waitUntil("a player listed") { ((try? Self.sessions(server)) ?? []).count == 1 }
            var encoders: [[String: Any]] = []
            try waitUntil("the encoder listed, streaming") {
                encoders = ((try? Self.json(server, "/api/v1/encoders")) as? [String: Any])?["items"] as? [[String: Any]] ?? []
                return encoders.first?["streaming"] as? Bool == true && (encoders.first?["bytesReceived"] as? Int ?? 0) > 0
            }
            #expect(encoders.count == 1 && encoders[0]["point"] as? String == "push" && encoders[0]["client"] as? String == "127.0.0.1", "\(encoders)")
            let pushed = try Self.prometheusSamples(Self.get(server, "/metrics").body)
            #expect(pushed["asfcast_encoder_push_starts_total{point=push}"] == 1, "\(pushed)")
            #expect((pushed["asfcast_encoder_received_bytes_total{point=push}"] ?? 0) > 0, "\(pushed)")
            #expect(pushed["asfcast_encoders_connected{point=push}"] == 1, "\(pushed)")
            let document = try #require(try Yams.load(yaml: String(contentsOf: Self.document, encoding: .utf8)) as? [String: Any])
            let paths = try #require(document["paths"] as? [String: Any])
            let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
            #expect(Set(paths.keys) == ["/", "/metrics", "/api/v1/status", "/api/v1/points", "/api/v1/sessions", "/api/v1/encoders", "/api/v1/events",
                                        "/api/v1/reload", "/api/v1/sessions/{id}", "/api/v1/points/{name}",
                                        "/api/v1/points/{name}/stop", "/api/v1/points/{name}/start",
                                        "/api/v1/points/{name}/announcement.asx", "/api/v1/points/{name}/announcement.nsc"])
            for (path, item) in paths {
                let operations = try #require(item as? [String: Any])
                if let get = operations["get"] as? [String: Any] {
                    let content = try #require((((get["responses"] as? [String: Any])?["200"] as? [String: Any])?["content"] as? [String: Any]))
                    if let events = content["text/event-stream"] as? [String: Any] {
                        // The first event's data, read until curl's time limit ends the stream.
                        let out = try run("/usr/bin/curl", ["-s", "-N", "--max-time", "3", "http://\(server.adminURL)\(path)"], limit: 30)
                        let data = try #require(out.output.split(separator: "\n").first { $0.hasPrefix("data: ") }, "\(out.output)")
                        let body = try JSONSerialization.jsonObject(with: Data(data.dropFirst(6).utf8))
                        Self.expect(body, matches: try #require(events["schema"] as? [String: Any]), schemas: schemas, at: path)
                        continue
                    }
                    // A point's path: the shipped /multicast point, which has every announcement.
                    let answer = try Self.get(server, path.replacingOccurrences(of: "{name}", with: "multicast"))
                    #expect(answer.status == 200, "\(path)")
                    if let json = content["application/json"] as? [String: Any] {
                        let body = try JSONSerialization.jsonObject(with: Data(answer.body.utf8))
                        Self.expect(body, matches: try #require(json["schema"] as? [String: Any]), schemas: schemas, at: path)
                    } else if content["text/html"] != nil {
                        #expect(answer.body.hasPrefix("<!doctype html>"), "\(path): \(answer.body.prefix(200))")
                    } else {
                        #expect(!Set(content.keys).isDisjoint(with: ["text/plain", "video/x-ms-asf", "application/x-netshow-channel"]) && !answer.body.isEmpty,
                                "\(path)")
                    }
                }
                if let post = operations["post"] as? [String: Any] {
                    // The shipped configuration reloaded as it is: nothing changes. A point's
                    // stop and start come after the loop, in that order.
                    // A point is added from the document's example settings, and removed below.
                    if path.contains("{name}") { continue }
                    let example = ((((post["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"]
                        as? [String: Any])?["example"]
                    let body = try example.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
                    let answer = try Self.get(server, path, method: "POST", body: body)
                    let status = body == nil ? "200" : "201"
                    #expect(answer.status == Int(status), "\(path): \(answer.body)")
                    let json = try #require(((((post["responses"] as? [String: Any])?[status] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any]))
                    Self.expect(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)), matches: try #require(json["schema"] as? [String: Any]),
                                schemas: schemas, at: path)
                }
                if operations["delete"] != nil {
                    let none = path.replacingOccurrences(of: "{id}", with: "999999").replacingOccurrences(of: "{name}", with: "nosuch")
                    #expect(try Self.get(server, none, method: "DELETE").status == 404, "\(path)")
                }
            }
            #expect(try Self.get(server, "/api/v1/points/extra", method: "DELETE").status == 204, "the example point added")
            for action in ["stop", "start"] {
                let answer = try Self.get(server, "/api/v1/points/multicast/\(action)", method: "POST")
                #expect(answer.status == 200, "\(action): \(answer.body)")
                Self.expect(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)), matches: ["$ref": "#/components/schemas/Point"],
                            schemas: schemas, at: "/api/v1/points/{name}/\(action)")
            }
            server.stop()
            _ = try? player.finish(limit: 30)
        }

        /// Issue 18 §3: a point stopped through the API ends its players' stream and refuses new
        /// ones as a point that does not exist, until it is started again, made anew.
        @Test
        func aStoppedPointEndsItsPlayersUntilItStartsAgain() throws {
            let server = try ServerProcess()
            let player = try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", "mmsh://\(server.url)/live", "-t", "120",
                                                           "-c", "copy", "-f", "asf", "-y", "/dev/null"])
            try waitUntil("the player listed") { ((try? Self.sessions(server)) ?? []).count == 1 }
            let stopped = try Self.get(server, "/api/v1/points/live/stop", method: "POST")
            #expect(stopped.status == 200 && stopped.body.contains("\"state\":\"stopped\""), "\(stopped)")
            // Its player is told the stream ended, 100 s before its -t.
            let played = try player.finish(limit: 20)
            #expect(played.status == 0, "\(played.output)")
            #expect(ReloadInteropTests.status(server, "/live") == 404)
            let refused = try run("/usr/bin/ffprobe", ["-v", "error", "rtsp://\(server.rtspURL)/live"], limit: 30)
            #expect(refused.status != 0 && refused.output.contains("404"), "\(refused.output)")
            let points = try #require((try Self.json(server, "/api/v1/points") as? [String: Any])?["items"] as? [[String: Any]])
            #expect(points.first { $0["name"] as? String == "live" }?["state"] as? String == "stopped", "\(points)")
            #expect(try Self.get(server, "/api/v1/points/live/stop", method: "POST").status == 409)
            #expect(try Self.get(server, "/api/v1/points/nosuch/stop", method: "POST").status == 404)

            let started = try Self.get(server, "/api/v1/points/live/start", method: "POST")
            #expect(started.status == 200 && started.body.contains("\"state\":\"serving\""), "\(started)")
            #expect(try Self.get(server, "/api/v1/points/live/start", method: "POST").status == 409)
            try PushInteropTests.expectFFmpegRecords("mmsh://\(server.url)/live", seconds: 4, "/live started again")
        }

        /// Issue 18 §3: points added and removed through the API, in memory over the file. An
        /// added broadcast plays at once; a second of its name or path, settings that are not a
        /// point's and a missing file are refused with their reason; a file's point removed is
        /// gone; a reload of the file keeps both changes; the added point, removed, is gone.
        @Test
        func pointsAddedAndRemovedThroughTheAPIStayOverAReload() throws {
            let server = try ServerProcess(config: """
                points:
                  - name: live
                    path: /live
                    broadcast: [demo.wmv]
                """)
            let added = try Self.get(server, "/api/v1/points", method: "POST",
                                     body: #"{"name": "extra", "path": "/extra", "broadcast": ["demo.wmv"], "max_players": 3, "max_bandwidth_kbps": 5000}"#)
            #expect(added.status == 201, "\(added)")
            let point = try #require(try JSONSerialization.jsonObject(with: Data(added.body.utf8)) as? [String: Any])
            #expect(point["name"] as? String == "extra" && point["maxPlayers"] as? Int == 3 && point["maxBitsPerSecond"] as? Int == 5_000_000, "\(point)")
            try PushInteropTests.expectFFmpegRecords("mmsh://\(server.url)/extra", seconds: 3, "the added point")
            for (body, status, reason) in [(#"{"name": "extra", "path": "/other", "file": "demo.wmv"}"#, 409, "a point named extra"),
                                           (#"{"name": "other", "path": "/live", "file": "demo.wmv"}"#, 409, "another point serves"),
                                           (#"{"name": "other", "path": "/other", "colour": "blue"}"#, 400, "unknown"),
                                           (#"{"name": "other", "path": "/other", "broadcast": ["missing.wmv"]}"#, 400, "missing.wmv"),
                                           ("[", 400, "neither JSON nor YAML")] {
                let refused = try Self.get(server, "/api/v1/points", method: "POST", body: body)
                #expect(refused.status == status && refused.body.contains(reason), "\(body): \(refused)")
            }
            #expect(ReloadInteropTests.status(server, "/other") == 404)
            #expect(try Self.get(server, "/api/v1/points/live", method: "DELETE").status == 204)
            #expect(ReloadInteropTests.status(server, "/live") == 404)

            let reloaded = try Self.get(server, "/api/v1/reload", method: "POST")
            #expect(reloaded.status == 200 && reloaded.body.contains("live stay as the admin API left them"), "\(reloaded)")
            #expect(ReloadInteropTests.status(server, "/live") == 404)
            try PushInteropTests.expectFFmpegRecords("mmsh://\(server.url)/extra", seconds: 3, "the added point after a reload")

            #expect(try Self.get(server, "/api/v1/points/extra", method: "DELETE").status == 204)
            #expect(ReloadInteropTests.status(server, "/extra") == 404)
            #expect(try Self.get(server, "/api/v1/points/extra", method: "DELETE").status == 404)
            let names = try #require((try Self.json(server, "/api/v1/points") as? [String: Any])?["items"] as? [[String: Any]]).compactMap { $0["name"] as? String }
            #expect(names == ["default"], "\(names)")
        }

        /// Issue 18 §3: the announcements the API generates. VLC, handed a point's `.asx`, plays
        /// its first reference (mmsh://); a multicast point's `.nsc` and `.asx` are those the HTTP
        /// port serves; a point without a group has no `.nsc`, and no point none at all.
        @Test
        func theAnnouncementsItGeneratesPlay() throws {
            let server = try ServerProcess()
            let asx = try Self.get(server, "/api/v1/points/live/announcement.asx")
            #expect(asx.status == 200 && asx.body.contains("<Ref href=\"mmsh://127.0.0.1:\(server.port)/live\"/>")
                && asx.body.contains("<Ref href=\"rtsp://127.0.0.1:\(server.rtspPort)/live\"/>"), "\(asx)")
            // VLC takes each Ref as an item: --sout-keep keeps the first one's recording.
            try withVLCRecording("http://\(server.adminURL)/api/v1/points/live/announcement.asx", options: ["--run-time", "6", "--sout-keep"]) { result, out in
                #expect(result.status == 0, "\(result.output)")
                let received = try probe(out)
                #expect(received.streams.count == 2 && received.duration >= 3, "\(received.streams.count) streams, \(received.duration) s")
            }
            for kind in ["nsc", "asx"] {
                let generated = try Self.get(server, "/api/v1/points/multicast/announcement.\(kind)?host=127.0.0.1")
                let served = try run("/usr/bin/curl", ["-s", "http://\(server.url)/multicast.\(kind)"], limit: 30).output
                #expect(generated.status == 200 && generated.body == served, "\(kind): \(generated.body)\n---\n\(served)")
            }
            #expect(try Self.get(server, "/api/v1/points/live/announcement.nsc").status == 404)
            #expect(try Self.get(server, "/api/v1/points/nosuch/announcement.asx").status == 404)
        }

        /// Issue 18 §4: headless Chromium loads the dashboard while ffmpeg plays /live over RTSP (UDP)
        /// and `asfcast push` pushes to /push; the page its script rendered lists that player
        /// with a non-zero rate, the point with its player, and the encoder streaming. A
        /// screenshot is taken as people would (`--screenshot`).
        @Test
        func theDashboardShowsAPlayerInARealBrowser() throws {
            let server = try ServerProcess()
            let player = try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-rtsp_transport", "udp", "-i", "rtsp://\(server.rtspURL)/live", "-t", "60", "-c", "copy", "-f", "asf", "-y", "/dev/null"])
            let encoder = try ClientRun(ServerProcess.asfcast, ["push", "--loop", "--quiet", "http://\(server.url)/push", PushInteropTests.demo])
            defer { try? PushInteropTests.stop(encoder) }
            try waitUntil("the player listed with bytes sent, the encoder streaming") {
                ((try? Self.sessions(server)) ?? []).contains { ($0["bytesSent"] as? Int ?? 0) > 0 }
                    && (((try? Self.json(server, "/api/v1/encoders")) as? [String: Any])?["items"] as? [[String: Any]])?.first?["streaming"] as? Bool == true
            }
            let chromium = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(temporaryFile("chromium"))"]
            let dom = try run("/usr/bin/chromium", chromium + ["--dump-dom", "http://\(server.adminURL)/"], limit: 60)
            #expect(dom.status == 0, "\(dom.output.suffix(2000))")
            let row = try #require(dom.output.components(separatedBy: "<tr ").first { $0.contains("data-protocol=\"rtsp\"") },
                                   "no player row in \(dom.output.suffix(3000))")
            #expect(row.contains("<td>rtsp/udp</td>") && row.contains("<td>live</td>") && row.contains("<td>127.0.0.1</td>"), "\(row)")
            let rate = try #require(row.components(separatedBy: "class=\"number rate\">").dropFirst().first?.prefix { $0 != "<" })
            #expect((Int(rate) ?? 0) > 0, "rate \(rate) in \(row)")
            let point = try #require(dom.output.components(separatedBy: "<tr ").first { $0.contains("data-point=\"live\"") })
            #expect(point.contains("<td class=\"number\">1</td>"), "\(point)")
            let pushing = try #require(dom.output.components(separatedBy: "<tr ").first { $0.contains("data-encoder=") }, "no encoder row")
            #expect(pushing.contains("<td>push</td>") && pushing.contains("<td>streaming</td>") && pushing.contains("<td>127.0.0.1</td>"), "\(pushing)")

            let screenshot = temporaryFile("dashboard.png")
            defer { try? FileManager.default.removeItem(atPath: screenshot) }
            let shot = try run("/usr/bin/chromium", chromium + ["--window-size=1280,1000", "--screenshot=\(screenshot)", "http://\(server.adminURL)/"], limit: 60)
            #expect(shot.status == 0, "\(shot.output.suffix(2000))")
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "\(png.count) bytes")
            server.stop()
            _ = try? player.finish(limit: 30)
        }

        /// `asfcast status` prints the server, its points and the player ffmpeg is, found from a
        /// configuration's admin_port and token, or at --url.
        @Test
        func statusPrintsThePointsAndPlayers() throws {
            let server = try ServerProcess(config: "admin_token: t0ken\npoints:\n  - {name: live, path: /live, broadcast: demo.wmv}\n")
            let player = try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", "mmsh://\(server.url)/live", "-t", "60", "-c", "copy", "-f", "asf", "-y", "/dev/null"])
            try waitUntil("the player playing") {
                (try? run(ServerProcess.asfcast, ["status", "--url", "http://\(server.adminURL)", "--token", "t0ken"]).output.contains(" 1 players")) == true
            }
            let config = temporaryFile("status.yaml")
            defer { try? FileManager.default.removeItem(atPath: config) }
            try "admin_port: \(server.adminPort)\nadmin_token: t0ken\n".write(toFile: config, atomically: true, encoding: .utf8)
            let out = try run(ServerProcess.asfcast, ["status", "--config", config])
            #expect(out.status == 0, "\(out.output)")
            #expect(out.output.range(of: "\n  live +/live +broadcast +serving +1", options: .regularExpression) != nil, "\(out.output)")
            #expect(out.output.range(of: "\n  [0-9]+ +wmsp/tcp +live +127.0.0.1 +NSPlayer/", options: .regularExpression) != nil, "\(out.output)")
            let refused = try run(ServerProcess.asfcast, ["status", "--url", "http://\(server.adminURL)"])
            #expect(refused.status != 0 && refused.output.contains("admin_token"), "\(refused.output)")
            server.stop()
            _ = try? player.finish(limit: 30)
        }

        /// With `admin_token`, a request without the token is answered 401 with the Bearer
        /// challenge, one with a wrong token too, and one with it is served.
        @Test
        func asksForTheTokenWhenOneIsSet() throws {
            let server = try ServerProcess(config: "admin_token: s3cret-token\n")
            let without = try Self.get(server, "/api/v1/status")
            #expect(without.status == 401)
            #expect(try Self.get(server, "/metrics", token: "s3cret-tokeN").status == 401)
            #expect(try Self.get(server, "/api/v1/status", token: "s3cret-token").status == 200)
            #expect(try Self.get(server, "/api/v1/status?access_token=s3cret-token").status == 200)
            let challenge = try run("/usr/bin/curl", ["-s", "-D", "-", "-o", "/dev/null", "http://\(server.adminURL)/metrics"], limit: 30).output
            #expect(challenge.lowercased().contains("www-authenticate: bearer"), "\(challenge)")
        }

        /// A bearer token is required on an admin listener bound beyond loopback: without one the
        /// server refuses to start, saying why.
        @Test
        func refusesAnOpenListenerWithoutAToken() throws {
            let config = temporaryFile("asfcast.yaml")
            try "admin_bind: 0.0.0.0\nadmin_port: 0\n".write(toFile: config, atomically: true, encoding: .utf8)
            let out = try run(ServerProcess.asfcast, ["serve", "--config", config, "--admin-port", "\(try ServerProcess.freePort())",
                                                      "--http-port", "0", "--rtsp-port", "0", "--mms-port", "0"], limit: 30)
            #expect(out.status != 0)
            #expect(out.output.contains("admin_token"), "\(out.output)")
        }

        /// `schema` checked against a decoded JSON value, `$ref`s resolved in `schemas`.
        static func expect(_ value: Any, matches schema: [String: Any], schemas: [String: Any], at path: String) {
            var schema = schema
            if let ref = schema["$ref"] as? String, let named = schemas[String(ref.split(separator: "/").last ?? "")] as? [String: Any] { schema = named }
            switch schema["type"] as? String {
            case "object":
                guard let object = value as? [String: Any] else { Issue.record("\(path): not an object: \(value)"); return }
                let properties = schema["properties"] as? [String: Any] ?? [:]
                for required in schema["required"] as? [String] ?? [] { #expect(object[required] != nil, "\(path): no \(required) in \(object)") }
                #expect(Set(object.keys).isSubset(of: properties.keys), "\(path): undocumented \(Set(object.keys).subtracting(properties.keys))")
                for (key, property) in properties {
                    if let item = object[key], let property = property as? [String: Any] {
                        expect(item, matches: property, schemas: schemas, at: "\(path).\(key)")
                    }
                }
            case "array":
                guard let array = value as? [Any] else { Issue.record("\(path): not an array: \(value)"); return }
                let items = schema["items"] as? [String: Any] ?? [:]
                if items["$ref"] != nil { #expect(!array.isEmpty, "\(path): empty, so unchecked") }
                for item in array { expect(item, matches: items, schemas: schemas, at: "\(path)[]") }
            case "integer":
                // JSONSerialization gives NSNumbers: an integer's type is not a double's ("d") or a boolean's ("c").
                #expect((value as? NSNumber).map { !["d", "f", "c"].contains(String(cString: $0.objCType)) } == true, "\(path): not an integer: \(value)")
            case "boolean":
                #expect((value as? NSNumber).map { String(cString: $0.objCType) == "c" } == true, "\(path): not a boolean: \(value)")
            case "number":
                #expect((value as? NSNumber).map { String(cString: $0.objCType) != "c" } == true, "\(path): not a number: \(value)")
            case "string":
                guard let string = value as? String else { Issue.record("\(path): not a string: \(value)"); return }
                if let choices = schema["enum"] as? [String] { #expect(choices.contains(string), "\(path): \(string) not in \(choices)") }
                if schema["format"] as? String == "date-time" { #expect(ISO8601DateFormatter().date(from: string) != nil, "\(path): \(string)") }
            default:
                Issue.record("\(path): the schema has no type the test knows: \(schema)")
            }
        }

        /// Every sample of a Prometheus text exposition, as `name{label=value,…}` → value, parsed
        /// by the reference client library.
        static func prometheusSamples(_ text: String) throws -> [String: Double] {
            let file = temporaryFile("metrics.txt")
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    out[s.name + "{" + ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())) + "}"] = s.value
            print(json.dumps(out))
            """
            let out = try run("/usr/bin/python3", ["-c", script, file], limit: 30)
            guard out.status == 0 else { throw Failure("prometheus_client cannot parse /metrics: \(out.output)\n\(text)") }
            return try JSONDecoder().decode([String: Double].self, from: Data(out.output.utf8))
        }
    }
}
