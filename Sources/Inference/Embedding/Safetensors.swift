import Foundation

/// What went wrong reading a `.safetensors` file. Every case names the file, so a user with several
/// models knows which one to replace.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case truncated(path: String, reason: String)
    case headerTooLarge(path: String, length: UInt64)
    case malformedHeader(path: String, reason: String)
    case badTensor(path: String, name: String, reason: String)
    case missingTensor(path: String, name: String)
    case unexpectedTensor(path: String, name: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read safetensors file \(path): \(reason)"
        case .truncated(let path, let reason):
            return "safetensors file \(path) is truncated (\(reason)); download it again"
        case .headerTooLarge(let path, let length):
            return "safetensors file \(path) declares a \(length)-byte header, larger than the file or the "
                + "\(SafetensorsFile.maximumHeaderLength)-byte limit; the file is damaged or not safetensors"
        case .malformedHeader(let path, let reason):
            return "safetensors file \(path) has a malformed header: \(reason); the file is damaged or not safetensors"
        case .badTensor(let path, let name, let reason):
            return "safetensors file \(path): tensor \(name) is invalid: \(reason); the file is damaged"
        case .missingTensor(let path, let name):
            return "safetensors file \(path) has no tensor named \(name); is this the right model?"
        case .unexpectedTensor(let path, let name, let reason):
            return "safetensors file \(path): tensor \(name) \(reason); is this the right model?"
        }
    }
}

/// Element types a safetensors header may declare.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case u8 = "U8", i8 = "I8", f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case i64 = "I64", u64 = "U64", f64 = "F64"

    /// Bytes per element.
    public var byteWidth: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .i64, .u64, .f64: return 8
        }
    }
}

/// Where one tensor lives inside the file and what it holds.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    public var name: String
    public var dtype: SafetensorsDType
    public var shape: [Int]
    /// Absolute byte range within the file (already bounds-checked).
    public var byteRange: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A memory-mapped `.safetensors` file: an 8-byte little-endian header length, a JSON header mapping tensor
/// names to `dtype`, `shape` and `data_offsets` (relative to the end of the header), then raw tensor bytes.
///
/// The header is untrusted: every length and offset is checked against the real file size before anything
/// is read, so a damaged or hostile file produces a `SafetensorsError`, never a crash or a huge allocation.
public struct SafetensorsFile: Sendable {
    /// The format's own reference implementation refuses headers above 100 MB; so do we.
    public static let maximumHeaderLength: UInt64 = 100_000_000

    public let path: String
    /// Tensors by name.
    public let tensors: [String: SafetensorsTensorInfo]
    /// The optional `__metadata__` string map.
    public let metadata: [String: String]
    /// Total size of the file in bytes.
    public var fileSize: Int { bytes.count }

    fileprivate let bytes: Data
    /// Length of the JSON header that follows the 8-byte length field.
    let headerLength: UInt64

    /// Maps the file at `url` and validates its header.
    public init(url: URL) throws {
        let path = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw SafetensorsError.unreadable(path: path, reason: error.localizedDescription)
        }
        try self.init(data: data, path: path)
    }

    /// Parses safetensors bytes already in memory; `path` is only used in error messages.
    public init(data: Data, path: String) throws {
        self.path = path
        self.bytes = data
        guard data.count >= 8 else {
            throw SafetensorsError.truncated(path: path, reason: "\(data.count) bytes, shorter than the 8-byte header length")
        }
        let headerLength: UInt64 = data.withUnsafeBytes { raw in
            var value: UInt64 = 0
            for index in 0..<8 { value |= UInt64(raw[index]) << (8 * UInt64(index)) }
            return value
        }
        guard headerLength <= Self.maximumHeaderLength, headerLength <= UInt64(data.count - 8) else {
            throw SafetensorsError.headerTooLarge(path: path, length: headerLength)
        }
        self.headerLength = headerLength
        let headerEnd = 8 + Int(headerLength)
        let headerBytes = data.subdata(in: 8..<headerEnd)
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw SafetensorsError.malformedHeader(path: path, reason: "not JSON (\(error.localizedDescription))")
        }
        guard let object = parsed as? [String: Any] else {
            throw SafetensorsError.malformedHeader(path: path, reason: "the header is not a JSON object")
        }
        let dataSize = data.count - headerEnd
        var tensors: [String: SafetensorsTensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else {
                    throw SafetensorsError.malformedHeader(path: path, reason: "__metadata__ is not an object")
                }
                for (key, entry) in map {
                    guard let text = entry as? String else {
                        throw SafetensorsError.malformedHeader(path: path, reason: "__metadata__.\(key) is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            tensors[name] = try Self.parseTensor(
                name: name, value: value, headerEnd: headerEnd, dataSize: dataSize, path: path)
        }
        try Self.checkNoOverlap(tensors, path: path)
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Refuses a header whose tensors share bytes: each range is in bounds, but a writer never produces
    /// overlaps, so one is a sign of a damaged or forged file whose weights would silently alias.
    private static func checkNoOverlap(_ tensors: [String: SafetensorsTensorInfo], path: String) throws {
        let ordered = tensors.values.filter { !$0.byteRange.isEmpty }
            .sorted { ($0.byteRange.lowerBound, $0.name) < ($1.byteRange.lowerBound, $1.name) }
        for (previous, next) in zip(ordered, ordered.dropFirst()) where next.byteRange.lowerBound < previous.byteRange.upperBound {
            throw SafetensorsError.badTensor(
                path: path, name: next.name, reason: "its data_offsets overlap those of tensor \(previous.name)")
        }
    }

    private static func parseTensor(
        name: String, value: Any, headerEnd: Int, dataSize: Int, path: String
    ) throws -> SafetensorsTensorInfo {
        func bad(_ reason: String) -> SafetensorsError { .badTensor(path: path, name: name, reason: reason) }
        guard let entry = value as? [String: Any] else { throw bad("its entry is not an object") }
        guard let dtypeName = entry["dtype"] as? String else { throw bad("no dtype") }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else { throw bad("unknown dtype \(dtypeName)") }
        guard let shapeValues = entry["shape"] as? [Any] else { throw bad("no shape") }
        var shape: [Int] = []
        var elements = 1
        for dimension in shapeValues {
            guard let size = exactInt(dimension), size >= 0 else {
                throw bad("shape entry \(dimension) is not a non-negative integer")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow, product <= dataSize else { throw bad("shape \(shapeValues) is larger than the file") }
            elements = product
            shape.append(size)
        }
        guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
            let begin = exactInt(offsets[0]), let end = exactInt(offsets[1])
        else { throw bad("data_offsets is not a pair of integers") }
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw bad("data_offsets [\(begin), \(end)] fall outside the \(dataSize) data bytes")
        }
        let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.byteWidth)
        guard !overflow, byteCount == end - begin else {
            throw bad("shape \(shape) of \(dtypeName) needs \(byteCount) bytes but data_offsets span \(end - begin)")
        }
        return SafetensorsTensorInfo(
            name: name, dtype: dtype, shape: shape, byteRange: (headerEnd + begin)..<(headerEnd + end))
    }

    /// An integer JSON number, rejecting fractions and values too large to be a real offset.
    private static func exactInt(_ value: Any) -> Int? {
        if let integer = value as? Int { return integer }
        guard let double = value as? Double, double.isFinite, double == double.rounded(), abs(double) < 9.0e15
        else { return nil }
        return Int(double)
    }

    /// The named tensor's description, or `missingTensor`.
    public func info(_ name: String) throws -> SafetensorsTensorInfo {
        guard let info = tensors[name] else { throw SafetensorsError.missingTensor(path: path, name: name) }
        return info
    }

    /// The raw bytes of a tensor (a slice of the mapping, not a copy).
    public func rawBytes(_ name: String) throws -> Data {
        let info = try info(name)
        return bytes[info.byteRange]
    }

    /// A floating-point tensor converted to `Float` (F32, F16, BF16 and F64 are accepted), checking that its
    /// shape is `expectedShape` when one is given.
    public func floats(_ name: String, expectedShape: [Int]? = nil) throws -> [Float] {
        let info = try info(name)
        if let expectedShape, expectedShape != info.shape {
            throw SafetensorsError.unexpectedTensor(
                path: path, name: name, reason: "has shape \(info.shape), expected \(expectedShape)")
        }
        let count = info.elementCount
        let start = info.byteRange.lowerBound
        return try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Float] in
            let base = UnsafeRawBufferPointer(rebasing: raw[start..<info.byteRange.upperBound])
            switch info.dtype {
            case .f32:
                return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    // loadUnaligned: the format does not promise alignment of tensor data.
                    for index in 0..<count {
                        buffer[index] = Float(bitPattern: base.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self).littleEndian)
                    }
                    initialized = count
                }
            case .f16:
                return (0..<count).map { index in
                    halfToFloat(base.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self).littleEndian)
                }
            case .bf16:
                return (0..<count).map { index in
                    Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self).littleEndian) << 16)
                }
            case .f64:
                return (0..<count).map { index in
                    Float(Double(bitPattern: base.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self).littleEndian))
                }
            default:
                throw SafetensorsError.unexpectedTensor(
                    path: path, name: name, reason: "holds \(info.dtype.rawValue), expected a floating-point type")
            }
        }
    }
}

/// IEEE 754 binary16 → binary32, written out so it works where `Float16` is unavailable.
func halfToFloat(_ half: UInt16) -> Float {
    let sign = UInt32(half & 0x8000) << 16
    let exponent = UInt32(half >> 10) & 0x1F
    let mantissa = UInt32(half & 0x3FF)
    if exponent == 0 {
        // Zero or subnormal: value = mantissa · 2^-24.
        let magnitude = Float(mantissa) * Float(bitPattern: 0x3380_0000)
        return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 0x1F {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

extension SafetensorsFile {
    /// A stable 12-hex-digit identity of the file's contents, cheap enough to compute at every load (see
    /// `contentFingerprint`).
    public func fingerprint() -> String {
        bytes.withUnsafeBytes { contentFingerprint($0, headerLength: 8 + Int(headerLength)) }
    }
}

/// 12 hex digits of a 64-bit FNV-1a hash over the size, the first `headerLength` bytes (a model file's
/// header: names, shapes, offsets) and 16 evenly spaced 64 KiB windows of the rest. Any re-export, different
/// shape or different checkpoint changes it, without reading 100 MB at every start.
func contentFingerprint(_ raw: UnsafeRawBufferPointer, headerLength: Int) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ byte: UInt8) {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    withUnsafeBytes(of: UInt64(raw.count).littleEndian) { for byte in $0 { mix(byte) } }
    let headerEnd = max(0, min(raw.count, headerLength))
    for index in 0..<headerEnd { mix(raw[index]) }
    let window = 65_536
    let span = raw.count - headerEnd
    if span > 0 {
        for sample in 0..<16 {
            let start = headerEnd + span / 16 * sample
            let end = min(raw.count, start + window)
            for index in start..<end { mix(raw[index]) }
        }
    }
    let hex = String(hash, radix: 16)
    return String((String(repeating: "0", count: max(0, 16 - hex.count)) + hex).prefix(12))
}
