// libFuzzer target: bytes as a `.gguf` file — header, metadata and tensor table parsing, then every accessor
// over what was accepted: typed metadata lookups, tensor data ranges (first and last byte touched) and the
// tokenizer the metadata describes. Any trap, sanitizer report or huge allocation is a bug.
import Foundation
import Inference

#if canImport(Glibc)
    import Glibc
#endif

/// `GGUFFile` reads a mapped file, so each input is written to one scratch file (in memory when /dev/shm exists).
private let scratchPath: String = {
    let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return "\(folder)/assist-fuzz-gguf-\(getpid()).gguf"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    guard FileManager.default.createFile(atPath: scratchPath, contents: data) else {
        fatalError("cannot write \(scratchPath)")
    }
    defer { unlink(scratchPath) }
    guard let file = try? GGUFFile(path: scratchPath) else { return 0 }

    var checksum = 0
    for tensor in file.tensors {
        guard file.tensor(named: tensor.name) != nil else { fatalError("tensor \(tensor.name) not found by name") }
        let region = file.data(for: tensor)
        if let first = region.first, let last = region.last { checksum &+= Int(first) &+ Int(last) }
    }
    for key in file.metadata.keys.sorted() {
        _ = file.string(key)
        _ = file.int(key)
        _ = file.double(key)
        _ = file.bool(key)
        _ = file.stringArray(key)
        _ = file.intArray(key)
    }
    _ = file.architecture
    if let tokenizer = try? makeTokenizer(from: file) {
        let ids = tokenizer.encode("Hello <|im_start|> wörld 123 \u{1F600}", parseSpecial: true)
        _ = tokenizer.decode(ids + [-1, Int32.max, 0])
        for id in ids { checksum &+= tokenizer.tokenPiece(id).count }
    }
    if checksum == 42 { print("", terminator: "") }  // keeps the reads from being optimized away
    return 0
}
