import Foundation

/// Chooses the next token from a model's logits.
///
/// With `temperature == 0` the choice is greedy: the highest logit, the lowest id among equals. Otherwise
/// the steps run in llama.cpp's default order: repetition penalty, top-k, top-p, min-p, temperature, then a
/// draw from a seeded generator, so the same seed, options and logits always give the same tokens.
public struct Sampler: Sendable {
    public let options: SamplingOptions
    /// How many of the most recent tokens the repetition penalty looks at (llama.cpp's `repeat_last_n`).
    public var penaltyWindow: Int
    private var random: Xoshiro256

    public init(options: SamplingOptions, penaltyWindow: Int = 64) {
        self.options = options
        self.penaltyWindow = penaltyWindow
        self.random = Xoshiro256(seed: options.seed)
    }

    /// Picks a token. `logits` are modified in place (the repetition penalty is applied to them).
    public mutating func sample(_ logits: UnsafeMutableBufferPointer<Float>, history: [Int32]) -> Int32 {
        guard !logits.isEmpty else { return 0 }
        applyRepetitionPenalty(logits, history: history)
        if options.temperature <= 0 { return Self.argmax(logits) }

        var (candidates, probabilities) = rankedCandidates(logits)
        // Probabilities at temperature 1 decide what top-p and min-p keep, as in llama.cpp.
        var keep = candidates.count
        if options.topP > 0 && options.topP < 1 {
            var cumulative: Float = 0
            for (i, p) in probabilities.enumerated() {
                cumulative += p
                if cumulative >= options.topP {
                    keep = i + 1
                    break
                }
            }
        }
        if options.minP > 0 && options.minP <= 1, let top = probabilities.first {
            let threshold = top * options.minP
            var kept = 1
            while kept < keep && probabilities[kept] >= threshold { kept += 1 }
            keep = kept
        }
        candidates.removeSubrange(keep...)
        let weights = Self.softmax(candidates.map(\.logit), temperature: options.temperature)

        let u = Float(random.nextUnitDouble())
        var cumulative: Float = 0
        for (i, p) in weights.enumerated() {
            cumulative += p
            if u < cumulative { return candidates[i].id }
        }
        return candidates[candidates.count - 1].id
    }

    /// Picks a token from an array of logits (modified in place like the buffer variant).
    public mutating func sample(_ logits: inout [Float], history: [Int32]) -> Int32 {
        logits.withUnsafeMutableBufferPointer { sample($0, history: history) }
    }

    /// llama.cpp semantics: each distinct recent token's logit is divided by the penalty when positive and
    /// multiplied by it when negative, so the token becomes less likely either way.
    private func applyRepetitionPenalty(_ logits: UnsafeMutableBufferPointer<Float>, history: [Int32]) {
        let penalty = options.repetitionPenalty
        guard penalty != 1, penalty > 0, penaltyWindow > 0, !history.isEmpty else { return }
        var seen = Set<Int32>()
        for id in history.suffix(penaltyWindow) where id >= 0 && Int(id) < logits.count && seen.insert(id).inserted {
            let i = Int(id)
            logits[i] = logits[i] > 0 ? logits[i] / penalty : logits[i] * penalty
        }
    }

    struct Candidate {
        var id: Int32
        var logit: Float
        /// Higher logit first, lower id first among equals.
        func ranksAbove(_ o: Candidate) -> Bool { logit != o.logit ? logit > o.logit : id < o.id }
    }

    /// The candidates top-p and min-p choose from, best first, with their probabilities at temperature 1
    /// normalised over the top-k set (over the whole vocabulary when top-k is off, as in llama.cpp).
    ///
    /// With top-k off, only tokens that can pass min-p are sorted: a sort of the whole vocabulary per token
    /// would dominate sampling on a 150k vocabulary.
    func rankedCandidates(_ logits: UnsafeMutableBufferPointer<Float>) -> ([Candidate], [Float]) {
        let n = logits.count
        if options.topK > 0 && options.topK < n {
            let candidates = topCandidates(logits)
            return (candidates, Self.softmax(candidates.map(\.logit), temperature: 1))
        }
        var maxLogit = -Float.infinity
        for l in logits where l > maxLogit { maxLogit = l }
        guard maxLogit.isFinite else {
            let all = topCandidates(logits)
            return (all, Self.softmax(all.map(\.logit), temperature: 1))
        }
        var denominator: Double = 0
        for l in logits where !l.isNaN { denominator += exp(Double(l - maxLogit)) }
        let floor = options.minP > 0 && options.minP <= 1 ? maxLogit + Float(log(Double(options.minP))) : -Float.infinity
        var candidates: [Candidate] = []
        for i in 0..<n where logits[i] >= floor { candidates.append(Candidate(id: Int32(i), logit: logits[i])) }
        candidates.sort { $0.ranksAbove($1) }
        let probabilities = candidates.map { Float(exp(Double($0.logit - maxLogit)) / denominator) }
        return (candidates, probabilities)
    }

    /// The `topK` best candidates in order (all of them when top-k is off), found with a bounded min-heap
    /// rather than a sort of the whole vocabulary.
    func topCandidates(_ logits: UnsafeMutableBufferPointer<Float>) -> [Candidate] {
        let n = logits.count
        let k = options.topK > 0 ? min(options.topK, n) : n
        if k == n {
            var all = (0..<n).map { Candidate(id: Int32($0), logit: logits[$0]) }
            all.sort { $0.ranksAbove($1) }
            return all
        }
        // heap[0] is the worst of the best k seen so far.
        var heap: [Candidate] = []
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1
                var worst = i
                if l < heap.count && heap[worst].ranksAbove(heap[l]) { worst = l }
                if l + 1 < heap.count && heap[worst].ranksAbove(heap[l + 1]) { worst = l + 1 }
                if worst == i { return }
                heap.swapAt(i, worst)
                i = worst
            }
        }
        for i in 0..<n {
            let c = Candidate(id: Int32(i), logit: logits[i])
            if heap.count < k {
                heap.append(c)
                var j = heap.count - 1
                while j > 0 {
                    let parent = (j - 1) / 2
                    guard heap[parent].ranksAbove(heap[j]) else { break }
                    heap.swapAt(parent, j)
                    j = parent
                }
            } else if c.ranksAbove(heap[0]) {
                heap[0] = c
                siftDown(0)
            }
        }
        heap.sort { $0.ranksAbove($1) }
        return heap
    }

    static func argmax(_ logits: UnsafeMutableBufferPointer<Float>) -> Int32 {
        var best = 0
        var bestValue = logits[0]
        for i in 1..<logits.count where logits[i] > bestValue || (bestValue.isNaN && !logits[i].isNaN) {
            best = i
            bestValue = logits[i]
        }
        return Int32(best)
    }

    static func softmax(_ logits: [Float], temperature: Float) -> [Float] {
        guard let maxLogit = logits.first(where: { !$0.isNaN }) else { return logits.map { _ in 0 } }
        var top = maxLogit
        for l in logits where l > top { top = l }
        var out = logits.map { l -> Float in l.isNaN ? 0 : Float(exp(Double((l - top) / temperature))) }
        let sum = out.reduce(0, +)
        if sum > 0 { for i in out.indices { out[i] /= sum } }
        return out
    }
}

/// xoshiro256** seeded through SplitMix64: small, fast and the same on every platform.
struct Xoshiro256: Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}
