import CKernels
import Dispatch
import Foundation

/// Numeric format of the weight matrices during inference. Accumulation is always f32.
public enum BertPrecision: String, Sendable, Equatable {
    /// f32 weights and activations.
    case float32
    /// bf16 weights and GEMM inputs with f32 accumulation (AVX-512 BF16 dot products): about twice the
    /// arithmetic rate of f32; cosine to the f32 result stays above 0.9999 on MiniLM.
    case bfloat16
    /// Weights and GEMM inputs as 13-bit integers with one f32 scale per 128 inputs (AVX2 `vpmaddwd`), for
    /// CPUs without BF16: about 1.6 times the f32 GEMM's speed there, and closer to f32 than bf16 is.
    case int16

    /// The fastest precision this instruction set runs within the fixture's tolerance.
    static func preferred(isa: Int32) -> BertPrecision {
        if isa >= Int32(BERT_ISA_AVX512_BF16) { return .bfloat16 }
        // AVX-512 without BF16 has f32 FMAs as wide as AVX2's 16-bit multiply-adds.
        if isa == Int32(BERT_ISA_AVX2) { return .int16 }
        return .float32
    }

    /// The instruction set the precision's kernel needs.
    var requiredISA: Int32 {
        switch self {
        case .float32: Int32(BERT_ISA_PORTABLE)
        case .bfloat16: Int32(BERT_ISA_AVX512_BF16)
        case .int16: Int32(BERT_ISA_AVX2)
        }
    }
}

/// A sentence-transformers BERT model (e.g. all-MiniLM-L6-v2) run on the CPU: WordPiece tokens → BERT
/// encoder → pooling → L2 normalization.
///
/// The forward pass packs a batch as one ragged matrix of tokens without padding: every position-wise step
/// (projections, feed-forward, LayerNorm) runs as one large GEMM over all tokens of all sequences, and only
/// attention works per sequence, so a sequence never sees another's tokens and no padding is computed.
/// Batches are processed on `threads` threads in parallel.
public final class BertEmbedder: Embedder {
    public let modelID: String
    public let configuration: BertConfiguration
    public let tokenizer: WordPieceTokenizer
    public let pooling: BertPooling
    public let precision: BertPrecision
    public let threads: Int
    public var dimensions: Int { configuration.hiddenSize }
    /// The model's window, `[CLS]` and `[SEP]` included.
    public var maxTokens: Int { tokenizer.maxLength }

    private let weights: BertWeights
    private let isa: Int32

    /// The window used when a folder has no `sentence_bert_config.json`: the sentence-transformers setting
    /// for the MiniLM family, beyond which these models were never trained and attention cost grows.
    public static let defaultMaxSequenceLength = 256
    /// Tokens processed together in one forward pass; bounds scratch memory (~60 KiB per token for MiniLM).
    static let maxBatchTokens = 2048

    /// Loads a sentence-transformers folder: `config.json`, `model.safetensors`, `tokenizer.json` (or
    /// `vocab.txt`), and when present `sentence_bert_config.json` and `1_Pooling/config.json`.
    ///
    /// - Parameters:
    ///   - name: the model's name in `modelID`; defaults to the folder's name.
    ///   - threads: worker threads for `embed`; defaults to the number of active processors.
    ///   - precision: defaults to `.bfloat16` where the CPU has AVX-512 BF16, `.int16` where it has AVX2
    ///     without AVX-512, else `.float32`.
    public convenience init(
        directory: URL, name: String? = nil, threads: Int? = nil, precision: BertPrecision? = nil
    ) throws {
        let fileManager = FileManager.default
        let configuration = try BertConfiguration(contentsOf: directory.appendingPathComponent("config.json"))
        let window = try Self.maxSequenceLength(directory: directory, configuration: configuration)
        let tokenizerJSON = directory.appendingPathComponent("tokenizer.json")
        let vocabTxt = directory.appendingPathComponent("vocab.txt")
        let tokenizer: WordPieceTokenizer
        if fileManager.fileExists(atPath: tokenizerJSON.path) {
            tokenizer = try WordPieceTokenizer(tokenizerJSON: tokenizerJSON, maxLength: window)
        } else if fileManager.fileExists(atPath: vocabTxt.path) {
            tokenizer = try WordPieceTokenizer(
                vocabTxt: vocabTxt, options: try Self.vocabOptions(directory: directory), maxLength: window)
        } else {
            throw EmbeddingModelError.missingFile(path: tokenizerJSON.path, what: "tokenizer.json or vocab.txt")
        }
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        guard fileManager.fileExists(atPath: weightsURL.path) else {
            throw EmbeddingModelError.missingFile(path: weightsURL.path, what: "model weights")
        }
        let file = try SafetensorsFile(url: weightsURL)
        try self.init(
            source: SafetensorsBertSource(file: file), path: directory.path, configuration: configuration,
            tokenizer: tokenizer,
            pooling: try BertPooling(contentsOf: directory.appendingPathComponent("1_Pooling/config.json")),
            modelID: "\(name ?? directory.standardizedFileURL.lastPathComponent)@\(file.fingerprint())",
            threads: threads, precision: precision)
    }

    /// Assembles an embedder from weights in any supported container.
    init(
        source: some BertTensorSource, path: String, configuration: BertConfiguration, tokenizer: WordPieceTokenizer,
        pooling: BertPooling, modelID: String, threads: Int?, precision: BertPrecision?
    ) throws {
        if let largest = tokenizer.vocabulary.values.max(), Int(largest) >= configuration.vocabularySize {
            throw EmbeddingModelError.badConfiguration(
                path: path,
                reason: "the tokenizer has id \(largest) but the model only \(configuration.vocabularySize) tokens")
        }
        let isa = bert_best_isa()
        let chosen = precision ?? BertPrecision.preferred(isa: isa)
        if isa < chosen.requiredISA {
            let needs = chosen == .bfloat16 ? "AVX-512 BF16" : "AVX2"
            throw EmbeddingModelError.unsupported(
                path: path, reason: "\(chosen.rawValue) inference needs a CPU with \(needs); use float32")
        }
        self.configuration = configuration
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.precision = chosen
        self.isa = isa
        self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        self.weights = try BertWeights(source: source, configuration: configuration, precision: chosen)
        self.modelID = modelID
    }

    private static func maxSequenceLength(directory: URL, configuration: BertConfiguration) throws -> Int {
        let url = directory.appendingPathComponent("sentence_bert_config.json")
        var length = defaultMaxSequenceLength
        if let data = FileManager.default.contents(atPath: url.path) {
            guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                let value = json["max_seq_length"] as? Int, value >= 2
            else {
                throw EmbeddingModelError.badConfiguration(path: url.path, reason: "no usable max_seq_length")
            }
            length = value
        }
        return min(length, configuration.maxPositions)
    }

    /// `vocab.txt` alone says nothing about casing; `tokenizer_config.json` may.
    private static func vocabOptions(directory: URL) throws -> WordPieceTokenizer.Options {
        var options = WordPieceTokenizer.Options()
        let url = directory.appendingPathComponent("tokenizer_config.json")
        if let data = FileManager.default.contents(atPath: url.path),
            let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        {
            if let lower = json["do_lower_case"] as? Bool { options.lowercase = lower }
            if let chinese = json["tokenize_chinese_chars"] as? Bool { options.handleChineseChars = chinese }
            options.stripAccents = json["strip_accents"] as? Bool
        }
        return options
    }

    // MARK: Embedder

    public func countTokens(_ text: String) -> Int { tokenizer.countTokens(text) }

    /// Unit-length embeddings of `texts`, in order. Each text is truncated to `maxTokens`.
    public func embed(_ texts: [String]) throws -> [[Float]] {
        embed(tokenIDs: tokenize(texts))
    }

    /// Token ids of each text, tokenized on `threads` threads (tokenizing is a tenth of the model's time).
    private func tokenize(_ texts: [String]) -> [[Int32]] {
        guard texts.count > 1, threads > 1 else { return texts.map { tokenizer.encode($0) } }
        let slots = ResultSlots<Int32>(count: texts.count)
        let workers = min(threads, texts.count)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: texts.count, by: workers) {
                slots.set(index, tokenizer.encode(texts[index]))
            }
        }
        return slots.values()
    }

    /// Unit-length embeddings of already tokenized sequences (`[CLS] … [SEP]` included); ids outside the
    /// vocabulary become `[UNK]` and sequences longer than the position table are truncated.
    public func embed(tokenIDs: [[Int32]]) -> [[Float]] {
        let vocabulary = Int32(configuration.vocabularySize)
        let sequences = tokenIDs.map { ids -> [Int32] in
            var clean = ids.prefix(configuration.maxPositions).map { $0 >= 0 && $0 < vocabulary ? $0 : tokenizer.unknownID }
            if clean.isEmpty { clean = [tokenizer.clsID, tokenizer.sepID] }
            return clean
        }
        let batches = Self.planBatches(lengths: sequences.map(\.count), threads: threads)
        let results = ResultSlots<Float>(count: sequences.count)
        let next = BatchCounter()
        let workers = min(threads, batches.count)
        let batchTokens = batches.map { $0.reduce(0) { $0 + sequences[$1].count } }.max() ?? 0
        let longest = sequences.map(\.count).max() ?? 0
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            // Scratch sized for the largest batch, reused for every batch this worker takes: fresh pages
            // for each batch would cost more in page faults than LayerNorm and pooling together.
            let buffers = ForwardBuffers(tokens: batchTokens, longest: longest, config: configuration, precision: precision)
            defer { buffers.release() }
            while let index = next.take(limit: batches.count) {
                let members = batches[index]
                let vectors = forward(members.map { sequences[$0] }, buffers: buffers)
                for (member, vector) in zip(members, vectors) { results.set(member, vector) }
            }
        }
        return results.values()
    }

    /// Groups sequence indices into batches of similar length, each under `maxBatchTokens` tokens, with at
    /// least one batch per thread when there are enough sequences to go round.
    static func planBatches(lengths: [Int], threads: Int) -> [[Int]] {
        guard !lengths.isEmpty else { return [] }
        let order = lengths.indices.sorted { lengths[$0] > lengths[$1] }
        let total = lengths.reduce(0, +)
        let perThread = (total + threads - 1) / max(1, threads)
        let cap = max(1, min(maxBatchTokens, perThread))
        var batches: [[Int]] = []
        var current: [Int] = []
        var tokens = 0
        for index in order {
            if !current.isEmpty && tokens + lengths[index] > cap {
                batches.append(current)
                current = []
                tokens = 0
            }
            current.append(index)
            tokens += lengths[index]
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    // MARK: Forward pass

    /// Embeds one batch of sequences: one ragged [tokens × hidden] matrix through all layers.
    /// `buffers` must be sized for at least these sequences' total and longest lengths.
    private func forward(_ sequences: [[Int32]], buffers: ForwardBuffers) -> [[Float]] {
        let config = configuration
        let hidden = config.hiddenSize
        let total = sequences.reduce(0) { $0 + $1.count }
        var x = buffers.x
        var y = buffers.y

        // Embeddings: word + position + token type 0, then LayerNorm.
        weights.wordEmbeddings.withUnsafeBufferPointer { words in
            weights.positionEmbeddings.withUnsafeBufferPointer { positions in
                weights.tokenTypeEmbeddings.withUnsafeBufferPointer { types in
                    var row = 0
                    for sequence in sequences {
                        for (position, id) in sequence.enumerated() {
                            let out = x + row * hidden
                            let word = words.baseAddress! + Int(id) * hidden
                            let place = positions.baseAddress! + position * hidden
                            for c in 0..<hidden { out[c] = word[c] + place[c] + types[c] }
                            row += 1
                        }
                    }
                }
            }
        }
        weights.embeddingNorm.apply(x, residual: nil, rows: total, cols: hidden, eps: config.layerNormEpsilon, isa: isa)

        for layer in weights.layers {
            layer.qkv.apply(x, rows: total, into: buffers.qkv, gelu: false, isa: isa, scratch: buffers.gemm)
            var offset = 0
            for sequence in sequences {
                bert_attention(
                    buffers.qkv + offset * 3 * hidden, Int32(sequence.count), Int32(hidden), Int32(config.headCount),
                    buffers.context + offset * hidden, buffers.attention, isa)
                offset += sequence.count
            }
            layer.output.apply(buffers.context, rows: total, into: y, gelu: false, isa: isa, scratch: buffers.gemm)
            layer.attentionNorm.apply(y, residual: x, rows: total, cols: hidden, eps: config.layerNormEpsilon, isa: isa)
            swap(&x, &y)
            layer.intermediate.apply(x, rows: total, into: buffers.intermediate, gelu: true, isa: isa, scratch: buffers.gemm)
            layer.down.apply(buffers.intermediate, rows: total, into: y, gelu: false, isa: isa, scratch: buffers.gemm)
            layer.outputNorm.apply(y, residual: x, rows: total, cols: hidden, eps: config.layerNormEpsilon, isa: isa)
            swap(&x, &y)
        }
        return pool(x, sequences: sequences)
    }

    /// Pools each sequence's token vectors into one unit-length vector, accumulating in Double.
    private func pool(_ x: UnsafeMutablePointer<Float>, sequences: [[Int32]]) -> [[Float]] {
        let hidden = configuration.hiddenSize
        var vectors: [[Float]] = []
        vectors.reserveCapacity(sequences.count)
        var row = 0
        for sequence in sequences {
            var pooled = [Double](repeating: 0, count: hidden)
            switch pooling {
            case .cls:
                for c in 0..<hidden { pooled[c] = Double(x[row * hidden + c]) }
            case .max:
                for c in 0..<hidden { pooled[c] = -.infinity }
                for t in 0..<sequence.count {
                    for c in 0..<hidden { pooled[c] = max(pooled[c], Double(x[(row + t) * hidden + c])) }
                }
            case .mean, .meanSqrtLength:
                // The L2 normalization below makes the two scalings identical.
                for t in 0..<sequence.count {
                    for c in 0..<hidden { pooled[c] += Double(x[(row + t) * hidden + c]) }
                }
            }
            row += sequence.count
            let norm = pooled.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let scale = norm > 0 ? 1 / norm : 0
            vectors.append(pooled.map { Float($0 * scale) })
        }
        return vectors
    }

    // MARK: Benchmark

    /// Embedding speed on synthetic passages of `tokens` tokens each (`[CLS]` and `[SEP]` included),
    /// measured after one warm-up batch. For `assist bench`.
    public func measureThroughput(passages: Int = 64, tokens: Int = 128) -> EmbeddingThroughput {
        let length = max(2, min(tokens, configuration.maxPositions))
        // Deterministic ids from the ordinary word range (above BERT's reserved and special entries).
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let low = min(1000, configuration.vocabularySize - 1)
        let span = UInt64(max(1, configuration.vocabularySize - low))
        let inputs = (0..<max(1, passages)).map { _ -> [Int32] in
            var ids: [Int32] = [tokenizer.clsID]
            for _ in 0..<(length - 2) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                ids.append(Int32(UInt64(low) + (state >> 33) % span))
            }
            ids.append(tokenizer.sepID)
            return ids
        }
        _ = embed(tokenIDs: Array(inputs.prefix(threads)))
        let cpuStart = EmbeddingThroughput.processCPUSeconds()
        let start = DispatchTime.now().uptimeNanoseconds
        _ = embed(tokenIDs: inputs)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let cpuSeconds = EmbeddingThroughput.processCPUSeconds() - cpuStart
        return EmbeddingThroughput(
            passages: inputs.count, tokensPerPassage: length, seconds: seconds, cpuSeconds: cpuSeconds, threads: threads)
    }
}

/// One throughput measurement of an embedder.
public struct EmbeddingThroughput: Sendable, Equatable {
    public var passages: Int
    public var tokensPerPassage: Int
    /// Wall-clock time of the run.
    public var seconds: Double
    /// CPU time the whole process used meanwhile; on a busy machine `cpuSeconds / threads` exceeding
    /// `seconds` by less than expected shows the embedder was starved, not slow.
    public var cpuSeconds: Double
    public var threads: Int

    public var passagesPerSecond: Double { Double(passages) / seconds }
    public var tokensPerSecond: Double { passagesPerSecond * Double(tokensPerPassage) }
    /// Passages per second of CPU time, times `threads`: the rate the run would reach with `threads` idle cores.
    public var passagesPerSecondUncontended: Double { Double(passages) / cpuSeconds * Double(threads) }

    static func processCPUSeconds() -> Double {
        // clock(): CPU time of the whole process, all threads.
        Double(clock()) / Double(CLOCKS_PER_SEC)
    }
}

/// Hands out batch indices to worker threads.
private final class BatchCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0

    func take(limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < limit else { return nil }
        next += 1
        return next - 1
    }
}

/// Collects results written by several threads, each to its own slots.
private final class ResultSlots<Element: Sendable>: @unchecked Sendable {
    typealias Value = [Element]
    private let lock = NSLock()
    private var slots: [Value]

    init(count: Int) { slots = Array(repeating: [], count: count) }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    func values() -> [Value] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}

/// Scratch memory for one forward pass, allocated once per batch.
private struct ForwardBuffers {
    let x, y, qkv, context, intermediate, attention: UnsafeMutablePointer<Float>
    /// The GEMMs' quantized inputs (bf16 or int16 precision).
    let gemm: UnsafeMutableRawPointer

    init(tokens: Int, longest: Int, config: BertConfiguration, precision: BertPrecision) {
        let rows = max(tokens, 1)
        let hidden = config.hiddenSize
        x = .allocate(capacity: rows * hidden)
        y = .allocate(capacity: rows * hidden)
        qkv = .allocate(capacity: rows * hidden * 3)
        context = .allocate(capacity: rows * hidden)
        intermediate = .allocate(capacity: rows * config.intermediateSize)
        attention = .allocate(
            capacity: bert_attention_scratch_count(Int32(max(longest, 1)), Int32(config.headDimension)))
        let widest = max(hidden, config.intermediateSize)
        gemm = .allocate(
            byteCount: max(1, BertLinear.scratchBytes(rows: rows, inputs: widest, precision: precision)), alignment: 64)
    }

    func release() {
        for buffer in [x, y, qkv, context, intermediate, attention] { buffer.deallocate() }
        gemm.deallocate()
    }
}
