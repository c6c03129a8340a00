import IndexKernels
import Testing

/// The Int8 scan against plain integer dot products, on sizes that leave partial SIMD blocks, with values
/// at both ends of the quantized range.
struct ScanKernelTests {
    /// Deterministic values in −127…127, with the extremes more frequent than chance.
    static func values(_ count: Int, seed: UInt64) -> [Int8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let draw = Int(state >> 33) % 300
            return draw < 20 ? 127 : draw < 40 ? -127 : Int8(draw % 255 - 127)
        }
    }

    @Test(arguments: [(dims: 384, rows: 11), (dims: 100, rows: 9), (dims: 7, rows: 5), (dims: 64, rows: 4)])
    func scoresMatchIntegerDotProducts(shape: (dims: Int, rows: Int)) {
        let (dims, rows) = shape
        let matrix = Self.values(dims * rows, seed: 1)
        let query = Self.values(dims, seed: 2)
        let scales = (0..<rows).map { Float($0 + 1) * 0.5 }
        // Score rows 1… so the first row of the call is not the matrix's first.
        let first = 1, count = rows - 1
        var out = [Float](repeating: .nan, count: count + 1)
        index_scan_int8(matrix, scales, first, count, dims, query, &out)
        for i in 0..<count {
            let row = first + i
            let dot = (0..<dims).reduce(0) { $0 + Int(matrix[row * dims + $1]) * Int(query[$1]) }
            #expect(out[i] == scales[row] * Float(dot), "\(index_scan_isa()) row \(row) of \(dims) dims")
        }
        #expect(out[count].isNaN)
    }

    /// Every product at its largest: 384 · 127² must be summed exactly.
    @Test func sumsExtremeRowsExactly() {
        let dims = 384
        let matrix = [Int8](repeating: -127, count: dims * 4) + [Int8](repeating: 127, count: dims * 4)
        let query = [Int8](repeating: -127, count: dims)
        var out = [Float](repeating: 0, count: 8)
        index_scan_int8(matrix, [Float](repeating: 1, count: 8), 0, 8, dims, query, &out)
        #expect(out == [Float](repeating: Float(dims * 127 * 127), count: 4) + [Float](repeating: -Float(dims * 127 * 127), count: 4))
    }
}
