import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Reads one server's streamed chat reply a line at a time (Ollama's NDJSON, OpenAI's server-sent events).
protocol ChatStreamReader: Sendable {
    /// Whether the server's own end-of-reply marker has arrived.
    var sawDone: Bool { get }
    mutating func read(_ line: String) throws -> StreamEvent
    /// Throws if the stream ended without the end-of-reply marker.
    func finish() throws
}

extension RemoteHTTP {
    /// Posts `body` to `path` and streams the reply's text as pieces, read by `reader`. Cancelling the
    /// consumer cancels the request.
    func streamChat<Reader: ChatStreamReader>(
        path: String, body: Result<Data, Error>, reader: Reader
    ) -> AsyncThrowingStream<GeneratedPiece, Error> {
        let http = self
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var reader = reader
                    let request = try http.request(path, body: try body.get(), timeout: http.timeouts.idle)
                    for try await line in http.lines(for: request) {
                        if case .text(let text) = try reader.read(line) { continuation.yield(GeneratedPiece(text: text)) }
                        if reader.sawDone { break }
                    }
                    try reader.finish()
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
