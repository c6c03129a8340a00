import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A model assist can use, as listed by `assist models list` and recorded in the manifest.
public struct ModelRecord: Sendable, Codable, Equatable {
    public var name: String
    /// The model's main file (a GGUF, or an embedder's safetensors weights).
    public var path: String
    public var bytes: Int64
    /// Lower-case hex SHA-256 of the main file, when known (verified at pull or import).
    public var sha256: String?
    /// Where it came from: `pip:PKG==VER,…`, `import:PATH`, `store` (found in the store's layout),
    /// `ollama`, `lmstudio`.
    public var source: String

    public init(name: String, path: String, bytes: Int64, sha256: String?, source: String) {
        self.name = name
        self.path = path
        self.bytes = bytes
        self.sha256 = sha256
        self.source = source
    }
}

/// A model name or path turned into files on disk.
public struct ResolvedModel: Sendable, Equatable {
    public var name: String
    public var kind: ModelCatalog.Kind
    /// The GGUF file, or the embedder's `model.safetensors`.
    public var path: String
    /// The folder holding the model's files (the embedder's tokenizer and config live here).
    public var directory: String
}

/// What `assist models info` shows about a model.
public struct ModelInfo: Sendable, Equatable {
    public var name: String
    public var path: String
    public var bytes: Int64
    public var kind: ModelCatalog.Kind
    public var architecture: String?
    public var parameterCount: Int?
    /// How many tensors use each storage type, e.g. `["Q4_K": 121, "F32": 49]`.
    public var tensorTypes: [String: Int]
    public var contextLength: Int?
    public var chatTemplate: String?
    public var tokenizer: String?
    public var vocabularySize: Int?
    /// Embedding width (the embedder's output size; a language model's hidden size).
    public var dimensions: Int?
    public var layers: Int?
}

/// Progress of `pull`, for the terminal.
public struct PullProgress: Sendable, Equatable {
    public enum Stage: String, Sendable {
        case downloading, unpacking, assembling, verifying, installing, done
    }
    public var stage: Stage
    public var message: String
}

/// The models folder: pulled and imported models under `<root>/<name>/`, a `manifest.json` describing
/// them, and read-only discovery of models other tools installed (Ollama, LM Studio), never copied.
public struct ModelStore: Sendable {
    public let root: String
    public let catalog: ModelCatalog
    /// The environment to read `HOME`, `OLLAMA_MODELS` from (injectable for tests).
    public let environment: [String: String]
    /// The Python interpreter whose `pip` fetches packages.
    public var python: String = "python3"

    public init(
        root: String? = nil, catalog: ModelCatalog = .standard,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.environment = environment
        self.catalog = catalog
        self.root = root ?? Self.defaultRoot(environment: environment)
    }

    /// `ASSIST_MODELS`, else `$ASSIST_HOME/models`, `$XDG_DATA_HOME/assist/models`, `~/.local/share/assist/models`.
    public static func defaultRoot(environment: [String: String]) -> String {
        if let dir = environment["ASSIST_MODELS"], !dir.isEmpty { return dir }
        if let home = environment["ASSIST_HOME"], !home.isEmpty { return home + "/models" }
        if let data = environment["XDG_DATA_HOME"], !data.isEmpty { return data + "/assist/models" }
        return homeDirectory(environment) + "/.local/share/assist/models"
    }

    private var home: String { Self.homeDirectory(environment) }

    private static func homeDirectory(_ environment: [String: String]) -> String {
        environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    }

    public var manifestPath: String { root + "/manifest.json" }

    // MARK: - Manifest

    private struct Manifest: Codable {
        var models: [ModelRecord]
    }

    /// The records of pulled and imported models; paths in the file are relative to the store's root so
    /// the folder can be moved.
    public func manifest() throws(ModelStoreError) -> [ModelRecord] {
        guard FileManager.default.fileExists(atPath: manifestPath) else { return [] }
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw .io(path: manifestPath, reason: "cannot be read")
        }
        do {
            return try JSONDecoder().decode(Manifest.self, from: data).models.map { record in
                var r = record
                if !r.path.hasPrefix("/") { r.path = root + "/" + r.path }
                return r
            }
        } catch {
            throw .corruptManifest(path: manifestPath, reason: "\(error)")
        }
    }

    func writeManifest(_ records: [ModelRecord]) throws(ModelStoreError) {
        let relative = records.map { record in
            var r = record
            if r.path.hasPrefix(root + "/") { r.path = String(r.path.dropFirst(root.count + 1)) }
            return r
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let data = try encoder.encode(Manifest(models: relative.sorted { $0.name < $1.name }))
            try data.write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
        } catch {
            throw .io(path: manifestPath, reason: "cannot be written: \(error.localizedDescription)")
        }
    }

    func upsert(_ record: ModelRecord) throws(ModelStoreError) {
        var records = try manifest().filter { $0.name != record.name }
        records.append(record)
        try writeManifest(records)
    }

    // MARK: - Listing

    /// Every model assist can use: the manifest's, catalog models found in the store's layout, and
    /// models discovered in Ollama's and LM Studio's folders.
    public func list() throws(ModelStoreError) -> [ModelRecord] {
        var records = try manifest()
        var seen = Set(records.map(\.name))
        for entry in catalog.entries where !seen.contains(entry.name) {
            let path = root + "/" + entry.name + "/" + entry.mainFile
            if let size = Self.fileSize(path) {
                records.append(ModelRecord(name: entry.name, path: path, bytes: size, sha256: nil, source: "store"))
                seen.insert(entry.name)
            }
        }
        // The first of equally named models wins (the same model name under two Ollama registries).
        for record in discoverOllama() + discoverLMStudio() where !seen.contains(record.name) {
            records.append(record)
            seen.insert(record.name)
        }
        return records
    }

    /// Ollama's models: `manifests/<registry>/<namespace>/<model>/<tag>` JSON files whose layer of media type
    /// `application/vnd.ollama.image.model` names a GGUF blob at `blobs/sha256-<hex>`.
    public func discoverOllama() -> [ModelRecord] {
        let base = environment["OLLAMA_MODELS"].flatMap { $0.isEmpty ? nil : $0 } ?? (home + "/.ollama/models")
        let manifests = base + "/manifests"
        guard let walker = FileManager.default.enumerator(atPath: manifests) else { return [] }
        var out: [ModelRecord] = []
        while let relative = walker.nextObject() as? String {
            let components = relative.split(separator: "/").map(String.init)
            guard components.count == 4 else { continue }
            let (namespace, model, tag) = (components[1], components[2], components[3])
            guard let data = FileManager.default.contents(atPath: manifests + "/" + relative),
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let layers = json["layers"] as? [[String: Any]],
                let layer = layers.first(where: { $0["mediaType"] as? String == "application/vnd.ollama.image.model" }),
                let digest = layer["digest"] as? String, digest.hasPrefix("sha256:")
            else { continue }
            let hex = String(digest.dropFirst("sha256:".count))
            guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit }) else { continue }
            let blob = base + "/blobs/sha256-" + hex
            guard let size = Self.fileSize(blob) else { continue }
            // Named the way `ollama list` shows them: the `library` namespace is implicit.
            let qualified = namespace == "library" ? model : namespace + "/" + model
            out.append(
                ModelRecord(
                    name: "ollama-local:\(qualified):\(tag)", path: blob, bytes: size, sha256: hex.lowercased(),
                    source: "ollama"))
        }
        return out.sorted { $0.name < $1.name }
    }

    /// LM Studio's models: every `.gguf` under `~/.lmstudio/models` or `~/.cache/lm-studio/models`.
    public func discoverLMStudio() -> [ModelRecord] {
        var out: [ModelRecord] = []
        for base in [home + "/.lmstudio/models", home + "/.cache/lm-studio/models"] {
            guard let walker = FileManager.default.enumerator(atPath: base) else { continue }
            while let relative = walker.nextObject() as? String {
                guard relative.lowercased().hasSuffix(".gguf") else { continue }
                let path = base + "/" + relative
                guard let size = Self.fileSize(path) else { continue }
                let name = "lmstudio:" + String(relative.dropLast(".gguf".count))
                out.append(ModelRecord(name: name, path: path, bytes: size, sha256: nil, source: "lmstudio"))
            }
        }
        return out.sorted { $0.name < $1.name }
    }

    // MARK: - Resolving

    /// Turns a model name (catalog, imported, `ollama-local:…`, `lmstudio:…`) or a path to a `.gguf` file or
    /// an embedder folder into files on disk.
    public func resolve(_ nameOrPath: String) throws(ModelStoreError) -> ResolvedModel {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let looksLikePath = nameOrPath.contains("/") || nameOrPath.hasSuffix(".gguf")
        if looksLikePath, fm.fileExists(atPath: nameOrPath, isDirectory: &isDirectory) {
            let absolute = URL(fileURLWithPath: nameOrPath).standardizedFileURL.path
            if isDirectory.boolValue {
                let weights = absolute + "/model.safetensors"
                guard fm.fileExists(atPath: weights) else {
                    throw .invalidModelFile(path: absolute, reason: "a folder without model.safetensors")
                }
                return ResolvedModel(
                    name: URL(fileURLWithPath: absolute).lastPathComponent, kind: .embedder, path: weights,
                    directory: absolute)
            }
            return ResolvedModel(
                name: URL(fileURLWithPath: absolute).deletingPathExtension().lastPathComponent, kind: .languageModel,
                path: absolute, directory: URL(fileURLWithPath: absolute).deletingLastPathComponent().path)
        }
        if let entry = catalog.entry(named: nameOrPath) {
            let directory = root + "/" + entry.name
            let path = directory + "/" + entry.mainFile
            guard fm.fileExists(atPath: path) else { throw .notPulled(name: entry.name, path: path) }
            return ResolvedModel(name: entry.name, kind: entry.kind, path: path, directory: directory)
        }
        if let record = try list().first(where: { $0.name == nameOrPath }) {
            let kind: ModelCatalog.Kind = record.path.hasSuffix(".safetensors") ? .embedder : .languageModel
            return ResolvedModel(
                name: record.name, kind: kind, path: record.path,
                directory: URL(fileURLWithPath: record.path).deletingLastPathComponent().path)
        }
        if looksLikePath { throw .io(path: nameOrPath, reason: "no such file") }
        throw .unknownModel(name: nameOrPath, known: catalog.entries.map(\.name))
    }

    // MARK: - Info

    public func info(_ nameOrPath: String) throws(ModelStoreError) -> ModelInfo {
        let model = try resolve(nameOrPath)
        let bytes = Self.fileSize(model.path) ?? 0
        var info = ModelInfo(
            name: model.name, path: model.path, bytes: bytes, kind: model.kind, architecture: nil,
            parameterCount: nil, tensorTypes: [:], contextLength: nil, chatTemplate: nil, tokenizer: nil,
            vocabularySize: nil, dimensions: nil, layers: nil)
        switch model.kind {
        case .languageModel:
            let gguf: GGUFFile
            do {
                gguf = try GGUFFile(path: model.path)
            } catch {
                throw .invalidModelFile(path: model.path, reason: error.description)
            }
            let arch = gguf.architecture
            info.architecture = arch
            info.parameterCount = gguf.tensors.reduce(0) { $0 + $1.elementCount }
            for t in gguf.tensors { info.tensorTypes["\(t.type)", default: 0] += 1 }
            if let arch {
                info.contextLength = gguf.int("\(arch).context_length")
                info.dimensions = gguf.int("\(arch).embedding_length")
                info.layers = gguf.int("\(arch).block_count")
            }
            let template = ChatTemplate(gguf: gguf)
            info.chatTemplate = template.family.rawValue + (template.fallbackReason.map { " (\($0))" } ?? "")
            let tokenizerModel = gguf.string("tokenizer.ggml.model") ?? "unknown"
            info.tokenizer = tokenizerModel + (gguf.string("tokenizer.ggml.pre").map { "/\($0)" } ?? "")
            info.vocabularySize = gguf.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count
        case .embedder:
            info.architecture = "bert"
            let configPath = model.directory + "/config.json"
            if let data = FileManager.default.contents(atPath: configPath),
                let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            {
                info.dimensions = config["hidden_size"] as? Int
                info.layers = config["num_hidden_layers"] as? Int
                info.contextLength = config["max_position_embeddings"] as? Int
                info.vocabularySize = config["vocab_size"] as? Int
                info.architecture = (config["model_type"] as? String) ?? "bert"
            }
            info.tokenizer = "wordpiece"
            info.parameterCount = Self.safetensorsParameterCount(model.path)
        }
        return info
    }

    /// Sum of tensor element counts from a safetensors header (8-byte length, then JSON).
    static func safetensorsParameterCount(_ path: String) -> Int? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let prefix = try? handle.read(upToCount: 8), prefix.count == 8 else { return nil }
        let length = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length < 100 << 20, let header = try? handle.read(upToCount: Int(length)),
            let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any]
        else { return nil }
        var total = 0
        for (key, value) in json where key != "__metadata__" {
            guard let shape = (value as? [String: Any])?["shape"] as? [Int] else { continue }
            total += shape.reduce(1, *)
        }
        return total
    }

    // MARK: - Import and remove

    /// Adds a user's GGUF file to the store under `name` (default: the file name, lower-cased, without
    /// `.gguf`), hard-linked when the store is on the same file system, copied otherwise.
    @discardableResult
    public func importFile(_ path: String, name: String? = nil) throws(ModelStoreError) -> ModelRecord {
        do {
            _ = try GGUFFile(path: path)
        } catch {
            throw .invalidModelFile(path: path, reason: error.description)
        }
        let fileName = URL(fileURLWithPath: path).lastPathComponent
        let modelName = name ?? String(fileName.lowercased().dropLast(fileName.lowercased().hasSuffix(".gguf") ? 5 : 0))
        guard !modelName.isEmpty, !modelName.contains("/"), !modelName.hasPrefix(".") else {
            throw .invalidModelFile(path: path, reason: "'\(modelName)' cannot be used as a model name")
        }
        let directory = root + "/" + modelName
        if catalog.entry(named: modelName) != nil || FileManager.default.fileExists(atPath: directory) {
            throw .alreadyExists(name: modelName, path: directory)
        }
        let staging = root + "/.import-\(modelName)-\(getpid())"
        let fm = FileManager.default
        do {
            try? fm.removeItem(atPath: staging)
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
            let target = staging + "/" + fileName
            if link(path, target) != 0 { try fm.copyItem(atPath: path, toPath: target) }
        } catch {
            try? fm.removeItem(atPath: staging)
            throw .io(path: staging, reason: "cannot copy \(path): \(error.localizedDescription)")
        }
        let (digest, bytes) = try SHA256.hexOfFile(atPath: staging + "/" + fileName)
        guard rename(staging, directory) == 0 else {
            let reason = String(cString: strerror(errno))
            try? fm.removeItem(atPath: staging)
            throw .io(path: directory, reason: reason)
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let record = ModelRecord(
            name: modelName, path: directory + "/" + fileName, bytes: bytes, sha256: digest, source: "import:\(absolute)")
        try upsert(record)
        return record
    }

    /// Deletes a pulled or imported model's folder and its manifest entry. Models other tools installed are
    /// never touched.
    public func remove(_ name: String) throws(ModelStoreError) {
        let records = try manifest()
        guard let record = records.first(where: { $0.name == name }) else {
            if let found = try list().first(where: { $0.name == name }) {
                throw .notRemovable(name: name, source: found.source)
            }
            throw .unknownModel(name: name, known: records.map(\.name))
        }
        let directory = root + "/" + name
        if record.path.hasPrefix(directory + "/"), FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.removeItem(atPath: directory)
            } catch {
                throw .io(path: directory, reason: "cannot be removed: \(error.localizedDescription)")
            }
        }
        try writeManifest(records.filter { $0.name != name })
    }

    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }
}
