import Foundation
import Inference
import Testing

/// Throughput of the MiniLM embedder, run by hand in a release build:
/// `ASSIST_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter EmbeddingBenchmarkTests`.
/// Prints numbers; asserts nothing about time (machines are noisy).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ASSIST_BENCH"] != nil))
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
        if let fast = try? BertEmbedder(directory: dir, threads: 2, precision: .bfloat16) {
            let exact = try BertEmbedder(directory: dir, threads: 2, precision: .float32)
            let cosine = EmbeddingTestSupport.cosine(try exact.embed(long)[0], try fast.embed(long)[0])
            print("bench bf16 vs f32 cosine on a 256-token passage: \(cosine)")
        }
        for precision in [BertPrecision.float32, .bfloat16] {
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
    }
}
