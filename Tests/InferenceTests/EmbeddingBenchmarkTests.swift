import Foundation
import Testing

@testable import Inference

/// Throughput of the MiniLM embedder, run by hand in a release build:
/// `ASSIST_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter EmbeddingBenchmarkTests`.
/// Prints numbers and asserts nothing about time (machines are noisy). When a `llama-bench` is on PATH,
/// MiniLM is converted to a BERT GGUF and measured with it in the same run, as a yardstick.
///
/// Measured 2026-11-26 on the 2-core AVX-512 EPYC while other builds kept the load near 8 (so wall-clock
/// rates are starved; "per CPU time × threads" is what idle cores would give), 128-token passages:
/// bf16 2 threads 55-58 passages/s wall, 237-241 per CPU time; f32 2 threads 36-45 wall, 145-147 per CPU
/// time; llama.cpp (f32 GGUF, native build) in the same minutes 13-16 passages/s at 1 thread, 3 at 2.
///
/// Measured 2026-11-27 on the 2-core AVX2 EPYC (Zen 3, no AVX-512), 128-token passages, passages/s at 2 and
/// 1 threads: int16 53-59 and 31.5, f32 45-48 and 23-25, llama.cpp (f32 GGUF, native build) 27.3 and 16.5.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ASSIST_BENCH"] != nil), .serialized)
struct EmbeddingBenchmarkTests {
    @Test func passagesPerSecond() throws {
        let dir = try EmbeddingTestSupport.miniLMDirectory()
        let fixture = try EmbeddingTestSupport.miniLMFixture()
        let tokenizer = try BertEmbedder(directory: dir, threads: 1, precision: .float32).tokenizer
        let mixed = String(repeating: fixture.cases.map(\.text).joined(separator: " "), count: 50)
        let ascii = String(repeating: "We decided to move the weekly sync to Thursdays at 10:00; see https://example.com/notes. ", count: 300)
        for (name, text) in [("mixed-script", mixed), ("ASCII", ascii)] {
            let clock = ContinuousClock()
            var count = 0
            let elapsed = clock.measure { for _ in 0..<20 { count += tokenizer.countTokens(text) } }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("bench tokenizer: \(String(format: "%.0f", Double(count) / seconds)) tokens/s on \(name) text")
        }
        let long = [String(repeating: fixture.cases.map(\.text).joined(separator: " "), count: 3)]
        let exact = try BertEmbedder(directory: dir, threads: 2, precision: .float32)
        for precision in [BertPrecision.int16, .bfloat16] {
            guard let fast = try? BertEmbedder(directory: dir, threads: 2, precision: precision) else { continue }
            let cosine = EmbeddingTestSupport.cosine(try exact.embed(long)[0], try fast.embed(long)[0])
            print("bench \(precision) vs f32 cosine on a 256-token passage: \(cosine)")
        }
        for precision in [BertPrecision.float32, .int16, .bfloat16] {
            guard let embedder = try? BertEmbedder(directory: dir, threads: 2, precision: precision) else { continue }
            let vectors = try embedder.embed(fixture.cases.map(\.text))
            let worst = zip(vectors, fixture.cases).map { EmbeddingTestSupport.cosine($0, $1.embedding) }.min() ?? 0
            for threads in [1, 2] {
                let measured = try BertEmbedder(directory: dir, threads: threads, precision: precision)
                for _ in 0..<3 {
                    let rate = measured.measureThroughput(passages: 128, tokens: 128)
                    print(
                        "bench \(precision) threads=\(threads): \(String(format: "%.1f", rate.passagesPerSecond)) passages/s "
                            + "(\(String(format: "%.0f", rate.tokensPerSecond)) tokens/s), "
                            + "\(String(format: "%.1f", rate.passagesPerSecondUncontended)) passages/s per CPU time × threads; "
                            + "worst fixture cosine \(worst)")
                }
            }
        }
        try Self.llamaBench()
    }

    /// Runs `llama-bench` (LLAMA_BENCH, or the one on PATH) on MiniLM converted to GGUF: pp128 with
    /// embeddings, 1 and 2 threads.
    static func llamaBench() throws {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [environment["LLAMA_BENCH"]].compactMap { $0 }
            + (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/llama-bench" }
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("bench llama.cpp: no llama-bench on PATH, column skipped")
            return
        }
        let model = FileManager.default.temporaryDirectory.appendingPathComponent("minilm-bench-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: model) }
        try EmbeddingGGUFTests.convertMiniLM(to: model)
        for threads in [1, 2] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["-m", model.path, "-p", "128", "-n", "0", "-embd", "1", "-t", "\(threads)", "-r", "10", "-o", "json"]
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            // Drain stderr concurrently so a chatty llama-bench never blocks on a full pipe.
            let log = LogCollector()
            let reader = Thread { log.data = errors.fileHandleForReading.readDataToEndOfFile() }
            reader.start()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            while !reader.isFinished { Thread.sleep(forTimeInterval: 0.01) }
            let runs = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] ?? []
            if runs.isEmpty {
                let lastLines = String(decoding: log.data, as: UTF8.self).split(separator: "\n").suffix(3)
                print("bench llama.cpp threads=\(threads): llama-bench failed: \(lastLines.joined(separator: " | "))")
            }
            for run in runs {
                let tokens = run["avg_ts"] as? Double ?? 0
                print("bench llama.cpp threads=\(threads): \(String(format: "%.1f", tokens / 128)) passages/s (\(String(format: "%.0f", tokens)) tokens/s)")
            }
        }
    }
}

private final class LogCollector: @unchecked Sendable {
    var data = Data()
}
