import Foundation
import Inference
import Testing

/// The Ollama clients against a stand-in speaking Ollama's documented NDJSON protocol.
@Suite struct RemoteOllamaTests {
    /// The stand-in's embedding for `text`: a deterministic, text-dependent vector of four numbers.
    static func rawVector(_ text: String) -> [Double] {
        [Double(text.count), Double(text.utf8.first ?? 0), 3, Double(text.utf8.reduce(0) { ($0 + Int($1)) % 97 })]
    }

    static func normalized(_ values: [Double]) -> [Float] {
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return values.map { Float($0 / norm) }
    }

    static func nearlyEqual(_ a: [[Float]], _ b: [[Float]]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { x, y in x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) < 1e-5 } }
    }

    static func ollama(chatLines: [String] = [], status: Int = 200, pause: Double = 0) throws -> StandInServer {
        try StandInServer { request in
            switch request.path {
            case "/api/show":
                let model = request.json?["model"] as? String ?? ""
                if model == "missing" { return .json(["error": "model 'missing' not found"], status: 404) }
                let info: [String: Any] =
                    model.hasPrefix("embed")
                    ? ["general.architecture": "bert", "bert.context_length": 512, "bert.embedding_length": 4]
                    : ["general.architecture": "qwen2", "qwen2.context_length": 32768, "qwen2.embedding_length": 896]
                return .json(["model_info": info])
            case "/api/chat":
                if status != 200 { return .json(["error": "llama runner process has terminated"], status: status) }
                return StandInServer.Response(
                    contentType: "application/x-ndjson", pieces: chatLines.map { $0 + "\n" }, pause: pause)
            case "/api/embed":
                if status != 200 { return .json(["error": "embedding failed"], status: status) }
                let inputs = request.json?["input"] as? [String] ?? []
                return .json(["model": "embed", "embeddings": inputs.map(rawVector)])
            default:
                return .json(["error": "no route"], status: 404)
            }
        }
    }

    static func piece(_ text: String) -> String {
        let data = try! JSONSerialization.data(
            withJSONObject: ["model": "m", "message": ["role": "assistant", "content": text], "done": false])
        return String(decoding: data, as: UTF8.self)
    }

    static let doneLine = #"{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":3}"#

    static func collect(_ stream: AsyncThrowingStream<GeneratedPiece, Error>) async throws -> [String] {
        var pieces: [String] = []
        for try await piece in stream { pieces.append(piece.text) }
        return pieces
    }

    @Test func streamsPiecesInOrderUntilDoneAndSendsTheOptions() async throws {
        let server = try Self.ollama(chatLines: [Self.piece("Hel"), Self.piece("lo"), Self.piece(", world"), Self.doneLine])
        defer { server.stop() }
        let generator = try OllamaGenerator(baseURL: server.baseURL, model: "qwen", contextLength: 2048)
        let options = SamplingOptions(maxTokens: 7, temperature: 0.5, topK: 20, seed: 42, stop: ["\n\n"])
        let pieces = try await Self.collect(
            generator.generate([ChatMessage(role: .system, content: "Be brief."), ChatMessage(role: .user, content: "Hi")],
                options: options))
        #expect(pieces == ["Hel", "lo", ", world"])

        let body = try #require(server.requests.first { $0.path == "/api/chat" }?.json)
        #expect(body["model"] as? String == "qwen")
        #expect(body["stream"] as? Bool == true)
        let messages = try #require(body["messages"] as? [[String: String]])
        #expect(messages == [["role": "system", "content": "Be brief."], ["role": "user", "content": "Hi"]])
        let sent = try #require(body["options"] as? [String: Any])
        #expect(sent["num_predict"] as? Int == 7)
        #expect(sent["temperature"] as? Double == 0.5)
        #expect(sent["top_k"] as? Int == 20)
        #expect(sent["seed"] as? Int == 42)
        #expect(sent["num_ctx"] as? Int == 2048)
        #expect(sent["stop"] as? [String] == ["\n\n"])
        #expect(generator.modelID == "ollama:qwen")
    }

    @Test func linesSplitAcrossChunksMidCharacterAreReassembled() async throws {
        let stream = Data((Self.piece("héllo wörld") + "\n" + Self.piece(" ✓") + "\n" + Self.doneLine + "\n").utf8)
        let cut = try #require(stream.firstIndex(of: 0xC3)) + 1  // inside the two bytes of "é"
        let secondCut = cut + 30
        let server = try StandInServer { _ in
            StandInServer.Response(
                contentType: "application/x-ndjson", pause: 0.05,
                bytePieces: [stream[..<cut], stream[cut..<secondCut], stream[secondCut...]].map { Data($0) },
                chunked: true)
        }
        defer { server.stop() }
        let generator = try OllamaGenerator(baseURL: server.baseURL, model: "qwen")
        #expect(try await Self.collect(generator.generate([], options: SamplingOptions())) == ["héllo wörld", " ✓"])
    }

    @Test func stopsReadingAtDoneEvenIfMoreFollows() async throws {
        let server = try Self.ollama(chatLines: [Self.piece("a"), Self.doneLine, Self.piece("after done")])
        defer { server.stop() }
        let generator = try OllamaGenerator(baseURL: server.baseURL, model: "qwen")
        #expect(try await Self.collect(generator.generate([], options: SamplingOptions())) == ["a"])
    }

    @Test func connectLearnsTheContextWindowFromShowAndCapsIt() async throws {
        let server = try Self.ollama()
        defer { server.stop() }
        let capped = try await OllamaGenerator.connect(baseURL: server.baseURL, model: "qwen", maxContext: 8192)
        #expect(capped.contextLength == 8192)
        let full = try await OllamaGenerator.connect(baseURL: server.baseURL, model: "qwen", maxContext: 100_000)
        #expect(full.contextLength == 32768)
        #expect(server.requests.first?.json?["model"] as? String == "qwen")
    }

    @Test func connectToAnUnknownModelSaysToPullIt() async throws {
        let server = try Self.ollama()
        defer { server.stop() }
        let error = await #expect(throws: RemoteBackendError.self) {
            _ = try await OllamaGenerator.connect(baseURL: server.baseURL, model: "missing")
        }
        let text = "\(error.map { $0 } as Any)"
        #expect(text.contains("404"))
        #expect(text.contains("model 'missing' not found"))
        #expect(text.contains("ollama pull"))
    }

    @Test func serverDownGivesTheCannotReachMessage() async throws {
        let port = try StandInServer.unusedPort()
        let url = "http://127.0.0.1:\(port)"
        let generator = try OllamaGenerator(baseURL: url, model: "qwen")
        do {
            _ = try await Self.collect(generator.generate([ChatMessage(role: .user, content: "hi")], options: SamplingOptions()))
            Issue.record("generation against a closed port succeeded")
        } catch let error as RemoteBackendError {
            guard case .unreachable = error else {
                Issue.record("expected .unreachable, got \(error)")
                return
            }
            #expect("\(error)".hasPrefix("cannot reach Ollama at \(url) — is `ollama serve` running?"))
        }
        let embedder = try OllamaEmbedder(baseURL: url, model: "embed", dimensions: 4)
        #expect(throws: RemoteBackendError.self) { _ = try embedder.embed(["x"]) }
        await #expect(throws: RemoteBackendError.self) { _ = try await OllamaEmbedder.connect(baseURL: url, model: "embed") }
    }

    @Test func http500CarriesTheServersErrorMessage() async throws {
        let server = try Self.ollama(status: 500)
        defer { server.stop() }
        let generator = try OllamaGenerator(baseURL: server.baseURL, model: "qwen")
        do {
            _ = try await Self.collect(generator.generate([], options: SamplingOptions()))
            Issue.record("an HTTP 500 went unnoticed")
        } catch let error as RemoteBackendError {
            #expect(error == .http(service: .ollama, url: server.baseURL + "/api/chat", status: 500,
                message: "llama runner process has terminated"))
        }
        let embedder = try OllamaEmbedder(baseURL: server.baseURL, model: "embed", dimensions: 4)
        #expect(throws: RemoteBackendError.http(service: .ollama, url: server.baseURL + "/api/embed", status: 500,
            message: "embedding failed")) { _ = try embedder.embed(["x"]) }
    }

    @Test func malformedLinesAreSkippedWhenTheStreamFinishes() async throws {
        let server = try Self.ollama(chatLines: [Self.piece("one"), "{not json", "", Self.piece(" two"), Self.doneLine])
        defer { server.stop() }
        let generator = try OllamaGenerator(baseURL: server.baseURL, model: "qwen")
        #expect(try await Self.collect(generator.generate([], options: SamplingOptions())) == ["one", " two"])
    }

    @Test func aStreamOfGarbageWithoutDoneIsReported() async throws {
        let server = try Self.ollama(chatLines: ["<html>proxy error</html>", Self.piece("partial")])
        defer { server.stop() }
        let generator = try OllamaGenerator(baseURL: server.baseURL, model: "qwen")
        var pieces: [String] = []
        do {
            for try await piece in generator.generate([], options: SamplingOptions()) { pieces.append(piece.text) }
            Issue.record("a stream without done was accepted")
        } catch let error as RemoteBackendError {
            guard case .malformedResponse(_, _, let detail) = error else {
                Issue.record("expected .malformedResponse, got \(error)")
                return
            }
            #expect(detail.contains("<html>proxy error</html>"))
            #expect(detail.contains("done"))
        }
        #expect(pieces == ["partial"])
    }

    @Test func anErrorLineMidStreamEndsTheStreamWithIt() async throws {
        let server = try Self.ollama(chatLines: [Self.piece("a"), #"{"error":"out of memory"}"#, Self.doneLine])
        defer { server.stop() }
        let generator = try OllamaGenerator(baseURL: server.baseURL, model: "qwen")
        await #expect(throws: RemoteBackendError.serverError(service: .ollama, url: server.baseURL + "/api/chat",
            message: "out of memory")) { _ = try await Self.collect(generator.generate([], options: SamplingOptions())) }
    }

    @Test func embeddingsAreBatchedKeptInOrderAndUnitLength() async throws {
        let server = try Self.ollama()
        defer { server.stop() }
        let embedder = try await OllamaEmbedder.connect(baseURL: server.baseURL, model: "embed-small", batchSize: 2)
        #expect(embedder.dimensions == 4)
        #expect(embedder.maxTokens == 512)
        let texts = ["alpha", "b", "gamma ray", "delta", "epsilon!"]
        let vectors = try embedder.embed(texts)
        #expect(Self.nearlyEqual(vectors, texts.map { Self.normalized(Self.rawVector($0)) }))
        for vector in vectors {
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        }
        let batches = server.requests.filter { $0.path == "/api/embed" }.map { $0.json?["input"] as? [String] ?? [] }
        #expect(batches == [["alpha", "b"], ["gamma ray", "delta"], ["epsilon!"]])
        #expect(try await embedder.embedAsync(texts) == vectors)
        #expect(try embedder.embed([]) == [])
    }

    @Test func embeddingsOfTheWrongSizeAreRejected() async throws {
        let server = try Self.ollama()
        defer { server.stop() }
        let embedder = try OllamaEmbedder(baseURL: server.baseURL, model: "embed", dimensions: 384)
        #expect(throws: RemoteBackendError.self) { _ = try embedder.embed(["x"]) }
    }

    @Test func silenceLongerThanTheIdleTimeoutFailsButSteadyStreamingDoesNot() async throws {
        // Pieces every 0.3 s for about 2.4 s in all, against a 2 s idle limit: the limit is per silence.
        let steady = try Self.ollama(
            chatLines: (0..<8).map { Self.piece("\($0)") } + [Self.doneLine], pause: 0.3)
        defer { steady.stop() }
        let patient = try OllamaGenerator(
            baseURL: steady.baseURL, model: "qwen", timeouts: RemoteTimeouts(connect: 5, idle: 2))
        #expect(try await Self.collect(patient.generate([], options: SamplingOptions())) == (0..<8).map { "\($0)" })

        let stalled = try Self.ollama(chatLines: [Self.piece("a"), Self.doneLine], pause: 3)
        defer { stalled.stop() }
        let impatient = try OllamaGenerator(
            baseURL: stalled.baseURL, model: "qwen", timeouts: RemoteTimeouts(connect: 5, idle: 0.5))
        do {
            _ = try await Self.collect(impatient.generate([], options: SamplingOptions()))
            Issue.record("a stalled stream did not time out")
        } catch let error as RemoteBackendError {
            guard case .timedOut = error else {
                Issue.record("expected .timedOut, got \(error)")
                return
            }
        }
    }

    @Test func aConsumerCanStopEarlyAndTheStreamEnds() async throws {
        let server = try Self.ollama(chatLines: (0..<20).map { Self.piece("\($0) ") } + [Self.doneLine], pause: 0.05)
        defer { server.stop() }
        let generator = try OllamaGenerator(baseURL: server.baseURL, model: "qwen")
        var taken: [String] = []
        for try await piece in generator.generate([], options: SamplingOptions()) {
            taken.append(piece.text)
            if taken.count == 2 { break }
        }
        #expect(taken == ["0 ", "1 "])
        // The client is usable again right away.
        let server2 = try Self.ollama(chatLines: [Self.piece("again"), Self.doneLine])
        defer { server2.stop() }
        let again = try OllamaGenerator(baseURL: server2.baseURL, model: "qwen")
        #expect(try await Self.collect(again.generate([], options: SamplingOptions())) == ["again"])
    }

    @Test func rejectsAURLThatIsNotHTTP() {
        #expect(throws: RemoteBackendError.invalidURL("localhost:11434")) {
            _ = try OllamaGenerator(baseURL: "localhost:11434", model: "m")
        }
    }
}
