import Hummingbird

/// Every request must carry `Authorization: Bearer <token>` (RFC 6750 2.1), or `access_token=` in
/// its query (2.3: the dashboard in a browser, whose event stream cannot carry a header); others
/// are answered 401 with the challenge (RFC 6750 3).
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let header = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let given = header ?? request.uri.queryParameters["access_token"].map(String.init),
              constantTimeEqual(Array(given.utf8), Array(token.utf8)) else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"asfcast\""])
        }
        return try await next(request, context)
    }

    /// Compared without an early exit, so the time taken does not tell how much of a guess was right.
    private func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
