// libFuzzer target: bytes as a `.safetensors` file — header parsing, then reading every tensor it accepted
// (raw bytes, conversion to Float) and the content fingerprint. Any trap or sanitizer report is a bug.
import Foundation
import Inference

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    guard let file = try? SafetensorsFile(data: data, path: "fuzz.safetensors") else { return 0 }
    for name in file.tensors.keys.sorted() {
        guard let info = try? file.info(name) else { fatalError("listed tensor \(name) has no info") }
        guard let raw = try? file.rawBytes(name), raw.count == info.byteRange.count else {
            fatalError("tensor \(name): raw bytes disagree with its byte range")
        }
        if let values = try? file.floats(name), values.count != info.elementCount {
            fatalError("tensor \(name): \(values.count) floats for \(info.elementCount) elements")
        }
    }
    _ = file.fingerprint()
    return 0
}
