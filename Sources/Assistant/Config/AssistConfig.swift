import Foundation

/// Which engine serves a model.
public enum BackendKind: String, Sendable, Codable, CaseIterable {
    /// The engine inside `assist`, reading model files from `models_dir`.
    case builtin
    /// A running Ollama server at `ollama_url`.
    case ollama
    /// A server speaking OpenAI's API at `openai_url` (llama.cpp's server, LM Studio, vLLM, …).
    case openai
}

/// Everything `assist` can be configured with, fully resolved: every path absolute, every default filled.
///
/// The file is `$XDG_CONFIG_HOME/assist/config.toml` (else `~/.config/assist/config.toml`), with flat
/// keys at the top level: no `[sections]`, so that each key is spelled the same in the file, in its
/// environment variable (`ASSIST_` + the key in capitals) and in `assist config set KEY VALUE`. A complete
/// example, every line optional:
///
/// ```toml
/// # ~/.config/assist/config.toml
/// home = "~/.local/share/assist"      # data: index.sqlite, caches, logs (env ASSIST_HOME)
/// models_dir = "~/models"             # model files (env ASSIST_MODELS or ASSIST_MODELS_DIR)
/// db = "~/.local/share/assist/index.sqlite"
///
/// chat_backend = "ollama"             # builtin | ollama | openai
/// chat_model = "qwen2.5-coder:0.5b"   # a model name the backend knows
/// embed_backend = "builtin"
/// embed_model = "minilm-l6-v2"
/// ollama_url = "http://127.0.0.1:11434"
/// openai_url = "http://127.0.0.1:1234/v1"
/// openai_api_key = "sk-…"             # only if the server wants one
///
/// threads = 4                         # CPU threads for the built-in engine
/// context_tokens = 1000               # prompt budget per answer (prefill time grows with it)
/// second_look = false                 # ask again after NOT_FOUND (unset: only for built-in models)
/// user_email = "me@example.org"       # who "you" are in mail digests
///
/// serve_host = "127.0.0.1"            # `assist serve`
/// serve_port = 11435
/// serve_token = "a-long-random-string"
/// ```
///
/// Precedence, highest first: command-line flags, environment variables, the file, defaults. Paths may
/// start with `~/`; in the file they must otherwise be absolute (the file is read from anywhere), while
/// relative paths in flags and environment variables are taken from the current directory, as a shell would.
public struct AssistConfig: Sendable, Codable, Equatable {
    /// Data directory: `index.sqlite`, caches, `logs/`. Default `$XDG_DATA_HOME/assist`, else `~/.local/share/assist`.
    public var home: String
    /// Model files and the manifest of pulled models. Default `<home>/models`.
    public var modelsDir: String
    /// The index database. Default `<home>/index.sqlite`.
    public var db: String
    public var chatBackend: BackendKind
    public var chatModel: String
    public var embedBackend: BackendKind
    public var embedModel: String
    public var ollamaURL: String
    /// Base URL of an OpenAI-compatible server, including its API prefix (usually `/v1`).
    public var openaiURL: String
    public var openaiAPIKey: String?
    /// CPU threads for the built-in engine. Default: the number of cores.
    public var threads: Int
    /// Largest prompt for one answer, retrieved context included; on 2 cores every 250 tokens cost about a
    /// second before the first word appears, so the default stays small.
    public var contextTokens: Int
    /// Whether a `NOT_FOUND` reply gets a second look (`AskOptions.secondLook`); nil decides by the chat
    /// model (`secondLook(for:)`).
    public var secondLook: Bool?
    /// The user's own address, so digests can tell what was asked of them.
    public var userEmail: String?
    public var serveHost: String
    public var servePort: Int
    /// Bearer token `assist serve` requires, when set.
    public var serveToken: String?

    enum CodingKeys: String, CodingKey {
        case home
        case modelsDir = "models_dir"
        case db
        case chatBackend = "chat_backend"
        case chatModel = "chat_model"
        case embedBackend = "embed_backend"
        case embedModel = "embed_model"
        case ollamaURL = "ollama_url"
        case openaiURL = "openai_url"
        case openaiAPIKey = "openai_api_key"
        case threads
        case contextTokens = "context_tokens"
        case secondLook = "second_look"
        case userEmail = "user_email"
        case serveHost = "serve_host"
        case servePort = "serve_port"
        case serveToken = "serve_token"
    }

    /// Where the nightly index run and other background work write their logs: `<home>/logs`.
    public var logsDirectory: String { (home as NSString).appendingPathComponent("logs") }
}
