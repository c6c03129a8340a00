import Foundation
import Testing

/// `assist status --json` keeps the shape `CLI.md` promises, before the first index and after it.
@Suite struct StatusTests {
    @Test func statusJSONBeforeAndAfterTheFirstIndex() throws {
        let scratch = try Scratch()
        let cli = try AssistCLI(scratch)
        let before = try cli.run(["status", "--json", "--db", scratch.db])
        #expect(before.status == 0, "\(before.summary)")
        let empty = try before.json()
        #expect(empty["db"] as? String == scratch.db)
        #expect(empty["documents"] as? [String: Int] == ["notes": 0, "mail": 0])
        #expect(empty["chunks"] as? Int == 0)
        #expect(empty["last_index"] is NSNull && empty["embedding_model"] is NSNull)
        #expect(empty["models"] is [Any] && empty["chat_model"] is String)
        #expect(!FileManager.default.fileExists(atPath: scratch.db), "status must not create the index")

        try scratch.write("notes/boat.md", text: "# Boat\n\nThe boat is moored at pier 9.\n")
        let index = try cli.run(["index", "--no-embed", "--db", scratch.db, scratch.path("notes")])
        #expect(index.status == 0, "\(index.summary)")
        let after = try cli.run(["status", "--json", "--db", scratch.db]).json()
        #expect(after["documents"] as? [String: Int] == ["notes": 1, "mail": 0])
        #expect((after["chunks"] as? Int ?? 0) > 0)
        let lastIndex = after["last_index"] as? String
        #expect(lastIndex.flatMap { ISO8601DateFormatter().date(from: $0) } != nil, "last_index: \(lastIndex ?? "nil")")
        #expect(after["archive_copies"] == nil, "listed only when there are copies")

        // An index built without embeddings is searched by keywords, with or without the embedding model.
        let noModels = ["ASSIST_MODELS": scratch.path("no-models")]
        let search = try cli.run(["search", "--json", "--db", scratch.db, "boat moored"], environment: noModels)
        #expect(search.status == 0, "\(search.summary)")
        let hits = try search.json()["results"] as? [[String: Any]]
        #expect(hits?.first?["path"] as? String == scratch.path("notes/boat.md"))
        #expect(after["warnings"] == nil, "listed only when there are some")
    }

    @Test func notesIndexedWithWarningsStayListedUntilFixed() throws {
        let scratch = try Scratch()
        let cli = try AssistCLI(scratch)
        try scratch.write("notes/meeting.md", text: "---\ntitle: Meeting: Q3 plan\n---\nThe kayak budget is agreed.\n")
        try scratch.write("notes/boat.md", text: "# Boat\n\nThe boat is moored at pier 9.\n")
        #expect(try cli.run(["index", "--no-embed", "--db", scratch.db, scratch.path("notes")]).status == 0)
        // A second run reads nothing, so only status can still tell.
        #expect(try cli.run(["index", "--no-embed", "--db", scratch.db, scratch.path("notes")]).status == 0)
        let warnings = try cli.run(["status", "--json", "--db", scratch.db]).json()["warnings"] as? [[String: String]] ?? []
        #expect(warnings.count == 1)
        #expect(warnings.first?["path"] == scratch.path("notes/meeting.md"))
        #expect(warnings.first?["warning"]?.contains("front matter is not valid YAML (line 2)") == true, "\(warnings)")
        let text = try cli.run(["status", "--db", scratch.db])
        #expect(text.stdout.contains("indexed with warnings: 1"), "\(text.summary)")

        try scratch.write("notes/meeting.md", text: "---\ntitle: \"Meeting: Q3 plan\"\n---\nThe kayak budget is agreed.\n")
        #expect(try cli.run(["index", "--no-embed", "--db", scratch.db, scratch.path("notes")]).status == 0)
        #expect(try cli.run(["status", "--json", "--db", scratch.db]).json()["warnings"] == nil)
    }
}
