import Foundation

/// Which kind of server a remote backend talks to, so that errors can say what to check.
public struct RemoteService: Sendable, Equatable, CustomStringConvertible {
    /// How messages name the server, e.g. "Ollama".
    public var name: String
    /// What the user should check when the server cannot be reached.
    public var unreachableHint: String

    public init(name: String, unreachableHint: String) {
        self.name = name
        self.unreachableHint = unreachableHint
    }

    public static let ollama = RemoteService(name: "Ollama", unreachableHint: "is `ollama serve` running?")
    public static let openAICompatible = RemoteService(
        name: "the OpenAI-compatible server",
        unreachableHint: "is the server running, and does `openai_url` (ending in /v1) point at it?")

    public var description: String { name }
}

/// What went wrong talking to an HTTP model server (Ollama or an OpenAI-compatible one).
public enum RemoteBackendError: Error, CustomStringConvertible, Equatable {
    /// The configured base URL is not an http(s) URL.
    case invalidURL(String)
    /// Nothing answered at `url` (connection refused, unknown host, no route).
    case unreachable(service: RemoteService, url: String, detail: String)
    /// The server accepted the connection but sent nothing for `seconds`.
    case timedOut(service: RemoteService, url: String, seconds: Double)
    /// The server answered with an HTTP error status; `message` is the error text from its body.
    case http(service: RemoteService, url: String, status: Int, message: String)
    /// The server reported an error inside an otherwise successful (streamed) response.
    case serverError(service: RemoteService, url: String, message: String)
    /// The response could not be understood.
    case malformedResponse(service: RemoteService, url: String, detail: String)

    public var description: String {
        switch self {
        case .invalidURL(let url):
            return "'\(url)' is not a usable server URL: give a full http:// or https:// address"
        case .unreachable(let service, let url, let detail):
            return "cannot reach \(service.name) at \(url) — \(service.unreachableHint) (\(detail))"
        case .timedOut(let service, let url, let seconds):
            return "\(service.name) at \(url) sent nothing for \(Int(seconds)) s; it may be overloaded or stuck"
                + " — try again, or check the server's log"
        case .http(let service, let url, let status, let message):
            var text = "\(service.name) at \(url) answered HTTP \(status)"
            if !message.isEmpty { text += ": \(message)" }
            if status == 404, service == .ollama { text += " (is the model pulled? try `ollama pull MODEL`)" }
            if status == 401 || status == 403 { text += " (check `openai_api_key`)" }
            return text
        case .serverError(let service, let url, let message):
            return "\(service.name) at \(url) reported an error: \(message)"
        case .malformedResponse(let service, let url, let detail):
            return "\(service.name) at \(url) sent a response this client cannot read: \(detail)"
        }
    }
}
