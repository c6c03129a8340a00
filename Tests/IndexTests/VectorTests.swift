import Foundation
import Testing
@testable import Index
import Ingest

/// A small deterministic generator so the vector tests see the same data on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomUnitVectors(_ count: Int, dimensions: Int, seed: UInt64) -> [[Float]] {
    var generator = SplitMix(state: seed)
    return (0..<count).map { _ in
        VectorMatrix.normalized((0..<dimensions).map { _ in Float.random(in: -1...1, using: &generator) })
    }
}

@Suite struct VectorMatrixTests {
    @Test func quantizedScanFindsTheExactNeighbours() {
        let dimensions = 384
        // Above the 4096-row threshold, so the Int8 pass picks the candidates.
        let vectors = randomUnitVectors(6000, dimensions: dimensions, seed: 7)
        let matrix = VectorMatrix(dimensions: dimensions, rows: vectors.enumerated().map { (Int64($0.offset + 1), $0.element) })
        let queries = randomUnitVectors(8, dimensions: dimensions, seed: 99)
        var found = 0
        for query in queries {
            let exact = vectors.enumerated().map { (Int64($0.offset + 1), zip($0.element, query).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
                .sorted { $0.1 > $1.1 }.prefix(10).map(\.0)
            let approximate = matrix.nearest(to: query, limit: 10).map(\.chunkID)
            found += Set(exact).intersection(approximate).count
            #expect(approximate.first == exact.first)
        }
        #expect(Double(found) / 80 >= 0.95)
    }

    @Test func identicalVectorIsItsOwnNearestAndScoresOne() {
        let vectors = randomUnitVectors(5000, dimensions: 64, seed: 3)
        let matrix = VectorMatrix(dimensions: 64, rows: vectors.enumerated().map { (Int64($0.offset * 2 + 10), $0.element) })
        let hit = matrix.nearest(to: vectors[1234].map { $0 * 3 }, limit: 1).first
        #expect(hit?.chunkID == Int64(1234 * 2 + 10))
        #expect(abs((hit?.score ?? 0) - 1) < 1e-5)
        #expect(matrix.row(of: 1234 * 2 + 10) == 1234)
        #expect(matrix.row(of: 11) == nil)
    }

    @Test func maskExcludesRowsAndWrongSizesAreIgnored() {
        let vectors = randomUnitVectors(6000, dimensions: 32, seed: 5)
        let matrix = VectorMatrix(dimensions: 32, rows: vectors.enumerated().map { (Int64($0.offset), $0.element) } + [(99_999, [1, 2, 3])])
        #expect(matrix.count == 6000)
        var allowed = [Bool](repeating: false, count: matrix.count)
        allowed[17] = true
        allowed[4000] = true
        let hits = matrix.nearest(to: vectors[4000], limit: 5, allowed: allowed)
        #expect(hits.map(\.chunkID) == [4000, 17])
        #expect(matrix.nearest(to: [1, 2], limit: 3).isEmpty)
    }

    @Test func blobsAreLittleEndianFloat32() {
        let vector: [Float] = [1, -2.5, .pi]
        let blob = VectorBlob.encode(vector)
        #expect(blob.count == 12)
        #expect(Array(blob.prefix(4)) == [0x00, 0x00, 0x80, 0x3F])
        #expect(VectorBlob.decode(blob) == vector)
    }

    @Test func storeScansStoredVectorsAndSeesNewOnes() throws {
        let scratch = try Scratch()
        let store = try IndexStore(path: scratch.dbPath)
        try scratch.write("notes/a.md", note(title: "A", body: "alpha"))
        try scratch.write("notes/b.md", note(title: "B", body: "beta"))
        _ = try store.sync([scratch.path("notes")])
        func storeVector(_ title: String, _ vector: [Float]) throws {
            try store.pool.write { db in
                let id = try Int64.fetchOne(db, sql: "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.title = ?", arguments: [title])!
                try db.execute(sql: "INSERT INTO vectors(chunk_id, model, dims, vector) VALUES (?, 'test-model', 3, ?)", arguments: [id, VectorBlob.encode(vector)])
                try IndexStore.bumpGeneration(db)
            }
        }
        try storeVector("A", [1, 0, 0])
        try storeVector("B", [0, 1, 0])
        let first = try store.nearestChunks(to: [0.9, 0.1, 0], model: "test-model")
        #expect(first.count == 2)
        let aChunk = try #require(try store.document(path: scratch.path("notes/a.md")).map { try store.chunks(documentID: $0.id) }?.first)
        #expect(first.first?.chunkID == aChunk.id)
        // Filters apply to the vector half too.
        let onlyB = try store.nearestChunks(to: [0.9, 0.1, 0], model: "test-model", query: SearchQuery(text: "", pathContains: "b.md"))
        #expect(onlyB.count == 1 && onlyB.first?.chunkID != aChunk.id)
        // A write bumps the generation: the cached matrix is replaced.
        try scratch.write("notes/c.md", note(title: "C", body: "gamma"))
        _ = try store.sync([scratch.path("notes")])
        try storeVector("C", [0, 0, 1])
        #expect(try store.nearestChunks(to: [0, 0.1, 1], model: "test-model").count == 3)
        // Deleting a document deletes its vectors (cascade).
        try FileManager.default.removeItem(atPath: scratch.path("notes/a.md"))
        _ = try store.sync([scratch.path("notes")])
        #expect(try store.count("SELECT count(*) FROM vectors") == 2)
        #expect(try store.integrityCheck().isEmpty)
    }
}
