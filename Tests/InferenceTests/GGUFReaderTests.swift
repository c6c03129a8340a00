import Foundation
import Testing

@testable import Inference

/// Builds GGUF bytes in memory so the reader can be tested on exact, hostile layouts.
struct GGUFBuilder {
    var bytes: [UInt8] = []
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) {
        u64(UInt64(s.utf8.count))
        bytes += Array(s.utf8)
    }
    mutating func header(version: UInt32 = 3, tensors: UInt64, keys: UInt64) {
        bytes += Array("GGUF".utf8)
        u32(version)
        u64(tensors)
        u64(keys)
    }
    func write() throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("gguf-\(UUID().uuidString).gguf").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

@Suite struct GGUFReaderTests {
    @Test func readsMetadataAndTensors() throws {
        var b = GGUFBuilder()
        b.header(tensors: 1, keys: 3)
        b.string("general.architecture"); b.u32(8); b.string("llama")
        b.string("llama.block_count"); b.u32(4); b.u32(2)
        b.string("tokenizer.ggml.tokens"); b.u32(9); b.u32(8); b.u64(2); b.string("a"); b.string("b")
        b.string("w"); b.u32(2); b.u64(4); b.u64(2); b.u32(0); b.u64(0)
        while b.bytes.count % 32 != 0 { b.bytes.append(0) }
        for i in 0..<8 { withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { b.bytes += $0 } }
        let path = try b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try GGUFFile(path: path)
        #expect(file.architecture == "llama")
        #expect(file.int("llama.block_count") == 2)
        #expect(file.stringArray("tokenizer.ggml.tokens") == ["a", "b"])
        let w = try #require(file.tensor(named: "w"))
        #expect(w.dimensions == [4, 2])
        #expect(w.byteCount == 32)
        let floats = file.data(for: w).bindMemory(to: Float.self)
        #expect(floats[7] == 7)
    }

    @Test func rejectsTruncatedTensorData() throws {
        var b = GGUFBuilder()
        b.header(tensors: 1, keys: 0)
        b.string("w"); b.u32(1); b.u64(1024); b.u32(0); b.u64(0)
        let path = try b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: GGUFError.self) { try GGUFFile(path: path) }
        do {
            _ = try GGUFFile(path: path)
        } catch {
            #expect(error.description.contains(path))
            #expect(error.description.contains("truncated"))
        }
    }

    @Test func rejectsHugeStringLength() throws {
        var b = GGUFBuilder()
        b.header(tensors: 0, keys: 1)
        b.u64(1 << 62)
        let path = try b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: GGUFError.self) { try GGUFFile(path: path) }
    }

    @Test func rejectsAbsurdCountsAndArrays() throws {
        var counts = GGUFBuilder()
        counts.header(tensors: UInt64.max, keys: UInt64.max)
        let countsPath = try counts.write()
        defer { try? FileManager.default.removeItem(atPath: countsPath) }
        #expect(throws: GGUFError.self) { try GGUFFile(path: countsPath) }

        var array = GGUFBuilder()
        array.header(tensors: 0, keys: 1)
        array.string("k"); array.u32(9); array.u32(4); array.u64(1 << 40)
        let arrayPath = try array.write()
        defer { try? FileManager.default.removeItem(atPath: arrayPath) }
        #expect(throws: GGUFError.self) { try GGUFFile(path: arrayPath) }
    }

    @Test func namesAZipFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("z-\(UUID()).gguf").path
        try Data([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 60)).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try GGUFFile(path: path)
            Issue.record("a zip file was accepted as GGUF")
        } catch {
            #expect(error.description.contains("zip"))
        }
    }

    @Test func rejectsUnknownTensorType() throws {
        var b = GGUFBuilder()
        b.header(tensors: 1, keys: 0)
        b.string("w"); b.u32(1); b.u64(32); b.u32(99); b.u64(0)
        let path = try b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: GGUFError.self) { try GGUFFile(path: path) }
    }

    @Test func readsTheRealSmolLM2Header() throws {
        let path = try TestModels.path("smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")
        let file = try GGUFFile(path: path)
        #expect(file.architecture == "llama")
        #expect(file.stringArray("tokenizer.ggml.tokens")?.count == 49152)
        #expect(file.tensor(named: "token_embd.weight") != nil)
    }
}
