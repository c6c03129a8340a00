import Assistant
import Foundation

/// Where `assist serve` listens and how it protects itself.
///
/// Defaults are safe for a personal machine: loopback only, 8 MiB request bodies, idle connections closed
/// after 60 seconds. Listening anywhere else requires a token (`validate()`), because the server reads the
/// user's notes and mail.
public struct ServerConfiguration: Sendable, Equatable {
    /// The address to bind: `127.0.0.1` unless configured otherwise.
    public var host: String
    /// The TCP port; 0 asks the system for a free one (see `RunningAssistServer.port`).
    public var port: Int
    /// When set, every request must carry `Authorization: Bearer <token>`.
    public var token: String?
    /// Request bodies larger than this are refused with 413.
    public var maxBodyBytes: Int
    /// Seconds a connection may sit idle (including a half-sent request) before it is closed.
    public var idleTimeoutSeconds: Double
    /// Generation requests allowed to wait per model before new ones get 503.
    public var maxQueuedGenerations: Int
    /// Largest `max_tokens` / `num_predict` honoured; larger requests are clamped.
    public var maxGeneratedTokens: Int
    /// Open connections accepted at once; more wait in the listen backlog.
    public var maxConnections: Int

    public init(
        host: String = "127.0.0.1", port: Int = 11435, token: String? = nil, maxBodyBytes: Int = 8 << 20,
        idleTimeoutSeconds: Double = 60, maxQueuedGenerations: Int = 32, maxGeneratedTokens: Int = 4096,
        maxConnections: Int = 64
    ) {
        self.host = host
        self.port = port
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.maxQueuedGenerations = maxQueuedGenerations
        self.maxGeneratedTokens = maxGeneratedTokens
        self.maxConnections = max(1, maxConnections)
    }

    /// The `serve_host`, `serve_port` and `serve_token` of a resolved config.
    public init(_ config: AssistConfig) {
        self.init(host: config.serveHost, port: config.servePort, token: config.serveToken)
    }

    /// Refuses a port outside 0…65535 and a non-loopback host without a token.
    public func validate() throws {
        guard (0...65_535).contains(port) else { throw ServerError.invalidPort(port) }
        if token == nil, !LoopbackAddress.isLoopback(host: host) {
            throw ServerError.nonLoopbackWithoutToken(host: host)
        }
    }
}

/// Recognises names and addresses that only this machine can reach.
enum LoopbackAddress {
    /// True for `localhost`, `127.0.0.0/8`, `::1` (bracketed or not) and IPv4-mapped `::ffff:127.x.y.z`.
    static func isLoopback(host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        if name == "::1" || name == "0:0:0:0:0:0:0:1" { return true }
        if name.hasPrefix("::ffff:") { name = String(name.dropFirst("::ffff:".count)) }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }),
            let first = Int(parts[0]), first == 127, parts.allSatisfy({ (Int($0) ?? 256) <= 255 })
        else { return false }
        return true
    }

    /// The host part of an HTTP `Host` header value (`name`, `name:port`, `[v6]:port`).
    static func hostPart(ofHostHeader value: String) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
            return String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
        }
        if let colon = trimmed.lastIndex(of: ":"), trimmed.firstIndex(of: ":") == colon {
            return String(trimmed[..<colon])
        }
        return trimmed
    }
}
