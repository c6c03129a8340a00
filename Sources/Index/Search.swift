import Foundation
import GRDB
import Ingest

/// Which retrievers a search uses. `hybrid` fuses BM25 and vectors; the single modes exist to measure
/// each half (see `RetrievalEvaluation`). Without an embedder, `hybrid` is BM25 alone.
public enum SearchMode: String, Sendable, CaseIterable, Codable {
    case hybrid
    case bm25
    case vector
}

/// One retriever's candidates, best first, with the retriever's own scores (BM25 relevance, cosine).
struct ScoredList {
    var items: [(id: Int64, score: Double)]
    /// The score of a candidate this retriever did not return: the last one kept. A retriever cut at its
    /// pool size only tells us such a candidate scored at most that. (BM25 gives a chunk without any
    /// query word 0, but standardized over a few strong matches that 0 would sit many deviations down
    /// and let one retriever veto everything the other found.)
    var missingScore: Double { items.last?.score ?? 0 }

    /// Every id any of `lists` returned, once, in the order first seen.
    static func candidates(of lists: [ScoredList]) -> [Int64] {
        var ids: [Int64] = []
        var seen = Set<Int64>()
        for list in lists { for item in list.items where seen.insert(item.id).inserted { ids.append(item.id) } }
        return ids
    }
}

/// Relative score fusion: each retriever's scores become z-scores over its own candidate pool, and a
/// candidate's fused score is their weighted mean.
///
/// Why scores and not ranks: RRF throws away how far apart two candidates are. When BM25 finds one chunk
/// holding three rare words of the question and then a long tail of single common-word matches, the gap
/// between its first and second hit is large, and a chunk the vectors rank a little lower should not
/// overtake it; RRF treats the gap like any other. Raw BM25 and cosine live on different scales, so each
/// list is standardized first: z = (score − mean) / standard deviation, which (unlike min–max) does not
/// hinge on the single worst candidate that happened to make the pool. Both retrievers get equal weight;
/// nothing tells us to trust one more than the other on unseen questions.
enum ScoreFusion {
    /// Fused scores, best first; ties broken by the smaller id so results are reproducible.
    static func fuse(_ lists: [ScoredList], weights: [Double]? = nil) -> [(id: Int64, score: Double)] {
        let standardized = lists.map(standardize)
        let ids = ScoredList.candidates(of: lists)
        let totalWeight = lists.indices.reduce(0.0) { $0 + weight(weights, $1) }
        guard totalWeight > 0 else { return [] }
        let fused = ids.map { id -> (id: Int64, score: Double) in
            var sum = 0.0
            for (index, table) in standardized.enumerated() {
                sum += weight(weights, index) * (table.scores[id] ?? table.missing)
            }
            // The logistic keeps the order and reports a score in (0, 1), 0.5 being an average candidate
            // of this query: callers treat scores as non-negative, higher is better.
            return (id: id, score: 1 / (1 + exp(-sum / totalWeight)))
        }
        return fused.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
    }

    /// Document-level fusion: documents are ranked by fusing, per retriever, the score of the document's
    /// best chunk; chunks of one document keep their chunk-level fused order (`fuse`). Every chunk of a
    /// document gets the document's fused score, its order inside the document decides among them.
    ///
    /// Why documents: a question asks about a note or a message, and chunks are only where we cut it. BM25
    /// often likes one chunk of a note (the one repeating the question's words) and the vectors another (the
    /// one saying the same thing in other words); chunk by chunk, each of them counts once with a missing
    /// score from the other retriever, and a document matched well by both loses to one matched by a single
    /// chunk both happen to like. Per document, both retrievers' evidence adds up. The pools are the
    /// retrievers' chunk pools, so a document takes part as soon as one of its chunks is a candidate, and a
    /// document absent from one retriever's pool scores its last kept document there, as with chunks.
    /// `documentOf` maps chunk ids to document ids; chunks it does not know (gone since the search began)
    /// are left out. `chunkCounts` gives each document's number of chunks, for `bestChunkPerDocument`'s
    /// correction; a document it leaves out counts as one chunk.
    static func fuseByDocument(
        _ lists: [ScoredList], documentOf: [Int64: Int64], chunkCounts: [Int64: Int] = [:]
    ) -> [(id: Int64, score: Double)] {
        let chunkOrder = fuse(lists)
        let documentScores = Dictionary(
            fuse(lists.map { bestChunkPerDocument($0, documentOf: documentOf, chunkCounts: chunkCounts) })
                .map { ($0.id, $0.score) },
            uniquingKeysWith: max)
        var position: [Int64: Int] = [:]
        for (index, item) in chunkOrder.enumerated() { position[item.id] = index }
        let ranked = chunkOrder.compactMap { item -> (id: Int64, score: Double)? in
            guard let document = documentOf[item.id], let score = documentScores[document] else { return nil }
            return (id: item.id, score: score)
        }
        return ranked.sorted {
            $0.score != $1.score ? $0.score > $1.score : (position[$0.id] ?? 0) < (position[$1.id] ?? 0)
        }
    }

    /// A chunk list as a document list: each document with its best chunk's score, less what that best
    /// owes to the document's number of chunks, best first.
    ///
    /// A note cut into ten chunks has ten tries at the question and a one-chunk mail has one, so the
    /// note's best chunk is expected to score higher by chance alone: the expected maximum of n draws
    /// grows with n. That share is taken off, measured in the list's own spread: the expected maximum of
    /// n standard normal draws (`expectedMaximum`), times `sameDocumentDiscount`, as chunks of one
    /// document are not independent draws. Without it, a long note's passing mention beat the message
    /// that holds the answer (SampleData's renovation note, "Deposit paid to Oakhaven: see mail", before
    /// the mail that says how much).
    private static func bestChunkPerDocument(
        _ list: ScoredList, documentOf: [Int64: Int64], chunkCounts: [Int64: Int]
    ) -> ScoredList {
        var best: [Int64: Double] = [:]
        for item in list.items {
            guard let document = documentOf[item.id] else { continue }
            best[document] = max(best[document] ?? -.infinity, item.score)
        }
        let spread = meanAndDeviation(list.items.map(\.score)).deviation
        if spread > 0 {
            for (document, score) in best {
                let chances = chunkCounts[document] ?? 1
                if chances > 1 { best[document] = score - sameDocumentDiscount * expectedMaximum(of: chances) * spread }
            }
        }
        return ScoredList(items: best.map { (id: $0.key, score: $0.value) }.sorted {
            $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id
        })
    }

    /// How much of the independent-draws correction applies to chunks of one document. For n draws that
    /// correlate by ρ, the expected maximum is √(1 − ρ) times that of independent ones; across the four
    /// evaluation sets' questions, a chunk's similarity correlates with its document's other chunks by
    /// 0.64–0.71 (√(1 − ρ) ≈ 0.55–0.6). 0.5 measured best of 0.25, 0.5 and 0.57 (the last cost
    /// HeldOutList's recall); see README, "Retrieval quality".
    static let sameDocumentDiscount = 0.5

    /// The expected largest of `count` independent standard normal draws, by Blom's approximation:
    /// the normal quantile at (n − 0.375) / (n + 0.25), within 0.03 of the exact value from two draws on.
    /// One draw has nothing to correct: 0.
    static func expectedMaximum(of count: Int) -> Double {
        guard count > 1 else { return 0 }
        let n = Double(count)
        return normalQuantile((n - 0.375) / (n + 0.25))
    }

    /// The x with Φ(x) = p, by bisection on Φ(x) = erfc(−x / √2) / 2: a few dozen documents per search
    /// need it, and bisection needs no table of coefficients.
    static func normalQuantile(_ p: Double) -> Double {
        var low = -10.0, high = 10.0
        for _ in 0..<64 {
            let middle = (low + high) / 2
            if erfc(-middle / 2.0.squareRoot()) / 2 < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }

    /// The mean and the (population) standard deviation of `values`; both 0 for none.
    private static func meanAndDeviation(_ values: [Double]) -> (mean: Double, deviation: Double) {
        guard !values.isEmpty else { return (0, 0) }
        let mean = values.reduce(0, +) / Double(values.count)
        return (mean, (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot())
    }

    private static func weight(_ weights: [Double]?, _ index: Int) -> Double {
        weights.flatMap { index < $0.count ? $0[index] : nil } ?? 1
    }

    /// z-scores of a list and of its missing score. A list whose scores are all equal (one hit, or ties)
    /// says only "these matched": members get 1, everyone else 0.
    private static func standardize(_ list: ScoredList) -> (scores: [Int64: Double], missing: Double) {
        guard !list.items.isEmpty else { return ([:], 0) }
        let (mean, deviation) = meanAndDeviation(list.items.map(\.score))
        guard deviation > 1e-12 else {
            return (Dictionary(list.items.map { ($0.id, 1.0) }, uniquingKeysWith: max), 0)
        }
        let scores = Dictionary(list.items.map { ($0.id, ($0.score - mean) / deviation) }, uniquingKeysWith: max)
        return (scores, (list.missingScore - mean) / deviation)
    }
}

/// Reciprocal-rank fusion: each ranked list gives an item 1 / (k + rank), rank from 1. Used where only an
/// order exists (recency, a preferred date range) to combine it with the topical order; k = 60 is the
/// value from the original RRF paper and keeps one list's top hit from drowning the other list.
public enum RankFusion {
    public static let k = 60.0

    /// The rank of every item of a tiered list: 1 + the number of items in earlier tiers, so a list that
    /// cannot tell a tier's items apart (documents of the same date) leaves their order to the other lists.
    public static func competitionRanks(_ tiers: [[Int64]]) -> [Int64: Int] {
        var ranks: [Int64: Int] = [:]
        var rank = 1
        for tier in tiers {
            for id in tier where ranks[id] == nil { ranks[id] = rank }
            rank += tier.count
        }
        return ranks
    }

    /// Fused scores, best first, for lists that give each item its rank (from 1); an item a list leaves out
    /// gets nothing from it. Ties go to the item with the smaller position in `tieOrder`, then to the
    /// smaller id, so results are reproducible.
    public static func fuse(
        ranked lists: [[Int64: Int]], weights: [Double]? = nil, tieOrder: [Int64: Int] = [:]
    ) -> [(id: Int64, score: Double)] {
        var scores: [Int64: Double] = [:]
        for (index, ranks) in lists.enumerated() {
            let weight = weights.flatMap { index < $0.count ? $0[index] : nil } ?? 1
            for (id, rank) in ranks { scores[id, default: 0] += weight / (k + Double(rank)) }
        }
        return scores.map { (id: $0.key, score: $0.value) }.sorted { a, b in
            if a.score != b.score { return a.score > b.score }
            let l = tieOrder[a.id] ?? Int.max, r = tieOrder[b.id] ?? Int.max
            return l != r ? l < r : a.id < b.id
        }
    }
}

extension IndexStore {
    /// Hybrid search (`Retriever`).
    public func search(_ query: SearchQuery) throws -> [SearchHit] {
        try search(query, mode: .hybrid)
    }

    /// Searches with the given retrievers.
    ///
    /// The question's time words are read first (`TemporalIntent`): a relative range ("last week",
    /// "since May") becomes a date filter unless the query sets one (and if nothing matches inside it, a
    /// preference instead); a calendar range ("in October") ranks chunks dated inside it first without
    /// excluding others, since it may describe the content; "latest/current/most recent" adds recency as a
    /// ranked list to the fusion. Those two rank a chunk by the date it speaks for (a dated log's section
    /// by its heading). BM25 and vector candidates are fused by their
    /// standardized scores, per document, each document's best chunk corrected for how many chunks it
    /// has (`ScoreFusion.fuseByDocument`), filtered, ordered so each
    /// document's best chunk comes before any second chunk, stripped of near-duplicates (same text, or mail
    /// quoting a better hit), and hits that stop mid-thought are joined with the next chunk of their
    /// document.
    public func search(_ query: SearchQuery, mode: SearchMode, now: Date = Date()) throws -> [SearchHit] {
        guard query.limit > 0 else { return [] }
        let intent = TemporalIntent.parse(query.text, now: now)
        let remainder = ([intent.remainder] + intent.calendarWords).joined(separator: " ")
        let text = FullTextQuery.terms(in: intent.remainder).isEmpty ? query.text : remainder
        var filters = SearchFilters(query)
        let rangeFromQuestion = query.since == nil && query.until == nil && intent.hasRange
        if rangeFromQuestion && intent.rangeIsSoft {
            filters.preferredRange = (intent.since, intent.until)
            return try rankedHits(text: text, filters: filters, mode: mode, limit: query.limit, dateOrder: DateOrder(intent))
        }
        if rangeFromQuestion {
            filters.since = intent.since
            filters.until = intent.until
        }
        var hits = try rankedHits(text: text, filters: filters, mode: mode, limit: query.limit, dateOrder: DateOrder(intent))
        if hits.isEmpty && rangeFromQuestion {
            var relaxed = SearchFilters(query)
            relaxed.preferredRange = (intent.since, intent.until)
            hits = try rankedHits(text: text, filters: relaxed, mode: mode, limit: query.limit, dateOrder: DateOrder(intent))
        }
        return hits
    }

    /// Which documents a question's time words prefer, when it asks for a state of things.
    private enum DateOrder {
        case newestFirst, oldestFirst

        init?(_ intent: TemporalIntent) {
            if intent.prefersRecent == intent.prefersEarliest { return nil }
            self = intent.prefersRecent ? .newestFirst : .oldestFirst
        }
    }

    private func rankedHits(text: String, filters: SearchFilters, mode: SearchMode, limit: Int, dateOrder: DateOrder?) throws -> [SearchHit] {
        let poolSize = max(limit * 5, 50)
        var retrieved: [ScoredList] = []
        if mode != .vector {
            retrieved.append(try bm25Candidates(text: text, filters: filters, limit: poolSize))
        }
        var vectors: VectorCandidates?
        if mode != .bm25, let found = try vectorCandidates(text: text, filters: filters, limit: poolSize) {
            retrieved.append(found.list)
            vectors = found
        }
        let candidates = ScoredList.candidates(of: retrieved)
        guard !candidates.isEmpty else { return [] }
        var rows = try candidateRows(candidates)
        let documentOf = rows.mapValues(\.documentID)
        let chunkCounts = Dictionary(rows.values.map { ($0.documentID, $0.documentChunks) }, uniquingKeysWith: max)
        let scored = ScoreFusion.fuseByDocument(retrieved, documentOf: documentOf, chunkCounts: chunkCounts)
        let topical = scored.map(\.id)
        guard !topical.isEmpty else { return [] }
        func inDateOrder(_ order: DateOrder, _ chunkDate: [Int64: Double]) -> (Int64, Int64) -> Bool {
            { a, b in
                // Undated documents go last either way: nothing says they are new or old.
                let l = chunkDate[a], r = chunkDate[b]
                switch (l, r) {
                case let (l?, r?) where l != r: return order == .newestFirst ? l > r : l < r
                case (_?, nil): return true
                case (nil, _?): return false
                default: return a < b
                }
            }
        }
        // Time orders exist only as ranks, so they join the topical order by RRF. The topical order
        // stands for every retriever fused into it and weighs as much as they did as separate lists.
        // They rank only the topical head, the chunks of the `limit` best documents: a date says which
        // of the relevant documents to prefer, so the time words reorder what would have been shown
        // without them and never lift a barely related chunk from deep in the pool into the results.
        // (Counting chunks instead would let one long note fill the head and leave the newer documents
        // that the question asks for outside it.)
        //
        // The topical order joins as document ranks: every chunk of the n-th document has rank n. A long
        // note's chunks fill consecutive places in the topical order, and counting them would push every
        // later document down by that many ranks, which the time words could then not make up for. (Inside
        // a document, its chunks' topical order still breaks ties below.)
        var documentRank: [Int64: Int] = [:]
        var topicalRanks: [Int64: Int] = [:]
        for id in topical {
            guard let document = documentOf[id] else { continue }
            if documentRank[document] == nil { documentRank[document] = documentRank.count + 1 }
            topicalRanks[id] = documentRank[document]
        }
        var lists = [topicalRanks]
        var weights = [Double(max(1, retrieved.count))]
        let head = topical.filter { (topicalRanks[$0] ?? .max) <= limit }
        // The date each head chunk speaks for (`SearchHit.contentDate`), read only when the time words
        // need it. Chunks without one (a note whose only date is its file's) rank last by date.
        let chunkDate: [Int64: Double] = dateOrder == nil && filters.preferredRange == nil ? [:] : head.reduce(into: [:]) {
            guard let row = rows[$1] else { return }
            $0[$1] = SearchHit.contentDate(
                heading: row.heading, date: row.date.map(Date.init(timeIntervalSince1970:)), dateIsFileTime: row.dateIsFileTime
            )?.timeIntervalSince1970
        }
        if let dateOrder {
            // Recency (or its reverse) as one more ranked list: newer ranks higher, and chunks of one date
            // share a rank (notes without a date in them carry their file's time, often the same for many).
            var tiers: [[Int64]] = []
            for id in head.sorted(by: inDateOrder(dateOrder, chunkDate)) {
                if let last = tiers.last?.last, chunkDate[last] == chunkDate[id] {
                    tiers[tiers.count - 1].append(id)
                } else {
                    tiers.append([id])
                }
            }
            lists.append(RankFusion.competitionRanks(tiers))
            weights.append(1)
        }
        if filters.preferredRange != nil {
            // Only documents dated inside the range earn this list's score, so they rise clearly above
            // equally relevant documents outside it. Inside the range they keep their topical order: a
            // question about March has no reason to prefer the end of March.
            lists.append(RankFusion.competitionRanks(head.filter { filters.inPreferredRange(chunkDate[$0]) }.map { [$0] }))
            weights.append(1)
        }
        // Ties keep the topical order, which also keeps a document's chunks in their own order.
        let fused = lists.count == 1 ? scored : RankFusion.fuse(
            ranked: lists, weights: weights,
            tieOrder: Dictionary(topical.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: min))

        // Documents first, then more of them: the best chunk of each document is listed before any
        // document's second chunk, so one long note cannot fill the first results with its own pieces
        // and push every other source out of sight. Further chunks still follow in fused order.
        var kept: [CandidateRow] = []
        var seenHashes = Set<String>()
        var keptComparable: [String] = []
        var listedDocuments = Set<Int64>()
        var laterChunks: [(id: Int64, score: Double)] = []
        func keep(_ id: Int64, _ score: Double) {
            guard var row = rows[id] else { return }
            guard seenHashes.insert(row.textHash).inserted else { return }
            let comparable = TextNormalizer.comparable(row.text)
            if comparable.count >= 40, keptComparable.contains(where: { $0.contains(comparable) }) { return }
            row.score = score
            kept.append(row)
            keptComparable.append(comparable)
        }
        for (id, score) in fused where kept.count < limit {
            guard let document = rows[id]?.documentID else { continue }
            if listedDocuments.insert(document).inserted { keep(id, score) } else { laterChunks.append((id, score)) }
        }
        for (id, score) in laterChunks where kept.count < limit { keep(id, score) }
        rows.removeAll()
        // Agreement needs every retriever to have found something: BM25 finding no word of the question
        // agrees with nothing.
        let firstDocuments = retrieved.map { $0.items.first.flatMap { documentOf[$0.id] } }
        let agreedDocument = retrieved.count > 1 && Set(firstDocuments).count == 1 ? firstDocuments[0] : nil
        return try kept.map { row in
            var hit = try joinNeighbor(row)
            hit.similarity = vectors?.similarity(of: row.chunkID)
            hit.firstForEveryRetriever = row.documentID == agreedDocument
            return hit
        }
    }

    /// BM25 candidates with their relevance (FTS5's bm25() negated, so higher is better).
    private func bm25Candidates(text: String, filters: SearchFilters, limit: Int) throws -> ScoredList {
        guard let match = FullTextQuery.sanitize(text) else { return ScoredList(items: []) }
        let (clause, arguments) = filters.sql()
        let rows = try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT chunk_fts.rowid, bm25(chunk_fts, 1.0, 2.0, 1.5) FROM chunk_fts
                    JOIN chunks c ON c.id = chunk_fts.rowid JOIN documents d ON d.id = c.document_id
                    WHERE chunk_fts MATCH ? \(clause)
                    ORDER BY bm25(chunk_fts, 1.0, 2.0, 1.5), chunk_fts.rowid LIMIT ?
                    """,
                arguments: StatementArguments([match]) + arguments + [limit])
        }
        return ScoredList(items: rows.map { (id: $0[0] as Int64, score: -($0[1] as Double)) })
    }

    /// The vector half of a search: the nearest chunks, and the query and matrix to measure any other.
    private struct VectorCandidates {
        var list: ScoredList
        var query: [Float]
        var matrix: VectorMatrix

        func similarity(of chunkID: Int64) -> Double? {
            if let scored = list.items.first(where: { $0.id == chunkID }) { return scored.score }
            return matrix.cosine(of: chunkID, to: query).map(Double.init)
        }
    }

    /// Nearest chunks by cosine, or nil when there is no embedder or no vector for its model yet.
    private func vectorCandidates(text: String, filters: SearchFilters, limit: Int) throws -> VectorCandidates? {
        guard let embedder else { return nil }
        guard let matrix = try currentMatrix(model: embedder.modelID, dimensions: embedder.dimensions), matrix.count > 0 else {
            return nil
        }
        let vectors: [[Float]]
        do {
            vectors = try embedder.embed([text])
        } catch {
            throw StoreError.embedding(detail: "\(error)")
        }
        guard let queryVector = vectors.first, queryVector.count == matrix.dimensions else {
            throw StoreError.embedding(detail: "\(embedder.modelID) returned no \(matrix.dimensions)-number vector for the query")
        }
        let list = ScoredList(items: try nearestChunks(to: queryVector, in: matrix, filters: filters, limit: limit)
            .map { (id: $0.chunkID, score: Double($0.score)) })
        return VectorCandidates(list: list, query: queryVector, matrix: matrix)
    }

    /// The chunks whose stored vectors (of `model`) are closest to `vector`, best first, honouring the
    /// query's filters. The vector search half of `search`, usable with a vector computed elsewhere.
    public func nearestChunks(
        to vector: [Float], model: String, query: SearchQuery = SearchQuery(text: "")
    ) throws -> [(chunkID: Int64, score: Float)] {
        guard let matrix = try currentMatrix(model: model, dimensions: vector.count) else { return [] }
        return try nearestChunks(to: vector, in: matrix, filters: SearchFilters(query), limit: query.limit)
    }

    private func nearestChunks(
        to vector: [Float], in matrix: VectorMatrix, filters: SearchFilters, limit: Int
    ) throws -> [(chunkID: Int64, score: Float)] {
        var allowed: [Bool]?
        if filters.isRestrictive {
            let (clause, arguments) = filters.sql()
            var mask = [Bool](repeating: false, count: matrix.count)
            try read { db in
                let ids = try Int64.fetchCursor(
                    db, sql: "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE 1 \(clause)", arguments: arguments)
                while let id = try ids.next() {
                    if let row = matrix.row(of: id) { mask[row] = true }
                }
            }
            allowed = mask
        }
        return matrix.nearest(to: vector, limit: limit, allowed: allowed)
    }

    /// The in-memory matrix for `model`, reloaded only when the database generation moved.
    func currentMatrix(model: String, dimensions: Int) throws -> VectorMatrix? {
        let generation = try read { db in try IndexStore.generation(db) }
        return try vectorCache.matrix(generation: generation, model: model) {
            try read { db in
                var builder = VectorMatrixBuilder(
                    dimensions: dimensions,
                    capacity: try Int.fetchOne(db, sql: "SELECT count(*) FROM vectors WHERE model = ?", arguments: [model]) ?? 0)
                let rows = try Row.fetchCursor(
                    db, sql: "SELECT chunk_id, vector FROM vectors WHERE model = ? AND dims = ? ORDER BY chunk_id",
                    arguments: [model, dimensions])
                while let row = try rows.next() {
                    let id: Int64 = row[0]
                    try row.withUnsafeData(atIndex: 1) { blob in
                        blob?.withUnsafeBytes { builder.append(chunkID: id, littleEndianBytes: $0) }
                    }
                }
                return builder.build()
            }
        }
    }

    private struct CandidateRow {
        var chunkID: Int64
        var documentID: Int64
        var ordinal: Int
        var text: String
        var heading: String?
        var lineStart: Int
        var lineEnd: Int
        var textHash: String
        var kind: DocumentKind
        var path: String
        var messageID: String?
        var title: String
        var from: String?
        var date: Double?
        var dateIsFileTime: Bool
        /// How many chunks the document has (`ScoreFusion.fuseByDocument`'s correction).
        var documentChunks: Int
        var score: Double = 0
    }

    private func candidateRows(_ ids: [Int64]) throws -> [Int64: CandidateRow] {
        try read { db in
            var rows: [Int64: CandidateRow] = [:]
            for start in stride(from: 0, to: ids.count, by: 500) {
                let slice = Array(ids[start..<min(ids.count, start + 500)])
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ",")
                let fetched = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT c.id, c.document_id, c.ordinal, c.text, c.heading, c.line_start, c.line_end, c.text_hash,
                            d.kind, d.path, d.message_id, d.title, d.from_addr, d.date, d.date_is_file_time,
                            (SELECT COUNT(*) FROM chunks n WHERE n.document_id = c.document_id) AS document_chunks
                        FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id IN (\(marks))
                        """,
                    arguments: StatementArguments(slice))
                for row in fetched {
                    let id: Int64 = row["id"]
                    rows[id] = CandidateRow(
                        chunkID: id, documentID: row["document_id"], ordinal: row["ordinal"], text: row["text"],
                        heading: row["heading"], lineStart: row["line_start"], lineEnd: row["line_end"],
                        textHash: row["text_hash"], kind: DocumentKind(rawValue: row["kind"]) ?? .note, path: row["path"],
                        messageID: row["message_id"], title: row["title"], from: row["from_addr"], date: row["date"],
                        dateIsFileTime: row["date_is_file_time"], documentChunks: row["document_chunks"])
                }
            }
            return rows
        }
    }

    /// A chunk that ends mid-sentence gets the next chunk of its document appended (minus the overlap the
    /// chunker repeats), so the reader and the model see the thought completed.
    private func joinNeighbor(_ row: CandidateRow) throws -> SearchHit {
        var text = row.text
        var lineEnd = row.lineEnd
        if Self.endsMidThought(text),
            let next = try read({ db in
                try Row.fetchOne(
                    db, sql: "SELECT text, line_end FROM chunks WHERE document_id = ? AND ordinal = ?",
                    arguments: [row.documentID, row.ordinal + 1])
            })
        {
            text = Self.joinRemovingOverlap(text, next["text"])
            lineEnd = max(lineEnd, next["line_end"])
        }
        return SearchHit(
            chunkID: row.chunkID, documentID: row.documentID, score: row.score, kind: row.kind, path: row.path,
            lineStart: row.lineStart, lineEnd: lineEnd, messageID: row.messageID, title: row.title, from: row.from,
            date: row.date.map { Date(timeIntervalSince1970: $0) }, heading: row.heading, text: text,
            dateIsFileTime: row.dateIsFileTime)
    }

    static func endsMidThought(_ text: String) -> Bool {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let last = trimmed.last else { return false }
        if trimmed.hasSuffix("```") { return false }
        return !".!?:;)]}\"'”’>*|".contains(last)
    }

    /// Appends `next` to `text`, dropping the longest prefix of `next` that `text` already ends with.
    static func joinRemovingOverlap(_ text: String, _ next: String) -> String {
        let left = Array(text)
        let right = Array(next)
        var overlap = min(left.count, right.count)
        while overlap > 0 {
            if left[(left.count - overlap)...].elementsEqual(right[..<overlap]) { break }
            overlap -= 1
        }
        let rest = String(right[overlap...])
        if overlap > 0 { return text + rest }
        let separator = text.hasSuffix("\n") || rest.hasPrefix("\n") ? "" : "\n"
        return text + separator + rest
    }
}

/// The query's filters as SQL over `documents d`.
struct SearchFilters {
    var kind: DocumentKind?
    var since: Date?
    var until: Date?
    var from: String?
    var pathContains: String?
    var tag: String?
    /// A date range that ranks documents inside it first without excluding others.
    var preferredRange: (Date?, Date?)?

    init(_ query: SearchQuery) {
        kind = query.kind
        since = query.since
        until = query.until
        from = query.from.flatMap { $0.isEmpty ? nil : $0 }
        pathContains = query.pathContains.flatMap { $0.isEmpty ? nil : $0 }
        tag = query.tag.flatMap { $0.isEmpty ? nil : $0.hasPrefix("#") ? String($0.dropFirst()) : $0 }
    }

    var isRestrictive: Bool {
        kind != nil || since != nil || until != nil || from != nil || pathContains != nil || tag != nil
    }

    func inPreferredRange(_ date: Double?) -> Bool {
        guard let (low, high) = preferredRange, let date else { return false }
        if let low, date < low.timeIntervalSince1970 { return false }
        if let high, date > high.timeIntervalSince1970 { return false }
        return true
    }

    /// `AND …` conditions (possibly empty) and their arguments.
    func sql() -> (String, StatementArguments) {
        var clause = ""
        var arguments = StatementArguments()
        if let kind {
            clause += " AND d.kind = ?"
            arguments += [kind.rawValue]
        }
        if let since {
            clause += " AND d.date >= ?"
            arguments += [since.timeIntervalSince1970]
        }
        if let until {
            clause += " AND d.date <= ?"
            arguments += [until.timeIntervalSince1970]
        }
        if let from {
            clause += " AND d.from_addr LIKE ? ESCAPE '\\'"
            arguments += ["%" + Self.escapeLike(from) + "%"]
        }
        if let pathContains {
            clause += " AND d.path LIKE ? ESCAPE '\\'"
            arguments += ["%" + Self.escapeLike(pathContains) + "%"]
        }
        if let tag {
            // Tags are hierarchical in many vaults: `project` also matches `project/alpha`.
            clause += " AND EXISTS (SELECT 1 FROM json_each(d.tags) WHERE lower(json_each.value) = lower(?) OR lower(json_each.value) LIKE lower(?) ESCAPE '\\')"
            arguments += [tag, Self.escapeLike(tag) + "/%"]
        }
        return (clause, arguments)
    }

    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}
