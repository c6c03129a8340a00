import Foundation
import Index
import Inference
import Server

// A stand-in for `assist mcp` used by the Server tests until the CLI runs AssistMCPServer itself:
// `assist-mcp-testhost --db PATH --models DIR` serves the index at PATH with the real MiniLM embedder
// and SmolLM2 chat model found in DIR, on stdin/stdout.

func value(after flag: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

guard let db = value(after: "--db"), let models = value(after: "--models") else {
    FileHandle.standardError.write(Data("usage: assist-mcp-testhost --db PATH --models DIR\n".utf8))
    exit(2)
}

do {
    let embedder = try BertEmbedder(directory: URL(fileURLWithPath: models + "/minilm-l6-v2"))
    let store = try IndexStore(path: db, embedder: embedder, create: false)
    let server = AssistMCPServer(
        library: store, chatModel: "smollm2-135m",
        generatorProvider: { _ in
            try BuiltinGenerator(path: models + "/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf", modelID: "smollm2-135m")
        })
    try await server.run()
} catch {
    FileHandle.standardError.write(Data("assist-mcp-testhost: \(error)\n".utf8))
    exit(1)
}
