import Foundation
import Testing
@testable import Index
import Ingest

@Suite struct FullTextQueryTests {
    @Test func hostileSyntaxBecomesQuotedTerms() {
        #expect(FullTextQuery.sanitize(#"what's "NEAR(" the C++ AND-gate*?"#) == #""c" OR "gate""#)
        #expect(FullTextQuery.sanitize("kiln AND glaze OR NOT title:secret^2") == #""kiln" OR "glaze" OR "title" OR "secret" OR "2""#)
        #expect(FullTextQuery.sanitize(#"""""#) == nil)
        #expect(FullTextQuery.sanitize("*") == nil)
        #expect(FullTextQuery.sanitize("who is it") == #""who" OR "is" OR "it""#)
        #expect(FullTextQuery.sanitize("Café Zürich") == #""café" OR "zürich""#)
    }

    @Test func searchNeverFailsOnUserSyntax() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        try scratch.write("notes/c.md", note(title: "Gates", body: "The AND gate and the NEAR field sensor."))
        _ = try store.sync([scratch.path("notes")])
        for text in [#"""#, "AND", "OR OR", "*", "NEAR(", "NEAR(a b", "title:", "^gate", "(((", "a\"b", "-", "gate*", "🙂"] {
            _ = try store.search(SearchQuery(text: text))
        }
        #expect(try store.search(SearchQuery(text: "NEAR( gate*")).first?.title == "Gates")
    }
}

@Suite struct TemporalIntentTests {
    // Wednesday 2026-06-17 12:00 UTC
    let now = Date(timeIntervalSince1970: 1_781_697_600)

    func day(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.date(from: text)!
    }

    @Test func recencyWords() {
        for question in ["What is the latest plan?", "current router", "the most recent budget", "newest version"] {
            let intent = TemporalIntent.parse(question, now: now)
            #expect(intent.prefersRecent, "\(question)")
            #expect(!intent.hasRange)
        }
        #expect(TemporalIntent.parse("What is the latest plan?", now: now).remainder == "What is the plan?")
        #expect(!TemporalIntent.parse("What did Ana say about the kiln?", now: now).prefersRecent)
    }

    @Test func questionsAboutThePresentStateOrTheOutcomePreferRecentDocuments() {
        let ride = TemporalIntent.parse("When is the charity ride now?", now: now)
        #expect(ride.prefersRecent)
        #expect(ride.remainder == "When is the charity ride")
        let garage = TemporalIntent.parse("What did we end up paying the garage?", now: now)
        #expect(garage.prefersRecent)
        #expect(garage.remainder == "What did we paying the garage?")
        #expect(TemporalIntent.parse("What did they decide in the end?", now: now).prefersRecent)
        // "still" asks about the present but may be the note's own word too, so it stays a search word.
        let pending = TemporalIntent.parse("Which bars do I still have to practise?", now: now)
        #expect(pending.prefersRecent)
        #expect(pending.remainder.contains("still"))
        #expect(!pending.prefersEarliest)
    }

    @Test func questionsAboutTheOriginalPlanPreferEarlyDocuments() {
        for question in [
            "What date was the ride originally planned for?", "When was my talk first scheduled?",
            "What did the agent propose at first?", "What was initially agreed?",
            "What rent increase did the letting agent first propose?", "When did we first meet Ana?",
        ] {
            let intent = TemporalIntent.parse(question, now: now)
            #expect(intent.prefersEarliest, "\(question)")
            #expect(!intent.prefersRecent, "\(question)")
        }
        #expect(TemporalIntent.parse("When was my talk first scheduled?", now: now).remainder == "When was my talk scheduled?")
        for question in [
            "Until when is my first-aid certificate valid?", "Is it the first Thursday of the month?",
            "When did we have our first meeting?", "What did I buy on the first day?",
        ] {
            #expect(!TemporalIntent.parse(question, now: now).prefersEarliest, "\(question)")
        }
    }

    @Test func ranges() {
        let yesterday = TemporalIntent.parse("what happened yesterday", now: now)
        #expect(yesterday.since == day("2026-06-16"))
        #expect(yesterday.until! < day("2026-06-17"))
        #expect(yesterday.remainder == "what happened")

        let lastWeek = TemporalIntent.parse("mail from Bo last week", now: now)
        #expect(lastWeek.since == day("2026-06-10"))
        #expect(lastWeek.until == now)
        #expect(lastWeek.remainder == "mail from Bo")

        let lastMonth = TemporalIntent.parse("decisions last month", now: now)
        #expect(lastMonth.since == day("2026-05-17"))

        let march = TemporalIntent.parse("what did we decide in March?", now: now)
        #expect(march.since == day("2026-03-01"))
        #expect(march.until! < day("2026-04-01") && march.until! > day("2026-03-31"))
        #expect(march.remainder == "what did we decide")
        #expect(march.rangeIsSoft)
        #expect(march.calendarWords == ["march"])
        #expect(!TemporalIntent.parse("mail last week", now: now).rangeIsSoft)

        let september = TemporalIntent.parse("the offsite in September", now: now)
        #expect(september.since == day("2025-09-01"), "a month after now means last year's")

        let june2026 = TemporalIntent.parse("trips in June 2026", now: now)
        #expect(june2026.since == day("2026-06-01"))
        #expect(june2026.until! > day("2026-06-30"))

        let sinceMay = TemporalIntent.parse("changes since May", now: now)
        #expect(sinceMay.since == day("2026-05-01"))
        #expect(sinceMay.until == nil)

        let beforeApril = TemporalIntent.parse("notes before April", now: now)
        #expect(beforeApril.until! < day("2026-04-01"))
        #expect(beforeApril.since == nil)
        #expect(beforeApril.rangeIsSoft, "what must be done before April may be written after it")

        // When something holds, not when it was written: the June mail announcing July's rent must stay.
        let rent = TemporalIntent.parse("What is our rent from July 2026?", now: now)
        #expect(!rent.hasRange)
        #expect(rent.calendarWords == ["july", "2026"])
        #expect(!TemporalIntent.parse("Until when is the offer valid, until March?", now: now).hasRange)

        let year = TemporalIntent.parse("taxes in 2025", now: now)
        #expect(year.since == day("2025-01-01"))

        let iso = TemporalIntent.parse("meeting on 2026-03-14", now: now)
        #expect(iso.since == day("2026-03-14"))

        #expect(!TemporalIntent.parse("you may go in peace", now: now).hasRange)
    }
}

@Suite struct FusionTests {
    /// Plain ranked lists, best first, as RRF's rank tables.
    private func rrf(_ lists: [[Int64]]) -> [(id: Int64, score: Double)] {
        RankFusion.fuse(ranked: lists.map { RankFusion.competitionRanks($0.map { [$0] }) })
    }

    @Test func reciprocalRankFusionRewardsAgreement() {
        let fused = rrf([[1, 2, 3], [3, 2, 4]])
        // 3: 1/63 + 1/61 edges out 2: 1/62 + 1/62; both beat items found by one list only.
        #expect(fused.map(\.id) == [3, 2, 1, 4])
        #expect(abs(fused[0].score - (1 / 63.0 + 1 / 61.0)) < 1e-12)
        #expect(abs(fused[2].score - 1 / 61.0) < 1e-12)
    }

    @Test func tiedItemsShareTheirTiersRank() {
        // The second list cannot tell 1 and 2 apart, so the first list's order between them stands; 3 is
        // behind two items there, so it ranks third, not second.
        let fused = RankFusion.fuse(ranked: [[[2], [1], [3]], [[1, 2], [3]]].map(RankFusion.competitionRanks))
        #expect(fused.map(\.id) == [2, 1, 3])
        #expect(abs(fused[0].score - (1 / 61.0 + 1 / 61.0)) < 1e-12)
        #expect(abs(fused[2].score - (1 / 63.0 + 1 / 63.0)) < 1e-12)
    }

    @Test func tiesBreakBySmallerID() {
        #expect(rrf([[7, 5], [5, 7]]).map(\.id) == [5, 7])
        #expect(rrf([[9], [4]]).map(\.id) == [4, 9])
        // Unless the caller names an order for ties.
        #expect(RankFusion.fuse(ranked: [[7: 1, 5: 2], [5: 1, 7: 2]], tieOrder: [7: 0, 5: 1]).map(\.id) == [7, 5])
    }

    @Test func scoreFusionKeepsTheGapThatRanksLose() {
        // BM25 finds chunk 5 far ahead of the rest; the vectors barely prefer chunk 2 over it.
        let bm25 = ScoredList(items: [(5, 10.0), (2, 3.0), (3, 2.9), (4, 2.8)])
        let vector = ScoredList(items: [(2, 0.60), (5, 0.58), (3, 0.57), (4, 0.56)])
        // Ranks see a tie (first and second in each list) and break it by id...
        #expect(rrf([bm25.items.map(\.id), vector.items.map(\.id)]).first?.id == 2)
        // ...standardized scores see the large gap on one side and the small one on the other.
        let fused = ScoreFusion.fuse([bm25, vector])
        #expect(fused.map(\.id) == [5, 2, 3, 4])
        #expect(fused.allSatisfy { $0.score > 0 && $0.score < 1 })
    }

    @Test func scoreFusionCreditsMissingCandidatesWithTheListsLowestScore() {
        // 9 is only a vector candidate: for BM25 it counts as the last kept score, not as nothing.
        let bm25 = ScoredList(items: [(1, 8.0), (2, 4.0), (3, 2.0)])
        let vector = ScoredList(items: [(9, 0.9), (1, 0.5), (2, 0.45)])
        let fused = ScoreFusion.fuse([bm25, vector])
        #expect(Set(fused.map(\.id)) == [1, 2, 3, 9])
        #expect(fused.first?.id == 1)
        #expect(fused.firstIndex { $0.id == 9 }! < fused.firstIndex { $0.id == 3 }!)
    }

    @Test func documentFusionAddsUpEvidenceFromDifferentChunksOfOneDocument() {
        // Document 100 is BM25's best through chunk 1 and the vectors' best through chunk 2; document 200's
        // chunk 3 is second in both lists. Chunk by chunk, 1 and 2 each miss one retriever and 3 wins.
        let bm25 = ScoredList(items: [(1, 10.0), (3, 8.0), (4, 2.0), (5, 1.5), (6, 1.0)])
        let vector = ScoredList(items: [(2, 0.90), (3, 0.85), (4, 0.30), (5, 0.25), (6, 0.20)])
        let documentOf: [Int64: Int64] = [1: 100, 2: 100, 3: 200, 4: 300, 5: 400, 6: 500]
        #expect(ScoreFusion.fuse([bm25, vector]).first?.id == 3)
        // Per document, 100 is first in both retrievers, so both of its chunks come before chunk 3, in
        // their chunk-level fused order, carrying the document's score.
        let fused = ScoreFusion.fuseByDocument([bm25, vector], documentOf: documentOf)
        let chunkOrder = ScoreFusion.fuse([bm25, vector]).map(\.id).filter { $0 == 1 || $0 == 2 }
        #expect(fused.map(\.id) == chunkOrder + [3, 4, 5, 6])
        #expect(fused[0].score == fused[1].score)
        #expect(fused[1].score > fused[2].score)
        #expect(fused.allSatisfy { $0.score > 0 && $0.score < 1 })
    }

    @Test func documentFusionOfOneListRanksDocumentsByTheirBestChunk() {
        // Chunks 7 and 8 belong to document 20, whose best chunk (7) beats document 10's only chunk.
        let single = ScoredList(items: [(7, 5.0), (9, 4.0), (8, 1.0)])
        let fused = ScoreFusion.fuseByDocument([single], documentOf: [7: 20, 8: 20, 9: 10])
        #expect(fused.map(\.id) == [7, 8, 9])
        // A chunk whose document is unknown (deleted since the search began) is left out.
        #expect(ScoreFusion.fuseByDocument([single], documentOf: [7: 20, 9: 10]).map(\.id) == [7, 9])
        #expect(ScoreFusion.fuseByDocument([], documentOf: [:]).isEmpty)
    }

    @Test func aDocumentsBestChunkOwesLessToItsNumberOfChunks() {
        // Document 20 is a note of ten chunks whose best chunk (7) barely beats mail 10's only chunk (9):
        // with ten tries, a best that high is expected by chance, so the mail comes first.
        let list = ScoredList(items: [(7, 5.0), (9, 4.9), (8, 1.0), (11, 0.5), (12, 0.4)])
        let documentOf: [Int64: Int64] = [7: 20, 8: 20, 9: 10, 11: 30, 12: 40]
        #expect(ScoreFusion.fuseByDocument([list], documentOf: documentOf).map(\.id) == [7, 8, 9, 11, 12])
        let corrected = ScoreFusion.fuseByDocument([list], documentOf: documentOf, chunkCounts: [20: 10, 10: 1])
        #expect(corrected.map(\.id) == [9, 7, 8, 11, 12])
        // A clear winner stays first however many chunks it has.
        let clear = ScoredList(items: [(7, 9.0), (9, 4.9), (8, 1.0), (11, 0.5), (12, 0.4)])
        #expect(ScoreFusion.fuseByDocument([clear], documentOf: documentOf, chunkCounts: [20: 10]).first?.id == 7)
    }

    @Test func expectedMaximumOfNormalDraws() {
        // Exact values: 2 draws 0.564, 10 draws 1.539, 100 draws 2.508; Blom's approximation is within 0.03.
        #expect(ScoreFusion.expectedMaximum(of: 1) == 0)
        #expect(abs(ScoreFusion.expectedMaximum(of: 2) - 0.564) < 0.03)
        #expect(abs(ScoreFusion.expectedMaximum(of: 10) - 1.539) < 0.03)
        #expect(abs(ScoreFusion.expectedMaximum(of: 100) - 2.508) < 0.03)
        #expect(abs(ScoreFusion.normalQuantile(0.975) - 1.95996) < 1e-4)
    }

    @Test func scoreFusionOfOneListKeepsItsOrder() {
        let single = ScoredList(items: [(4, 0.9), (8, 0.7), (6, 0.2)])
        #expect(ScoreFusion.fuse([single]).map(\.id) == [4, 8, 6])
        // One hit (no spread to standardize) still comes back.
        #expect(ScoreFusion.fuse([ScoredList(items: [(3, 1.5)])]).map(\.id) == [3])
        #expect(ScoreFusion.fuse([]).isEmpty)
    }
}

@Suite struct StoreSearchTests {
    func populated() throws -> (Scratch, IndexStore) {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        try scratch.write("notes/work/kiln.md", note(title: "Kiln plan", tags: ["pottery", "project/studio"], date: "2026-03-02", body: "We will buy the electric kiln in spring."))
        try scratch.write("notes/home/kiln-old.md", note(title: "Old kiln", tags: ["archive"], date: "2025-01-10", body: "The old gas kiln was sold."))
        try scratch.write("notes/work/kiln-new.md", note(title: "Kiln update", tags: ["pottery"], date: "2026-06-01", body: "Decision changed: we lease a kiln instead of buying."))
        let mbox = mboxMessage(id: "k1@example.org", from: "Bo Chen <bo@example.org>", subject: "Kiln delivery", date: "Mon, 08 Jun 2026 09:00:00 +0000", body: "The kiln arrives on Friday.")
            + mboxMessage(id: "k2@example.org", subject: "Kiln invoice", date: "Tue, 10 Mar 2026 09:00:00 +0000", body: "Invoice for the kiln deposit attached.")
        try scratch.write("mail/inbox.mbox", mbox)
        let report = try store.sync([scratch.path("notes"), scratch.path("mail/inbox.mbox")])
        #expect(report.failed.isEmpty)
        return (scratch, store)
    }

    @Test func filters() throws {
        let (scratch, store) = try populated()
        #expect(try store.search(SearchQuery(text: "kiln")).count == 5)
        #expect(try store.search(SearchQuery(text: "kiln", kind: .mail)).allSatisfy { $0.kind == .mail })
        #expect(try store.search(SearchQuery(text: "kiln", kind: .note)).count == 3)
        let formatter = ISO8601DateFormatter()
        let since = formatter.date(from: "2026-05-01T00:00:00Z")!
        #expect(Set(try store.search(SearchQuery(text: "kiln", since: since)).map(\.title)) == ["Kiln update", "Kiln delivery"])
        let until = formatter.date(from: "2025-12-31T00:00:00Z")!
        #expect(try store.search(SearchQuery(text: "kiln", until: until)).map(\.title) == ["Old kiln"])
        #expect(try store.search(SearchQuery(text: "kiln", from: "bo@example")).map(\.messageID) == ["k1@example.org"])
        #expect(try store.search(SearchQuery(text: "kiln", pathContains: "/home/")).map(\.title) == ["Old kiln"])
        #expect(Set(try store.search(SearchQuery(text: "kiln", tag: "pottery")).map(\.title)) == ["Kiln plan", "Kiln update"])
        #expect(try store.search(SearchQuery(text: "kiln", tag: "project")).map(\.title) == ["Kiln plan"])
        #expect(try store.search(SearchQuery(text: "kiln", pathContains: "100%_")).isEmpty)
        _ = scratch
    }

    @Test func eachDocumentsBestChunkComesBeforeSecondChunks() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        // A long glacier note splits into many chunks that all say "glacier" often; a short one says it once.
        let paragraph = "The glacier walk starts at the glacier hut; glacier boots and a glacier guide are needed."
        let long = (1...12).map { "## Day \($0)\n\n" + Array(repeating: paragraph, count: 4).joined(separator: " ") }
        try scratch.write("notes/long.md", note(title: "Glacier trip", body: long.joined(separator: "\n\n")))
        try scratch.write("notes/short.md", note(title: "Packing", body: "Sun cream, a warm hat, and the map of the glacier valley."))
        #expect(try store.sync([scratch.path("notes")], options: SyncOptions(maxChunkTokens: 60)).failed.isEmpty)
        let hits = try store.search(SearchQuery(text: "glacier", limit: 5), mode: .bm25)
        #expect(hits.count == 5)
        #expect(hits.first?.title == "Glacier trip")
        // Without the document-first pass the long note's chunks would fill all five places.
        #expect(hits[1].title == "Packing")
        #expect(hits.dropFirst(2).allSatisfy { $0.title == "Glacier trip" })
    }

    @Test func temporalWordsFilterAndBoost() throws {
        let (_, store) = try populated()
        let now = ISO8601DateFormatter().date(from: "2026-06-12T12:00:00Z")!
        let lastWeek = try store.search(SearchQuery(text: "kiln last week"), mode: .hybrid, now: now)
        #expect(lastWeek.map(\.title) == ["Kiln delivery"])
        let latest = try store.search(SearchQuery(text: "latest kiln decision"), mode: .hybrid, now: now)
        #expect(latest.first?.title == "Kiln update")
        // Nothing in the range: the range becomes a preference, not an empty answer.
        let empty = try store.search(SearchQuery(text: "kiln since 2019-01-01 before 2019-02-01"), mode: .hybrid, now: now)
        #expect(!empty.isEmpty)
        // A calendar month ranks its documents first but keeps the others.
        let march = try store.search(SearchQuery(text: "kiln in March"), mode: .hybrid, now: now)
        #expect(march.count == 5)
        #expect(Set(march.prefix(2).map(\.title)) == ["Kiln plan", "Kiln invoice"])
    }

    @Test func aDatedSectionOfALogCountsByItsOwnDate() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        // One log note, dated by its first entry; its newer entry says less about kilns than the older one.
        try scratch.write("notes/kiln-log.md", note(title: "Kiln log", date: "2026-01-05", body: """
            ## 2026-01-05 — Gas kiln

            The gas kiln stays; kiln repairs booked, kiln shelves ordered.

            ## 2026-06-20 — Lease

            We lease an electric kiln from July.
            """))
        try scratch.write("notes/glaze.md", note(title: "Kiln glazes", date: "2026-03-01", body: "Kiln glaze tests: the kiln runs hot."))
        #expect(try store.sync([scratch.path("notes")]).failed.isEmpty)
        let now = ISO8601DateFormatter().date(from: "2026-11-01T12:00:00Z")!
        let june = try store.search(SearchQuery(text: "kiln in June"), mode: .bm25, now: now)
        #expect(june.first?.heading?.hasPrefix("2026-06-20") == true, "\(june.map(\.heading))")
        let latest = try store.search(SearchQuery(text: "latest kiln"), mode: .bm25, now: now).map(\.heading)
        let newer = latest.firstIndex { $0?.hasPrefix("2026-06-20") == true }
        let older = latest.firstIndex { $0?.hasPrefix("2026-01-05") == true }
        #expect(newer != nil && older != nil && newer! < older!, "\(latest)")
    }

    @Test func aLongNoteCountsAsOneDocumentAgainstTheTimeWords() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        // The old plan fills many chunks that all say "kiln"; two shorter notes are newer.
        let section = "The kiln plan: the gas kiln, kiln shelves, kiln wash, and a kiln vent for the kiln room."
        let long = (1...6).map { "## Part \($0)\n\n" + Array(repeating: section, count: 3).joined(separator: " ") }
        try scratch.write("notes/plan.md", note(title: "Kiln plan", date: "2026-01-10", body: long.joined(separator: "\n\n")))
        try scratch.write("notes/lease.md", note(title: "Kiln lease", date: "2026-06-01", body: "We lease an electric kiln from July."))
        try scratch.write("notes/studio.md", note(title: "Studio", date: "2026-03-01", body: "Studio chores for spring: shelves, the wheel, clay orders, and the kiln."))
        #expect(try store.sync([scratch.path("notes")], options: SyncOptions(maxChunkTokens: 60)).failed.isEmpty)
        let now = ISO8601DateFormatter().date(from: "2026-11-01T12:00:00Z")!
        let topical = try store.search(SearchQuery(text: "kiln"), mode: .bm25, now: now).map(\.title)
        #expect(Array(topical.prefix(3)) == ["Kiln plan", "Kiln lease", "Studio"], "\(topical)")
        #expect(topical.filter { $0 == "Kiln plan" }.count > 2)
        // By document the newest note is second by topic and first by date, the plan first and last: the
        // lease leads. Counted by chunks, the plan's chunks would put the lease seven places down.
        let latest = try store.search(SearchQuery(text: "latest kiln"), mode: .bm25, now: now).map(\.title)
        #expect(latest.first == "Kiln lease", "\(latest)")
    }

    @Test func aNoteDatedOnlyByItsFileDoesNotCountAsNew() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        // The undated note was written (copied, cloned) just now and says more about kilns; the dated one
        // holds the newer decision.
        try scratch.write("notes/kiln.md", "# Kiln\n\nThe kiln plan: buy the gas kiln, kiln shelves, kiln wash.\n")
        try scratch.write("notes/kiln-lease.md", note(title: "Kiln lease", date: "2026-06-01", body: "We lease an electric kiln instead."))
        #expect(try store.sync([scratch.path("notes")]).failed.isEmpty)
        let now = Date().addingTimeInterval(86_400)
        let plain = try store.search(SearchQuery(text: "kiln"), mode: .bm25, now: now)
        #expect(plain.first?.title == "Kiln")
        let undated = try #require(plain.first)
        #expect(undated.dateIsFileTime && undated.date != nil && undated.contentDate == nil)
        // Had its file's time counted, the undated note would come first by topic and by date. It gets no
        // date advantage: the dated note scores at least as high (the two lists' ranks mirror each other).
        let latest = try store.search(SearchQuery(text: "latest kiln"), mode: .bm25, now: now)
        #expect(Set(latest.map(\.title)) == ["Kiln lease", "Kiln"])
        let lease = try #require(latest.first { $0.title == "Kiln lease" }), undatedHit = try #require(latest.first { $0.title == "Kiln" })
        #expect(lease.score >= undatedHit.score)
        #expect(lease.contentDate == lease.date && undatedHit.contentDate == nil)
    }

    @Test func hitsCarryCitations() throws {
        let (scratch, store) = try populated()
        let hit = try #require(try store.search(SearchQuery(text: "lease")).first)
        #expect(hit.path == scratch.path("notes/work/kiln-new.md"))
        #expect(hit.kind == .note)
        #expect(hit.lineStart >= 1 && hit.lineEnd >= hit.lineStart)
        #expect(hit.date != nil)
        #expect(hit.text.contains("lease"))
        let mail = try #require(try store.search(SearchQuery(text: "Friday arrives", kind: .mail)).first)
        #expect(mail.messageID == "k1@example.org")
        #expect(mail.from?.contains("bo@example.org") == true)
        #expect(mail.path == scratch.path("mail/inbox.mbox"))
        let doc = try #require(try store.document(id: mail.documentID))
        let chunks = try store.chunks(documentID: doc.id)
        #expect(chunks.contains { $0.id == mail.chunkID })
    }

    @Test func neighbourChunksCompleteACutThought() throws {
        #expect(IndexStore.endsMidThought("and then we decided to"))
        #expect(!IndexStore.endsMidThought("We decided."))
        #expect(IndexStore.joinRemovingOverlap("we decided to buy the", "to buy the kiln.") == "we decided to buy the kiln.")
        #expect(IndexStore.joinRemovingOverlap("first part", "second part.") == "first part\nsecond part.")
    }

    @Test func searchesDuringASyncSeeConsistentData() async throws {
        let (scratch, store) = try populated()
        for index in 0..<300 {
            try scratch.write("more/n\(index).md", note(title: "Extra \(index)", body: "Extra note \(index) mentions the kiln schedule."))
        }
        let writer = Task.detached { try store.sync([scratch.path("more")]) }
        var observed = 0
        for _ in 0..<50 {
            let hits = try store.search(SearchQuery(text: "kiln", limit: 400))
            #expect(hits.count >= 5)
            observed = max(observed, hits.count)
        }
        let report = try await writer.value
        #expect(report.added == 300)
        #expect(try store.status().notes == 303)
        _ = observed
    }

    @Test func secondSyncFailsFastWhileOneHoldsTheLock() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        do {
            let held = try SyncLock(databasePath: store.path)
            do {
                _ = try store.sync([scratch.root.path])
                Issue.record("sync ran while the lock was held")
            } catch let error as StoreError {
                #expect(error == .indexBusy(path: store.path, pid: getpid()))
                #expect(error.description.contains("pid \(getpid())"))
            }
            withExtendedLifetime(held) {}
        }
        // Released with its owner: the next sync runs.
        _ = try store.sync([scratch.root.path])
    }
}

@Suite struct TextNormalizerTests {
    @Test func quotesAndWhitespaceDoNotMakeTextDifferent() {
        let original = "The kiln arrives  on Friday.\nBring gloves."
        let quoted = "> The Kiln arrives on Friday.\n>> Bring   gloves.\n"
        #expect(TextNormalizer.comparable(original) == "the kiln arrives on friday. bring gloves.")
        #expect(TextNormalizer.comparable(quoted) == TextNormalizer.comparable(original))
        #expect(TextNormalizer.comparable("a > b") == "a > b")
        #expect(TextNormalizer.comparable("Ünïcode  stays") == "Ünïcode stays")
    }
}

@Suite struct JSONListTests {
    @Test func roundTripsAwkwardStrings() {
        let lists: [[String]] = [
            [], ["a@b.example"], ["with \"quotes\"", "back\\slash", "slash/ok", "tab\tnew\nline", "é ü 😀", "\u{01}"],
        ]
        for list in lists {
            #expect(JSONList.decode(JSONList.encode(list)) == list)
        }
        #expect(JSONList.decode(#"[ "x" , "\ud83d\ude00" ]"#) == ["x", "😀"])
        #expect(JSONList.decode("not json") == [])
        #expect(JSONList.decode(#"["unterminated"#) == [])
        #expect(JSONList.decode(nil) == [])
    }
}
