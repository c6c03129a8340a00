import Foundation
import Hummingbird
import Inference
import NIOCore

/// OpenAI-compatible routes: `GET /v1/models`, `POST /v1/chat/completions`, `POST /v1/embeddings`.
///
/// Only what a local text model can honour is implemented: one choice (`n` must be 1), text content
/// (string or `{"type":"text"}` parts), `max_tokens`/`max_completion_tokens`, `temperature`, `top_p`,
/// `seed`, `stop`, and streaming as server-sent events ending with `data: [DONE]`. Unset sampling fields
/// mean greedy decoding. `tools` and penalties are ignored. Embeddings come as floats or, when
/// `encoding_format` is `base64` (the default of OpenAI's Python client), as little-endian float32 bytes.
enum OpenAIRoutes {
    static func add(to router: Router<AssistRequestContext>, services: ServerServices) {
        router.get("/v1/models") { _, _ in
            try JSONBody.response(ModelList(data: services.models.names.map { ModelEntry(id: $0) }))
        }
        router.get("/v1/models/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let name = services.models.resolve(id) else {
                throw APIError.modelNotFound(id, available: services.models.names)
            }
            return try JSONBody.response(ModelEntry(id: name))
        }
        router.post("/v1/chat/completions") { request, _ in
            let body = try await JSONBody.decode(
                ChatRequest.self, from: request, limit: services.configuration.maxBodyBytes)
            return try await chatCompletion(body, services: services)
        }
        router.post("/v1/embeddings") { request, _ in
            let body = try await JSONBody.decode(
                EmbeddingRequest.self, from: request, limit: services.configuration.maxBodyBytes)
            let embedder = try services.requireEmbedder()
            let (vectors, tokens) = try await services.embed(body.input.values)
            let base64 = body.encodingFormat == "base64"
            if let format = body.encodingFormat, format != "base64", format != "float" {
                throw APIError.badRequest("encoding_format must be 'float' or 'base64' (got '\(format)')")
            }
            let data = vectors.enumerated().map { index, vector in
                EmbeddingEntry(index: index, vector: vector, base64: base64)
            }
            return try JSONBody.response(
                EmbeddingList(data: data, model: embedder.modelID, usage: Usage(prompt: tokens, completion: nil)))
        }
    }

    // MARK: Chat

    static func chatCompletion(_ body: ChatRequest, services: ServerServices) async throws -> Response {
        if let n = body.n, n != 1 { throw APIError.badRequest("only n = 1 is supported (got \(n))") }
        guard !body.messages.isEmpty else { throw APIError.badRequest("messages must hold at least one message") }
        let messages = try body.messages.map { try $0.chatMessage() }
        let generator = try await services.generator(for: body.model)
        let options = try SamplingRequest(
            maxTokens: body.maxCompletionTokens ?? body.maxTokens, temperature: body.temperature, topP: body.topP,
            seed: body.seed, stop: body.stop?.values ?? []
        ).options(limit: services.configuration.maxGeneratedTokens, contextLength: generator.contextLength)
        let run = ChatRun(generator: generator, messages: messages, options: options)
        let id = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let created = Timestamp.unix()
        let model = generator.servedName

        guard body.stream == true else {
            let outcome = try await run.collect()
            return try JSONBody.response(
                ChatCompletion(
                    id: id, created: created, model: model,
                    choices: [.init(content: outcome.text, finishReason: outcome.finishReason.rawValue)],
                    usage: Usage(prompt: outcome.promptTokens, completion: outcome.completionTokens)))
        }

        let includeUsage = body.streamOptions?.includeUsage == true
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                func send(_ chunk: ChatChunk) async throws {
                    try await writer.write(ServerSentEvents.event(try JSONBody.bytes(chunk)))
                }
                do {
                    try await send(ChatChunk(id: id, created: created, model: model, delta: .init(role: "assistant", content: "")))
                    let outcome = try await run.run { text in
                        try await send(ChatChunk(id: id, created: created, model: model, delta: .init(content: text)))
                    }
                    let usage = Usage(prompt: outcome.promptTokens, completion: outcome.completionTokens)
                    var last = ChatChunk(
                        id: id, created: created, model: model, delta: .init(),
                        finishReason: outcome.finishReason.rawValue)
                    if includeUsage {
                        try await send(last)
                        last = ChatChunk(id: id, created: created, model: model, usage: usage)
                    } else {
                        last.usage = usage
                    }
                    try await send(last)
                    try await writer.write(ServerSentEvents.done)
                } catch {
                    // Headers are sent: report in-band, as OpenAI's clients expect, then end the stream.
                    let apiError = APIError.from(error, path: "/v1/chat/completions")
                    let payload = ["error": ["message": apiError.message, "type": apiError.type]]
                    if let data = try? JSONSerialization.data(withJSONObject: payload) {
                        try? await writer.write(ServerSentEvents.event(data))
                    }
                }
                try await writer.finish(nil)
            })
    }

    // MARK: Wire types

    struct ChatRequest: Decodable {
        var model: String?
        var messages: [Message]
        var stream: Bool?
        var streamOptions: StreamOptions?
        var maxTokens: Int?
        var maxCompletionTokens: Int?
        var temperature: Double?
        var topP: Double?
        var seed: Int64?
        var stop: OneOrMany?
        var n: Int?

        enum CodingKeys: String, CodingKey {
            case model, messages, stream, temperature, seed, stop, n
            case streamOptions = "stream_options", maxTokens = "max_tokens"
            case maxCompletionTokens = "max_completion_tokens", topP = "top_p"
        }
    }

    struct StreamOptions: Decodable {
        var includeUsage: Bool?
        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    /// A request message; `content` may be a string, an array of parts, or null (assistant tool turns).
    struct Message: Decodable {
        var role: String
        var content: Content?

        enum Content: Decodable {
            case text(String)
            case parts([Part])

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) {
                    self = .text(text)
                } else {
                    self = .parts(try container.decode([Part].self))
                }
            }
        }

        struct Part: Decodable {
            var type: String
            var text: String?
        }

        func chatMessage() throws -> ChatMessage {
            let chatRole: ChatRole
            switch role {
            case "system", "developer": chatRole = .system
            case "user": chatRole = .user
            case "assistant": chatRole = .assistant
            default:
                throw APIError.badRequest("message role '\(role)' is not supported: use system, user or assistant")
            }
            switch content {
            case nil:
                return ChatMessage(role: chatRole, content: "")
            case .text(let text):
                return ChatMessage(role: chatRole, content: text)
            case .parts(let parts):
                let texts = try parts.map { part -> String in
                    guard part.type == "text", let text = part.text else {
                        throw APIError.badRequest("content part of type '\(part.type)' is not supported: send text")
                    }
                    return text
                }
                return ChatMessage(role: chatRole, content: texts.joined(separator: "\n"))
            }
        }
    }

    /// Token counts; embeddings have no completion, so theirs omits `completion_tokens`, as OpenAI's does.
    struct Usage: Encodable {
        var promptTokens: Int
        var completionTokens: Int?
        var totalTokens: Int

        init(prompt: Int?, completion: Int?) {
            promptTokens = prompt ?? 0
            completionTokens = completion
            totalTokens = promptTokens + (completion ?? 0)
        }

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
        }
    }

    struct ChatCompletion: Encodable {
        var id: String
        var object = "chat.completion"
        var created: Int
        var model: String
        var choices: [Choice]
        var usage: Usage

        init(id: String, created: Int, model: String, choices: [Choice], usage: Usage) {
            self.id = id
            self.created = created
            self.model = model
            self.choices = choices
            self.usage = usage
        }

        struct Choice: Encodable {
            var index = 0
            var message: ReplyMessage
            var finishReason: String

            init(content: String, finishReason: String) {
                message = ReplyMessage(content: content)
                self.finishReason = finishReason
            }

            enum CodingKeys: String, CodingKey { case index, message, finishReason = "finish_reason", logprobs }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(index, forKey: .index)
                try container.encode(message, forKey: .message)
                try container.encode(finishReason, forKey: .finishReason)
                try container.encodeNil(forKey: .logprobs)
            }
        }

        struct ReplyMessage: Encodable {
            var role = "assistant"
            var content: String
        }
    }

    struct ChatChunk: Encodable {
        var id: String
        var created: Int
        var model: String
        /// Empty for the usage-only chunk sent when `stream_options.include_usage` is set.
        var choices: [Choice]
        var usage: Usage?

        init(id: String, created: Int, model: String, delta: Delta, finishReason: String? = nil) {
            self.id = id
            self.created = created
            self.model = model
            self.choices = [Choice(delta: delta, finishReason: finishReason)]
        }

        init(id: String, created: Int, model: String, usage: Usage) {
            self.id = id
            self.created = created
            self.model = model
            self.choices = []
            self.usage = usage
        }

        struct Delta: Encodable {
            var role: String?
            var content: String?
        }

        struct Choice: Encodable {
            var delta: Delta
            var finishReason: String?

            enum CodingKeys: String, CodingKey { case index, delta, finishReason = "finish_reason", logprobs }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(0, forKey: .index)
                try container.encode(delta, forKey: .delta)
                try container.encode(finishReason, forKey: .finishReason)
                try container.encodeNil(forKey: .logprobs)
            }
        }

        enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode("chat.completion.chunk", forKey: .object)
            try container.encode(created, forKey: .created)
            try container.encode(model, forKey: .model)
            try container.encode(choices, forKey: .choices)
            try container.encode(usage, forKey: .usage)
        }
    }

    struct ModelList: Encodable {
        var object = "list"
        var data: [ModelEntry]
    }

    struct ModelEntry: Encodable {
        var id: String
        var object = "model"
        var created = 0
        var ownedBy = "assist"
        enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by" }
    }

    struct EmbeddingRequest: Decodable {
        var input: OneOrMany
        var model: String?
        var encodingFormat: String?
        enum CodingKeys: String, CodingKey { case input, model, encodingFormat = "encoding_format" }
    }

    struct EmbeddingList: Encodable {
        var object = "list"
        var data: [EmbeddingEntry]
        var model: String
        var usage: Usage
    }

    struct EmbeddingEntry: Encodable {
        var index: Int
        var vector: [Float]
        var base64: Bool

        enum CodingKeys: String, CodingKey { case object, index, embedding }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode("embedding", forKey: .object)
            try container.encode(index, forKey: .index)
            if base64 {
                var bytes = Data(capacity: vector.count * 4)
                for value in vector {
                    withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
                }
                try container.encode(bytes.base64EncodedString(), forKey: .embedding)
            } else {
                try container.encode(vector, forKey: .embedding)
            }
        }
    }
}

/// Framing for `text/event-stream` responses.
enum ServerSentEvents {
    /// `data: <payload>` and the blank line that ends an event.
    static func event(_ payload: Data) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("data: ")
        buffer.writeBytes(payload)
        buffer.writeString("\n\n")
        return buffer
    }

    /// OpenAI's end-of-stream marker.
    static let done = ByteBuffer(string: "data: [DONE]\n\n")
}
