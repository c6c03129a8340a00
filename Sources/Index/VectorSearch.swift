import Foundation
import IndexKernels

/// All vectors of one embedding model in one contiguous block of memory, for brute-force cosine search.
///
/// Each vector is kept twice: as Float32 (for exact scores) and as Int8 with a per-row scale (a quarter of
/// the memory traffic). A search scans the Int8 copy to pick a few hundred candidates, then rescores those
/// exactly in Float32. Rows are normalized to unit length on the way in, so a dot product is the cosine.
public struct VectorMatrix: Sendable {
    public let dimensions: Int
    /// Row → chunk id, ascending.
    public let chunkIDs: [Int64]
    private let floats: [Float]
    private let quantized: [Int8]
    private let scales: [Float]

    public var count: Int { chunkIDs.count }

    /// The instruction set the Int8 scan uses on this machine ("avx512-vnni", "avx2" or "portable").
    public static var scanInstructionSet: String { String(cString: index_scan_isa()) }

    /// Builds the matrix from rows given in any order; rows with the wrong length are skipped.
    public init(dimensions: Int, rows: [(chunkID: Int64, vector: [Float])]) {
        var builder = VectorMatrixBuilder(dimensions: dimensions, capacity: rows.count)
        for row in rows.sorted(by: { $0.chunkID < $1.chunkID }) {
            row.vector.withUnsafeBufferPointer { builder.append(chunkID: row.chunkID, vector: $0) }
        }
        self = builder.build()
    }

    fileprivate init(dimensions: Int, chunkIDs: [Int64], floats: [Float], quantized: [Int8], scales: [Float]) {
        self.dimensions = dimensions
        self.chunkIDs = chunkIDs
        self.floats = floats
        self.quantized = quantized
        self.scales = scales
    }

    /// Row of a chunk id, by binary search.
    public func row(of chunkID: Int64) -> Int? {
        var low = 0
        var high = chunkIDs.count
        while low < high {
            let middle = (low + high) / 2
            if chunkIDs[middle] < chunkID { low = middle + 1 } else { high = middle }
        }
        return low < chunkIDs.count && chunkIDs[low] == chunkID ? low : nil
    }

    /// Cosine between `query` and the stored vector of `chunkID`, or nil when the chunk has none.
    public func cosine(of chunkID: Int64, to query: [Float]) -> Float? {
        guard query.count == dimensions, let row = row(of: chunkID) else { return nil }
        let unit = Self.normalized(query)
        var dot: Float = 0
        for i in 0..<dimensions { dot += floats[row * dimensions + i] * unit[i] }
        return dot
    }

    /// The `limit` rows most similar to `query` (cosine), best first, ties broken by smaller chunk id.
    ///
    /// `allowed`, when given, has one flag per row; rows flagged false are never returned. Large matrices
    /// are scanned by `threads` workers in parallel.
    public func nearest(
        to query: [Float], limit: Int, allowed: [Bool]? = nil, threads: Int = 2
    ) -> [(chunkID: Int64, score: Float)] {
        guard limit > 0, query.count == dimensions, count > 0 else { return [] }
        let unit = Self.normalized(query)
        let candidateCount = Swift.min(count, Swift.max(limit * 8, 200))
        let candidates: [Int]
        if count <= 4096 {
            candidates = Array(0..<count)
        } else {
            candidates = approximateCandidates(unit, count: candidateCount, allowed: allowed, threads: threads)
        }
        var scored: [(row: Int, score: Float)] = []
        scored.reserveCapacity(candidates.count)
        floats.withUnsafeBufferPointer { all in
            unit.withUnsafeBufferPointer { q in
                for row in candidates {
                    if let allowed, !allowed[row] { continue }
                    let start = all.baseAddress! + row * dimensions
                    scored.append((row, Self.dot(q.baseAddress!, start, dimensions)))
                }
            }
        }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.row < $1.row }
        return scored.prefix(limit).map { (chunkIDs[$0.row], $0.score) }
    }

    /// Int8 scan: quantize the query like the rows, score every row with integer dot products, keep the
    /// best `count` rows per worker, merge.
    private func approximateCandidates(_ query: [Float], count wanted: Int, allowed: [Bool]?, threads: Int) -> [Int] {
        let (queryInt8, _) = Self.quantize(query)
        let workers = self.count >= 50_000 ? Swift.max(1, threads) : 1
        let perWorker = (self.count + workers - 1) / workers
        let results = WorkerSlots<TopRows>(count: workers)
        // Raw addresses cross into the workers as integers: the arrays outlive the concurrentPerform call.
        let matrixAddress = quantized.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        let scalesAddress = scales.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        let queryAddress = queryInt8.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        let dimensions = self.dimensions
        let rowCount = self.count
        withExtendedLifetime((quantized, scales, queryInt8, allowed)) {
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                guard let matrix = UnsafePointer<Int8>(bitPattern: matrixAddress),
                    let scales = UnsafePointer<Float>(bitPattern: scalesAddress),
                    let q = UnsafePointer<Int8>(bitPattern: queryAddress)
                else { return }
                let start = worker * perWorker
                let end = Swift.min(rowCount, start + perWorker)
                var top = TopRows(capacity: wanted)
                // Score a block of rows in C (packed integer multiply-adds), then select in Swift.
                let block = 4096
                var scores = [Float](repeating: 0, count: block)
                var first = start
                while first < end {
                    let count = Swift.min(block, end - first)
                    scores.withUnsafeMutableBufferPointer { out in
                        index_scan_int8(matrix, scales, first, count, dimensions, q, out.baseAddress!)
                    }
                    for offset in 0..<count {
                        let row = first + offset
                        if let allowed, !allowed[row] { continue }
                        top.offer(row: row, score: scores[offset])
                    }
                    first += count
                }
                results.set(worker, top)
            }
        }
        var merged = TopRows(capacity: wanted)
        for worker in 0..<workers {
            for (row, score) in results.get(worker)?.entries ?? [] { merged.offer(row: row, score: score) }
        }
        return merged.entries.map(\.row)
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var sums = SIMD16<Float>()
        var index = 0
        while index + 16 <= n {
            let x = UnsafeRawPointer(a + index).loadUnaligned(as: SIMD16<Float>.self)
            let y = UnsafeRawPointer(b + index).loadUnaligned(as: SIMD16<Float>.self)
            sums.addProduct(x, y)
            index += 16
        }
        var total = sums.sum()
        while index < n {
            total += a[index] * b[index]
            index += 1
        }
        return total
    }

    static func normalized(_ vector: [Float]) -> [Float] {
        var norm: Float = 0
        for value in vector { norm += value * value }
        norm = norm.squareRoot()
        guard norm > 0, norm.isFinite else { return vector.map { $0.isFinite ? $0 : 0 } }
        return vector.map { $0 / norm }
    }

    /// Symmetric Int8 quantization with one scale per vector: value ≈ Int8 × scale.
    static func quantize(_ vector: [Float]) -> ([Int8], Float) {
        var maxAbs: Float = 0
        for value in vector { maxAbs = Swift.max(maxAbs, abs(value)) }
        guard maxAbs > 0, maxAbs.isFinite else { return ([Int8](repeating: 0, count: vector.count), 0) }
        let scale = maxAbs / 127
        return (vector.map { Int8(($0 / scale).rounded().clamped(-127, 127)) }, scale)
    }
}

/// Accumulates rows into a `VectorMatrix` without intermediate arrays of arrays (a million rows load
/// straight from SQLite blobs into the final buffers).
public struct VectorMatrixBuilder {
    let dimensions: Int
    private var chunkIDs: [Int64] = []
    private var floats: [Float] = []
    private var quantized: [Int8] = []
    private var scales: [Float] = []
    private var scratch: [Float]

    public init(dimensions: Int, capacity: Int = 0) {
        self.dimensions = dimensions
        scratch = [Float](repeating: 0, count: dimensions)
        chunkIDs.reserveCapacity(capacity)
        floats.reserveCapacity(capacity * dimensions)
        quantized.reserveCapacity(capacity * dimensions)
        scales.reserveCapacity(capacity)
    }

    /// Appends one row; chunk ids must come in ascending order. Rows of the wrong length are ignored.
    public mutating func append(chunkID: Int64, vector: UnsafeBufferPointer<Float>) {
        guard vector.count == dimensions else { return }
        var norm: Float = 0
        for value in vector where value.isFinite { norm += value * value }
        norm = norm.squareRoot()
        let inverseNorm: Float = norm > 0 && norm.isFinite ? 1 / norm : 0
        var maxAbs: Float = 0
        for index in 0..<dimensions {
            let value = vector[index].isFinite ? vector[index] * inverseNorm : 0
            scratch[index] = value
            maxAbs = Swift.max(maxAbs, abs(value))
        }
        let scale = maxAbs > 0 ? maxAbs / 127 : 0
        let inverseScale = maxAbs > 0 ? 127 / maxAbs : 0
        chunkIDs.append(chunkID)
        floats.append(contentsOf: scratch)
        for value in scratch {
            // |value × inverseScale| ≤ 127 by construction; adding ±0.5 and truncating rounds to nearest.
            let scaled = value * inverseScale
            quantized.append(Int8(truncatingIfNeeded: Int32(scaled + (scaled < 0 ? -0.5 : 0.5))))
        }
        scales.append(scale)
    }

    /// Appends one row stored as Float32 little-endian bytes.
    public mutating func append(chunkID: Int64, littleEndianBytes bytes: UnsafeRawBufferPointer) {
        guard bytes.count == dimensions * 4 else { return }
        for index in 0..<dimensions {
            let bits = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
            scratch[index] = Float(bitPattern: bits)
        }
        let copy = scratch
        copy.withUnsafeBufferPointer { append(chunkID: chunkID, vector: $0) }
    }

    public func build() -> VectorMatrix {
        VectorMatrix(dimensions: dimensions, chunkIDs: chunkIDs, floats: floats, quantized: quantized, scales: scales)
    }
}

/// Keeps the `capacity` best (row, score) pairs seen, as a min-heap on score (ties: larger row is worse).
struct TopRows {
    private(set) var heap: [(row: Int, score: Float)] = []
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        heap.reserveCapacity(capacity)
    }

    /// True when `a` ranks below `b`.
    @inline(__always)
    private static func worse(_ a: (row: Int, score: Float), _ b: (row: Int, score: Float)) -> Bool {
        a.score != b.score ? a.score < b.score : a.row > b.row
    }

    @inline(__always)
    mutating func offer(row: Int, score: Float) {
        let entry = (row: row, score: score)
        if heap.count < capacity {
            heap.append(entry)
            siftUp(heap.count - 1)
        } else if capacity > 0, Self.worse(heap[0], entry) {
            heap[0] = entry
            siftDown(0)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.worse(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var worst = left
            if left + 1 < heap.count, Self.worse(heap[left + 1], heap[left]) { worst = left + 1 }
            guard Self.worse(heap[worst], heap[parent]) else { return }
            heap.swapAt(worst, parent)
            parent = worst
        }
    }

    /// Best first.
    var entries: [(row: Int, score: Float)] {
        heap.sorted { Self.worse($1, $0) }
    }
}

/// One result slot per parallel worker; each worker writes only its own slot.
final class WorkerSlots<Value>: @unchecked Sendable {
    private var slots: [Value?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    func get(_ index: Int) -> Value? {
        lock.lock()
        defer { lock.unlock() }
        return slots[index]
    }
}

/// The store's cached matrix, rebuilt when the database's generation counter or the model changes.
final class VectorCache: @unchecked Sendable {
    private let lock = NSLock()
    private var cached: (generation: Int64, model: String, matrix: VectorMatrix)?

    func matrix(generation: Int64, model: String, load: () throws -> VectorMatrix) rethrows -> VectorMatrix {
        lock.lock()
        defer { lock.unlock() }
        if let cached, cached.generation == generation, cached.model == model { return cached.matrix }
        let matrix = try load()
        cached = (generation, model, matrix)
        return matrix
    }
}

extension Float {
    fileprivate func clamped(_ low: Float, _ high: Float) -> Float { Swift.min(high, Swift.max(low, self)) }
}
