import ArgumentParser
import Assistant
import Foundation
import Index
import Inference

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Generate once from PROMPT with a local model (the built-in engine).",
        discussion: """
            Examples:
              assist run smollm2-135m "What is the capital of France?"
              echo '<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n' | assist run qwen2.5-coder-0.5b - --raw
            """
    )

    @Argument(help: "A model name or a path to a .gguf file.") var model: String
    @Argument(help: "The prompt, or - to read it from standard input.") var prompt: String
    @Option(help: "Most tokens to generate.") var maxTokens = 256
    @Option(help: "0 is greedy.") var temperature: Float = 0
    @Option var seed: UInt64 = 0
    @Option(help: "Compute threads (default: threads from the config).") var threads: Int?
    @Flag(help: "Feed PROMPT as is, without the chat template; special-token text is parsed as special tokens.")
    var raw = false
    @Flag var json = false

    func run() async throws {
        let workspace = try Workspace.load()
        let resolved = try workspace.models.resolve(model)
        let generator = try BuiltinGenerator(
            path: resolved.path, modelID: resolved.name, threads: threads ?? workspace.config.threads)
        let text = prompt == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : prompt
        let terminal = Terminal()
        let options = SamplingOptions(maxTokens: maxTokens, temperature: temperature, seed: seed)
        let result = try generator.run(prompt: text, raw: raw, options: options) { piece in
            if !json { terminal.out(piece.text, terminator: "") }
        }
        if json {
            try JSONOutput.print(
                JSONValue.object([
                    "text": .string(result.text), "model": .string(resolved.name),
                    "prompt_token_ids": .array(result.promptTokenIDs.map { .int(Int($0)) }),
                    "token_ids": .array(result.tokenIDs.map { .int(Int($0)) }),
                    "prefill_tokens_per_second": .double(result.prefillTokensPerSecond),
                    "decode_tokens_per_second": .double(result.decodeTokensPerSecond),
                    "stop_reason": .string(result.stopReason.rawValue),
                ]))
        } else {
            terminal.out("")
            terminal.err(
                terminal.styled(
                    String(
                        format: "%d prompt tokens at %.0f tok/s, %d generated at %.1f tok/s", result.promptTokenIDs.count,
                        result.prefillTokensPerSecond, result.tokenIDs.count, result.decodeTokensPerSecond), .dim, stderr: true))
        }
    }
}

struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat in the terminal; with --rag every question is answered from your notes and mail.",
        discussion: "Type /reset to start over, /exit or Ctrl-D to leave."
    )

    @Argument(help: "Chat model (default: chat_model from the config).") var model: String?
    @Flag(help: "Answer from your index, with citations; follow-up questions keep the conversation.") var rag = false
    @OptionGroup var options: IndexOptions

    func run() async throws {
        let workspace = try options.workspace()
        let generator = try await workspace.makeGenerator(override: model)
        let terminal = Terminal()
        var conversation: RAGConversation?
        if rag {
            let embedder = try await workspace.makeSearchEmbedder()
            let store = try workspace.openStore(embedder: embedder, create: false)
            let asker = workspace.makeAsker(store: store, generator: generator, options: workspace.askOptions(model: model))
            conversation = RAGConversation(asker: asker)
        }
        var history: [ChatMessage] = []
        terminal.err(terminal.styled("\(generator.modelID) — /reset to start over, /exit to leave", .dim, stderr: true))
        while true {
            terminal.out(terminal.styled("› ", .green), terminator: "")
            guard let line = readLine() else { break }
            let input = line.trimmingCharacters(in: .whitespaces)
            if input.isEmpty { continue }
            if input == "/exit" || input == "/quit" { break }
            if input == "/reset" {
                history.removeAll()
                await conversation?.reset()
                continue
            }
            if let conversation {
                try await AskPresenter(json: false).present(try await conversation.ask(input))
                continue
            }
            history.append(ChatMessage(role: .user, content: input))
            var reply = ""
            for try await piece in generator.generate(history, options: SamplingOptions(maxTokens: 1024, temperature: 0.7)) {
                reply += piece.text
                terminal.out(piece.text, terminator: "")
            }
            terminal.out("")
            history.append(ChatMessage(role: .assistant, content: reply))
        }
    }
}

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prefill and decode speed (like llama-bench) and embedding speed.",
        discussion: """
            When a llama-bench binary is on PATH (or LLAMA_BENCH names one), it runs on the same model in the
            same run and the ratio is printed next to ours.
            """
    )

    @Option(help: "Model name or .gguf path.") var model = "smollm2-135m"
    @Option(help: "Compute threads.") var threads: Int?
    @Option(name: .customShort("p"), help: "Prompt tokens.") var promptTokens = 512
    @Option(name: .customShort("n"), help: "Generated tokens.") var generateTokens = 128
    @Option(help: "Embedding model to measure as well: a name, a folder, a `bert` .gguf (which llama-bench can run too), or \"none\".")
    var embedModel = "minilm-l6-v2"
    @Flag var json = false

    func run() async throws {
        let workspace = try Workspace.load()
        let threadCount = threads ?? workspace.config.threads
        let resolved = try workspace.models.resolve(model)
        let languageModel = try LanguageModel(path: resolved.path)
        let ours = try BuiltinGenerator.benchmark(
            model: languageModel, threads: threadCount, promptTokens: promptTokens, generateTokens: generateTokens)
        let reference = LlamaBench.locate().flatMap {
            LlamaBench.run(binary: $0, model: resolved.path, threads: threadCount, p: promptTokens, n: generateTokens)
        }
        var embedding: (throughput: EmbeddingThroughput, precision: BertPrecision, reference: Double?)?
        if embedModel != "none", let embedResolved = try? workspace.models.resolve(embedModel) {
            let embedder = try BertEmbedder(model: embedResolved, threads: threadCount)
            // llama-bench reads GGUF only, so the reference column needs the embedder as a `bert` GGUF.
            let reference = embedResolved.path.lowercased().hasSuffix(".gguf")
                ? LlamaBench.locate().flatMap {
                    LlamaBench.runEmbedding(binary: $0, model: embedResolved.path, threads: threadCount, tokens: 128)
                } : nil
            embedding = (embedder.measureThroughput(passages: 64, tokens: 128), embedder.precision, reference)
        }
        if json {
            var object: [String: JSONValue] = [
                "model": .string(resolved.name), "threads": .int(threadCount),
                "prefill_tokens_per_second": .double(ours.prefillTokensPerSecond),
                "decode_tokens_per_second": .double(ours.decodeTokensPerSecond),
                "prompt_tokens": .int(promptTokens), "generate_tokens": .int(generateTokens),
            ]
            if let reference {
                object["llama_cpp"] = .object([
                    "prefill_tokens_per_second": .double(reference.prefill), "decode_tokens_per_second": .double(reference.decode),
                ])
            }
            if let embedding {
                object["embedding_passages_per_second"] = .double(embedding.throughput.passagesPerSecond)
                object["embedding_tokens_per_second"] = .double(embedding.throughput.tokensPerSecond)
                object["embedding_precision"] = .string(embedding.precision.rawValue)
                if let reference = embedding.reference {
                    object["llama_cpp_embedding_passages_per_second"] = .double(reference)
                }
            }
            try JSONOutput.print(JSONValue.object(object))
            return
        }
        let t = Terminal()
        t.out("model \(resolved.name), \(threadCount) threads")
        t.out(Self.pad("test", 16) + Self.pad("assist", 12, left: true) + Self.pad("llama.cpp", 12, left: true) + Self.pad("ratio", 9, left: true))
        func row(_ name: String, _ ours: Double, _ theirs: Double?) {
            let ref = theirs.map { String(format: "%.1f", $0) } ?? "—"
            let ratio = theirs.map { String(format: "%.2f×", ours / $0) } ?? ""
            t.out(Self.pad(name, 16) + Self.pad(String(format: "%.1f", ours), 12, left: true) + Self.pad(ref, 12, left: true) + Self.pad(ratio, 9, left: true))
        }
        row("pp\(promptTokens) tok/s", ours.prefillTokensPerSecond, reference?.prefill)
        row("tg\(generateTokens) tok/s", ours.decodeTokensPerSecond, reference?.decode)
        if let embedding {
            row("embed pass/s", embedding.throughput.passagesPerSecond, embedding.reference)
            t.out(String(
                format: "embeddings: %.1f passages/s of 128 tokens (%.0f tokens/s), %@ precision",
                embedding.throughput.passagesPerSecond, embedding.throughput.tokensPerSecond, embedding.precision.rawValue))
        }
        if reference == nil { t.out(t.styled("(no llama-bench on PATH: reference column skipped)", .dim)) }
    }
}

extension BenchCommand {
    /// Pads `text` to `width` columns, on the left for numbers.
    static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? fill + text : text + fill
    }
}

/// Runs llama.cpp's `llama-bench` when one is installed, as a yardstick in the same run.
enum LlamaBench {
    static func locate() -> String? {
        let env = ProcessInfo.processInfo.environment
        if let explicit = env["LLAMA_BENCH"], FileManager.default.isExecutableFile(atPath: explicit) { return explicit }
        for dir in (env["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(dir)/llama-bench"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func run(binary: String, model: String, threads: Int, p: Int, n: Int) -> (prefill: Double, decode: Double)? {
        guard let rows = results(binary: binary, arguments: ["-m", model, "-t", "\(threads)", "-p", "\(p)", "-n", "\(n)"])
        else { return nil }
        var prefill: Double?
        var decode: Double?
        for row in rows {
            let speed = row["avg_ts"] as? Double
            if (row["n_prompt"] as? Int ?? 0) > 0 { prefill = speed } else if (row["n_gen"] as? Int ?? 0) > 0 { decode = speed }
        }
        guard let prefill, let decode else { return nil }
        return (prefill, decode)
    }

    /// Passages per second of a `bert` GGUF through llama.cpp's embedding path, one passage of `tokens`
    /// tokens per batch.
    static func runEmbedding(binary: String, model: String, threads: Int, tokens: Int) -> Double? {
        let arguments = ["-m", model, "-t", "\(threads)", "-p", "\(tokens)", "-n", "0", "-embd", "1"]
        guard let rows = results(binary: binary, arguments: arguments),
            let speed = rows.first(where: { ($0["n_prompt"] as? Int ?? 0) > 0 })?["avg_ts"] as? Double
        else { return nil }
        return speed / Double(tokens)
    }

    /// llama-bench's JSON rows, or nil when it fails.
    private static func results(binary: String, arguments: [String]) -> [[String: Any]]? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments + ["-o", "json"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
    }
}

struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure retrieval and answers on a QA file ({question, answer_sources, key_facts, answerable} per line).",
        discussion: """
            Index the data first; answer_sources are paths relative to --root (default: the QA file's folder)
            or Message-IDs.

            Example:
              assist index SampleData/notes SampleData/inbox.mbox && assist eval SampleData/qa.jsonl
            """
    )

    @Argument var qaFile: String
    @Option(help: "Folder the answer_sources paths are relative to.") var root: String?
    @Option(help: "Chat model for the answer half (default: chat_model from the config).") var model: String?
    @Flag(help: "Only measure retrieval (BM25, vectors, hybrid); no LLM.") var retrievalOnly = false
    @OptionGroup var options: IndexOptions

    func run() async throws {
        let workspace = try options.workspace()
        let embedder = try await workspace.makeEmbedder()
        let store = try workspace.openStore(embedder: embedder, create: false)
        let sampleRoot = root ?? URL(fileURLWithPath: qaFile).deletingLastPathComponent().path
        let retrieval = try RetrievalEvaluation(store: store, sampleRoot: sampleRoot, qaPath: qaFile).run()
        var answers: AnswerEvaluation.Report?
        if !retrievalOnly {
            let generator = try await workspace.makeGenerator(override: model)
            let asker = workspace.makeAsker(store: store, generator: generator, options: workspace.askOptions(model: model))
            let bar = ProgressBar(enabled: !options.json && ProgressBar.stderrIsTerminal)
            answers = try await AnswerEvaluation(asker: asker).run(try QAItem.load(qaFile)) { done, total, item in
                bar.update(label: "answering", done: done, total: total, detail: item.id)
            }
            bar.finish()
        }
        if options.json {
            struct Output: Encodable {
                var retrieval: RetrievalEvaluation.Report
                var answers: AnswerEvaluation.Report?
            }
            try JSONOutput.print(Output(retrieval: retrieval, answers: answers))
            return
        }
        let t = Terminal()
        t.out(t.styled("retrieval", .bold) + " (\(retrieval.modes.first?.questions ?? 0) answerable questions)")
        t.out("  " + BenchCommand.pad("mode", 8) + BenchCommand.pad("recall@\(retrieval.k)", 10, left: true) + BenchCommand.pad("MRR", 8, left: true))
        for m in retrieval.modes {
            t.out("  " + BenchCommand.pad(m.mode.rawValue, 8) + BenchCommand.pad(String(format: "%.3f", m.recallAtK), 10, left: true) + BenchCommand.pad(String(format: "%.3f", m.mrr), 8, left: true))
        }
        if let a = answers {
            t.out(t.styled("answers", .bold) + " (\(a.model), \(a.questions) questions)")
            t.out(String(format: "  key facts present      %.3f", a.keyFactAccuracy))
            t.out(String(format: "  abstention accuracy    %.3f (false abstentions: %d)", a.abstentionAccuracy, a.falseAbstentions))
            if !a.falseAbstentionReasons.isEmpty {
                let reasons = a.falseAbstentionReasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                t.out("    declined because     " + reasons.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            t.out(String(format: "  citation validity      %.3f of %d citations", a.citationValidity, a.citations))
            t.out(String(format: "  recall@5               %.3f", a.recallAt5))
            let ttft = a.meanFirstTokenSeconds.map { String(format: ", first token %.2f s", $0) } ?? ""
            t.out(String(format: "  mean time              %.2f s", a.meanSeconds) + ttft)
        }
    }
}
