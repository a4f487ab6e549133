import AsfcastServer
import Foundation
import Testing

struct ConfigurationTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config/asfcast.yaml").path

    @Test func shippedConfigurationHoldsTheDefaults() throws {
        #expect(try ServerConfiguration.load(path: Self.file) == ServerConfiguration())
    }

    @Test func emptyFileMeansDefaults() throws {
        #expect(try ServerConfiguration.parse("", file: "x.yaml") == ServerConfiguration())
        let c = try ServerConfiguration.parse("http_port: 8080\nmedia_root: /srv/media\n", file: "x.yaml")
        #expect(c.httpPort == 8080 && c.mediaRoot == "/srv/media")
    }

    @Test func unknownKeysAndWrongTypesNameFileAndLine() {
        let unknown = #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("bind: 1.2.3.4\nhttp_prot: 80\n", file: "a.yaml") }
        #expect(unknown?.description == "a.yaml:2: unknown key 'http_prot'")
        let type = #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("http_port: eighty\n", file: "a.yaml") }
        #expect(type?.description == "a.yaml:1: 'http_port' must be a port number (1-65535)")
        #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("- a list\n", file: "a.yaml") }
        #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.parse("log_level: loud\n", file: "a.yaml") }
    }
}
