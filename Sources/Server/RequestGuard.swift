import Foundation
import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage plus the peer's address.
struct AssistRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// Checks every request before it reaches a route, and turns every failure into a JSON error response.
///
/// - With a `serve_token`, every request needs `Authorization: Bearer <token>` (loopback included: the
///   rule is simple to state and other local users cannot read the user's mail either).
/// - Without a token the server is loopback-only (`ServerConfiguration.validate`), and the `Host` header
///   must name a loopback host too. A web page can resolve its own domain name to 127.0.0.1 (DNS
///   rebinding) and would then be able to read responses; its requests carry that domain as `Host`.
/// - A browser request from a page of another origin (`Origin` not on loopback) is refused; there are no
///   CORS headers, so browsers could not read responses anyway, but this also stops such pages from
///   making the model work.
/// - A `Content-Length` above the body limit is refused before anything is read (413).
struct RequestGuard: RouterMiddleware {
    typealias Context = AssistRequestContext

    let token: String?
    let maxBodyBytes: Int

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        do {
            try check(request)
            return try await next(request, context)
        } catch {
            let apiError = APIError.from(error, path: path)
            // Server faults are worth a line on stderr; a missing optional part (501) or a full line (503) is not.
            if apiError.status.code >= 500, apiError.status != .notImplemented, apiError.status != .serviceUnavailable {
                context.logger.error("\(request.method) \(path): \(apiError.message)")
            }
            return apiError.response(path: path)
        }
    }

    func check(_ request: Request) throws {
        if let token {
            guard let header = request.headers[.authorization], Self.bearerMatches(header, token: token) else {
                throw APIError.unauthorized
            }
        } else if let host = request.head.authority,
            !LoopbackAddress.isLoopback(host: LoopbackAddress.hostPart(ofHostHeader: host))
        {
            throw APIError.forbidden("Host '\(host)' is not this machine's loopback name: connect to 127.0.0.1")
        }
        if let origin = request.headers[.origin], !Self.isLoopbackOrigin(origin) {
            throw APIError.forbidden("requests from web pages of other origins are not allowed (Origin: \(origin))")
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBodyBytes {
            throw APIError.tooLarge(limit: maxBodyBytes)
        }
    }

    /// Compares in time independent of where the first difference is, so timing does not reveal the token.
    static func bearerMatches(_ header: String, token: String) -> Bool {
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else { return false }
        let given = Array(header.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces).utf8)
        let expected = Array(token.utf8)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }

    /// True for `http(s)://localhost[:port]`, `http://127.x.y.z[:port]` and `http://[::1][:port]`.
    static func isLoopbackOrigin(_ origin: String) -> Bool {
        guard let components = URLComponents(string: origin), let host = components.host else { return false }
        return LoopbackAddress.isLoopback(host: host)
    }
}
