import Foundation
import Inference
import Testing

/// The OpenAI-compatible clients against a stand-in speaking the chat-completions SSE protocol.
@Suite struct RemoteOpenAICompatibleTests {
    static func event(_ content: String?, finish: String? = nil) -> String {
        var delta: [String: Any] = [:]
        if let content { delta["content"] = content }
        let choice: [String: Any] = ["index": 0, "delta": delta, "finish_reason": finish ?? NSNull()]
        let data = try! JSONSerialization.data(withJSONObject: ["id": "c1", "object": "chat.completion.chunk", "choices": [choice]])
        return "data: " + String(decoding: data, as: UTF8.self) + "\n\n"
    }

    static func server(events: [String] = [], status: Int = 200, models: [String: Any]? = nil) throws -> StandInServer {
        let modelList = models.flatMap { try? JSONSerialization.data(withJSONObject: $0) }
        return try StandInServer { request in
            switch request.path {
            case "/v1/chat/completions":
                if status != 200 {
                    return .json(["error": ["message": "model is loading", "type": "server_error"]], status: status)
                }
                return StandInServer.Response(contentType: "text/event-stream", pieces: events, chunked: true)
            case "/v1/models":
                if let modelList { return StandInServer.Response(pieces: [String(decoding: modelList, as: UTF8.self)]) }
                return .json(["error": "not here"], status: 404)
            case "/v1/embeddings":
                if status != 200 { return .json(["error": ["message": "bad input"]], status: status) }
                let inputs = request.json?["input"] as? [String] ?? []
                // Answer in reverse order: the client must put items back by `index`.
                let items = inputs.enumerated().reversed().map { index, text -> [String: Any] in
                    ["object": "embedding", "index": index, "embedding": RemoteOllamaTests.rawVector(text)]
                }
                return .json(["object": "list", "data": items, "model": "e"])
            default:
                return .json(["error": "no route"], status: 404)
            }
        }
    }

    @Test func streamsDeltasInOrderIgnoringCommentsAndStopsAtDone() async throws {
        let server = try Self.server(events: [
            ": keep-alive comment\n\n",
            Self.event(nil),  // the role-only first chunk
            Self.event("The"), Self.event(" answer"), "event: ping\n\n", Self.event(" is 42."),
            Self.event(nil, finish: "stop"), "data: [DONE]\n\n", Self.event("after done"),
        ])
        defer { server.stop() }
        let generator = try OpenAICompatibleGenerator(
            baseURL: server.baseURL + "/v1/", model: "local", apiKey: "sk-test", contextLength: 1000)
        var pieces: [String] = []
        for try await piece in generator.generate(
            [ChatMessage(role: .user, content: "q")], options: SamplingOptions(maxTokens: 9, temperature: 0.2, stop: ["END"]))
        {
            pieces.append(piece.text)
        }
        #expect(pieces == ["The", " answer", " is 42."])
        let request = try #require(server.requests.first)
        #expect(request.path == "/v1/chat/completions")
        #expect(request.headers["authorization"] == "Bearer sk-test")
        let body = try #require(request.json)
        #expect(body["stream"] as? Bool == true)
        #expect(body["max_tokens"] as? Int == 9)
        #expect(body["stop"] as? [String] == ["END"])
        #expect(body["model"] as? String == "local")
        #expect(generator.modelID == "openai:local")
    }

    @Test func withoutAKeyNoAuthorizationHeaderIsSent() async throws {
        let server = try Self.server(events: [Self.event("x"), "data: [DONE]\n\n"])
        defer { server.stop() }
        let generator = try OpenAICompatibleGenerator(baseURL: server.baseURL + "/v1", model: "m", apiKey: "")
        for try await _ in generator.generate([], options: SamplingOptions()) {}
        #expect(server.requests.first?.headers["authorization"] == nil)
    }

    @Test func crlfLinesAndNoSpaceAfterDataAreAccepted() async throws {
        let server = try Self.server(events: [
            "data:" + Self.event("a").dropFirst(6).replacingOccurrences(of: "\n\n", with: "\r\n\r\n"),
            "data: [DONE]\r\n\r\n",
        ])
        defer { server.stop() }
        let generator = try OpenAICompatibleGenerator(baseURL: server.baseURL + "/v1", model: "m")
        var pieces: [String] = []
        for try await piece in generator.generate([], options: SamplingOptions()) { pieces.append(piece.text) }
        #expect(pieces == ["a"])
    }

    @Test func malformedEventsAreSkippedAndATruncatedStreamIsReported() async throws {
        let good = try Self.server(events: [Self.event("a"), "data: {oops\n\n", Self.event("b"), "data: [DONE]\n\n"])
        defer { good.stop() }
        let generator = try OpenAICompatibleGenerator(baseURL: good.baseURL + "/v1", model: "m")
        var pieces: [String] = []
        for try await piece in generator.generate([], options: SamplingOptions()) { pieces.append(piece.text) }
        #expect(pieces == ["a", "b"])

        let truncated = try Self.server(events: ["data: {oops\n\n", Self.event("partial")])
        defer { truncated.stop() }
        let cut = try OpenAICompatibleGenerator(baseURL: truncated.baseURL + "/v1", model: "m")
        do {
            for try await _ in cut.generate([], options: SamplingOptions()) {}
            Issue.record("a stream without [DONE] was accepted")
        } catch let error as RemoteBackendError {
            guard case .malformedResponse(_, _, let detail) = error else {
                Issue.record("expected .malformedResponse, got \(error)")
                return
            }
            #expect(detail.contains("{oops"))
        }
    }

    @Test func http503CarriesTheServersErrorMessage() async throws {
        let server = try Self.server(status: 503)
        defer { server.stop() }
        let generator = try OpenAICompatibleGenerator(baseURL: server.baseURL + "/v1", model: "m")
        await #expect(throws: RemoteBackendError.http(service: .openAICompatible,
            url: server.baseURL + "/v1/chat/completions", status: 503, message: "model is loading")) {
            for try await _ in generator.generate([], options: SamplingOptions()) {}
        }
        let embedder = try OpenAICompatibleEmbedder(baseURL: server.baseURL + "/v1", model: "e", dimensions: 4)
        #expect(throws: RemoteBackendError.http(service: .openAICompatible,
            url: server.baseURL + "/v1/embeddings", status: 503, message: "bad input")) { _ = try embedder.embed(["x"]) }
    }

    @Test func serverDownNamesTheURL() async throws {
        let url = "http://127.0.0.1:\(try StandInServer.unusedPort())/v1"
        let generator = try OpenAICompatibleGenerator(baseURL: url, model: "m")
        do {
            for try await _ in generator.generate([], options: SamplingOptions()) {}
            Issue.record("generation against a closed port succeeded")
        } catch let error as RemoteBackendError {
            #expect("\(error)".hasPrefix("cannot reach the OpenAI-compatible server at \(url) — is the server running"))
        }
        await #expect(throws: RemoteBackendError.self) {
            _ = try await OpenAICompatibleGenerator.connect(baseURL: url, model: "m")
        }
    }

    @Test func connectReadsTheContextWindowFromTheModelList() async throws {
        let listing: [String: Any] = ["object": "list", "data": [
            ["id": "other", "object": "model", "max_model_len": 1024],
            ["id": "mine", "object": "model", "meta": ["n_ctx_train": 32768]],
        ]]
        let server = try Self.server(models: listing)
        defer { server.stop() }
        let mine = try await OpenAICompatibleGenerator.connect(baseURL: server.baseURL + "/v1", model: "mine", maxContext: 16384)
        #expect(mine.contextLength == 16384)
        let other = try await OpenAICompatibleGenerator.connect(baseURL: server.baseURL + "/v1", model: "other")
        #expect(other.contextLength == 1024)
        let unlisted = try await OpenAICompatibleGenerator.connect(baseURL: server.baseURL + "/v1", model: "nope")
        #expect(unlisted.contextLength == 4096)

        let bare = try Self.server()  // no /models route at all: still up, so connect works with the default
        defer { bare.stop() }
        #expect(try await OpenAICompatibleGenerator.connect(baseURL: bare.baseURL + "/v1", model: "m").contextLength == 4096)
    }

    @Test func embeddingsAreSortedByIndexBatchedAndUnitLength() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let embedder = try await OpenAICompatibleEmbedder.connect(baseURL: server.baseURL + "/v1", model: "e", batchSize: 3)
        #expect(embedder.dimensions == 4)
        let texts = ["one", "two", "three", "four", "five", "six", "seven"]
        let vectors = try embedder.embed(texts)
        #expect(RemoteOllamaTests.nearlyEqual(vectors, texts.map { RemoteOllamaTests.normalized(RemoteOllamaTests.rawVector($0)) }))
        let batches = server.requests.filter { $0.path == "/v1/embeddings" }.dropFirst().map { $0.json?["input"] as? [String] ?? [] }
        #expect(batches == [["one", "two", "three"], ["four", "five", "six"], ["seven"]])
        #expect(try await embedder.embedAsync(texts).count == 7)
    }
}
