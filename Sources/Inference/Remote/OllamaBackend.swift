import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What Ollama's `/api/show` tells about a model that the clients need.
public struct OllamaModelInfo: Sendable, Equatable {
    /// `general.architecture`, e.g. `qwen2` or `bert`.
    public var architecture: String?
    /// `<arch>.context_length`: the window the model was trained for.
    public var contextLength: Int?
    /// `<arch>.embedding_length`: the hidden size, which is the vector size for embedding models.
    public var embeddingLength: Int?

    /// Reads the `model_info` object of an `/api/show` response.
    static func parse(_ body: Data) -> OllamaModelInfo {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let info = object["model_info"] as? [String: Any]
        else { return OllamaModelInfo() }
        let architecture = info["general.architecture"] as? String
        func integer(_ suffix: String) -> Int? {
            if let architecture, let number = info["\(architecture).\(suffix)"] as? NSNumber {
                return number.intValue > 0 ? number.intValue : nil
            }
            // Without an architecture name, accept the one key that ends in the suffix.
            let matches = info.filter { $0.key.hasSuffix(".\(suffix)") }.compactMap { ($0.value as? NSNumber)?.intValue }
            return matches.count == 1 && matches[0] > 0 ? matches[0] : nil
        }
        return OllamaModelInfo(
            architecture: architecture, contextLength: integer("context_length"),
            embeddingLength: integer("embedding_length"))
    }

    /// Asks the server at `http` about `model`. Uses the short connect timeout: this doubles as the check
    /// that the server is up, so a backend fails at once with a clear message rather than mid-answer.
    static func fetch(model: String, http: RemoteHTTP) async throws -> OllamaModelInfo {
        let body = try JSONSerialization.data(withJSONObject: ["model": model, "name": model])
        let request = try http.request("/api/show", body: body, timeout: http.timeouts.connect)
        return parse(try await http.data(for: request))
    }
}

/// Chat through a running Ollama server (`POST /api/chat`, streamed).
///
/// Ollama streams newline-delimited JSON: `{"message":{"role":"assistant","content":"Hel"},"done":false}`
/// lines, then a final `{"done":true,"done_reason":"stop",…}`; a failure mid-stream arrives as
/// `{"error":"…"}`. Sampling options map to Ollama's `options` (`temperature`, `top_k`, `top_p`, `min_p`,
/// `repeat_penalty`, `seed`, `num_predict`, `stop`), and `num_ctx` is always sent as `contextLength` so the
/// server really allocates the window that the caller packs context for (Ollama's own default is smaller
/// than most models' window and would silently cut the prompt).
public struct OllamaGenerator: TextGenerator {
    /// The model's name on the server, e.g. `qwen2.5-coder:0.5b`.
    public let model: String
    public let contextLength: Int
    let http: RemoteHTTP

    public var modelID: String { "ollama:\(model)" }
    /// The server's base URL, e.g. `http://127.0.0.1:11434`.
    public var baseURL: String { http.base }

    /// A client that trusts `contextLength` as given and contacts the server only when generating.
    public init(
        baseURL: String = "http://127.0.0.1:11434", model: String, contextLength: Int = 4096,
        timeouts: RemoteTimeouts = RemoteTimeouts()
    ) throws {
        self.http = try RemoteHTTP(service: .ollama, baseURL: baseURL, timeouts: timeouts)
        self.model = model
        self.contextLength = max(1, contextLength)
    }

    /// Checks that the server is up and knows `model`, and learns the model's context window from
    /// `/api/show` (`model_info["<arch>.context_length"]`), capped at `maxContext` because the server
    /// allocates memory for all of it; 4096 when the server does not say.
    public static func connect(
        baseURL: String = "http://127.0.0.1:11434", model: String, maxContext: Int = 8192,
        timeouts: RemoteTimeouts = RemoteTimeouts()
    ) async throws -> OllamaGenerator {
        let http = try RemoteHTTP(service: .ollama, baseURL: baseURL, timeouts: timeouts)
        let trained = try await OllamaModelInfo.fetch(model: model, http: http).contextLength ?? 4096
        return try OllamaGenerator(
            baseURL: baseURL, model: model, contextLength: min(trained, max(1, maxContext)), timeouts: timeouts)
    }

    /// Estimated: one token per four characters (see `RemoteText.estimatedTokens`).
    public func countTokens(_ text: String) -> Int { RemoteText.estimatedTokens(text) }

    /// The JSON body of a chat request.
    func requestBody(_ messages: [ChatMessage], options: SamplingOptions) throws -> Data {
        var sampling: [String: Any] = [
            "temperature": Double(options.temperature),
            "top_k": options.topK,
            "top_p": Double(options.topP),
            "min_p": Double(options.minP),
            "repeat_penalty": Double(options.repetitionPenalty),
            "seed": Int64(truncatingIfNeeded: options.seed),
            "num_predict": options.maxTokens,
            "num_ctx": contextLength,
        ]
        if !options.stop.isEmpty { sampling["stop"] = options.stop }
        let body: [String: Any] = [
            "model": model,
            "messages": RemoteText.messagePayload(messages),
            "stream": true,
            "options": sampling,
        ]
        return try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
    }

    public func generate(_ messages: [ChatMessage], options: SamplingOptions) -> AsyncThrowingStream<GeneratedPiece, Error> {
        http.streamChat(
            path: "/api/chat", body: Result { try requestBody(messages, options: options) },
            reader: OllamaStreamReader(http: http, url: http.endpoint("/api/chat")))
    }
}

/// What one line of a streamed reply amounted to.
enum StreamEvent: Equatable {
    case text(String)
    case done
    case nothing
}

/// Reads Ollama's NDJSON chat stream one line at a time. Lines that are not JSON objects are skipped and
/// counted; they are reported only if the stream then fails to finish.
struct OllamaStreamReader: ChatStreamReader {
    let http: RemoteHTTP
    let url: String
    private(set) var sawDone = false
    private(set) var skipped = 0
    private var firstSkipped: String?

    init(http: RemoteHTTP, url: String) {
        self.http = http
        self.url = url
    }

    mutating func read(_ line: String) throws -> StreamEvent {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return .nothing }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any] else {
            skipped += 1
            if firstSkipped == nil { firstSkipped = String(trimmed.prefix(200)) }
            return .nothing
        }
        if let message = object["error"] as? String {
            throw RemoteBackendError.serverError(service: http.service, url: url, message: message)
        }
        let content = ((object["message"] as? [String: Any])?["content"] as? String) ?? ""
        if (object["done"] as? Bool) == true {
            sawDone = true
            return content.isEmpty ? .done : .text(content)
        }
        return content.isEmpty ? .nothing : .text(content)
    }

    /// Throws if the stream ended without Ollama's final `"done": true` line.
    func finish() throws {
        guard !sawDone else { return }
        var detail = "the stream ended before the final \"done\": true line"
        if let firstSkipped { detail += "; \(skipped) line(s) were not JSON, the first: \(firstSkipped)" }
        throw RemoteBackendError.malformedResponse(service: http.service, url: url, detail: detail)
    }
}

/// Embeddings from a running Ollama server (`POST /api/embed` with `input: [...]`, answered by
/// `{"embeddings": [[…], …]}` in input order). Texts are sent in batches of `batchSize`; vectors are
/// scaled to unit length here, whatever the server does.
///
/// `embed` is synchronous, as the `Embedder` protocol asks: it blocks the calling thread until the server
/// answers (the response is handled on URLSession's own queue, so this cannot deadlock). Call it from
/// ordinary threads; from async code use `embedAsync`, which suspends instead of blocking.
public struct OllamaEmbedder: Embedder {
    public let model: String
    public let dimensions: Int
    public let maxTokens: Int
    public let batchSize: Int
    private let call: RemoteEmbeddingCall

    public var modelID: String { "ollama:\(model)" }
    public var baseURL: String { call.http.base }

    /// A client for a model whose vector size is already known.
    public init(
        baseURL: String = "http://127.0.0.1:11434", model: String, dimensions: Int, maxTokens: Int = 512,
        batchSize: Int = 32, timeouts: RemoteTimeouts = RemoteTimeouts()
    ) throws {
        let http = try RemoteHTTP(service: .ollama, baseURL: baseURL, timeouts: timeouts)
        self.model = model
        self.dimensions = dimensions
        self.maxTokens = max(1, maxTokens)
        self.batchSize = max(1, batchSize)
        self.call = RemoteEmbeddingCall(
            http: http, path: "/api/embed", model: model, extraFields: [:], dimensions: dimensions,
            batchSize: self.batchSize, readVectors: Self.readVectors)
    }

    /// Checks that the server is up and knows `model`, and learns the vector size from `/api/show`
    /// (`<arch>.embedding_length`) or, when the server does not say, from embedding one probe text.
    public static func connect(
        baseURL: String = "http://127.0.0.1:11434", model: String, batchSize: Int = 32,
        timeouts: RemoteTimeouts = RemoteTimeouts()
    ) async throws -> OllamaEmbedder {
        let http = try RemoteHTTP(service: .ollama, baseURL: baseURL, timeouts: timeouts)
        let info = try await OllamaModelInfo.fetch(model: model, http: http)
        let maxTokens = info.contextLength ?? 512
        var dimensions = info.embeddingLength ?? 0
        if dimensions == 0 {
            let probe = try OllamaEmbedder(
                baseURL: baseURL, model: model, dimensions: 0, maxTokens: maxTokens, batchSize: batchSize,
                timeouts: timeouts)
            dimensions = try await probe.call.probeDimensions()
        }
        return try OllamaEmbedder(
            baseURL: baseURL, model: model, dimensions: dimensions, maxTokens: maxTokens, batchSize: batchSize,
            timeouts: timeouts)
    }

    /// Estimated: one token per four characters (see `RemoteText.estimatedTokens`).
    public func countTokens(_ text: String) -> Int { RemoteText.estimatedTokens(text) }

    public func embed(_ texts: [String]) throws -> [[Float]] { try call.embed(texts) }

    /// `embed` without blocking a thread.
    public func embedAsync(_ texts: [String]) async throws -> [[Float]] { try await call.embedAsync(texts) }

    /// Ollama answers `{"embeddings": [[…], …]}` in input order.
    private static let readVectors: RemoteEmbeddingCall.VectorReader = { reply, _, malformed in
        guard let list = reply["embeddings"] as? [Any] else { throw malformed("no \"embeddings\" array") }
        return try list.enumerated().map { index, element in
            guard let vector = RemoteText.floats(element) else {
                throw malformed("embedding \(index) is not a list of numbers")
            }
            return vector
        }
    }
}
