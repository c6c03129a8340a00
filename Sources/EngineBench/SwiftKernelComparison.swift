import CKernels
import Foundation
import Inference

/// The measurement behind writing the hot kernels in C: the Q4_1 × int8 matrix-vector product written with
/// Swift SIMD types (the best portable Swift form: widen to Int16, multiply, widen, sum) against the C
/// kernel (vpdpbusd), on one thread, over the same weights and activations.
enum SwiftKernelComparison {
    static func swiftQ41Matvec(
        _ w: UnsafeRawPointer, rowBytes: Int, rows: Int, columns: Int, q: UnsafePointer<Int8>, d: UnsafePointer<Float>,
        s: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>
    ) {
        let blocks = columns / 32
        for r in 0..<rows {
            let row = w + r * rowBytes
            var acc: Float = 0
            for b in 0..<blocks {
                let block = row + b * 20
                let scale = Float(block.loadUnaligned(as: Float16.self))
                let minimum = Float(block.loadUnaligned(fromByteOffset: 2, as: Float16.self))
                let packed = block.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
                let low = SIMD16<Int16>(truncatingIfNeeded: packed & 0x0F)
                let high = SIMD16<Int16>(truncatingIfNeeded: packed &>> 4)
                let a = UnsafeRawPointer(q + b * 32)
                let a0 = SIMD16<Int16>(truncatingIfNeeded: a.loadUnaligned(as: SIMD16<Int8>.self))
                let a1 = SIMD16<Int16>(truncatingIfNeeded: a.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self))
                let products = SIMD16<Int32>(truncatingIfNeeded: low &* a0) &+ SIMD16<Int32>(truncatingIfNeeded: high &* a1)
                acc += scale * d[b] * Float(products.wrappedSum()) + minimum * s[b]
            }
            out[r] = acc
        }
    }

    /// Times both on a synthetic 1536 × 576 Q4_1 matrix (SmolLM2's FFN shape) and prints rows per second.
    static func run() {
        let rows = 1536, columns = 576, rowBytes = columns / 32 * 20
        var state: UInt64 = 1
        func next() -> UInt8 {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        var weights = (0..<(rows * rowBytes)).map { _ in next() }
        for b in 0..<(rows * columns / 32) {  // sane f16 scale and min
            weights[b * 20 + 0] = 0x00; weights[b * 20 + 1] = 0x24
            weights[b * 20 + 2] = 0x00; weights[b * 20 + 3] = 0xA4
        }
        let x = (0..<columns).map { Float($0 % 17) - 8 }
        var q = [Int8](repeating: 0, count: columns), d = [Float](repeating: 0, count: columns / 32), s = d
        qk_quantize_act(x, Int32(columns), &q, &d, &s)
        var outC = [Float](repeating: 0, count: rows), outSwift = outC
        let repetitions = 300
        func time(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repetitions { body() }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        weights.withUnsafeBytes { w in
            let c = time { qk_matmul(Int32(GGMLType.q4_1.rawValue), w.baseAddress, rowBytes, Int32(columns), 0, Int32(rows), q, d, s, nil, 1, &outC, rows) }
            let swift = time {
                outSwift.withUnsafeMutableBufferPointer { o in
                    swiftQ41Matvec(w.baseAddress!, rowBytes: rowBytes, rows: rows, columns: columns, q: q, d: d, s: s, out: o.baseAddress!)
                }
            }
            let maxDiff = zip(outC, outSwift).map { abs($0 - $1) }.max() ?? 0
            print(String(format: "Q4_1 matvec 1536x576, 1 thread: C %.1f µs, Swift SIMD %.1f µs (%.2fx), max difference %.2g",
                         c / Double(repetitions) * 1e6, swift / Double(repetitions) * 1e6, swift / c, maxDiff))
        }
    }
}
