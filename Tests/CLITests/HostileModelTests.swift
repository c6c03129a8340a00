import Foundation
import Testing

/// Damaged and forged model files handed to the real CLI: each gives a clear error naming the file and
/// exit status 1 — never a trap (which would show up as a signal) and never an attempt to allocate what a
/// lying length field asks for.
@Suite struct HostileModelTests {
    /// GGUF bytes with exact, hostile layouts.
    struct GGUF {
        var bytes: [UInt8] = []
        mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += Array(s.utf8) }
        mutating func header(tensors: UInt64, keys: UInt64) {
            bytes += Array("GGUF".utf8); u32(3); u64(tensors); u64(keys)
        }
    }

    static func ggufCases() -> [(name: String, bytes: [UInt8], says: String)] {
        var cases: [(name: String, bytes: [UInt8], says: String)] = []
        var counts = GGUF()
        counts.header(tensors: 1 << 62, keys: 1 << 62)
        cases.append(("absurd-counts", counts.bytes, ""))
        var string = GGUF()
        string.header(tensors: 0, keys: 1)
        string.u64(1 << 62)
        cases.append(("huge-string", string.bytes, ""))
        var array = GGUF()
        array.header(tensors: 0, keys: 1)
        array.string("tokenizer.ggml.tokens"); array.u32(9); array.u32(8); array.u64(1 << 61)
        cases.append(("huge-array", array.bytes, ""))
        var offset = GGUF()
        offset.header(tensors: 1, keys: 1)
        offset.string("general.architecture"); offset.u32(8); offset.string("llama")
        offset.string("w"); offset.u32(1); offset.u64(8); offset.u32(0); offset.u64(1 << 40)
        cases.append(("offset-past-end", offset.bytes, ""))
        cases.append(("zip", [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 120), "zip"))
        cases.append(("empty", [], ""))
        return cases
    }

    @Test func damagedGGUFFilesExitOneWithTheFileName() throws {
        let scratch = try Scratch()
        let cli = try AssistCLI(scratch)
        var files = Self.ggufCases().map { (try? scratch.write("models/\($0.name).gguf", $0.bytes), $0.says) }
        // The real SmolLM2 cut off in the middle of its vocabulary, as an interrupted download leaves it.
        if let models = AssistCLI.modelsFolder,
            let handle = FileHandle(forReadingAtPath: models + "/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf") {
            let head = try handle.read(upToCount: 1_000_000) ?? Data()
            files.append((try scratch.write("models/truncated-smollm2.gguf", head), "truncated"))
        }
        for (file, says) in files {
            let path = try #require(file)
            for arguments in [["run", path, "hello", "--max-tokens", "4"], ["models", "import", path], ["tokenize", path, "hi"]] {
                // A private model store: a failed import must leave it empty (and never touch the real one).
                let result = try cli.run(arguments, environment: ["ASSIST_MODELS": scratch.path("store")], timeout: 120)
                #expect(result.signal == nil && !result.timedOut, "\(arguments): \(result.summary)")
                #expect(result.status == 1, "\(arguments): \(result.summary)")
                #expect(result.stderr.contains(path) || result.stderr.contains((path as NSString).lastPathComponent), "\(arguments): \(result.summary)")
                if !says.isEmpty { #expect(result.stderr.contains(says), "\(arguments): \(result.summary)") }
            }
        }
        // Nothing half-imported is left behind in the model store.
        let list = try cli.run(["models", "list", "--json"], environment: ["ASSIST_MODELS": scratch.path("store")])
        #expect(list.status == 0, "\(list.summary)")
        #expect(!list.stdout.contains("absurd-counts") && !list.stdout.contains("truncated-smollm2"), "\(list.summary)")
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: scratch.path("store"))) ?? []
        #expect(leftovers.allSatisfy { $0.hasSuffix(".json") }, "half-imported files left behind: \(leftovers)")
    }

    /// Safetensors headers that lie about lengths, offsets and types, behind a real tokenizer and config.
    static func safetensors(header: String, dataBytes: Int, declaredLength: UInt64? = nil) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: (declaredLength ?? UInt64(header.utf8.count)).littleEndian) { bytes += $0 }
        return bytes + Array(header.utf8) + [UInt8](repeating: 0, count: dataBytes)
    }

    @Test func lyingSafetensorsHeadersExitOneWithTheFileName() throws {
        guard let models = AssistCLI.modelsFolder else {
            Issue.record("the real minilm-l6-v2 tokenizer is needed: set ASSIST_MODELS")
            return
        }
        let scratch = try Scratch()
        let cli = try AssistCLI(scratch)
        let cases: [(String, [UInt8], String)] = [
            ("huge-header", Self.safetensors(header: "{}", dataBytes: 0, declaredLength: 1 << 62), "header"),
            ("header-past-end", Self.safetensors(header: "{}", dataBytes: 0, declaredLength: 4096), "header"),
            ("offsets-past-end", Self.safetensors(header: #"{"embeddings.word_embeddings.weight":{"dtype":"F32","shape":[4],"data_offsets":[0,1099511627776]}}"#, dataBytes: 16), "outside"),
            ("overlapping", Self.safetensors(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, dataBytes: 12), "overlap"),
            ("dtype-mismatch", Self.safetensors(header: #"{"a":{"dtype":"F64","shape":[4],"data_offsets":[0,16]}}"#, dataBytes: 16), "needs"),
            ("not-json", Self.safetensors(header: "GGUF this is not json", dataBytes: 0), "JSON"),
        ]
        for (name, bytes, says) in cases {
            let folder = scratch.path("st-\(name)")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for file in ["tokenizer.json", "vocab.txt", "config.json"] {
                try FileManager.default.copyItem(atPath: models + "/minilm-l6-v2/" + file, toPath: folder + "/" + file)
            }
            try scratch.write("st-\(name)/model.safetensors", bytes)
            let result = try cli.run(["embed", "hello", "--model", folder], timeout: 120)
            #expect(result.signal == nil && !result.timedOut, "\(name): \(result.summary)")
            #expect(result.status == 1, "\(name): \(result.summary)")
            #expect(result.stderr.contains(folder + "/model.safetensors"), "\(name): \(result.summary)")
            #expect(result.stderr.contains(says), "\(name): \(result.summary)")
        }
    }
}
