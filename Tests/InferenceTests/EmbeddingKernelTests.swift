import CKernels
import Foundation
import Testing

@testable import Inference

/// The SIMD kernels against straightforward double-precision loops, on sizes that leave partial row tiles,
/// partial 32-column panels and odd inner dimensions.
struct EmbeddingKernelTests {
    /// Deterministic values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
        }
    }

    static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }

    static func reference(x: [Float], w: [Float], bias: [Float], m: Int, k: Int, n: Int, gelu: Bool) -> [Double] {
        var y = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = Double(bias[j])
                for c in 0..<k { sum += Double(x[i * k + c]) * Double(w[j * k + c]) }
                y[i * n + j] = gelu ? Self.gelu(sum) : sum
            }
        }
        return y
    }

    static var isas: [Int32] {
        [Int32(BERT_ISA_PORTABLE), Int32(BERT_ISA_AVX2), Int32(BERT_ISA_AVX512)].filter { $0 <= bert_best_isa() }
    }

    @Test(arguments: [(13, 40, 70), (8, 32, 32), (1, 7, 3), (29, 384, 100)])
    func gemmF32MatchesReference(shape: (Int, Int, Int)) {
        let (m, k, n) = shape
        let x = Self.values(m * k, seed: 1), w = Self.values(n * k, seed: 2), bias = Self.values(n, seed: 3)
        var packed = [Float](repeating: .nan, count: bert_packed_f32_count(Int32(n), Int32(k)))
        bert_pack_f32(w, Int32(n), Int32(k), &packed)
        for isa in Self.isas {
            for gelu in [false, true] {
                let expected = Self.reference(x: x, w: w, bias: bias, m: m, k: k, n: n, gelu: gelu)
                // A guard band after y catches writes past the last row.
                var y = [Float](repeating: 12345, count: m * n + 64)
                bert_gemm_f32(x, Int32(m), Int32(k), packed, Int32(n), bias, &y, gelu ? 1 : 0, isa)
                let worst = zip(y, expected).map { abs(Double($0) - $1) }.max() ?? 0
                #expect(worst < 1e-4 * Double(k).squareRoot(), "isa \(isa) gelu \(gelu): error \(worst)")
                #expect(y[(m * n)...].allSatisfy { $0 == 12345 })
            }
        }
    }

    @Test(.enabled(if: bert_best_isa() >= Int32(BERT_ISA_AVX512_BF16), "the CPU has AVX-512 BF16"),
          arguments: [(13, 40, 70), (1, 7, 3), (29, 384, 100)])
    func gemmBF16StaysCloseToReference(shape: (Int, Int, Int)) throws {
        let (m, k, n) = shape
        let x = Self.values(m * k, seed: 4), w = Self.values(n * k, seed: 5), bias = Self.values(n, seed: 6)
        var packed = [UInt16](repeating: 0, count: bert_packed_bf16_count(Int32(n), Int32(k)))
        bert_pack_bf16(w, Int32(n), Int32(k), &packed)
        var scratch = [UInt16](repeating: 0, count: bert_gemm_bf16_scratch_count(Int32(m), Int32(k)))
        var y = [Float](repeating: 12345, count: m * n + 64)
        bert_gemm_bf16(x, Int32(m), Int32(k), packed, Int32(n), bias, &y, 0, &scratch)
        let expected = Self.reference(x: x, w: w, bias: bias, m: m, k: k, n: n, gelu: false)
        // bf16 keeps 8 significant bits: errors of ~2^-8 per product, growing like √k.
        let worst = zip(y, expected).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst < 0.01 * Double(k).squareRoot(), "error \(worst)")
        #expect(y[(m * n)...].allSatisfy { $0 == 12345 })
    }

    /// Rows and columns whose magnitudes differ by up to 10⁴ (each has its own scales), inner sizes that
    /// end mid-block, partial 6-row tiles and 16-column panels.
    @Test(.enabled(if: bert_best_isa() >= Int32(BERT_ISA_AVX2), "the CPU has AVX2"),
          arguments: [(13, 40, 70), (1, 7, 3), (29, 384, 100), (7, 300, 17)])
    func gemmI16StaysCloseToReference(shape: (Int, Int, Int)) throws {
        let (m, k, n) = shape
        let magnitude = { (index: Int) in Float([1, 100, 0.01, 3, 0.3][index % 5]) }
        var x = Self.values(m * k, seed: 7), w = Self.values(n * k, seed: 8)
        for i in 0..<(m * k) { x[i] *= magnitude(i / k) }
        for j in 0..<(n * k) { w[j] *= magnitude(j / k + 2) }
        let bias = Self.values(n, seed: 9)
        var packed = [Int16](repeating: 0, count: bert_packed_i16_count(Int32(n), Int32(k)))
        var scales = [Float](repeating: .nan, count: bert_packed_i16_scale_count(Int32(n), Int32(k)))
        bert_pack_i16(w, Int32(n), Int32(k), &packed, &scales)
        var scratch = [UInt8](repeating: 0xA5, count: bert_gemm_i16_scratch_size(Int32(m), Int32(k)))
        for gelu in [false, true] {
            var y = [Float](repeating: 12345, count: m * n + 64)
            bert_gemm_i16(x, Int32(m), Int32(k), packed, scales, Int32(n), bias, &y, gelu ? 1 : 0, &scratch)
            let expected = Self.reference(x: x, w: w, bias: bias, m: m, k: k, n: n, gelu: gelu)
            for i in 0..<m {
                for j in 0..<n {
                    // 13 bits per operand: each product is off by about 2⁻¹³ of its row's and column's largest
                    // values, and the errors add like a random walk.
                    let size = Double(magnitude(i)) * Double(magnitude(j + 2))
                    let error = abs(Double(y[i * n + j]) - expected[i * n + j])
                    #expect(error < 1e-3 * size * Double(k).squareRoot() + 1e-5, "gelu \(gelu) [\(i), \(j)]: error \(error)")
                }
            }
            #expect(y[(m * n)...].allSatisfy { $0 == 12345 })
        }
    }

    /// Inputs at the scale's extremes: 128 products of ±4095 per block must sum without overflow.
    @Test(.enabled(if: bert_best_isa() >= Int32(BERT_ISA_AVX2), "the CPU has AVX2"))
    func gemmI16SumsFullScaleBlocksExactly() {
        let m = 6, k = 1536, n = 16
        let x = [Float](repeating: 1, count: m * k), w = [Float](repeating: -2, count: n * k)
        var packed = [Int16](repeating: 0, count: bert_packed_i16_count(Int32(n), Int32(k)))
        var scales = [Float](repeating: 0, count: bert_packed_i16_scale_count(Int32(n), Int32(k)))
        bert_pack_i16(w, Int32(n), Int32(k), &packed, &scales)
        var scratch = [UInt8](repeating: 0, count: bert_gemm_i16_scratch_size(Int32(m), Int32(k)))
        var y = [Float](repeating: 0, count: m * n)
        bert_gemm_i16(x, Int32(m), Int32(k), packed, scales, Int32(n), nil, &y, 0, &scratch)
        #expect(y.allSatisfy { abs($0 + 2 * Float(k)) < 0.01 }, "\(y.prefix(4))")
    }

    @Test(arguments: [1, 5, 33, 130])
    func attentionMatchesReference(tokens: Int) {
        let hidden = 64, heads = 2, dh = 32
        let qkv = Self.values(tokens * 3 * hidden, seed: UInt64(tokens)).map { $0 * 3 }
        var expected = [Double](repeating: 0, count: tokens * hidden)
        for h in 0..<heads {
            for i in 0..<tokens {
                var scores = (0..<tokens).map { j in
                    (0..<dh).reduce(0.0) { sum, c in
                        sum + Double(qkv[i * 3 * hidden + h * dh + c]) * Double(qkv[j * 3 * hidden + hidden + h * dh + c])
                    } / Double(dh).squareRoot()
                }
                let top = scores.max()!
                scores = scores.map { exp($0 - top) }
                let total = scores.reduce(0, +)
                for c in 0..<dh {
                    expected[i * hidden + h * dh + c] = (0..<tokens).reduce(0.0) { sum, j in
                        sum + scores[j] / total * Double(qkv[j * 3 * hidden + 2 * hidden + h * dh + c])
                    }
                }
            }
        }
        for isa in Self.isas {
            var scratch = [Float](repeating: .nan, count: bert_attention_scratch_count(Int32(tokens), Int32(dh)))
            var out = [Float](repeating: 12345, count: tokens * hidden + 16)
            bert_attention(qkv, Int32(tokens), Int32(hidden), Int32(heads), &out, &scratch, isa)
            let worst = zip(out, expected).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst < 1e-5, "isa \(isa) tokens \(tokens): error \(worst)")
            #expect(out[(tokens * hidden)...].allSatisfy { $0 == 12345 })
        }
    }

    /// Widths that fill whole AVX-512 vectors, whole AVX2 vectors only, and neither.
    @Test(arguments: [48, 40, 13])
    func layerNormMatchesReference(cols: Int) {
        let rows = 3
        let x = Self.values(rows * cols, seed: 9), residual = Self.values(rows * cols, seed: 10)
        let gamma = Self.values(cols, seed: 11), beta = Self.values(cols, seed: 12)
        for isa in Self.isas {
            var y = x
            bert_add_layernorm(&y, residual, gamma, beta, Int32(rows), Int32(cols), 1e-12, isa)
            for r in 0..<rows {
                let v = (0..<cols).map { Double(x[r * cols + $0]) + Double(residual[r * cols + $0]) }
                let mean = v.reduce(0, +) / Double(cols)
                let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(cols)
                for c in 0..<cols {
                    let want = (v[c] - mean) / (variance + 1e-12).squareRoot() * Double(gamma[c]) + Double(beta[c])
                    #expect(abs(Double(y[r * cols + c]) - want) < 1e-5, "isa \(isa) cols \(cols)")
                }
            }
        }
    }
}
