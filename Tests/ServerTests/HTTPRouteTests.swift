import Foundation
import Inference
import Testing

@testable import Server

extension ServerSuite {
    /// The Ollama routes, the error responses and the hardening, driven over real HTTP against a server on
    /// 127.0.0.1 with the real SmolLM2 and MiniLM models.
    @Suite(.serialized)
    struct HTTPRouteTests {
        @Test func ollamaChatStreamsTheSameTextItReturnsWhole() async throws {
            try await withServer { _, client in
                let tags = try await client.get("/api/tags").json()
                let names = (tags["models"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
                #expect(names == [TestModels.chatModelName])
                let version = try await client.get("/api/version").json()
                #expect(version["version"] as? String == OllamaRoutes.version)

                let request: [String: Any] = [
                    "model": TestModels.chatModelName,
                    "messages": [["role": "user", "content": "Name three colours of the rainbow."]],
                    "options": ["num_predict": 24, "temperature": 0],
                ]
                var whole = request
                whole["stream"] = false
                let reply = try await client.post("/api/chat", json: whole)
                #expect(reply.status == 200)
                #expect(reply.headers["content-type"] == "application/json")
                let object = try reply.json()
                let message = try #require(object["message"] as? [String: Any])
                let content = try #require(message["content"] as? String)
                #expect(message["role"] as? String == "assistant")
                #expect(!content.isEmpty)
                #expect(object["done"] as? Bool == true)
                #expect(["stop", "length"].contains(object["done_reason"] as? String))
                #expect((object["eval_count"] as? Int ?? 0) > 0)
                #expect(object["model"] as? String == TestModels.chatModelName)
                #expect((object["created_at"] as? String)?.hasSuffix("Z") == true)

                // Streaming is the default; greedy decoding makes the pieces add up to the same text.
                let streamed = try await client.post("/api/chat", json: request)
                #expect(streamed.status == 200)
                #expect(streamed.headers["content-type"] == "application/x-ndjson")
                let lines = try streamed.lines()
                #expect(lines.count >= 2)
                #expect(lines.dropLast().allSatisfy { $0["done"] as? Bool == false })
                let last = try #require(lines.last)
                #expect(last["done"] as? Bool == true)
                #expect(last["done_reason"] as? String == object["done_reason"] as? String)
                let pieces = lines.compactMap { ($0["message"] as? [String: Any])?["content"] as? String }
                #expect(pieces.joined() == content)
            }
        }

        @Test func ollamaGenerateAndEmbed() async throws {
            let embedder = try TestModels.embedder()
            try await withServer(embedder: embedder) { _, client in
                let generated = try await client.post(
                    "/api/generate",
                    json: [
                        "model": TestModels.chatModelName + ":latest", "prompt": "Say hello.", "stream": false,
                        "options": ["num_predict": 8],
                    ])
                #expect(generated.status == 200)
                let object = try generated.json()
                #expect(!(object["response"] as? String ?? "").isEmpty)
                #expect(object["done"] as? Bool == true)

                // An empty prompt only loads the model.
                let load = try await client.post("/api/generate", json: ["model": TestModels.chatModelName, "stream": false])
                #expect(try load.json()["done_reason"] as? String == "load")

                let texts = ["tomatoes in the raised bed", "the meetup venue"]
                let embedded = try await client.post("/api/embed", json: ["model": "minilm-l6-v2", "input": texts])
                #expect(embedded.status == 200)
                let vectors = try #require(try embedded.json()["embeddings"] as? [[Double]])
                let direct = try embedder.embed(texts)
                #expect(vectors.count == 2)
                for (served, expected) in zip(vectors, direct) {
                    #expect(served.count == embedder.dimensions)
                    #expect(zip(served, expected).allSatisfy { abs($0 - Double($1)) < 1e-6 })
                }
                let single = try await client.post("/api/embed", json: ["input": "one text"]).json()
                #expect((single["embeddings"] as? [[Double]])?.count == 1)
            }
        }

        @Test func badRequestsGetJSONErrorsAndTheServerStaysUp() async throws {
            let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, maxBodyBytes: 64 * 1024)
            try await withServer(configuration: configuration) { _, client in
                // Malformed JSON: OpenAI-style error object on /v1, Ollama-style string on /api.
                let malformed = try await client.send("/v1/chat/completions", method: "POST", body: Data("{\"model\":".utf8))
                #expect(malformed.status == 400)
                let error = try #require(try malformed.json()["error"] as? [String: Any])
                #expect((error["message"] as? String)?.contains("not valid JSON") == true)
                let ollama = try await client.send("/api/chat", method: "POST", body: Data("[1,2".utf8))
                #expect(ollama.status == 400)
                #expect(try ollama.json()["error"] is String)

                let missing = try await client.post("/v1/chat/completions", json: ["model": TestModels.chatModelName])
                #expect(missing.status == 400)
                #expect((try missing.json()["error"] as? [String: Any])?["message"] as? String == "missing field 'messages'")

                let wrongType = try await client.post("/api/chat", json: ["messages": "hello"])
                #expect(wrongType.status == 400)

                let badRole = try await client.post(
                    "/v1/chat/completions", json: ["messages": [["role": "wizard", "content": "hi"]]])
                #expect(badRole.status == 400)

                let badTemperature = try await client.post(
                    "/v1/chat/completions",
                    json: ["messages": [["role": "user", "content": "hi"]], "temperature": -1])
                #expect(badTemperature.status == 400)

                let unknownModel = try await client.post(
                    "/v1/chat/completions", json: ["model": "gpt-9", "messages": [["role": "user", "content": "hi"]]])
                #expect(unknownModel.status == 404)
                #expect((try unknownModel.json()["error"] as? [String: Any])?["code"] as? String == "model_not_found")

                let unknownRoute = try await client.get("/v1/nothing-here")
                #expect(unknownRoute.status == 404)
                #expect(try unknownRoute.json()["error"] != nil)

                // 200 KB against a 64 KB limit, with and without a Content-Length the server can check first.
                let big = Data(repeating: UInt8(ascii: "a"), count: 200 * 1024)
                let tooLarge = try await client.send("/api/embed", method: "POST", body: big)
                #expect(tooLarge.status == 413)

                // No embedder configured: a clear 501, not a crash.
                let noEmbedder = try await client.post("/v1/embeddings", json: ["input": "x", "model": "m"])
                #expect(noEmbedder.status == 501)
                let noIndex = try await client.post("/v1/assist/search", json: ["query": "x"])
                #expect(noIndex.status == 501)

                // Still serving after all of that.
                #expect(try await client.get("/api/version").status == 200)
                #expect(try await client.get("/v1/models").status == 200)
            }
        }

        @Test func backendFailuresBecomeErrorsNotCrashes() async throws {
            // A model that fails to load is reported, and the next request tries again.
            let attempts = OrderLog()
            let failing: AssistServer.GeneratorProvider = { name in
                attempts.append(name)
                throw Unexpected("weights for \(name) are unreadable")
            }
            try await withServer(generator: failing) { _, client in
                for _ in 0..<2 {
                    let reply = try await client.post("/api/chat", json: ["messages": [["role": "user", "content": "hi"]]])
                    #expect(reply.status == 500)
                    #expect((try reply.json()["error"] as? String)?.contains("unreadable") == true)
                }
            }
            #expect(attempts.entries == [TestModels.chatModelName, TestModels.chatModelName])

            // A backend that is down: whole replies get 500, streams an in-band error after the headers.
            let down = try OllamaGenerator(baseURL: "http://127.0.0.1:1", model: "absent")
            try await withServer(generator: { _ in down }) { _, client in
                let messages = [["role": "user", "content": "hi"]]
                let whole = try await client.post("/v1/chat/completions", json: ["messages": messages])
                #expect(whole.status == 500)
                #expect((try whole.json()["error"] as? [String: Any])?["message"] is String)

                let ndjson = try await client.post("/api/chat", json: ["messages": messages])
                #expect(ndjson.status == 200)
                #expect(try ndjson.lines().last?["error"] is String)

                let events = try await client.post("/v1/chat/completions", json: ["messages": messages, "stream": true])
                #expect(events.status == 200)
                let dataLines = events.text.split(separator: "\n").filter { $0.hasPrefix("data: ") }
                #expect(dataLines.last?.contains("\"error\"") == true)
                #expect(!events.text.contains("[DONE]"))
                #expect(try await client.get("/api/version").status == 200)
            }
        }

        @Test func chunkedBodyOverTheLimitIs413() async throws {
            let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, maxBodyBytes: 1024)
            try await withServer(configuration: configuration) { running, client in
                let connection = try RawConnection(port: running.port)
                let chunk = String(repeating: "b", count: 4096)
                try connection.send(
                    "POST /api/embed HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n\(String(chunk.utf8.count, radix: 16))\r\n\(chunk)\r\n0\r\n\r\n")
                let reply = try connection.readResponse()
                #expect(reply.status == 413)
                #expect(try await client.get("/api/version").status == 200)
            }
        }

        @Test func tokenIsRequiredWhenConfigured() async throws {
            let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, token: "s3cret-token-for-tests")
            try await withServer(configuration: configuration) { _, client in
                var anonymous = client
                anonymous.token = nil
                let missing = try await anonymous.get("/v1/models")
                #expect(missing.status == 401)
                #expect(missing.headers["www-authenticate"] == "Bearer")
                var wrong = client
                wrong.token = "s3cret-token-for-test"
                #expect(try await wrong.get("/api/tags").status == 401)
                #expect(try await client.get("/v1/models").status == 200)
            }
        }

        @Test func nonLoopbackBindIsRefusedWithoutAToken() async throws {
            let exposed = ServerConfiguration(host: "0.0.0.0", port: 0)
            let server = AssistServer(
                configuration: exposed, generatorProvider: { _ in try TestModels.chatGenerator() },
                models: [TestModels.chatModelName], embedder: nil, retriever: nil)
            await #expect(throws: ServerError.nonLoopbackWithoutToken(host: "0.0.0.0")) {
                let running = try await server.start()
                await running.stop()
            }
            #expect(throws: ServerError.nonLoopbackWithoutToken(host: "192.168.1.20")) {
                try ServerConfiguration(host: "192.168.1.20").validate()
            }
            // With a token the same address is allowed (checked without binding it).
            try ServerConfiguration(host: "0.0.0.0", token: "t").validate()
            try ServerConfiguration(host: "::1").validate()
            try ServerConfiguration(host: "127.0.0.2").validate()
            try ServerConfiguration(host: "localhost").validate()
            #expect(throws: ServerError.invalidPort(70000)) { try ServerConfiguration(port: 70000).validate() }
            #expect(ServerConfiguration().host == "127.0.0.1")
            #expect(!LoopbackAddress.isLoopback(host: "127.0.0.1.example.org"))
            #expect(!LoopbackAddress.isLoopback(host: "0.0.0.0"))
            #expect(!LoopbackAddress.isLoopback(host: "128.0.0.1"))
        }

        @Test func foreignHostAndOriginAreRefused() async throws {
            try await withServer { running, client in
                let rebinding = try RawConnection(port: running.port)
                try rebinding.send("GET /v1/models HTTP/1.1\r\nHost: attacker.example:\(running.port)\r\n\r\n")
                #expect(try rebinding.readResponse().status == 403)

                let local = try RawConnection(port: running.port)
                try local.send("GET /v1/models HTTP/1.1\r\nHost: localhost:\(running.port)\r\n\r\n")
                #expect(try local.readResponse().status == 200)

                let page = try await client.send("/v1/models", method: "GET", body: nil, headers: ["Origin": "https://evil.example"])
                #expect(page.status == 403)
                #expect(page.headers["access-control-allow-origin"] == nil)
                let localPage = try await client.send(
                    "/v1/models", method: "GET", body: nil, headers: ["Origin": "http://localhost:3000"])
                #expect(localPage.status == 200)
                #expect(localPage.headers["access-control-allow-origin"] == nil)
            }
        }

        @Test func idleClientsAreDisconnectedAndTheServerStaysUp() async throws {
            let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, idleTimeoutSeconds: 0.5)
            try await withServer(configuration: configuration) { running, client in
                // Headers promise a body that never comes.
                let slow = try RawConnection(port: running.port, timeout: 30)
                try slow.send(
                    "POST /api/embed HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 100\r\n\r\n{\"input\":")
                #expect(slow.readToClose() != nil, "the server should close a connection that went idle mid-request")
                // A connection that never sends anything is closed too.
                let silent = try RawConnection(port: running.port, timeout: 30)
                #expect(silent.readToClose() != nil)
                #expect(try await client.get("/api/version").status == 200)
            }
        }
    }
}
