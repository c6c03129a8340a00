import CKernels
import Foundation

/// One conversation's state on a `LanguageModel`: the KV cache, scratch buffers and worker threads.
///
/// Not thread-safe: use a session from one thread at a time (a generator runs it on its own task).
public final class InferenceSession {
    public let model: LanguageModel
    /// Positions the KV cache holds.
    public let contextLength: Int
    /// Tokens processed so far (the next token's position).
    public private(set) var position = 0
    /// Tokens processed together during prefill: each weight row is read and unpacked once per batch. 128
    /// rather than 64 took 8 % less matmul CPU time per token (one thread, Qwen2.5-0.5B's shapes).
    public static let batchSize = 128

    private let hp: ModelHyperparameters
    private let pool: WorkerPool
    /// f16 keys and values, [layer][position][kvDim], as llama.cpp keeps them by default.
    private let keyCache: UnsafeMutablePointer<UInt16>
    private let valueCache: UnsafeMutablePointer<UInt16>
    private let buffers: Scratch
    private let inverseFrequencies: [Float]

    /// - Parameters:
    ///   - contextLength: KV cache size; defaults to the model's training context capped at 4096 positions.
    ///   - threads: worker threads including the caller's; defaults to the machine's active cores.
    public init(model: LanguageModel, contextLength: Int? = nil, threads: Int? = nil) {
        self.model = model
        hp = model.hyperparameters
        self.contextLength = max(1, contextLength ?? min(hp.contextLength, 4096))
        pool = WorkerPool(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        // Allocated, not touched: pages become resident only as positions fill.
        let cacheCount = hp.blockCount * self.contextLength * hp.keyValueDimension
        keyCache = .allocate(capacity: cacheCount)
        valueCache = .allocate(capacity: cacheCount)
        buffers = Scratch(hp: hp, batch: Self.batchSize, context: self.contextLength, threads: pool.threadCount)
        let hp = model.hyperparameters
        inverseFrequencies = (0..<(hp.ropeDimensions / 2)).map {
            Float(pow(Double(hp.ropeFrequencyBase), -2.0 * Double($0) / Double(hp.ropeDimensions)))
        }
    }

    deinit {
        keyCache.deallocate()
        valueCache.deallocate()
    }

    /// Forgets the conversation so the next token goes to position 0.
    public func reset() { position = 0 }

    /// Forgets every token from `newPosition` on, keeping the cache before it (to reuse a shared prompt prefix).
    public func rewind(to newPosition: Int) { position = max(0, min(position, newPosition)) }

    /// Feeds `tokens` after what the session has seen and returns the logits for the next token.
    public func prefill(_ tokens: [Int32]) throws -> [Float] {
        guard !tokens.isEmpty else { throw EngineError.emptyInput }
        try check(tokens)
        // The last token always takes the one-token path: batched and one-token kernels round differently,
        // and this way a prompt's logits do not depend on how much of it was reused from the cache.
        let body = tokens.dropLast()
        var start = body.startIndex
        while start < body.endIndex {
            let end = min(body.endIndex, start + Self.batchSize)
            forward(body[start..<end], logits: .none)
            start = end
        }
        forward(tokens[(tokens.count - 1)...], logits: .last)
        return Array(UnsafeBufferPointer(start: buffers.logits, count: hp.vocabularySize))
    }

    /// Feeds one token and returns the logits for the next.
    public func decode(_ token: Int32) throws -> [Float] {
        try decode(token) { Array($0) }
    }

    /// Feeds one token and lends the next-token logits to `body` without copying them.
    public func decode<R>(_ token: Int32, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        try check([token])
        forward([token][...], logits: .last)
        return try body(UnsafeBufferPointer(start: buffers.logits, count: hp.vocabularySize))
    }

    /// Teacher forcing: feeds `tokens` and shows `visit` the logits after each one (index into `tokens`,
    /// logits predicting the token that follows it), in order.
    public func logitsForAll(
        _ tokens: [Int32], _ visit: (Int, UnsafeBufferPointer<Float>) throws -> Void
    ) throws {
        guard !tokens.isEmpty else { throw EngineError.emptyInput }
        try check(tokens)
        var start = 0
        while start < tokens.count {
            let end = min(tokens.count, start + Self.batchSize)
            forward(tokens[start..<end], logits: .all)
            let all = buffers.allLogits(rows: Self.batchSize)
            for t in 0..<(end - start) {
                try visit(start + t, UnsafeBufferPointer(start: all + t * hp.vocabularySize, count: hp.vocabularySize))
            }
            start = end
        }
    }

    private func check(_ tokens: [Int32]) throws {
        guard position + tokens.count <= contextLength else {
            throw EngineError.contextFull(limit: contextLength, requested: position + tokens.count)
        }
        for t in tokens where t < 0 || Int(t) >= hp.vocabularySize {
            throw EngineError.tokenOutOfRange(token: t, vocabularySize: hp.vocabularySize)
        }
    }

    private enum LogitsWanted { case none, last, all }

    /// Runs the transformer over a batch of tokens at positions `position...`, filling the KV cache and,
    /// if asked, the logits.
    private func forward(_ tokens: ArraySlice<Int32>, logits wanted: LogitsWanted) {
        let n = tokens.count, dim = hp.embeddingLength, kvDim = hp.keyValueDimension
        let b = buffers
        for (t, token) in tokens.enumerated() {
            let e = model.tokenEmbedding
            qk_dequantize_row(Int32(e.type.rawValue), e.row(Int(token)), Int32(dim), b.x + t * dim)
        }
        fillRopeTables(count: n)

        for (l, layer) in model.layers.enumerated() {
            // Attention: x += Wo · attention(rope(Wq·norm(x)), rope(Wk·norm(x)), Wv·norm(x))
            normalizeAndQuantize(layer.attentionNorm, rows: n, for: layer.query)
            matmul([(layer.query, b.q), (layer.key, b.k), (layer.value, b.v)], input: b.input, rows: n)
            addBias(layer.queryBias, to: b.q, rows: n)
            addBias(layer.keyBias, to: b.k, rows: n)
            addBias(layer.valueBias, to: b.v, rows: n)
            rope(b.q, heads: hp.headCount, rows: n)
            rope(b.k, heads: hp.headCountKV, rows: n)
            let cacheOffset = (l * contextLength + position) * kvDim
            qk_f32_to_f16(b.k, keyCache + cacheOffset, Int32(n * kvDim))
            qk_f32_to_f16(b.v, valueCache + cacheOffset, Int32(n * kvDim))
            attention(layer: l, rows: n)
            b.input.quantize(b.attnOut, rows: n, columns: hp.queryDimension, for: layer.output)
            matmul([(layer.output, b.xb)], input: b.input, rows: n)
            qk_axpy_f32(b.x, 1, b.xb, Int32(n * dim))

            // Feed-forward: x += Wdown · (silu(Wgate·norm(x)) * Wup·norm(x))
            normalizeAndQuantize(layer.ffnNorm, rows: n, for: layer.gate)
            matmul([(layer.gate, b.gate), (layer.up, b.up)], input: b.input, rows: n)
            let ffn = hp.feedForwardLength
            b.input.use(b.gate, for: layer.down)
            eachRow(n) { t in
                qk_swiglu(b.gate + t * ffn, b.up + t * ffn, Int32(ffn))
                b.input.quantizeRow(t, columns: ffn)
            }
            matmul([(layer.down, b.xb)], input: b.input, rows: n)
            qk_axpy_f32(b.x, 1, b.xb, Int32(n * dim))
        }
        position += n

        switch wanted {
        case .none: break
        case .last:
            rmsnorm(b.xb, b.x + (n - 1) * dim, model.outputNorm, rows: 1)
            b.input.quantize(b.xb, rows: 1, columns: dim, for: model.outputProjection)
            matmul([(model.outputProjection, b.logits)], input: b.input, rows: 1)
        case .all:
            rmsnorm(b.xb, b.x, model.outputNorm, rows: n)
            b.input.quantize(b.xb, rows: n, columns: dim, for: model.outputProjection)
            matmul([(model.outputProjection, b.allLogits(rows: Self.batchSize))], input: b.input, rows: n)
        }
    }

    // MARK: - Steps of the layer

    private func rmsnorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>, _ weight: [Float], rows: Int) {
        let dim = hp.embeddingLength
        weight.withUnsafeBufferPointer { w in
            for t in 0..<rows { qk_rmsnorm(out + t * dim, x + t * dim, w.baseAddress, Int32(dim), hp.rmsEpsilon) }
        }
    }

    /// input = int8 blocks of rmsnorm(x) (kept in xb) for `weights`, row by row.
    private func normalizeAndQuantize(_ weight: [Float], rows: Int, for weights: WeightMatrix) {
        let dim = hp.embeddingLength, eps = hp.rmsEpsilon, b = buffers
        b.input.use(b.xb, for: weights)
        weight.withUnsafeBufferPointer { w in
            eachRow(rows) { t in
                qk_rmsnorm(b.xb + t * dim, b.x + t * dim, w.baseAddress, Int32(dim), eps)
                b.input.quantizeRow(t, columns: dim)
            }
        }
    }

    /// Runs `body(row)` for every token row, spread over the threads: an elementwise step over a long
    /// prompt would otherwise keep the other cores waiting.
    private func eachRow(_ rows: Int, _ body: (Int) -> Void) {
        pool.run(chunks: rows) { t, _ in body(t) }
    }

    private func addBias(_ bias: [Float]?, to x: UnsafeMutablePointer<Float>, rows: Int) {
        guard let bias else { return }
        bias.withUnsafeBufferPointer { bias in
            for t in 0..<rows { qk_axpy_f32(x + t * bias.count, 1, bias.baseAddress, Int32(bias.count)) }
        }
    }

    /// cos/sin of every rotated pair for positions position..<position+count.
    private func fillRopeTables(count: Int) {
        let half = hp.ropeDimensions / 2
        for t in 0..<count {
            let p = Float(position + t)
            for i in 0..<half {
                let angle = p * inverseFrequencies[i]
                buffers.cos[t * half + i] = cosf(angle)
                buffers.sin[t * half + i] = sinf(angle)
            }
        }
    }

    private func rope(_ x: UnsafeMutablePointer<Float>, heads: Int, rows: Int) {
        let half = hp.ropeDimensions / 2, width = heads * hp.headDimension
        for t in 0..<rows {
            qk_rope(
                x + t * width, Int32(heads), Int32(hp.headDimension), Int32(hp.ropeDimensions),
                buffers.cos + t * half, buffers.sin + t * half, hp.ropeStyle == .neox ? 1 : 0)
        }
    }

    /// Causal grouped-query attention for the batch's rows. One token: each head is one task. A batch: each
    /// task is a few consecutive tokens and the query heads sharing one KV head, so the kernel reads each
    /// cached key and value once for all of them (`Scratch.attentionQueryRows` fill its vectors).
    private func attention(layer: Int, rows: Int) {
        let hd = hp.headDimension, kvDim = hp.keyValueDimension, qDim = hp.queryDimension
        let group = hp.headCount / hp.headCountKV
        let scale = 1 / Float(hd).squareRoot()
        let keys = keyCache + layer * contextLength * kvDim, values = valueCache + layer * contextLength * kvDim
        let b = buffers, start = position, heads = hp.headCount, scratch = Scratch.scoresPerThread(context: contextLength)
        guard rows > 1 else {
            pool.run(chunks: heads) { h, thread in
                let kvOffset = (h / group) * hd
                qk_attend_f16(
                    b.q + h * hd, keys + kvOffset, values + kvOffset, kvDim, Int32(hd), Int32(start + 1), scale,
                    b.scores + thread * scratch, b.attnOut + h * hd)
            }
            return
        }
        let tokensPerTask = max(1, Scratch.attentionQueryRows / group), spans = (rows + tokensPerTask - 1) / tokensPerTask
        pool.run(chunks: spans * hp.headCountKV) { task, thread in
            let kvHead = task % self.hp.headCountKV, t = (task / self.hp.headCountKV) * tokensPerTask
            let count = min(tokensPerTask, rows - t), headOffset = kvHead * group * hd
            qk_attend_group_f16(
                b.q + t * qDim + headOffset, qDim, keys + kvHead * hd, values + kvHead * hd, kvDim, Int32(hd),
                Int32(group), Int32(count), Int32(start + t + 1), scale, b.scores + thread * scratch,
                b.attnOut + t * qDim + headOffset, qDim)
        }
    }

    /// out_i[t] = W_i · input[t] for every pair, rows of all matrices split across the threads.
    private func matmul(_ jobs: [(WeightMatrix, UnsafeMutablePointer<Float>)], input: Activations, rows: Int) {
        // Chunks of rows, about eight per thread across all jobs, at least 16 rows (a cache line of outputs).
        let totalRows = jobs.reduce(0) { $0 + $1.0.rows }
        let chunkRows = max(16, (totalRows / (8 * pool.threadCount) + 15) / 16 * 16)
        let chunkCounts = jobs.map { ($0.0.rows + chunkRows - 1) / chunkRows }
        pool.run(chunks: chunkCounts.reduce(0, +)) { chunk, _ in
            var job = 0, index = chunk
            while index >= chunkCounts[job] {
                index -= chunkCounts[job]
                job += 1
            }
            let (w, out) = jobs[job]
            let start = index * chunkRows, end = min(w.rows, start + chunkRows)
            qk_matmul(
                Int32(w.type.rawValue), w.base, w.rowBytes, Int32(w.columns), Int32(start), Int32(end),
                input.q, input.d, input.s, input.x, Int32(rows), out, w.rows)
        }
    }
}

/// Activations prepared for the kernels: the f32 values and their int8 blocks.
///
/// The int8 blocks follow the consuming weights, as llama.cpp does, so both engines round alike: one scale
/// per 32 values (Q8_0) for the 32-weight block formats, one per 256 (Q8_K) for the K-quants. When one input
/// feeds several matrices (Q, K, V), the first one's format decides.
final class Activations {
    let q: UnsafeMutablePointer<Int8>
    let d: UnsafeMutablePointer<Float>
    let s: UnsafeMutablePointer<Float>
    private(set) var x: UnsafeMutablePointer<Float>?
    private var superBlocks = false

    init(capacity: Int) {
        q = .allocate(capacity: capacity)
        d = .allocate(capacity: capacity / 32 + 1)
        s = .allocate(capacity: capacity / 32 + 1)
    }

    deinit {
        q.deallocate()
        d.deallocate()
        s.deallocate()
    }

    /// Quantizes `rows` rows of `columns` floats for `weights` (kept by reference for the float weight types).
    func quantize(_ values: UnsafeMutablePointer<Float>, rows: Int, columns: Int, for weights: WeightMatrix) {
        use(values, for: weights)
        for t in 0..<rows { quantizeRow(t, columns: columns) }
    }

    /// Makes `values` (rows of floats) the activations for `weights`, to be quantized row by row with
    /// `quantizeRow`.
    func use(_ values: UnsafeMutablePointer<Float>, for weights: WeightMatrix) {
        x = values
        superBlocks = [.q4_K, .q5_K, .q6_K].contains(weights.type)
    }

    /// Quantizes row `t` of the values given to `use`; different rows may be quantized on different threads.
    func quantizeRow(_ t: Int, columns: Int) {
        guard let x else { return }
        let blocks = t * columns / 32
        let quantize = superBlocks ? qk_quantize_act_k : qk_quantize_act
        quantize(x + t * columns, Int32(columns), q + t * columns, d + blocks, s + blocks)
    }
}

/// A session's working memory, sized for its largest batch.
final class Scratch {
    let x, xb, q, k, v, attnOut, gate, up, logits, scores, cos, sin: UnsafeMutablePointer<Float>
    let input: Activations
    private let all: [UnsafeMutablePointer<Float>]

    init(hp: ModelHyperparameters, batch: Int, context: Int, threads: Int) {
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
            p.initialize(repeating: 0, count: count)
            return p
        }
        x = buffer(batch * hp.embeddingLength)
        xb = buffer(batch * max(hp.embeddingLength, hp.queryDimension))
        q = buffer(batch * hp.queryDimension)
        k = buffer(batch * hp.keyValueDimension)
        v = buffer(batch * hp.keyValueDimension)
        attnOut = buffer(batch * hp.queryDimension)
        gate = buffer(batch * hp.feedForwardLength)
        up = buffer(batch * hp.feedForwardLength)
        logits = buffer(hp.vocabularySize)
        vocabularySize = hp.vocabularySize
        scores = buffer(threads * Self.scoresPerThread(context: context))
        cos = buffer(batch * hp.ropeDimensions / 2 + 1)
        sin = buffer(batch * hp.ropeDimensions / 2 + 1)
        all = [x, xb, q, k, v, attnOut, gate, up, logits, scores, cos, sin]
        input = Activations(capacity: batch * max(hp.embeddingLength, hp.queryDimension, hp.feedForwardLength))
    }

    /// Query rows one grouped-attention task gives the kernel: one per lane of its 512-bit vectors.
    static let attentionQueryRows = 16

    /// Attention scratch of one thread: a score for each position and each of the task's query rows.
    static func scoresPerThread(context: Int) -> Int { attentionQueryRows * (context + 1) }

    private let vocabularySize: Int
    private var batchLogits: UnsafeMutablePointer<Float>?

    /// Room for `rows` rows of logits, allocated on first use: only teacher forcing needs it.
    func allLogits(rows: Int) -> UnsafeMutablePointer<Float> {
        if let batchLogits { return batchLogits }
        let p = UnsafeMutablePointer<Float>.allocate(capacity: rows * vocabularySize)
        batchLogits = p
        return p
    }

    deinit {
        for p in all { p.deallocate() }
        batchLogits?.deallocate()
    }
}

// MARK: - Saving and restoring a prompt prefix

extension InferenceSession {
    /// Bytes the KV cache holds per position: keys and values of every layer, f16.
    public var cacheBytesPerPosition: Int { hp.blockCount * hp.keyValueDimension * 2 * MemoryLayout<UInt16>.size }

    /// A copy of the KV cache for positions `0..<count` (layer by layer, keys then values), so a prompt prefix
    /// computed once can be restored later instead of being run through the model again.
    public func exportCache(positions count: Int) throws -> [UInt8] {
        guard count > 0, count <= position else {
            throw EngineError.prefixBeyondCache(requested: count, cached: position)
        }
        let rowBytes = hp.keyValueDimension * MemoryLayout<UInt16>.size
        var out = [UInt8](repeating: 0, count: count * cacheBytesPerPosition)
        out.withUnsafeMutableBytes { raw in
            guard let target = raw.baseAddress else { return }
            var offset = 0
            for layer in 0..<hp.blockCount {
                for cache in [keyCache, valueCache] {
                    let source = UnsafeRawPointer(cache + layer * contextLength * hp.keyValueDimension)
                    target.advanced(by: offset).copyMemory(from: source, byteCount: count * rowBytes)
                    offset += count * rowBytes
                }
            }
        }
        return out
    }

    /// Replaces the conversation with `count` positions from `exportCache` (of the same model); the next
    /// token goes to position `count`.
    public func importCache(_ bytes: UnsafeRawBufferPointer, positions count: Int) throws {
        guard count > 0, count < contextLength else {
            throw EngineError.contextFull(limit: contextLength, requested: count)
        }
        guard bytes.count == count * cacheBytesPerPosition, let base = bytes.baseAddress else {
            throw EngineError.invalidCache(
                expectedBytes: count * cacheBytesPerPosition, foundBytes: bytes.count)
        }
        let rowBytes = hp.keyValueDimension * MemoryLayout<UInt16>.size
        var offset = 0
        for layer in 0..<hp.blockCount {
            for cache in [keyCache, valueCache] {
                let target = UnsafeMutableRawPointer(cache + layer * contextLength * hp.keyValueDimension)
                target.copyMemory(from: base + offset, byteCount: count * rowBytes)
                offset += count * rowBytes
            }
        }
        position = count
    }
}
