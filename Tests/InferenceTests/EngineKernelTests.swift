import CKernels
import Foundation
import Testing

@testable import Inference

/// Plain Swift decoders of every block format, written from the format description independently of the
/// C kernels, so the kernels are checked against something other than themselves.
enum ReferenceDequantizer {
    static func half(_ bytes: [UInt8], _ at: Int) -> Float {
        Float(Float16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8))
    }

    static func scaleMin(_ j: Int, _ q: ArraySlice<UInt8>) -> (Float, Float) {
        let q = Array(q)
        if j < 4 { return (Float(q[j] & 63), Float(q[j + 4] & 63)) }
        return (Float((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4)), Float((q[j + 4] >> 4) | ((q[j] >> 6) << 4)))
    }

    /// The f32 values of one row of `n` elements of `type` stored in `bytes`.
    static func row(_ type: GGMLType, _ bytes: [UInt8], n: Int) -> [Float] {
        var out: [Float] = []
        let bpb = type.bytesPerBlock
        for blockStart in stride(from: 0, to: n / type.blockSize * bpb, by: bpb) {
            let b = Array(bytes[blockStart..<(blockStart + bpb)])
            switch type {
            case .f32: out.append(Float(bitPattern: UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24))
            case .f16: out.append(half(b, 0))
            case .bf16: out.append(Float(bitPattern: (UInt32(b[0]) | UInt32(b[1]) << 8) << 16))
            case .q4_0:
                let d = half(b, 0)
                out += (0..<32).map { i in d * (Float(i < 16 ? b[2 + i] & 0xF : b[2 + i - 16] >> 4) - 8) }
            case .q4_1:
                let d = half(b, 0), m = half(b, 2)
                out += (0..<32).map { i in d * Float(i < 16 ? b[4 + i] & 0xF : b[4 + i - 16] >> 4) + m }
            case .q5_0, .q5_1:
                let d = half(b, 0), m: Float = type == .q5_1 ? half(b, 2) : 0
                let h = type == .q5_1 ? 4 : 2
                let qh = UInt32(b[h]) | UInt32(b[h + 1]) << 8 | UInt32(b[h + 2]) << 16 | UInt32(b[h + 3]) << 24
                out += (0..<32).map { i in
                    let low = i < 16 ? b[h + 4 + i] & 0xF : b[h + 4 + i - 16] >> 4
                    let q = Float(UInt32(low) | ((qh >> UInt32(i)) & 1) << 4)
                    return type == .q5_0 ? d * (q - 16) : d * q + m
                }
            case .q8_0:
                let d = half(b, 0)
                out += (0..<32).map { d * Float(Int8(bitPattern: b[2 + $0])) }
            case .q4_K, .q5_K:
                let d = half(b, 0), dmin = half(b, 2)
                for j in 0..<8 {
                    let (sc, mn) = scaleMin(j, b[4..<16])
                    for l in 0..<32 {
                        let byte = b[(type == .q4_K ? 16 : 48) + 32 * (j / 2) + l]
                        var q = Int(j % 2 == 0 ? byte & 0xF : byte >> 4)
                        if type == .q5_K { q |= Int((b[16 + l] >> UInt8(j)) & 1) << 4 }
                        out.append(d * sc * Float(q) - dmin * mn)
                    }
                }
            case .q6_K:
                let d = half(b, 208)
                for e in 0..<256 {
                    let half = e / 128, within = e % 128, part = within / 32, l = within % 32
                    let lowByte = b[64 * half + l + (part % 2 == 1 ? 32 : 0)]
                    let low = part >= 2 ? lowByte >> 4 : lowByte & 0xF
                    let high = (b[128 + 32 * half + l] >> UInt8(2 * part)) & 3
                    let scale = Float(Int8(bitPattern: b[192 + 8 * half + 2 * part + l / 16]))
                    out.append(d * scale * Float(Int(low | high << 4) - 32))
                }
            default: Issue.record("no reference decoder for \(type)")
            }
        }
        return out
    }
}

/// Random but well-formed quantized data: random bits, with the f16 scale fields set to small normal values.
struct RandomBlocks {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 11
    }
    mutating func float(_ range: ClosedRange<Float>) -> Float {
        range.lowerBound + Float(next() % 1_000_000) / 1_000_000 * (range.upperBound - range.lowerBound)
    }
    mutating func setHalf(_ bytes: inout [UInt8], _ at: Int, _ value: Float) {
        let bits = Float16(value).bitPattern
        bytes[at] = UInt8(bits & 0xFF)
        bytes[at + 1] = UInt8(bits >> 8)
    }

    /// One row of `n` elements of `type`; weights come out with magnitudes around `scale`.
    mutating func row(_ type: GGMLType, n: Int, scale: Float = 0.05) -> [UInt8] {
        let blocks = n / type.blockSize, bpb = type.bytesPerBlock
        var bytes = (0..<(blocks * bpb)).map { _ in UInt8(truncatingIfNeeded: next()) }
        for blk in 0..<blocks {
            let o = blk * bpb
            switch type {
            case .f32:
                let bits = (float(-1...1) * scale * 8).bitPattern
                for k in 0..<4 { bytes[o + k] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k))) }
            case .f16: setHalf(&bytes, o, float(-1...1) * scale * 8)
            case .bf16:
                let bits = (float(-1...1) * scale * 8).bitPattern >> 16
                bytes[o] = UInt8(bits & 0xFF)
                bytes[o + 1] = UInt8(bits >> 8)
            case .q4_0, .q5_0, .q8_0: setHalf(&bytes, o, float(0.2...1) * scale)
            case .q4_1, .q5_1:
                setHalf(&bytes, o, float(0.2...1) * scale)
                setHalf(&bytes, o + 2, float(-1...0) * scale * 8)
            case .q4_K, .q5_K:
                setHalf(&bytes, o, float(0.2...1) * scale / 128)
                setHalf(&bytes, o + 2, float(0.2...1) * scale / 32)
            case .q6_K:
                setHalf(&bytes, o + 208, float(0.2...1) * scale / 1024)
            default: break
            }
        }
        return bytes
    }
}

@Suite struct EngineKernelTests {
    static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K, .f16, .bf16, .f32]

    /// Dequantization in C agrees with the independent Swift decoder, for every type.
    @Test(arguments: types) func dequantizeMatchesReference(type: GGMLType) {
        var rng = RandomBlocks(state: UInt64(type.rawValue) + 7)
        let n = 512
        let bytes = rng.row(type, n: n)
        let expected = ReferenceDequantizer.row(type, bytes, n: n)
        var got = [Float](repeating: .nan, count: n)
        bytes.withUnsafeBytes { raw in
            got.withUnsafeMutableBufferPointer { qk_dequantize_row(Int32(type.rawValue), raw.baseAddress, Int32(n), $0.baseAddress) }
        }
        #expect(got == expected)
    }

    /// Every kernel body (scalar, AVX2, AVX-512 VNNI) computes the dot of the packed weights with the
    /// int8 activations as the f32 dot of dequantized weights with dequantized activations, for 1 and
    /// several tokens and odd row counts.
    @Test(arguments: types) func matmulMatchesDequantizedDot(type: GGMLType) {
        var rng = RandomBlocks(state: UInt64(type.rawValue) * 31 + 1)
        // 11 tokens: full 8- and 4-token tiles plus a remainder. 2816 columns: more than one slice of the
        // prefill kernels, which add a row's slices up.
        let rows = 5
        for (n, tokens) in [(512, 1), (512, 11), (2816, 6)] {
            let rowBytes = rng.row(type, n: n).count
            let weights = (0..<rows).flatMap { _ in rng.row(type, n: n) }
            let x = (0..<(tokens * n)).map { _ in rng.float(-2...2) }
            var q = [Int8](repeating: 0, count: tokens * n)
            var d = [Float](repeating: 0, count: tokens * n / 32), s = d
            qk_quantize_act(x, Int32(tokens * n), &q, &d, &s)
            let usesInt8 = qk_type_uses_int8(Int32(type.rawValue)) != 0
            // What the kernel should compute: the quantized activations' values (or x itself for float types).
            let a = (0..<(tokens * n)).map { usesInt8 ? Float(q[$0]) * d[$0 / 32] : x[$0] }
            for block in 0..<(tokens * n / 32) {
                let sum = (0..<32).reduce(Float(0)) { $0 + Float(q[block * 32 + $1]) }
                #expect(abs(s[block] - d[block] * sum) <= 1e-5 * abs(s[block]) + 1e-6)
            }
            var expected = [Float](repeating: 0, count: tokens * rows)
            for r in 0..<rows {
                let w = ReferenceDequantizer.row(type, Array(weights[(r * rowBytes)..<((r + 1) * rowBytes)]), n: n)
                for t in 0..<tokens {
                    var acc = 0.0
                    for i in 0..<n { acc += Double(w[i]) * Double(a[t * n + i]) }
                    expected[t * rows + r] = Float(acc)
                }
            }
            let scale = expected.map(abs).max() ?? 1
            for path in [QK_PATH_SCALAR, QK_PATH_AVX2, QK_PATH_VNNI, QK_PATH_VNNI512] {
                var out = [Float](repeating: .nan, count: tokens * rows)
                let ran = weights.withUnsafeBytes { w in
                    qk_matmul_using(
                        Int32(path), Int32(type.rawValue), w.baseAddress, rowBytes, Int32(n), 0, Int32(rows), q, d, s, x,
                        Int32(tokens), &out, rows)
                }
                guard ran != 0 else { continue }  // this CPU lacks the instruction set
                for i in 0..<out.count {
                    #expect(abs(out[i] - expected[i]) <= 2e-4 * scale, "\(type) path \(path) n \(n) tokens \(tokens) #\(i): \(out[i]) vs \(expected[i])")
                }
            }
        }
    }

    /// The activation quantizer's scale makes the largest magnitude ±127 and rounds the rest; the stored
    /// scale is rounded to f16 precision like llama.cpp's Q8_0.
    @Test func quantizesActivationsToInt8Blocks() {
        var x = [Float](repeating: 0, count: 64)
        for i in 0..<64 { x[i] = Float(i - 20) * 0.1 }
        var q = [Int8](repeating: 0, count: 64), d = [Float](repeating: 0, count: 2), s = d
        qk_quantize_act(x, 64, &q, &d, &s)
        #expect(d[0] == Float(Float16(Float(2.0 / 127))))
        #expect(q[0] == -127)
        #expect(q[63] == 127)
        // The values were rounded with the unrounded scale: allow its f16 error on top of half a step.
        for i in 0..<64 { #expect(abs(Float(q[i]) * d[i / 32] - x[i]) <= d[i / 32] * 0.57) }
        for b in 0..<2 { #expect(s[b] == d[b] * Float(q[(32 * b)..<(32 * b + 32)].reduce(0) { $0 + Int($1) })) }
    }

    /// The K-quant activation quantizer (llama.cpp's Q8_K): one scale per 256 values, the value of largest
    /// magnitude becomes -128, the rest round to the nearest step; s holds each 32-block's scaled sum.
    @Test func quantizesActivationsForKQuants() {
        var rng = RandomBlocks(state: 5)
        let n = 512
        var x = (0..<n).map { _ in rng.float(-1...1) }
        x[300] = 3  // the peak of the second 256
        var q = [Int8](repeating: 0, count: n), d = [Float](repeating: 0, count: n / 32), s = d
        qk_quantize_act_k(x, Int32(n), &q, &d, &s)
        #expect(q[300] == -128)
        #expect(abs(d[8] - (-3.0 / 128)) < 1e-7)
        for b in 0..<(n / 32) {
            #expect(d[b] == d[b / 8 * 8])
            #expect(abs(s[b] - d[b] * Float(q[(32 * b)..<(32 * b + 32)].reduce(0) { $0 + Int($1) })) <= 1e-5)
        }
        for i in 0..<n { #expect(abs(Float(q[i]) * d[i / 32] - x[i]) <= abs(d[i / 32]) / 2 + 1e-6) }
    }

    /// The AVX-512 Q8_K quantizer against the scalar one, byte for byte: blocks with ties for the peak (the
    /// first one must win), an all-zero block, and wide and narrow ranges.
    @Test func vectorKQuantizerMatchesScalar() {
        let n = 4 * 256
        var rng = RandomBlocks(state: 31)
        var x = (0..<n).map { i in rng.float(-1...1) * (i < 512 ? 40 : 0.01) }
        x[3] = 2 * 40
        x[200] = -2 * 40  // ties with x[3] in magnitude: x[3] sets the sign
        for i in 256..<512 { x[i] = 0 }
        var q1 = [Int8](repeating: 0, count: n), d1 = [Float](repeating: 0, count: n / 32), s1 = d1
        var q2 = q1, d2 = d1, s2 = d1
        #expect(qk_quantize_act_k_using(Int32(QK_PATH_SCALAR), x, Int32(n), &q1, &d1, &s1) == 1)
        guard qk_quantize_act_k_using(Int32(QK_PATH_VNNI), x, Int32(n), &q2, &d2, &s2) == 1 else { return }
        #expect(q1 == q2)
        #expect(d1.map(\.bitPattern) == d2.map(\.bitPattern))
        #expect(s1.map(\.bitPattern) == s2.map(\.bitPattern))
        #expect(q1[3] == -128 && q1[200] == 127)
    }

    /// f16 attention: one head against a plain softmax-weighted sum, over fewer positions than one vector
    /// of the softmax holds and over several vectors plus a rest.
    @Test(arguments: [7, 21]) func attendsOverF16Cache(positions: Int) {
        let hd = 64
        var rng = RandomBlocks(state: 99)
        let q = (0..<hd).map { _ in rng.float(-1...1) }
        let keys = (0..<(positions * hd)).map { _ in rng.float(-1...1) }
        let values = (0..<(positions * hd)).map { _ in rng.float(-1...1) }
        var k16 = [UInt16](repeating: 0, count: keys.count), v16 = k16
        qk_f32_to_f16(keys, &k16, Int32(keys.count))
        qk_f32_to_f16(values, &v16, Int32(values.count))
        var scores = [Float](repeating: 0, count: positions), out = [Float](repeating: 0, count: hd)
        qk_attend_f16(q, k16, v16, hd, Int32(hd), Int32(positions), 0.125, &scores, &out)
        var logits = (0..<positions).map { j in (0..<hd).reduce(Float(0)) { $0 + q[$1] * keys[j * hd + $1] } * 0.125 }
        let mx = logits.max()!
        logits = logits.map { Foundation.exp($0 - mx) }
        let total = logits.reduce(0, +)
        for i in 0..<hd {
            let want = (0..<positions).reduce(Float(0)) { $0 + logits[$1] / total * values[$1 * hd + i] }
            #expect(abs(out[i] - want) < 2e-3)
        }
    }

    /// silu(gate) * up for ordinary gates, gates far enough below zero to underflow e^gate, and a length
    /// that leaves a rest after the vectors.
    @Test func swigluMatchesItsDefinition() {
        var rng = RandomBlocks(state: 3)
        var gate = (0..<37).map { _ in rng.float(-8...8) }
        gate[5] = -120
        gate[6] = 95
        let up = (0..<37).map { _ in rng.float(-2...2) }
        var out = gate
        qk_swiglu(&out, up, Int32(gate.count))
        for i in 0..<gate.count {
            let g = Double(gate[i]), want = g / (1 + Foundation.exp(-g)) * Double(up[i])
            #expect(abs(Double(out[i]) - want) <= 1e-6 * max(1, abs(want)), "gate \(g): \(out[i]) vs \(want)")
        }
    }

    /// Prefill attention for the query heads sharing a KV head, over several tokens at a nonzero start
    /// position, against the one-query kernel per (token, head): a wrong causal limit, head grouping or KV
    /// head offset changes the outputs, and so does any change in the order of the sums.
    @Test(arguments: [(group: 7, kvHeads: 2, tokens: 5, start: 37), (group: 3, kvHeads: 3, tokens: 9, start: 0),
                      (group: 1, kvHeads: 2, tokens: 20, start: 3)])
    func groupedAttentionMatchesOneQueryKernel(group: Int, kvHeads: Int, tokens: Int, start: Int) {
        let hd = 64, heads = group * kvHeads, kvDim = kvHeads * hd, qDim = heads * hd, positions = start + tokens
        var rng = RandomBlocks(state: 7)
        let q = (0..<(tokens * qDim)).map { _ in rng.float(-2...2) }
        let keys = (0..<(positions * kvDim)).map { _ in rng.float(-3...3) }
        let values = (0..<(positions * kvDim)).map { _ in rng.float(-1...1) }
        // Positions past the last token hold NaN, as an unwritten cache may: reading one poisons the output.
        var k16 = [UInt16](repeating: 0x7E00, count: keys.count + 4 * kvDim), v16 = k16
        qk_f32_to_f16(keys, &k16, Int32(keys.count))
        qk_f32_to_f16(values, &v16, Int32(values.count))
        var want = [Float](repeating: 0, count: tokens * qDim), got = want
        var scores = [Float](repeating: 0, count: 16 * (positions + 1))
        k16.withUnsafeBufferPointer { k in
            v16.withUnsafeBufferPointer { v in
                for t in 0..<tokens {
                    for h in 0..<heads {
                        let kv = (h / group) * hd
                        want.withUnsafeMutableBufferPointer { out in
                            qk_attend_f16(
                                Array(q[(t * qDim + h * hd)..<(t * qDim + h * hd + hd)]), k.baseAddress! + kv,
                                v.baseAddress! + kv, kvDim, Int32(hd), Int32(start + t + 1), 0.125, &scores,
                                out.baseAddress! + t * qDim + h * hd)
                        }
                    }
                }
                q.withUnsafeBufferPointer { q in
                    got.withUnsafeMutableBufferPointer { out in
                        for kvHead in 0..<kvHeads {
                            let head = kvHead * group * hd
                            qk_attend_group_f16(
                                q.baseAddress! + head, qDim, k.baseAddress! + kvHead * hd, v.baseAddress! + kvHead * hd,
                                kvDim, Int32(hd), Int32(group), Int32(tokens), Int32(start + 1), 0.125, &scores,
                                out.baseAddress! + head, qDim)
                        }
                    }
                }
            }
        }
        // Bit for bit: the batched kernel keeps the one-query kernel's summation order, so a prompt's logits do
        // not depend on which of the two ran it.
        let worst = zip(want, got).map { abs($0 - $1) }.max() ?? 0
        #expect(got.allSatisfy { $0.isFinite })
        #expect(worst == 0)
        #expect(want.contains { abs($0) > 0.01 })
    }
}
