// Measures the built-in engine like `llama-bench -p 512 -n 128`:
// engine-bench MODEL.gguf [threads] [prompt tokens] [generated tokens] [repetitions]
// engine-bench --compare-swift   (the C kernel against the same kernel in Swift SIMD)
import Foundation
import Inference

let args = CommandLine.arguments
if args.count == 2, args[1] == "--compare-swift" {
    SwiftKernelComparison.run()
    exit(0)
}
guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: engine-bench MODEL.gguf [threads] [p] [n] [reps]\n".utf8))
    exit(2)
}
let threads = args.count > 2 ? Int(args[2]) ?? 2 : 2
let p = args.count > 3 ? Int(args[3]) ?? 512 : 512
let n = args.count > 4 ? Int(args[4]) ?? 128 : 128
let reps = args.count > 5 ? Int(args[5]) ?? 3 : 3
do {
    let model = try LanguageModel(path: args[1])
    for _ in 0..<reps {
        let r = try EngineBenchmark.run(model: model, threads: threads, promptTokens: p, generateTokens: n)
        print(String(format: "%@ threads=%d pp%d %.1f tok/s  tg%d %.1f tok/s", r.model, threads, p, r.prefillTokensPerSecond, n, r.decodeTokensPerSecond))
    }
} catch {
    FileHandle.standardError.write(Data("engine-bench: \(error)\n".utf8))
    exit(1)
}
