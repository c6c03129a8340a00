import Assistant
import Foundation
import Index
import Inference
import Testing

@testable import Server

extension ServerSuite {
    /// `/v1/assist/search` and `/v1/assist/ask` over a real index built from generated notes and mail.
    @Suite(.serialized)
    struct AssistRouteTests {
        @Test func searchReturnsCitableHitsAndChecksFilters() async throws {
            let scratch = try Scratch()
            let store = try makeIndex(in: scratch)
            try await withServer(embedder: try TestModels.embedder(), retriever: store) { _, client in
                let reply = try await client.post("/v1/assist/search", json: ["query": "tomato seedlings raised bed", "limit": 3])
                #expect(reply.status == 200)
                let results = try #require(try reply.json()["results"] as? [[String: Any]])
                #expect(!results.isEmpty && results.count <= 3)
                let top = try #require(results.first)
                #expect((top["path"] as? String)?.hasSuffix("notes/garden.md") == true)
                #expect(top["kind"] as? String == "note")
                #expect((top["line_start"] as? Int ?? 0) >= 1)
                #expect((top["line_end"] as? Int ?? 0) >= top["line_start"] as? Int ?? 0)
                #expect((top["text"] as? String)?.contains("tomato") == true)
                #expect(top["subject"] as? String == "Garden plan")
                #expect(top.keys.contains("message_id") && top.keys.contains("heading") && top.keys.contains("score"))

                let mail = try await client.post(
                    "/v1/assist/search", json: ["query": "meetup venue", "source": "mail", "from": "ana@example.org"])
                let mailResults = try #require(try mail.json()["results"] as? [[String: Any]])
                #expect(!mailResults.isEmpty)
                #expect(mailResults.allSatisfy { $0["kind"] as? String == "mail" })
                #expect(mailResults.first?["message_id"] as? String == "venue-1@example.org")
                #expect((mailResults.first?["date"] as? String)?.hasPrefix("2026-03-03") == true)

                let dated = try await client.post(
                    "/v1/assist/search", json: ["query": "brake pads", "since": "2026-02-10", "until": "2026-02-10"])
                let datedResults = try #require(try dated.json()["results"] as? [[String: Any]])
                #expect(datedResults.allSatisfy { ($0["path"] as? String)?.hasSuffix("bike.md") == true })

                for bad in [["query": "x", "source": "fax"], ["query": "x", "since": "last tuesday"], ["query": ""],
                    ["query": "x", "limit": 0], ["query": "x", "since": "2026-03-02", "until": "2026-03-01"]] as [[String: Any]]
                {
                    let refused = try await client.post("/v1/assist/search", json: bad)
                    #expect(refused.status == 400, "\(bad)")
                    #expect((try refused.json()["error"] as? [String: Any])?["message"] is String)
                }
            }
        }

        /// A workspace from flags only (no config file of this machine), over the test models.
        func workspace(db: String) throws -> Workspace {
            var environment = ProcessInfo.processInfo.environment
            environment["XDG_CONFIG_HOME"] = FileManager.default.temporaryDirectory
                .appendingPathComponent("assist-no-config-\(UUID().uuidString)").path
            return try Workspace.load(
                flags: [
                    .db: db, .modelsDir: TestModels.directory, .chatBackend: "builtin",
                    .chatModel: TestModels.chatModelName, .embedBackend: "builtin", .embedModel: "minilm-l6-v2",
                ],
                environment: environment)
        }

        @Test func workspaceWiringServesModelsSearchAndEmbeddings() async throws {
            let scratch = try Scratch()
            let store = try makeIndex(in: scratch)
            let (server, notices) = await AssistServer.make(
                workspace: try workspace(db: store.path), host: "127.0.0.1", port: 0)
            #expect(notices.isEmpty, "\(notices)")
            let running = try await server.start()
            let client = HTTPClient(base: running.baseURL)
            do {
                let models = try await client.get("/v1/models").json()
                #expect((models["data"] as? [[String: Any]])?.first?["id"] as? String == TestModels.chatModelName)
                let search = try await client.post("/v1/assist/search", json: ["query": "projector", "limit": 1])
                let results = try #require(try search.json()["results"] as? [[String: Any]])
                #expect(results.first?["message_id"] as? String == "venue-2@example.org")
                let embedded = try await client.post("/api/embed", json: ["input": ["a", "b", "c"]])
                #expect((try embedded.json()["embeddings"] as? [[Double]])?.count == 3)
            } catch {
                await running.stop()
                throw error
            }
            await running.stop()

            // No index yet: the server still starts, and says what is off.
            let (bare, bareNotices) = await AssistServer.make(
                workspace: try workspace(db: scratch.path("missing/index.sqlite")), host: "127.0.0.1", port: 0)
            #expect(bareNotices.count == 1)
            #expect(bareNotices.first?.contains("search and ask are off") == true)
            let bareRunning = try await bare.start()
            let bareSearch = try await HTTPClient(base: bareRunning.baseURL).post("/v1/assist/search", json: ["query": "x"])
            await bareRunning.stop()
            #expect(bareSearch.status == 501)
        }

        @Test func askAnswersInTheCLIShape() async throws {
            let scratch = try Scratch()
            let store = try makeIndex(in: scratch)
            try await withServer(embedder: try TestModels.embedder(), retriever: store) { _, client in
                let reply = try await client.post(
                    "/v1/assist/ask", json: ["question": "Where will the spring meetup be held?", "source": "mail"])
                #expect(reply.status == 200, "\(reply.text)")
                let answer = try reply.json()
                #expect(answer["answer"] is String)
                #expect(answer["found"] is Bool)
                #expect(answer["citations"] is [Any])
                #expect(answer["model"] as? String == (try TestModels.chatGenerator()).modelID)
                #expect((answer["seconds"] as? Double ?? -1) >= 0)
                if answer["found"] as? Bool == true {
                    let citations = try #require(answer["citations"] as? [[String: Any]])
                    #expect(citations.allSatisfy { $0["n"] is Int && $0["path"] is String })
                }

                let streamed = try await client.post(
                    "/v1/assist/ask", json: ["question": "How often should the chain be oiled?", "stream": true])
                #expect(streamed.status == 200)
                let events = try streamed.lines()
                #expect(events.first?["event"] as? String == "retrieved")
                #expect(events.last?["event"] as? String == "finished")
                let result = try #require(events.last?["result"] as? [String: Any])
                let tokens = events.filter { $0["event"] as? String == "token" }.compactMap { $0["text"] as? String }
                #expect(!tokens.isEmpty)
                #expect(result["answer"] is String)

                let empty = try await client.post("/v1/assist/ask", json: ["question": "  "])
                #expect(empty.status == 400)
            }
        }
    }
}
