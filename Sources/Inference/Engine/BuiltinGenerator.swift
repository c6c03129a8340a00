import Foundation
import Synchronization

/// Why a generation ended.
public enum StopReason: String, Sendable, Codable, Equatable {
    /// The model produced an end-of-generation token (EOS, `<|im_end|>`, …).
    case endOfGeneration
    /// The text reached one of the stop strings.
    case stopString
    /// `maxTokens` tokens were generated.
    case maxTokens
    /// The KV cache is full.
    case contextFull
    /// The consumer stopped listening.
    case cancelled
}

/// Everything one generation produced, for `assist run --json`.
public struct GenerationResult: Sendable, Codable, Equatable {
    public var text: String
    public var promptTokenIDs: [Int32]
    /// Generated tokens, excluding the end-of-generation token.
    public var tokenIDs: [Int32]
    public var stopReason: StopReason
    /// Prompt tokens actually run through the model (a prefix shared with the previous call is reused).
    public var prefillTokens: Int
    public var prefillTokensPerSecond: Double
    public var decodeTokensPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case text
        case promptTokenIDs = "prompt_token_ids"
        case tokenIDs = "token_ids"
        case stopReason = "stop_reason"
        case prefillTokens = "prefill_tokens"
        case prefillTokensPerSecond = "prefill_tokens_per_second"
        case decodeTokensPerSecond = "decode_tokens_per_second"
    }
}

/// The built-in engine as a `TextGenerator`: one loaded GGUF model with its tokenizer, chat template and a
/// reusable session. Generations run one at a time on a thread of their own; the KV cache keeps the last
/// conversation so a follow-up that repeats it as a prefix skips straight to the new tokens.
public final class BuiltinGenerator: TextGenerator, Sendable {
    public let model: LanguageModel
    public let tokenizer: any TextTokenizer
    public let template: ChatTemplate
    public let modelID: String
    public let contextLength: Int
    /// Where the KV cache of each system prompt is saved for later processes; nil keeps nothing on disk.
    public let prefixCache: PromptPrefixCache?
    /// Identifies the model file's contents in `prefixCache` keys (size, header and sampled weights).
    public let fingerprint: String
    private let state: Mutex<SessionState>

    /// The session and the tokens its cache holds; only one generation uses it at a time.
    private struct SessionState: ~Copyable {
        let session: InferenceSession
        var cachedTokens: [Int32] = []
    }

    /// Loads the model at `path` (GGUF, `llama` or `qwen2`).
    /// - Parameters:
    ///   - contextLength: KV cache positions; defaults to the model's context capped at 4096.
    ///   - threads: compute threads; defaults to the active cores.
    ///   - prefixCache: where to save and find the KV cache of system prompts across processes.
    public convenience init(
        path: String, modelID: String? = nil, contextLength: Int? = nil, threads: Int? = nil,
        prefixCache: PromptPrefixCache? = nil
    ) throws {
        let file = try GGUFFile(path: path)
        try self.init(
            model: LanguageModel(file: file), tokenizer: makeTokenizer(from: file), template: ChatTemplate(gguf: file),
            modelID: modelID ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent,
            contextLength: contextLength, threads: threads, prefixCache: prefixCache)
    }

    public init(
        model: LanguageModel, tokenizer: any TextTokenizer, template: ChatTemplate, modelID: String,
        contextLength: Int? = nil, threads: Int? = nil, prefixCache: PromptPrefixCache? = nil
    ) throws {
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.modelID = modelID
        self.prefixCache = prefixCache
        // The GGUF header (metadata, tokenizer, tensor table) sits in the first megabyte or so.
        fingerprint = prefixCache == nil ? "" : contentFingerprint(model.file.mapping.bytes, headerLength: 1 << 20)
        let session = InferenceSession(model: model, contextLength: contextLength, threads: threads)
        self.contextLength = session.contextLength
        state = Mutex(SessionState(session: session))
    }

    public func countTokens(_ text: String) throws -> Int {
        tokenizer.encode(text, parseSpecial: false).count
    }

    public func generate(_ messages: [ChatMessage], options: SamplingOptions) -> AsyncThrowingStream<GeneratedPiece, Error> {
        let prompt = template.promptTokens(messages, tokenizer: tokenizer)
        return stream(
            promptTokens: prompt, savedPrefix: savedPrefixLength(messages, prompt: prompt), options: options,
            stops: options.stop + template.stopStrings)
    }

    /// How many leading tokens of `prompt` belong to its system turn, the part worth keeping in
    /// `prefixCache`; 0 without a cache or a system message.
    func savedPrefixLength(_ messages: [ChatMessage], prompt: [Int32]) -> Int {
        guard prefixCache != nil, let first = messages.first, first.role == .system, messages.count > 1 else { return 0 }
        var system = template.renderTokens([first], tokenizer: tokenizer, addGenerationPrompt: false)
        if tokenizer.addsBOS, let bos = tokenizer.bosID, system.first != bos { system.insert(bos, at: 0) }
        var shared = 0
        while shared < min(system.count, prompt.count - 1), system[shared] == prompt[shared] { shared += 1 }
        // A prefix of a few tokens is not worth a file.
        return shared >= 16 ? shared : 0
    }

    /// One generation, synchronously on the caller's thread: `raw` feeds `prompt` as is (special-token text
    /// parsed as special tokens, BOS added if the model wants it); otherwise `prompt` is the user's message
    /// in the model's chat template. `onPiece` sees the text as it is produced.
    public func run(
        prompt: String, raw: Bool, options: SamplingOptions, onPiece: (GeneratedPiece) -> Void = { _ in }
    ) throws -> GenerationResult {
        let tokens: [Int32]
        let stops: [String]
        if raw {
            let body = tokenizer.encode(prompt, parseSpecial: true)
            if tokenizer.addsBOS, let bos = tokenizer.bosID, body.first != bos { tokens = [bos] + body } else { tokens = body }
            stops = options.stop
        } else {
            tokens = template.promptTokens([ChatMessage(role: .user, content: prompt)], tokenizer: tokenizer)
            stops = options.stop + template.stopStrings
        }
        return try run(
            promptTokens: tokens, savedPrefix: 0, options: options, stops: stops, isCancelled: { false }, onPiece: onPiece)
    }

    /// Prefill and decode speed on this model, like `llama-bench -p promptTokens -n generateTokens`.
    public static func benchmark(model: LanguageModel, threads: Int, promptTokens: Int = 512, generateTokens: Int = 128)
        throws -> BenchResult
    {
        try EngineBenchmark.run(model: model, threads: threads, promptTokens: promptTokens, generateTokens: generateTokens)
    }

    // MARK: - Generation

    private func stream(promptTokens: [Int32], savedPrefix: Int, options: SamplingOptions, stops: [String])
        -> AsyncThrowingStream<GeneratedPiece, Error>
    {
        AsyncThrowingStream { continuation in
            let flag = CancelFlag()
            continuation.onTermination = { _ in flag.cancel() }
            let thread = Thread { [self] in
                do {
                    _ = try self.run(
                        promptTokens: promptTokens, savedPrefix: savedPrefix, options: options, stops: stops,
                        isCancelled: { flag.isCancelled },
                        onPiece: { continuation.yield($0) })
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            thread.name = "assist.generate"
            thread.stackSize = 1 << 22
            thread.start()
        }
    }

    private func run(
        promptTokens prompt: [Int32], savedPrefix: Int, options: SamplingOptions, stops: [String],
        isCancelled: () -> Bool, onPiece: (GeneratedPiece) -> Void
    ) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw EngineError.emptyInput }
        return try state.withLock { state in
            let session = state.session
            guard prompt.count < session.contextLength else {
                throw EngineError.contextFull(limit: session.contextLength, requested: prompt.count + 1)
            }
            // Reuse the cached prefix the new prompt shares with the last conversation (at least one token
            // must run to get logits).
            var shared = 0
            while shared < min(state.cachedTokens.count, prompt.count - 1), state.cachedTokens[shared] == prompt[shared] {
                shared += 1
            }
            session.rewind(to: shared)
            state.cachedTokens = Array(prompt.prefix(shared))

            let prefillStart = DispatchTime.now().uptimeNanoseconds
            let reused = shared
            var restored = 0
            if let prefixCache, savedPrefix > shared {
                // The system turn is run on its own (never batched with what follows) so that the cache
                // restored from disk and a cold run produce the same numbers.
                let prefix = prompt[0..<savedPrefix]
                if let saved = prefixCache.load(
                    fingerprint: fingerprint, tokens: prefix, bytesPerPosition: session.cacheBytesPerPosition),
                    (try? saved.withUnsafeBytes { try session.importCache($0, positions: savedPrefix) }) != nil
                {
                    restored = savedPrefix - shared
                } else {
                    session.rewind(to: shared)
                    _ = try session.prefill(Array(prompt[shared..<savedPrefix]))
                    // A cache that cannot be written only costs speed next time.
                    if let bytes = try? session.exportCache(positions: savedPrefix) {
                        try? prefixCache.store(fingerprint: fingerprint, tokens: prefix, cache: bytes)
                    }
                }
                shared = savedPrefix
                state.cachedTokens = Array(prefix)
            }
            var logits = try session.prefill(Array(prompt[shared...]))
            let prefillSeconds = Double(DispatchTime.now().uptimeNanoseconds - prefillStart) / 1e9
            state.cachedTokens = prompt
            var report: PrefillReport? = PrefillReport(
                promptTokens: prompt.count, reusedTokens: reused + restored, restoredTokens: restored,
                seconds: prefillSeconds)

            var sampler = Sampler(options: options)
            var decoder = TokenTextDecoder(tokenizer: tokenizer)
            var matcher = StopStringMatcher(stops: stops)
            var generated: [Int32] = []
            var history = prompt
            var text = ""
            var reason = StopReason.maxTokens
            var decodeSeconds = 0.0
            func emit(_ piece: String, token: Int32?) {
                guard !piece.isEmpty else { return }
                text += piece
                onPiece(GeneratedPiece(text: piece, tokenID: token, prefill: report))
                report = nil
            }

            generation: while generated.count < options.maxTokens {
                if isCancelled() { reason = .cancelled; break }
                let token = sampler.sample(&logits, history: history)
                if tokenizer.endOfGenerationIDs.contains(token) { reason = .endOfGeneration; break }
                generated.append(token)
                history.append(token)
                let out = matcher.append(decoder.append(token))
                emit(out.text, token: token)
                if out.stopped { reason = .stopString; break generation }
                guard generated.count < options.maxTokens else { break }
                guard session.position < session.contextLength else { reason = .contextFull; break }
                let start = DispatchTime.now().uptimeNanoseconds
                try session.decode(token) { fresh in
                    logits.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: fresh) }
                }
                decodeSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                state.cachedTokens.append(token)
            }
            if reason != .stopString {
                let tail = matcher.append(decoder.flush())
                emit(tail.text, token: nil)
                if !tail.stopped { emit(matcher.flush(), token: nil) }
            }
            // The last sampled token was never fed to the model, so the cache ends before it.
            let decodedCount = max(0, generated.count - 1)
            return GenerationResult(
                text: text, promptTokenIDs: prompt, tokenIDs: generated, stopReason: reason,
                prefillTokens: prompt.count - reused - restored,
                prefillTokensPerSecond: prefillSeconds > 0 ? Double(prompt.count - reused - restored) / prefillSeconds : 0,
                decodeTokensPerSecond: decodeSeconds > 0 ? Double(decodedCount) / decodeSeconds : 0)
        }
    }
}

/// Set when the consumer of a stream goes away; read by the generation thread between tokens.
private final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func cancel() { flag.store(true, ordering: .relaxed) }
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
}
