import Foundation
import Hummingbird
import Inference
import NIOCore

/// Ollama-compatible routes: `GET /api/tags`, `GET /api/version`, `POST /api/show`, `POST /api/chat`,
/// `POST /api/generate`, `POST /api/embed` and the older `POST /api/embeddings`.
///
/// Chat and generate stream newline-delimited JSON unless `"stream": false`, ending with a line that has
/// `"done": true`, `done_reason` and Ollama's counters (`prompt_eval_count`, `eval_count`, durations in
/// nanoseconds). Sampling comes from `options` (`num_predict`, `temperature`, `top_k`, `top_p`, `min_p`,
/// `repeat_penalty`, `seed`, `stop`); `format`, `keep_alive` and `raw` are accepted and ignored (the model
/// stays loaded and the chat template always applies). Errors are `{"error":"…"}`, as Ollama sends them.
enum OllamaRoutes {
    /// The version `/api/version` reports: recent enough that Ollama clients enable `/api/embed`.
    static let version = "0.9.0"

    static func isOllamaPath(_ path: String) -> Bool { path.hasPrefix("/api/") }

    static func add(to router: Router<AssistRequestContext>, services: ServerServices) {
        let limit = services.configuration.maxBodyBytes
        router.get("/api/version") { _, _ in
            try JSONBody.response(["version": version])
        }
        router.get("/api/tags") { _, _ in
            try JSONBody.response(TagList(models: services.models.names.map(TagEntry.init)))
        }
        router.post("/api/show") { request, _ in
            let body = try await JSONBody.decode(ShowRequest.self, from: request, limit: limit)
            let generator = try await services.models.generator(for: body.model ?? body.name)
            return try JSONBody.response(ShowResponse(generator: generator))
        }
        router.post("/api/chat") { request, _ in
            let body = try await JSONBody.decode(ChatRequest.self, from: request, limit: limit)
            let messages = try body.messages.map { try $0.chatMessage() }
            return try await generate(
                model: body.model, messages: messages, options: body.options, stream: body.stream ?? true,
                services: services, shape: .chat)
        }
        router.post("/api/generate") { request, _ in
            let body = try await JSONBody.decode(GenerateRequest.self, from: request, limit: limit)
            if let images = body.images, !images.isEmpty {
                throw APIError.badRequest("images are not supported: this server runs text models")
            }
            var messages: [ChatMessage] = []
            if let system = body.system, !system.isEmpty { messages.append(ChatMessage(role: .system, content: system)) }
            let prompt = body.prompt ?? ""
            messages.append(ChatMessage(role: .user, content: prompt))
            // An empty prompt only loads the model (Ollama's way to warm it up).
            return try await generate(
                model: body.model, messages: prompt.isEmpty ? [] : messages, options: body.options,
                stream: body.stream ?? true, services: services, shape: .generate)
        }
        router.post("/api/embed") { request, _ in
            let body = try await JSONBody.decode(EmbedRequest.self, from: request, limit: limit)
            let embedder = try services.requireEmbedder()
            let start = ContinuousClock.now
            let (vectors, tokens) = try await services.embed(body.input.values)
            return try JSONBody.response(
                EmbedResponse(
                    model: body.model ?? embedder.modelID, embeddings: vectors,
                    totalDuration: ChatRun.nanoseconds(ContinuousClock.now - start), promptEvalCount: tokens))
        }
        router.post("/api/embeddings") { request, _ in
            let body = try await JSONBody.decode(LegacyEmbedRequest.self, from: request, limit: limit)
            let (vectors, _) = try await services.embed([body.prompt])
            return try JSONBody.response(["embedding": vectors.first ?? []])
        }
    }

    enum Shape { case chat, generate }

    static func generate(
        model requested: String?, messages: [ChatMessage], options: Options?, stream: Bool,
        services: ServerServices, shape: Shape
    ) async throws -> Response {
        let generator = try await services.generator(for: requested)
        let sampling = try SamplingRequest(
            maxTokens: options?.numPredict, temperature: options?.temperature, topK: options?.topK,
            topP: options?.topP, minP: options?.minP, repetitionPenalty: options?.repeatPenalty,
            seed: options?.seed, stop: options?.stop?.values ?? []
        ).options(limit: services.configuration.maxGeneratedTokens, contextLength: generator.contextLength)
        let model = generator.servedName
        let run = ChatRun(generator: generator, messages: messages, options: sampling)

        @Sendable func piece(_ text: String) -> Line {
            Line(model: model, shape: shape, text: text, done: false)
        }
        @Sendable func final(_ outcome: ChatOutcome?, text: String, reason: String) -> Line {
            var line = Line(model: model, shape: shape, text: text, done: true)
            line.doneReason = reason
            line.outcome = outcome
            return line
        }

        guard !messages.isEmpty else {
            // Nothing to generate: answer "loaded" the way Ollama does.
            let line = final(nil, text: "", reason: "load")
            if stream { return ndjson { try await $0(line) } }
            return try JSONBody.response(line)
        }
        guard stream else {
            let outcome = try await run.collect()
            return try JSONBody.response(final(outcome, text: outcome.text, reason: outcome.finishReason.rawValue))
        }
        return ndjson { send in
            let outcome = try await run.run { text in try await send(piece(text)) }
            try await send(final(outcome, text: "", reason: outcome.finishReason.rawValue))
        }
    }

    /// A streamed `application/x-ndjson` response; a failure after the headers becomes an `{"error":…}` line.
    static func ndjson(
        _ produce: @escaping @Sendable (_ send: (Line) async throws -> Void) async throws -> Void
    ) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                do {
                    try await produce { line in
                        var buffer = ByteBuffer(bytes: try JSONBody.bytes(line))
                        buffer.writeString("\n")
                        try await writer.write(buffer)
                    }
                } catch {
                    let message = APIError.from(error, path: "/api/").message
                    if var buffer = try? ByteBuffer(bytes: JSONBody.bytes(["error": message])) {
                        buffer.writeString("\n")
                        try? await writer.write(buffer)
                    }
                }
                try await writer.finish(nil)
            })
    }

    // MARK: Wire types

    /// Ollama's `options` object (only the fields a sampler uses; others are ignored).
    struct Options: Decodable {
        var numPredict: Int?
        var temperature: Double?
        var topK: Int?
        var topP: Double?
        var minP: Double?
        var repeatPenalty: Double?
        var seed: Int64?
        var stop: OneOrMany?

        enum CodingKeys: String, CodingKey {
            case temperature, seed, stop
            case numPredict = "num_predict", topK = "top_k", topP = "top_p", minP = "min_p"
            case repeatPenalty = "repeat_penalty"
        }
    }

    struct Message: Decodable {
        var role: String
        var content: String?
        var images: [String]?

        func chatMessage() throws -> ChatMessage {
            if let images, !images.isEmpty {
                throw APIError.badRequest("images are not supported: this server runs text models")
            }
            guard let role = ChatRole(rawValue: role) else {
                throw APIError.badRequest("message role '\(self.role)' is not supported: use system, user or assistant")
            }
            return ChatMessage(role: role, content: content ?? "")
        }
    }

    struct ChatRequest: Decodable {
        var model: String?
        var messages: [Message]
        var stream: Bool?
        var options: Options?
    }

    struct GenerateRequest: Decodable {
        var model: String?
        var prompt: String?
        var system: String?
        var stream: Bool?
        var options: Options?
        var images: [String]?
    }

    struct ShowRequest: Decodable {
        var model: String?
        var name: String?
    }

    struct EmbedRequest: Decodable {
        var model: String?
        var input: OneOrMany
    }

    struct LegacyEmbedRequest: Decodable {
        var model: String?
        var prompt: String
    }

    /// One line of a chat or generate reply (also the whole reply when not streaming).
    struct Line: Encodable, Sendable {
        var model: String
        var shape: Shape
        var text: String
        var done: Bool
        var doneReason: String?
        var outcome: ChatOutcome?
        var createdAt = Timestamp.rfc3339()

        init(model: String, shape: Shape, text: String, done: Bool) {
            self.model = model
            self.shape = shape
            self.text = text
            self.done = done
        }

        enum CodingKeys: String, CodingKey {
            case model, createdAt = "created_at", message, response, done, doneReason = "done_reason"
            case totalDuration = "total_duration", loadDuration = "load_duration"
            case promptEvalCount = "prompt_eval_count", promptEvalDuration = "prompt_eval_duration"
            case evalCount = "eval_count", evalDuration = "eval_duration"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(model, forKey: .model)
            try container.encode(createdAt, forKey: .createdAt)
            switch shape {
            case .chat: try container.encode(["role": "assistant", "content": text], forKey: .message)
            case .generate: try container.encode(text, forKey: .response)
            }
            try container.encode(done, forKey: .done)
            try container.encodeIfPresent(doneReason, forKey: .doneReason)
            if let outcome {
                try container.encode(outcome.totalNanoseconds, forKey: .totalDuration)
                try container.encode(0, forKey: .loadDuration)
                try container.encodeIfPresent(outcome.promptTokens, forKey: .promptEvalCount)
                try container.encode(outcome.promptNanoseconds, forKey: .promptEvalDuration)
                try container.encode(outcome.completionTokens, forKey: .evalCount)
                try container.encode(outcome.generationNanoseconds, forKey: .evalDuration)
            }
        }
    }

    struct TagList: Encodable {
        var models: [TagEntry]
    }

    struct TagEntry: Encodable {
        var name: String
        var model: String
        var modifiedAt = Timestamp.rfc3339(Date(timeIntervalSince1970: 0))
        var size = 0
        var digest = ""
        var details = Details()

        init(_ name: String) {
            self.name = name
            self.model = name
        }

        enum CodingKeys: String, CodingKey { case name, model, modifiedAt = "modified_at", size, digest, details }

        struct Details: Encodable {
            var format = "gguf"
            var family = ""
            var families: [String] = []
            var parameterSize = ""
            var quantizationLevel = ""
            enum CodingKeys: String, CodingKey {
                case format, family, families, parameterSize = "parameter_size"
                case quantizationLevel = "quantization_level"
            }
        }
    }

    /// What `/api/show` tells: enough for clients that size their prompts by `<arch>.context_length`.
    struct ShowResponse: Encodable {
        var modelfile = ""
        var parameters = ""
        var template = ""
        var details = TagEntry.Details()
        var modelInfo: [String: ShowValue]
        var capabilities = ["completion"]

        init(generator: QueuedGenerator) {
            modelInfo = [
                "general.architecture": .text("assist"),
                "general.name": .text(generator.modelID),
                "assist.context_length": .number(generator.contextLength),
            ]
        }

        enum CodingKeys: String, CodingKey {
            case modelfile, parameters, template, details, modelInfo = "model_info", capabilities
        }
    }

    enum ShowValue: Encodable {
        case text(String)
        case number(Int)
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .number(let number): try container.encode(number)
            }
        }
    }

    struct EmbedResponse: Encodable {
        var model: String
        var embeddings: [[Float]]
        var totalDuration: UInt64
        var loadDuration = 0
        var promptEvalCount: Int
        enum CodingKeys: String, CodingKey {
            case model, embeddings, totalDuration = "total_duration", loadDuration = "load_duration"
            case promptEvalCount = "prompt_eval_count"
        }
    }
}
