// libFuzzer target: gzip decompression of hostile bytes (a compressed mail archive). It must return data or
// a GzipError, never trap, read out of bounds, hang or grow past its output limit.
import Foundation
import Ingest

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGzip(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    let limit = 1 << 22
    if let output = try? Gzip.decompress(data, limit: limit), output.count > limit {
        fatalError("decompressed \(output.count) bytes past the \(limit)-byte limit")
    }
    return 0
}
