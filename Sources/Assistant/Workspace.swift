import Foundation
import Index
import Inference
import Ingest

/// Everything a command needs, built from the configuration: where the index and the models live, and
/// how to reach the embedding and chat models.
///
/// It is the single place where configuration turns into live objects, so the CLI, the server and tests
/// wire things the same way.
public struct Workspace: Sendable {
    public let config: AssistConfig
    public let models: ModelStore

    public init(config: AssistConfig, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.config = config
        var env = environment
        env["ASSIST_MODELS"] = config.modelsDir
        self.models = ModelStore(root: config.modelsDir, environment: env)
    }

    /// Loads the configuration (file, environment, then `flags`) and builds the workspace.
    public static func load(
        flags: [ConfigKey: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Workspace {
        let config = try ConfigLoader(environment: environment, flags: flags).load()
        return Workspace(config: config, environment: environment)
    }

    /// The embedding model from `embed_backend`/`embed_model` (or `override`): the built-in BERT engine
    /// over a pulled model folder or a `bert` GGUF file, or a server.
    public func makeEmbedder(override: String? = nil) async throws -> any Embedder {
        let choice = config.embedChoice(override: override)
        if let remote = try await config.connectRemoteEmbedder(choice) { return remote }
        let resolved = try models.resolve(choice.model)
        return try BertEmbedder(model: resolved, threads: config.threads)
    }

    /// The embedder that searching the index needs: none when the index holds no vectors (it was built
    /// with `assist index --no-embed`), so keyword search and answers work without an embedding model.
    public func makeSearchEmbedder() async throws -> (any Embedder)? {
        if FileManager.default.fileExists(atPath: config.db),
            try IndexStore(path: config.db, embedder: nil, create: false).embeddingModel() == nil
        {
            return nil
        }
        return try await makeEmbedder()
    }

    /// Opens (creating when asked) the index at `db`, with `embedder` for the vector half of search.
    public func openStore(embedder: (any Embedder)?, create: Bool) throws -> IndexStore {
        if !create, !FileManager.default.fileExists(atPath: config.db) {
            throw StoreError.missingIndex(path: config.db)
        }
        return try IndexStore(path: config.db, embedder: embedder, create: create)
    }

    /// Sync options whose chunk sizes are counted with the embedder's own tokenizer, so no chunk is
    /// truncated when it is embedded.
    public func syncOptions(for embedder: (any Embedder)?) -> SyncOptions {
        guard let embedder else { return SyncOptions() }
        return SyncOptions(
            tokenCounter: EmbedderTokenCounter(embedder: embedder),
            maxChunkTokens: max(32, embedder.maxTokens - 16))
    }
}

/// Counts tokens with an embedder's tokenizer, for the chunker.
public struct EmbedderTokenCounter: TokenCounting {
    public let embedder: any Embedder
    public init(embedder: any Embedder) { self.embedder = embedder }
    public func countTokens(_ text: String) -> Int { embedder.countTokens(text) }
}

extension Workspace {
    /// The chat model from `chat_backend`/`chat_model` (or `override`, e.g. `--model smollm2-135m`,
    /// `ollama:llama3.2`, a path to a .gguf file): a server, or the built-in engine loading the GGUF once.
    public func makeGenerator(override: String? = nil, contextLength: Int? = nil) async throws -> any TextGenerator {
        let choice = config.chatChoice(override: override)
        if let remote = try await config.connectRemoteGenerator(choice) { return remote }
        let resolved = try models.resolve(choice.model)
        return try BuiltinGenerator(
            path: resolved.path, modelID: resolved.name, contextLength: contextLength ?? 4096, threads: config.threads,
            prefixCache: PromptPrefixCache(directory: URL(fileURLWithPath: promptCacheDirectory)))
    }

    /// Saved KV caches of system prompts (`<home>/cache/prompt-prefixes`): a process that answers one
    /// question restores its instructions from here instead of running them through the model again.
    public var promptCacheDirectory: String {
        (config.home as NSString).appendingPathComponent("cache/prompt-prefixes")
    }

    /// The configured answering options for the chat model `override` (or `chat_model`): its prompt budget
    /// (`context_tokens`) and whether it gets a second look (`second_look`).
    public func askOptions(model override: String? = nil) -> AskOptions {
        AskOptions(maxPromptTokens: config.contextTokens, secondLook: config.secondLook(for: config.chatChoice(override: override)))
    }

    /// An `Asker` over `store` with the configured prompts and the embedder (when there is one) as the
    /// relevance judge, so abstention looks at meaning and not only shared words.
    public func makeAsker(store: IndexStore, generator: any TextGenerator, options: AskOptions) -> Asker {
        Asker(
            retriever: store, generator: generator, prompts: .standard(), options: options,
            scorer: store.embedder.map { EmbeddingRelevanceScorer(embedder: $0) })
    }
}
