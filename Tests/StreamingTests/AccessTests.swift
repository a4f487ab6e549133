import NIOCore
import Testing
@testable import Streaming

struct AccessTests {
    static func address(_ ip: String) -> SocketAddress { try! SocketAddress(ipAddress: ip, port: 1234) }

    @Test func addressListsMatchCIDRBlocksOfBothFamilies() throws {
        let list = AddressList(allow: [AddressList.Block("10.0.0.0/8")!, AddressList.Block("2001:db8::/32")!],
                               deny: [AddressList.Block("10.1.2.3")!])
        #expect(list.permits(Self.address("10.200.0.1")))
        #expect(!list.permits(Self.address("10.1.2.3")), "deny wins")
        #expect(!list.permits(Self.address("11.0.0.1")), "outside the allow list")
        #expect(list.permits(Self.address("2001:db8:1::5")))
        #expect(!list.permits(Self.address("2001:db9::5")))
        #expect(list.permits(Self.address("::ffff:10.9.9.9")), "IPv4-mapped IPv6 is its IPv4 address")
        #expect(!list.permits(Self.address("::ffff:10.1.2.3")))
        let denyOnly = AddressList(deny: [AddressList.Block("127.0.0.0/8")!, AddressList.Block("::1")!])
        #expect(!denyOnly.permits(Self.address("127.0.0.9")) && !denyOnly.permits(Self.address("::1")))
        #expect(denyOnly.permits(Self.address("192.0.2.1")))
        #expect(AddressList.Block("10.0.0.0/33") == nil && AddressList.Block("example.com") == nil && AddressList.Block("::/129") == nil)
        #expect(AddressList.Block("0.0.0.0/0")!.contains(AddressList.Block.bytes(of: Self.address("8.8.8.8"))!))
    }

    /// RFC 7616 3.9.1's example, for both hashes.
    @Test func digestResponsesMatchTheRFCExample() {
        let ha1 = { (a: DigestAlgorithm) in a.hex("Mufasa:http-auth@example.org:Circle of Life") }
        let args = (nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
        #expect(DigestAuthenticator.response(ha1: ha1(.md5), nonce: args.nonce, nc: "00000001", cnonce: args.cnonce, method: "GET",
                                             uri: "/dir/index.html", .md5) == "8ca523f5e9506fed4657c9700eebdbec")
        #expect(DigestAuthenticator.response(ha1: ha1(.sha256), nonce: args.nonce, nc: "00000001", cnonce: args.cnonce, method: "GET",
                                             uri: "/dir/index.html", .sha256) == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
    }

    /// What a client does with a challenge: the response header to it.
    static func answer(_ challenge: String, user: String = "alice", password: String = "secret", nc: UInt32 = 1,
                       uri: String = "/private/demo.wmv") -> String {
        Credentials(user: user, password: password).digest(answering: challenge, method: "GET", uri: uri, nc: nc)!
    }

    @Test func digestAcceptsRightResponsesOnceAndRefusesReplays() throws {
        let digest = DigestAuthenticator(realm: "asfcast", nonceLifetime: .seconds(300))
        let users = Users(["alice": [.password("secret")]])
        let now = NIODeadline.now()
        for challenge in digest.challenges(stale: false, now: now) {
            let header = Self.answer(challenge)
            let response = try #require(DigestResponse(header: header))
            #expect(digest.verify(response, method: "GET", uri: "/private/demo.wmv", users: users, now: now) == .accepted(user: "alice"))
            if case .refused = digest.verify(response, method: "GET", uri: "/private/demo.wmv", users: users, now: now) {} else {
                Issue.record("a replayed nonce-count is refused")
            }
            let next = try #require(DigestResponse(header: Self.answer(challenge, nc: 2)))
            #expect(digest.verify(next, method: "GET", uri: "/private/demo.wmv", users: users, now: now) == .accepted(user: "alice"))
            let wrong = try #require(DigestResponse(header: Self.answer(challenge, password: "guess", nc: 3)))
            if case .refused = digest.verify(wrong, method: "GET", uri: "/private/demo.wmv", users: users, now: now) {} else {
                Issue.record("a wrong password is refused")
            }
            let elsewhere = try #require(DigestResponse(header: Self.answer(challenge, nc: 4, uri: "/other.wmv")))
            if case .refused = digest.verify(elsewhere, method: "GET", uri: "/private/demo.wmv", users: users, now: now) {} else {
                Issue.record("a response for another URI is refused")
            }
            let late = try #require(DigestResponse(header: Self.answer(challenge, nc: 5)))
            #expect(digest.verify(late, method: "GET", uri: "/private/demo.wmv", users: users, now: now + .seconds(301)) == .stale)
        }
        let forged = try #require(DigestResponse(header: Self.answer(#"Digest realm="asfcast", algorithm=MD5, nonce="\#(String(repeating: "0", count: 64))", opaque="x""#)))
        if case .refused = digest.verify(forged, method: "GET", uri: "/private/demo.wmv", users: users, now: now) {} else {
            Issue.record("a nonce this server did not sign is refused")
        }
        #expect(digest.challenges(stale: true).allSatisfy { $0.hasSuffix(", stale=true") })
    }

    @Test func ha1SecretsAndHtdigestFiles() throws {
        let md5 = DigestAlgorithm.md5.hex("carol:asfcast:pw")
        let users = try Users.htdigest("# comment\ncarol:asfcast:\(md5)\ndave:other:\(md5)\n", realm: "asfcast")
        #expect(users.secrets.keys.sorted() == ["carol"])
        #expect(users.accepts(Credentials(user: "carol", password: "pw"), realm: "asfcast"))
        #expect(!users.accepts(Credentials(user: "carol", password: "pW"), realm: "asfcast"))
        #expect(users.ha1(of: "carol", realm: "asfcast", .sha256) == nil, "an MD5 HA1 cannot answer SHA-256")
        #expect(throws: Users.Malformed.self) { try Users.htdigest("carol:asfcast\n", realm: "asfcast") }
        #expect(UserSecret(configured: "ha1-md5:\(md5)") == .ha1(.md5, hex: md5))
        #expect(UserSecret(configured: "ha1-md5:short") == .password("ha1-md5:short"))
    }

    @Test func accessControlAnswersWithTheSchemesThePointTakes() throws {
        let control = AccessControl(addresses: AddressList(deny: [AddressList.Block("192.0.2.0/24")!]))
        let digestOnly = PointAccess(users: Users(["alice": [.password("secret")]]))
        let client = Self.address("127.0.0.1")
        #expect(throws: Content.Forbidden.self) { try control.check(AccessRequest(client: Self.address("192.0.2.7"), authorization: nil), point: nil) }
        try control.check(AccessRequest(client: client, authorization: nil), point: nil)
        let missing = #expect(throws: Content.Unauthorized.self) { try control.check(AccessRequest(client: client, authorization: nil), point: digestOnly) }
        #expect(missing?.challenges.map { $0.hasPrefix("Digest ") } == [true, true])
        let basic = Credentials(user: "alice", password: "secret").basic
        #expect(throws: Content.Unauthorized.self, "Basic only where configured") {
            try control.check(AccessRequest(client: client, authorization: basic), point: digestOnly)
        }
        var both = digestOnly
        both.schemes = [.digest, .basic]
        try control.check(AccessRequest(client: client, authorization: basic), point: both)
        let challenge = try #require(missing?.challenges.first)
        try control.check(AccessRequest(client: client, authorization: Self.answer(challenge), method: "GET", uri: "/private/demo.wmv"), point: digestOnly)
    }
}
