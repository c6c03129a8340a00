import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// How long a remote backend waits before giving up.
public struct RemoteTimeouts: Sendable, Equatable {
    /// Limit for short requests that should answer at once (model metadata, the reachability check when a
    /// backend is connected). A server that is down fails faster than this (connection refused).
    public var connect: TimeInterval
    /// Longest silence allowed while waiting for a streamed reply, an embedding batch, or the first token
    /// (which can include the server loading the model from disk).
    public var idle: TimeInterval

    public init(connect: TimeInterval = 5, idle: TimeInterval = 120) {
        self.connect = connect
        self.idle = idle
    }
}

/// The HTTP plumbing shared by the Ollama and OpenAI-compatible clients: building JSON requests, sending
/// them with URLSession, turning transport failures and HTTP error statuses into `RemoteBackendError`, and
/// streaming a response body line by line.
///
/// Each request gets its own delegate-based `URLSession` (invalidated when the request ends), because
/// `URLSession.bytes(for:)` does not exist in Foundation on Linux; the delegate splits the body into lines
/// and yields them into an `AsyncThrowingStream`. Delegate callbacks run on a private serial queue, never on
/// Swift's cooperative thread pool, which is what makes the blocking `dataBlocking(for:)` safe to call from
/// synchronous code.
struct RemoteHTTP: Sendable {
    let service: RemoteService
    /// The server's base URL as configured, without a trailing slash: what error messages show.
    let base: String
    let apiKey: String?
    let timeouts: RemoteTimeouts

    init(service: RemoteService, baseURL: String, apiKey: String? = nil, timeouts: RemoteTimeouts) throws {
        var trimmed = baseURL.trimmingCharacters(in: .whitespaces)
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { throw RemoteBackendError.invalidURL(baseURL) }
        self.service = service
        self.base = trimmed
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.timeouts = timeouts
    }

    /// `base` joined with an absolute endpoint path such as `/api/chat`.
    func endpoint(_ path: String) -> String { base + path }

    /// A request to `path` carrying `body` as JSON (a GET when `body` is nil).
    func request(_ path: String, body: Data?, timeout: TimeInterval) throws -> URLRequest {
        guard let url = URL(string: endpoint(path)) else { throw RemoteBackendError.invalidURL(endpoint(path)) }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = body == nil ? "GET" : "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        return request
    }

    /// Sends `request` and returns the whole body of a successful (2xx) response.
    func data(for request: URLRequest) async throws -> Data {
        let holder = ExchangeHolder()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Data, Error>) in
                let exchange = HTTPExchange.start(request, http: self, sink: .whole({ continuation.resume(with: $0) }))
                holder.set(exchange)
            }
        } onCancel: {
            holder.cancel()
        }
    }

    /// Sends `request` and blocks the calling thread until the whole body has arrived.
    ///
    /// Safe from any thread that is not one of URLSession's own delegate queues: the response is delivered
    /// on a private queue, so this never waits on work scheduled behind itself. Callers inside Swift
    /// concurrency should prefer `data(for:)`, since blocking a cooperative thread starves other tasks.
    func dataBlocking(for request: URLRequest) throws -> Data {
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox()
        _ = HTTPExchange.start(request, http: self, sink: .whole({ outcome in
            result.set(outcome)
            done.signal()
        }))
        done.wait()
        return try result.get()
    }

    /// Sends `request` and yields the response body line by line (without line terminators) as it arrives.
    /// An HTTP error status ends the stream with `RemoteBackendError.http` carrying the server's message.
    func lines(for request: URLRequest) -> AsyncThrowingStream<String, Error> {
        AsyncThrowingStream { continuation in
            let exchange = HTTPExchange.start(request, http: self, sink: .lines(continuation))
            continuation.onTermination = { _ in exchange.cancel() }
        }
    }

    /// The `RemoteBackendError` for a transport failure of a request to `url`.
    func transportError(_ error: Error, url: String, timeout: TimeInterval, responseStarted: Bool) -> Error {
        guard let urlError = error as? URLError else {
            return RemoteBackendError.unreachable(service: service, url: base, detail: "\(error)")
        }
        switch urlError.code {
        case .cancelled:
            return CancellationError()
        case .timedOut:
            return RemoteBackendError.timedOut(service: service, url: url, seconds: timeout)
        default:
            if responseStarted {
                return RemoteBackendError.serverError(
                    service: service, url: url, message: "the connection broke mid-response (\(urlError.localizedDescription))")
            }
            return RemoteBackendError.unreachable(service: service, url: base, detail: urlError.localizedDescription)
        }
    }

    /// The human-readable error text in an HTTP error body: `{"error":"…"}` (Ollama),
    /// `{"error":{"message":"…"}}` (OpenAI), `{"message":"…"}`, or else the text itself, shortened.
    static func errorMessage(from body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            if let text = object["error"] as? String { return text }
            if let inner = object["error"] as? [String: Any], let text = inner["message"] as? String { return text }
            if let text = object["message"] as? String { return text }
        }
        let text = String(decoding: body.prefix(2000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.count > 500 ? String(text.prefix(500)) + "…" : text
    }
}

/// Holds the outcome of a blocking request between the delegate queue and the waiting thread.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Data, Error> = .failure(CancellationError())
    func set(_ value: Result<Data, Error>) { lock.withLock { result = value } }
    func get() throws -> Data { try lock.withLock { result }.get() }
}

/// Lets a cancellation handler reach an exchange that may not have started yet.
private final class ExchangeHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var exchange: HTTPExchange?
    private var cancelled = false
    func set(_ value: HTTPExchange) {
        let cancelNow = lock.withLock { () -> Bool in
            exchange = value
            return cancelled
        }
        if cancelNow { value.cancel() }
    }
    func cancel() {
        let current = lock.withLock { () -> HTTPExchange? in
            cancelled = true
            return exchange
        }
        current?.cancel()
    }
}

/// One request/response on its own URLSession, delivering either the whole body or its lines.
final class HTTPExchange: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    enum Sink {
        case whole(@Sendable (Result<Data, Error>) -> Void)
        case lines(AsyncThrowingStream<String, Error>.Continuation)
    }

    /// A line longer than this means the server is not speaking a line protocol; stop reading.
    static let maxLineBytes = 8 << 20
    /// Bodies are capped so that a hostile or broken server cannot exhaust memory.
    static let maxBodyBytes = 256 << 20
    /// Enough of an error body to show its message.
    static let maxErrorBodyBytes = 64 << 10

    private let http: RemoteHTTP
    private let url: String
    private let timeout: TimeInterval
    private let sink: Sink
    private let lock = NSLock()
    // State below is touched only under `lock` (callbacks are serial, but `cancel` comes from anywhere).
    private var task: URLSessionDataTask?
    private var status: Int?
    private var buffer = Data()
    private var finished = false

    private init(http: RemoteHTTP, request: URLRequest, sink: Sink) {
        self.http = http
        self.url = request.url?.absoluteString ?? http.base
        self.timeout = request.timeoutInterval
        self.sink = sink
    }

    static func start(_ request: URLRequest, http: RemoteHTTP, sink: Sink) -> HTTPExchange {
        let exchange = HTTPExchange(http: http, request: request, sink: sink)
        let configuration = URLSessionConfiguration.ephemeral
        // URLSession's request timeout is the longest silence between bytes, which is what we want.
        configuration.timeoutIntervalForRequest = request.timeoutInterval
        configuration.timeoutIntervalForResource = 24 * 3600
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: exchange, delegateQueue: queue)
        let task = session.dataTask(with: request)
        exchange.lock.withLock { exchange.task = task }
        task.resume()
        // The session releases its delegate once this one task has ended.
        session.finishTasksAndInvalidate()
        return exchange
    }

    func cancel() {
        lock.withLock { task }?.cancel()
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        let code = (response as? HTTPURLResponse)?.statusCode ?? 200
        lock.withLock { status = code }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        var lines: [String] = []
        var failure: Error?
        lock.withLock {
            guard !finished else { return }
            let isError = (status ?? 200) >= 400
            switch sink {
            case .whole:
                if buffer.count + data.count > Self.maxBodyBytes {
                    failure = RemoteBackendError.malformedResponse(
                        service: http.service, url: url, detail: "the body is larger than \(Self.maxBodyBytes >> 20) MiB")
                } else {
                    buffer.append(data)
                }
            case .lines:
                if isError {
                    if buffer.count < Self.maxErrorBodyBytes { buffer.append(data.prefix(Self.maxErrorBodyBytes)) }
                    return
                }
                buffer.append(data)
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(Self.text(of: buffer[buffer.startIndex..<newline]))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
                if buffer.count > Self.maxLineBytes {
                    failure = RemoteBackendError.malformedResponse(
                        service: http.service, url: url, detail: "a line longer than \(Self.maxLineBytes >> 20) MiB")
                }
            }
            if failure != nil { finished = true }
        }
        if case .lines(let continuation) = sink {
            for line in lines { continuation.yield(line) }
        }
        if let failure {
            deliver(.failure(failure))
            cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        let (alreadyFinished, code, rest) = lock.withLock { () -> (Bool, Int?, Data) in
            let state = (finished, status, buffer)
            finished = true
            buffer = Data()
            return state
        }
        guard !alreadyFinished else { return }
        if let error {
            deliver(.failure(http.transportError(error, url: url, timeout: timeout, responseStarted: code != nil)))
        } else if let code, code >= 400 {
            let message = RemoteHTTP.errorMessage(from: rest)
            deliver(.failure(RemoteBackendError.http(service: http.service, url: url, status: code, message: message)))
        } else {
            if case .lines(let continuation) = sink, !rest.isEmpty { continuation.yield(Self.text(of: rest)) }
            deliver(.success(rest))
        }
    }

    private func deliver(_ outcome: Result<Data, Error>) {
        switch sink {
        case .whole(let completion):
            completion(outcome)
        case .lines(let continuation):
            switch outcome {
            case .success: continuation.finish()
            case .failure(let error): continuation.finish(throwing: error)
            }
        }
    }

    /// A line's text without its `\r` (SSE and some servers use CRLF), invalid UTF-8 repaired.
    private static func text(of bytes: Data) -> String {
        var slice = bytes[...]
        if slice.last == UInt8(ascii: "\r") { slice = slice.dropLast() }
        return String(decoding: slice, as: UTF8.self)
    }
}
