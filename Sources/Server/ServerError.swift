import Foundation

/// Why `assist serve` or `assist mcp` could not start or could not do what was asked.
public enum ServerError: Error, CustomStringConvertible, Equatable {
    /// The configured host is not a loopback address and no `serve_token` protects the server.
    case nonLoopbackWithoutToken(host: String)
    /// The port is outside 0…65535.
    case invalidPort(Int)
    /// The server stopped before it was listening (the bind failed, or it was cancelled).
    case didNotStart(String)
    /// No models were given to serve.
    case noModels

    public var description: String {
        switch self {
        case .nonLoopbackWithoutToken(let host):
            return "refusing to listen on \(host): it is reachable from other machines and no serve_token is set. "
                + "Set serve_token in ~/.config/assist/config.toml (or ASSIST_SERVE_TOKEN) to require "
                + "`Authorization: Bearer <token>`, or listen on 127.0.0.1"
        case .invalidPort(let port):
            return "port \(port) is not a TCP port: use a number from 1 to 65535 (0 picks a free one)"
        case .didNotStart(let reason):
            return "the HTTP server did not start: \(reason)"
        case .noModels:
            return "no chat model to serve: set chat_model in the config or pass --model"
        }
    }
}
