import Foundation
import GRDB
import Testing
@testable import Index
import Inference
import Ingest

/// Finds the models folder like the application does and the repository's SampleData.
enum ModelLocator {
    static func miniLM() throws -> URL {
        let env = ProcessInfo.processInfo.environment
        let models: URL
        if let dir = env["ASSIST_MODELS"], !dir.isEmpty {
            models = URL(fileURLWithPath: dir)
        } else if let home = env["ASSIST_HOME"], !home.isEmpty {
            models = URL(fileURLWithPath: home).appendingPathComponent("models")
        } else if let data = env["XDG_DATA_HOME"], !data.isEmpty {
            models = URL(fileURLWithPath: data).appendingPathComponent("assist/models")
        } else {
            models = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/assist/models")
        }
        let directory = models.appendingPathComponent("minilm-l6-v2")
        try #require(
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.safetensors").path),
            "MiniLM missing at \(directory.path): run `assist models pull minilm-l6-v2` or set ASSIST_MODELS")
        return directory
    }

    /// The independent evaluation set: notes and questions that are not SampleData.
    static var heldOut: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/HeldOut")
    }

    /// The mail-heavy evaluation set.
    static var heldOutMail: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/HeldOutMail")
    }

    /// The mailing-list evaluation set: two gzip pipermail archives and a few notes.
    static var heldOutList: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/HeldOutList")
    }

    static var sampleData: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SampleData")
    }
}

/// End to end with the real all-MiniLM-L6-v2 embedder over SampleData.
@Suite(.serialized) struct EmbeddedRetrievalTests {
    @Test func sampleDataHybridBeatsOrMatchesEachHalf() throws {
        let root = ModelLocator.sampleData
        let (store, embedder, report, scratch) = try indexed(root, ["notes", "inbox.mbox"])
        defer { withExtendedLifetime(scratch) {} }
        #expect(report.failed.isEmpty, "\(report.failed)")
        #expect(report.embedded == report.chunks)
        let status = try store.status()
        #expect(status.embedded == status.chunks)
        #expect(status.embeddingModel == embedder.modelID)

        // Both retrievers put the home-network note first for a plain question about it, and say so; a
        // single-mode search has nothing to agree with.
        let agreed = try store.search(SearchQuery(text: "Which Wi-Fi router do we have at home?", limit: 5))
        #expect(agreed.first?.path.hasSuffix("home-network.md") == true)
        #expect(agreed.first?.firstForEveryRetriever == true)
        #expect(agreed.filter { !$0.path.hasSuffix("home-network.md") }.allSatisfy { !$0.firstForEveryRetriever })
        #expect(try store.search(SearchQuery(text: "Which Wi-Fi router do we have at home?", limit: 5), mode: .bm25)
            .allSatisfy { !$0.firstForEveryRetriever })
        // No word of this query is in the index, so BM25 finds nothing and cannot agree with the vectors.
        let unmatched = try store.search(SearchQuery(text: "qwertyuiop zxcvbnmasdf", limit: 3))
        #expect(!unmatched.isEmpty)
        #expect(unmatched.allSatisfy { !$0.firstForEveryRetriever })

        // A paraphrase with no shared keyword is found by the vector half.
        let vectorHits = try store.search(SearchQuery(text: "which wireless access device is installed in our house", limit: 5), mode: .vector)
        #expect(vectorHits.contains { $0.path.hasSuffix("home-network.md") })

        let evaluation = try RetrievalEvaluation(
            store: store, sampleRoot: root.path, qaPath: root.appendingPathComponent("qa.jsonl").path)
        let result = try evaluation.run(now: ISO8601DateFormatter().date(from: "2026-10-31T12:00:00Z")!)
        let byMode = Dictionary(uniqueKeysWithValues: result.modes.map { ($0.mode, $0) })
        let hybrid = try #require(byMode[.hybrid])
        let bm25 = try #require(byMode[.bm25])
        let vector = try #require(byMode[.vector])
        print("retrieval recall@5 / MRR — bm25 \(bm25.recallAtK) / \(bm25.mrr), vector \(vector.recallAtK) / \(vector.mrr), hybrid \(hybrid.recallAtK) / \(hybrid.mrr); hybrid missed \(hybrid.missed)")
        #expect(hybrid.questions > 20)
        #expect(hybrid.recallAtK >= 0.7)
        #expect(hybrid.mrr >= 0.5)
        #expect(vector.recallAtK > 0.3)
        // Hybrid beats both halves on recall and MRR. Measured: hybrid 0.892 / 0.858, vectors 0.880 / 0.821,
        // BM25 0.833 / 0.805. Before a document's best chunk was corrected for its number of chunks
        // (`ScoreFusion.expectedMaximum`), q30's renovation note ("Deposit paid to Oakhaven: see mail", one of
        // five chunks) came before the mail that says how much, and hybrid trailed the vectors (0.827, 0.838).
        expectHybridBeatsEachHalf(result)
    }

    /// The same comparison on a second question set, independent of SampleData: 20 short notes of another
    /// invented person and 41 questions (Tests/IndexTests/Resources/HeldOut).
    @Test func heldOutSetHybridBeatsOrMatchesEachHalf() throws {
        let (evaluation, result) = try evaluated(ModelLocator.heldOut, ["notes"], documents: 20, now: "2026-11-20T12:00:00Z")
        #expect(evaluation.questions.count == 41)
        #expect(result.modes.first?.questions == 38)
        expectHybridBeatsEachHalf(result)
        // Fused per document, hybrid search puts a source of all held-out questions but one first (MRR
        // 0.987, vectors alone 0.967). The one is h34, the bee supplier's price, in a long beekeeping note
        // that now pays for its many chunks and comes second.
        let hybrid = try #require(result.modes.first { $0.mode == .hybrid })
        #expect(hybrid.firstSourceRanks.filter { $0.value != 1 }.count <= 1, "\(hybrid.firstSourceRanks.filter { $0.value != 1 })")
    }

    /// The third set: a mailbox of 80 messages in reply threads that quote each other, with facts that
    /// change over a thread, and 9 notes (Tests/IndexTests/Resources/HeldOutMail, written blind).
    @Test func heldOutMailSetHybridFindsAsMuchAsEitherHalf() throws {
        let (_, result) = try evaluated(
            ModelLocator.heldOutMail, ["notes", "archive.mbox"], documents: 89, now: "2026-09-01T12:00:00Z")
        #expect(result.modes.first?.questions == 36)
        // Measured here (200-token chunks): recall@5 / MRR hybrid 0.796 / 0.681, BM25 0.796 / 0.673,
        // vectors 0.731 / 0.685. Hybrid puts as many sources in the top five as BM25 and more than the
        // vectors. Its MRR trails the vectors' by under one question moving one place (1/36 × ½ ≈ 0.014):
        // questions that ask for the state "now" rank by date against one topical vote in a single mode but
        // against two in hybrid, and the vectors' own order is often already right.
        expectHybridBeatsEachHalf(result, mrrSlackAgainstVectors: 0.014)
        let hybrid = try #require(result.modes.first { $0.mode == .hybrid })
        #expect(hybrid.recallAtK >= 0.75)
    }

    /// The fourth set: a project mailing list's monthly archives as Mailman serves them (`.txt.gz`), with
    /// votes, patches, a digest and facts that move, and 6 notes (Tests/IndexTests/Resources/HeldOutList).
    /// Its labels were written blind and retrieval was not changed after its first run.
    @Test func heldOutListSetHybridBeatsEachHalf() throws {
        let (_, result) = try evaluated(
            ModelLocator.heldOutList, ["notes", "2026-September.txt.gz", "2026-October.txt.gz"], documents: 92,
            now: "2026-11-01T12:00:00Z")
        #expect(result.modes.first?.questions == 36)
        // First (blind) run, `assist eval` on 2026-11-26: recall@5 / MRR hybrid 0.722 / 0.827, BM25 0.708 /
        // 0.743, vectors 0.652 / 0.712. Here (200-token chunks): hybrid 0.722 / 0.813, BM25 0.708 / 0.771,
        // vectors 0.639 / 0.721.
        expectHybridBeatsEachHalf(result)
    }

    /// The question set in `root` (its qa.jsonl) run in every mode, as on `now`, over a fresh index of
    /// `items`, which must index `documents` documents without a failure.
    private func evaluated(
        _ root: URL, _ items: [String], documents: Int, now: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (evaluation: RetrievalEvaluation, result: RetrievalEvaluation.Report) {
        let (store, _, report, scratch) = try indexed(root, items)
        defer { withExtendedLifetime(scratch) {} }
        #expect(report.failed.isEmpty, "\(report.failed)", sourceLocation: sourceLocation)
        #expect(report.added == documents, sourceLocation: sourceLocation)
        let evaluation = try RetrievalEvaluation(
            store: store, sampleRoot: root.path, qaPath: root.appendingPathComponent("qa.jsonl").path)
        return (evaluation, try evaluation.run(now: try #require(ISO8601DateFormatter().date(from: now))))
    }

    /// A fresh index of `items` (paths below `root`) with the real MiniLM, chunked at 200 tokens. The
    /// scratch folder holding it lives as long as the caller keeps it.
    private func indexed(_ root: URL, _ items: [String]) throws
        -> (store: IndexStore, embedder: BertEmbedder, report: SyncReport, scratch: Scratch)
    {
        let embedder = try BertEmbedder(directory: try ModelLocator.miniLM())
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath, embedder: embedder)
        let options = SyncOptions(tokenCounter: TokenCounterOf(embedder: embedder), maxChunkTokens: 200)
        let report = try store.sync(items.map { root.appendingPathComponent($0).path }, options: options)
        return (store, embedder, report, scratch)
    }

    /// Hybrid at least as good as BM25 alone and as vectors alone, on recall@k and on MRR (within
    /// `mrrSlackAgainstVectors` of vectors alone).
    private func expectHybridBeatsEachHalf(
        _ result: RetrievalEvaluation.Report, mrrSlackAgainstVectors: Double = 0, mrrSlackAgainstBM25: Double = 0,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let byMode = Dictionary(uniqueKeysWithValues: result.modes.map { ($0.mode, $0) })
        guard let hybrid = byMode[.hybrid], let bm25 = byMode[.bm25], let vector = byMode[.vector] else {
            Issue.record("a mode is missing from \(result.modes.map(\.mode))", sourceLocation: sourceLocation)
            return
        }
        print("recall@\(result.k) / MRR — bm25 \(bm25.recallAtK) / \(bm25.mrr), vector \(vector.recallAtK) / \(vector.mrr), hybrid \(hybrid.recallAtK) / \(hybrid.mrr)")
        #expect(hybrid.recallAtK >= bm25.recallAtK, sourceLocation: sourceLocation)
        #expect(hybrid.recallAtK >= vector.recallAtK, sourceLocation: sourceLocation)
        #expect(hybrid.mrr >= bm25.mrr - mrrSlackAgainstBM25, sourceLocation: sourceLocation)
        #expect(hybrid.mrr >= vector.mrr - mrrSlackAgainstVectors, sourceLocation: sourceLocation)
    }

    @Test func unchangedChunksOfAnEditedOrMovedNoteKeepTheirVectors() throws {
        let embedder = try BertEmbedder(directory: try ModelLocator.miniLM())
        let scratch = try Scratch()
        let sections = (1...4).map { "## Part \($0)\n\n" + String(repeating: "Notes on topic \($0) with its own words. ", count: 30) }
        try scratch.write("notes/long.md", note(title: "Long", body: sections.joined(separator: "\n\n")))
        let store = try IndexStore(path: scratch.dbPath, embedder: embedder)
        let options = SyncOptions(tokenCounter: TokenCounterOf(embedder: embedder), maxChunkTokens: 200)
        let first = try store.sync([scratch.path("notes")], options: options)
        #expect(first.chunks >= 4 && first.embedded == first.chunks && first.vectorsReused == 0)

        var edited = sections
        edited[2] = "## Part 3\n\nRewritten: the third part now says something else entirely."
        try scratch.write("notes/long.md", note(title: "Long", body: edited.joined(separator: "\n\n")))
        try scratch.touch("notes/long.md", seconds: 1_800_000_000)
        let edit = try store.sync([scratch.path("notes")], options: options)
        #expect(edit.updated == 1)
        #expect(edit.embedded >= 1 && edit.embedded < edit.chunks, "only the changed part is embedded again")
        #expect(edit.embedded + edit.vectorsReused == edit.chunks)

        try FileManager.default.createDirectory(atPath: scratch.path("notes/archive"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: scratch.path("notes/long.md"), toPath: scratch.path("notes/archive/long.md"))
        let move = try store.sync([scratch.path("notes")], options: options)
        #expect(move.moved == 1 && move.added == 0 && move.removed == 0)
        #expect(move.chunks == 0 && move.embedded == 0, "a moved note keeps its chunks and vectors")

        // A note titled by its file name is a different document under a new name: replaced, and its
        // chunks embedded again, since the title is part of what is embedded.
        try scratch.write("notes/untitled.md", "Plain words about the garden shed, with no heading at all.\n")
        #expect(try store.sync([scratch.path("notes")], options: options).added == 1)
        try FileManager.default.moveItem(atPath: scratch.path("notes/untitled.md"), toPath: scratch.path("notes/shed.md"))
        let renamed = try store.sync([scratch.path("notes")], options: options)
        #expect(renamed.moved == 0 && renamed.added == 1 && renamed.removed == 1)
        let titles = try store.search(SearchQuery(text: "garden shed")).map(\.title)
        #expect(titles.first == "shed" && !titles.contains("untitled"))

        // A reused vector is the one the model gives that chunk's text.
        let rows = try store.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.text, c.heading, d.title, v.vector FROM chunks c JOIN documents d ON d.id = c.document_id
                JOIN vectors v ON v.chunk_id = c.id
                """)
        }
        #expect(rows.count == (try store.count("SELECT count(*) FROM chunks")))
        #expect(edit.vectorsReused > 0)
        for row in rows {
            let stored = VectorBlob.decode(row["vector"])
            let fresh = try embedder.embed([SyncRun.embeddingText(title: row["title"], heading: row["heading"], text: row["text"])])[0]
            #expect(zip(stored, fresh).allSatisfy { abs($0 - $1) < 1e-5 })
        }
    }

    @Test func changingTheModelReembedsVisibly() throws {
        let directory = try ModelLocator.miniLM()
        let scratch = try Scratch()
        try scratch.write("notes/a.md", note(title: "Router", body: "The router sits in the hallway cupboard."))
        try scratch.write("notes/b.md", note(title: "Garden", body: "Tomatoes go in the raised bed by the fence."))
        let first = try IndexStore(path: scratch.dbPath, embedder: try BertEmbedder(directory: directory))
        let initial = try first.sync([scratch.path("notes")])
        #expect(initial.embedded == initial.chunks)
        #expect(initial.notices.isEmpty)
        #expect(try first.sync([scratch.path("notes")]).embedded == 0)
        let hit = try first.search(SearchQuery(text: "where is the wifi box", limit: 1), mode: .vector)
        #expect(hit.first?.title == "Router")

        // Same weights under another id: every chunk is re-embedded, and the report says so.
        let renamed = try IndexStore(path: scratch.dbPath, embedder: try BertEmbedder(directory: directory, name: "minilm-l6-v2-renamed"))
        let second = try renamed.sync([scratch.path("notes")])
        #expect(second.notices.contains { $0.contains("re-embedding") })
        #expect(second.embedded == initial.chunks)
        let status = try renamed.status()
        #expect(status.embeddingModel?.hasPrefix("minilm-l6-v2-renamed") == true)
        #expect(status.embedded == status.chunks)
    }
}

/// Counts tokens with the embedder's own tokenizer, so chunks never exceed what it reads.
struct TokenCounterOf: TokenCounting {
    let embedder: any Embedder
    func countTokens(_ text: String) -> Int { embedder.countTokens(text) }
}
