import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Chat through any server that speaks OpenAI's chat-completions API (llama.cpp's server, LM Studio,
/// vLLM, Ollama's `/v1`, …): `POST {baseURL}/chat/completions` with `stream: true`.
///
/// The reply streams as server-sent events: `data: {"choices":[{"delta":{"content":"Hel"}}]}` lines, blank
/// separator lines, perhaps `: comments`, and `data: [DONE]` at the end. `baseURL` includes the API prefix,
/// conventionally `/v1` (e.g. `http://127.0.0.1:1234/v1`). An API key, when given, is sent as a bearer token.
///
/// Besides the standard `temperature`, `top_p`, `max_tokens`, `seed` and `stop`, the request carries
/// `top_k`, `min_p` and `repeat_penalty`, which local servers honour; set `sendsExtendedSampling` to false
/// for servers that reject unknown fields.
public struct OpenAICompatibleGenerator: TextGenerator {
    public let model: String
    public let contextLength: Int
    public let sendsExtendedSampling: Bool
    let http: RemoteHTTP

    public var modelID: String { "openai:\(model)" }
    public var baseURL: String { http.base }

    /// A client that trusts `contextLength` as given and contacts the server only when generating.
    public init(
        baseURL: String, model: String, apiKey: String? = nil, contextLength: Int = 4096,
        sendsExtendedSampling: Bool = true, timeouts: RemoteTimeouts = RemoteTimeouts()
    ) throws {
        self.http = try RemoteHTTP(service: .openAICompatible, baseURL: baseURL, apiKey: apiKey, timeouts: timeouts)
        self.model = model
        self.contextLength = max(1, contextLength)
        self.sendsExtendedSampling = sendsExtendedSampling
    }

    /// Checks that the server answers `GET {baseURL}/models` and takes the model's context window from its
    /// entry there when the server says (`max_model_len`, `context_length`, or llama.cpp's
    /// `meta.n_ctx_train`), capped at `maxContext`; 4096 otherwise. The API has no standard field for it.
    public static func connect(
        baseURL: String, model: String, apiKey: String? = nil, maxContext: Int = 8192,
        sendsExtendedSampling: Bool = true, timeouts: RemoteTimeouts = RemoteTimeouts()
    ) async throws -> OpenAICompatibleGenerator {
        let http = try RemoteHTTP(service: .openAICompatible, baseURL: baseURL, apiKey: apiKey, timeouts: timeouts)
        let entry = try await OpenAIModelList.entry(for: model, http: http)
        let window = entry.flatMap(OpenAIModelList.contextLength(of:)) ?? 4096
        return try OpenAICompatibleGenerator(
            baseURL: baseURL, model: model, apiKey: apiKey, contextLength: min(window, max(1, maxContext)),
            sendsExtendedSampling: sendsExtendedSampling, timeouts: timeouts)
    }

    /// Estimated: one token per four characters (see `RemoteText.estimatedTokens`).
    public func countTokens(_ text: String) -> Int { RemoteText.estimatedTokens(text) }

    func requestBody(_ messages: [ChatMessage], options: SamplingOptions) throws -> Data {
        var body: [String: Any] = [
            "model": model,
            "messages": RemoteText.messagePayload(messages),
            "stream": true,
            "temperature": Double(options.temperature),
            "top_p": Double(options.topP),
            "max_tokens": options.maxTokens,
            "seed": Int64(truncatingIfNeeded: options.seed),
        ]
        if !options.stop.isEmpty { body["stop"] = options.stop }
        if sendsExtendedSampling {
            body["top_k"] = options.topK
            body["min_p"] = Double(options.minP)
            body["repeat_penalty"] = Double(options.repetitionPenalty)
        }
        return try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
    }

    public func generate(_ messages: [ChatMessage], options: SamplingOptions) -> AsyncThrowingStream<GeneratedPiece, Error> {
        http.streamChat(
            path: "/chat/completions", body: Result { try requestBody(messages, options: options) },
            reader: ServerSentEventReader(http: http, url: http.endpoint("/chat/completions")))
    }
}

/// Reads an OpenAI chat-completions event stream line by line. Only `data:` fields matter; comments
/// (`:`), `event:`/`id:`/`retry:` fields and blank lines are ignored. Data that is not JSON is skipped and
/// counted, and reported only if the stream then ends without `[DONE]` or a `finish_reason`.
struct ServerSentEventReader: ChatStreamReader {
    let http: RemoteHTTP
    let url: String
    private(set) var sawDone = false
    private(set) var sawFinish = false
    private(set) var skipped = 0
    private var firstSkipped: String?

    init(http: RemoteHTTP, url: String) {
        self.http = http
        self.url = url
    }

    mutating func read(_ line: String) throws -> StreamEvent {
        guard line.hasPrefix("data:") else { return .nothing }
        var payload = line.dropFirst(5)
        if payload.first == " " { payload = payload.dropFirst() }
        let data = payload.trimmingCharacters(in: .whitespaces)
        if data == "[DONE]" {
            sawDone = true
            return .done
        }
        if data.isEmpty { return .nothing }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] else {
            skipped += 1
            if firstSkipped == nil { firstSkipped = String(data.prefix(200)) }
            return .nothing
        }
        if let error = object["error"] {
            let message = (error as? [String: Any])?["message"] as? String ?? (error as? String) ?? "\(error)"
            throw RemoteBackendError.serverError(service: http.service, url: url, message: message)
        }
        guard let choice = (object["choices"] as? [Any])?.first as? [String: Any] else { return .nothing }
        if let reason = choice["finish_reason"] as? String, !reason.isEmpty { sawFinish = true }
        let content = (choice["delta"] as? [String: Any])?["content"] as? String ?? ""
        return content.isEmpty ? .nothing : .text(content)
    }

    /// Throws if the stream ended without `[DONE]` and without any choice finishing.
    func finish() throws {
        guard !sawDone, !sawFinish else { return }
        var detail = "the stream ended before `data: [DONE]`"
        if let firstSkipped { detail += "; \(skipped) event(s) were not JSON, the first: \(firstSkipped)" }
        throw RemoteBackendError.malformedResponse(service: http.service, url: url, detail: detail)
    }
}

/// `GET {baseURL}/models`, used to check that a server is up and to read what it says about a model.
enum OpenAIModelList {
    /// The entry of `model` in the server's list, nil when it is not listed (some servers list nothing
    /// useful, so that is not an error). Unreachable servers and rejected keys throw.
    static func entry(for model: String, http: RemoteHTTP) async throws -> [String: Any]? {
        let request = try http.request("/models", body: nil, timeout: http.timeouts.connect)
        let body: Data
        do {
            body = try await http.data(for: request)
        } catch RemoteBackendError.http(_, _, let status, _) where status != 401 && status != 403 {
            return nil  // It answered, so it is up; it just has no model list.
        }
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any],
            let list = object["data"] as? [Any]
        else { return nil }
        return list.compactMap { $0 as? [String: Any] }.first { ($0["id"] as? String) == model }
    }

    static func contextLength(of entry: [String: Any]) -> Int? {
        for key in ["max_model_len", "context_length", "context_window"] {
            if let number = entry[key] as? NSNumber, number.intValue > 0 { return number.intValue }
        }
        if let meta = entry["meta"] as? [String: Any], let number = meta["n_ctx_train"] as? NSNumber,
            number.intValue > 0
        {
            return number.intValue
        }
        return nil
    }
}

/// Embeddings from an OpenAI-compatible server: `POST {baseURL}/embeddings` with `input: [...]`, answered
/// by `{"data":[{"index":0,"embedding":[…]},…]}`, which this client puts back in input order by `index`.
/// Vectors are scaled to unit length here. Blocking and async variants behave as in `OllamaEmbedder`.
public struct OpenAICompatibleEmbedder: Embedder {
    public let model: String
    public let dimensions: Int
    public let maxTokens: Int
    public let batchSize: Int
    private let call: RemoteEmbeddingCall

    public var modelID: String { "openai:\(model)" }
    public var baseURL: String { call.http.base }

    /// A client for a model whose vector size is already known.
    public init(
        baseURL: String, model: String, apiKey: String? = nil, dimensions: Int, maxTokens: Int = 512,
        batchSize: Int = 32, timeouts: RemoteTimeouts = RemoteTimeouts()
    ) throws {
        let http = try RemoteHTTP(service: .openAICompatible, baseURL: baseURL, apiKey: apiKey, timeouts: timeouts)
        self.model = model
        self.dimensions = dimensions
        self.maxTokens = max(1, maxTokens)
        self.batchSize = max(1, batchSize)
        self.call = RemoteEmbeddingCall(
            http: http, path: "/embeddings", model: model, extraFields: ["encoding_format": "float"],
            dimensions: dimensions, batchSize: self.batchSize, readVectors: Self.readVectors)
    }

    /// Learns the vector size by embedding one probe text (the API has no metadata call for it), which
    /// also checks that the server is up and serves `model`.
    public static func connect(
        baseURL: String, model: String, apiKey: String? = nil, maxTokens: Int = 512, batchSize: Int = 32,
        timeouts: RemoteTimeouts = RemoteTimeouts()
    ) async throws -> OpenAICompatibleEmbedder {
        let probe = try OpenAICompatibleEmbedder(
            baseURL: baseURL, model: model, apiKey: apiKey, dimensions: 0, maxTokens: maxTokens, batchSize: batchSize,
            timeouts: timeouts)
        return try OpenAICompatibleEmbedder(
            baseURL: baseURL, model: model, apiKey: apiKey, dimensions: try await probe.call.probeDimensions(),
            maxTokens: maxTokens, batchSize: batchSize, timeouts: timeouts)
    }

    /// Estimated: one token per four characters (see `RemoteText.estimatedTokens`).
    public func countTokens(_ text: String) -> Int { RemoteText.estimatedTokens(text) }

    public func embed(_ texts: [String]) throws -> [[Float]] { try call.embed(texts) }

    /// `embed` without blocking a thread.
    public func embedAsync(_ texts: [String]) async throws -> [[Float]] { try await call.embedAsync(texts) }

    /// The reply is `{"data":[{"index":0,"embedding":[…]},…]}`, possibly out of order: put back by `index`.
    private static let readVectors: RemoteEmbeddingCall.VectorReader = { reply, expected, malformed in
        guard let list = reply["data"] as? [Any] else { throw malformed("no \"data\" array") }
        guard list.count == expected else { throw malformed("\(list.count) embeddings for \(expected) inputs") }
        var slots = [[Float]?](repeating: nil, count: expected)
        for (position, element) in list.enumerated() {
            guard let item = element as? [String: Any] else { throw malformed("item \(position) is not an object") }
            let index = (item["index"] as? NSNumber)?.intValue ?? position
            guard index >= 0, index < expected, slots[index] == nil else {
                throw malformed("item \(position) has index \(index), outside 0..<\(expected) or repeated")
            }
            guard let vector = RemoteText.floats(item["embedding"]) else {
                throw malformed("item \(position) has no list of numbers in \"embedding\"")
            }
            slots[index] = vector
        }
        return slots.compactMap { $0 }
    }
}
