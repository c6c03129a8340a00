import ArgumentParser
import Assistant
import Foundation
import Inference

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Fetch, list, inspect and remove local models.",
        discussion: """
            Known names: smollm2-135m, qwen2.5-coder-0.5b, minilm-l6-v2. Models that Ollama or LM Studio
            already downloaded are listed and used in place, never copied.
            """,
        subcommands: [List.self, Pull.self, Remove.self, Import.self, Info.self],
        defaultSubcommand: List.self
    )

    static func store() throws -> ModelStore { try Workspace.load().models }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List pulled, imported and discovered models.")
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let records = try ModelsCommand.store().list()
            if json {
                try JSONOutput.print(JSONValue.object(["models": .array(records.map(Self.json))]))
                return
            }
            let t = Terminal()
            if records.isEmpty { t.out("No models yet: assist models pull qwen2.5-coder-0.5b") }
            let width = records.map(\.name.count).max() ?? 0
            for r in records {
                let size = ByteCountFormatter.string(fromByteCount: r.bytes, countStyle: .file)
                t.out(r.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + size.padding(toLength: 10, withPad: " ", startingAt: 0) + t.styled(r.source, .dim))
            }
        }
        static func json(_ r: ModelRecord) -> JSONValue {
            .object([
                "name": .string(r.name), "path": .string(r.path), "bytes": .int(Int(r.bytes)), "sha256": .string(r.sha256),
                "source": .string(r.source),
            ])
        }
    }

    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch a model by name, verify its SHA-256 and install it.",
            discussion: "Example: assist models pull qwen2.5-coder-0.5b")
        @Argument var name: String
        func run() throws {
            let store = try ModelsCommand.store()
            if let existing = try store.manifest().first(where: { $0.name == name }),
                FileManager.default.fileExists(atPath: existing.path)
            {
                Terminal().out("\(name) is already installed at \(existing.path)")
                return
            }
            let t = Terminal()
            let record = try store.pull(name) { progress in
                t.err(t.styled("\(progress.stage.rawValue) ", .dim, stderr: true) + progress.message)
            }
            t.out("installed \(record.name) at \(record.path)")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a pulled or imported model.")
        @Argument var name: String
        func run() throws {
            try ModelsCommand.store().remove(name)
            Terminal().out("removed \(name)")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a .gguf file of your own to the store.")
        @Argument var file: String
        @Option(help: "Name to use instead of the file name.") var name: String?
        func run() throws {
            let record = try ModelsCommand.store().importFile(file, name: name)
            Terminal().out("imported \(record.name) at \(record.path)")
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Architecture, size, quantization and template of a model.")
        @Argument var name: String
        func run() throws {
            let info = try ModelsCommand.store().info(name)
            let t = Terminal()
            t.out(t.styled(info.name, .bold) + "  " + info.path)
            t.out("  size: " + ByteCountFormatter.string(fromByteCount: info.bytes, countStyle: .file))
            if let a = info.architecture { t.out("  architecture: \(a)") }
            if let p = info.parameterCount { t.out("  parameters: \(p)") }
            if let l = info.layers { t.out("  layers: \(l)") }
            if let c = info.contextLength { t.out("  context: \(c) tokens") }
            if let d = info.dimensions { t.out("  dimensions: \(d)") }
            if let v = info.vocabularySize { t.out("  vocabulary: \(v) (\(info.tokenizer ?? "?"))") }
            if let c = info.chatTemplate { t.out("  chat template: \(c)") }
            if !info.tensorTypes.isEmpty {
                let types = info.tensorTypes.sorted { $0.value > $1.value }.map { "\($0.key)×\($0.value)" }
                t.out("  tensor types: " + types.joined(separator: ", "))
            }
        }
    }
}

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Token ids of TEXT in MODEL's vocabulary (no BOS, special tokens not parsed).")
    @Argument(help: "A model name or a path to a .gguf file.") var model: String
    @Argument var text: String
    @Flag var json = false

    func run() throws {
        let resolved = try ModelsCommand.store().resolve(model)
        let tokenizer = try makeTokenizer(from: try GGUFFile(path: resolved.path))
        let ids = tokenizer.encode(text, parseSpecial: false)
        if json {
            try JSONOutput.print(JSONValue.object(["token_ids": .array(ids.map { .int(Int($0)) })]))
        } else {
            Terminal().out(ids.map(String.init).joined(separator: " "))
        }
    }
}

struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embed", abstract: "Embedding vectors of each TEXT.")
    @Argument var texts: [String]
    @Option(help: "Embedding model (default: embed_model from the config).") var model: String?
    @Flag var json = false

    func run() async throws {
        let workspace = try Workspace.load()
        let embedder = try await workspace.makeEmbedder(override: model)
        let vectors = try embedder.embed(texts)
        let bert = embedder as? BertEmbedder
        if json {
            let items: [JSONValue] = zip(texts, vectors).map { text, vector in
                var item: [String: JSONValue] = ["vector": .array(vector.map { .double(Double($0)) })]
                if let bert {
                    item["token_ids"] = .array(bert.tokenizer.encode(text, maxLength: bert.maxTokens).map { .int(Int($0)) })
                }
                return .object(item)
            }
            try JSONOutput.print(
                JSONValue.object([
                    "model": .string(embedder.modelID), "dimensions": .int(embedder.dimensions), "embeddings": .array(items),
                ]))
            return
        }
        for (text, vector) in zip(texts, vectors) {
            let head = vector.prefix(6).map { String(format: "%+.4f", $0) }.joined(separator: " ")
            Terminal().out("\(text.prefix(40)): [\(head) …] (\(vector.count) dims)")
        }
    }
}
