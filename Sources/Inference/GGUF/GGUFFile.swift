import Foundation

/// A metadata value from a GGUF file's key–value section.
///
/// Integer widths are folded into `int`/`uint` and floats into `float`: callers ask for "a count" or
/// "a base frequency", not for the width the converter happened to write.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint(UInt64)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    public var intValue: Int? {
        switch self {
        case .uint(let v): v <= UInt64(Int.max) ? Int(v) : nil
        case .int(let v): Int(v)
        case .bool(let v): v ? 1 : 0
        default: nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .float(let v): v
        case .uint(let v): Double(v)
        case .int(let v): Double(v)
        default: nil
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

/// Where one tensor's data lies in the file and how to read it.
public struct GGUFTensorInfo: Sendable, Equatable {
    public var name: String
    /// ggml order: `dimensions[0]` is the fastest-varying (row length), as written in the file.
    public var dimensions: [Int]
    public var type: GGMLType
    /// Absolute byte offset of the data in the file.
    public var offset: Int
    public var byteCount: Int

    public var elementCount: Int { dimensions.reduce(1, *) }
}

/// A parsed, memory-mapped GGUF model file (versions 2 and 3).
///
/// Every count, length and offset read from the file is checked against the file's size before it is used,
/// so a truncated or hostile file produces a `GGUFError` rather than a crash or a huge allocation.
public struct GGUFFile: Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    public let mapping: MappedFile
    private let tensorIndex: [String: Int]

    /// Upper bounds that keep a hostile header from making us allocate or loop without end.
    public enum Limits {
        public static let maxTensorCount = 1 << 20
        public static let maxKeyValueCount = 1 << 20
        public static let maxArrayNesting = 4
        public static let maxDimensions = 4
    }

    public init(path: String) throws(GGUFError) {
        let mapping: MappedFile
        do {
            mapping = try MappedFile(path: path)
        } catch {
            throw .unreadable(path: path, reason: error.description)
        }
        try self.init(mapping: mapping)
    }

    public init(mapping: MappedFile) throws(GGUFError) {
        let path = mapping.path
        self.path = path
        self.mapping = mapping
        var reader = ByteReader(bytes: mapping.bytes, path: path)

        let magic = try reader.readUInt32()
        guard magic == 0x4655_4747 else {  // "GGUF" little-endian
            throw .notGGUF(path: path, reason: Self.describeForeignMagic(mapping.bytes))
        }
        let version = try reader.readUInt32()
        guard version == 2 || version == 3 else { throw .unsupportedVersion(path: path, version: version) }
        self.version = version

        let tensorCount = try reader.readUInt64()
        let kvCount = try reader.readUInt64()
        guard tensorCount <= UInt64(Limits.maxTensorCount) else {
            throw .corrupt(path: path, reason: "claims \(tensorCount) tensors")
        }
        guard kvCount <= UInt64(Limits.maxKeyValueCount) else {
            throw .corrupt(path: path, reason: "claims \(kvCount) metadata entries")
        }

        var metadata: [String: GGUFValue] = [:]
        metadata.reserveCapacity(Int(kvCount))
        for _ in 0..<kvCount {
            let key = try reader.readString()
            let typeCode = try reader.readUInt32()
            metadata[key] = try reader.readValue(typeCode: typeCode, depth: 0)
        }
        self.metadata = metadata

        var pending: [(name: String, dims: [Int], type: GGMLType, relativeOffset: UInt64)] = []
        pending.reserveCapacity(Int(tensorCount))
        for _ in 0..<tensorCount {
            let name = try reader.readString()
            let dimCount = try reader.readUInt32()
            guard dimCount >= 1, dimCount <= UInt32(Limits.maxDimensions) else {
                throw .corrupt(path: path, reason: "tensor \(name) has \(dimCount) dimensions")
            }
            var dims: [Int] = []
            for _ in 0..<dimCount {
                let d = try reader.readUInt64()
                guard d >= 1, d <= UInt64(Int32.max) else {
                    throw .corrupt(path: path, reason: "tensor \(name) has a dimension of \(d)")
                }
                dims.append(Int(d))
            }
            let rawType = try reader.readUInt32()
            guard let type = GGMLType(rawValue: rawType) else {
                throw .unsupportedTensorType(path: path, tensor: name, type: rawType)
            }
            let offset = try reader.readUInt64()
            pending.append((name, dims, type, offset))
        }

        let alignment = metadata["general.alignment"]?.intValue ?? 32
        guard alignment > 0, alignment <= 1 << 16, alignment & (alignment - 1) == 0 else {
            throw .corrupt(path: path, reason: "general.alignment is \(alignment)")
        }
        let dataStart = (reader.position + alignment - 1) / alignment * alignment
        let fileSize = mapping.count

        var tensors: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        tensors.reserveCapacity(pending.count)
        for t in pending {
            var elements = 1
            for d in t.dims {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw .corrupt(path: path, reason: "tensor \(t.name) is too large") }
                elements = product
            }
            guard t.dims[0] % t.type.blockSize == 0, let bytes = t.type.byteCount(elements: elements) else {
                throw .corrupt(
                    path: path, reason: "tensor \(t.name): row of \(t.dims[0]) is not a whole number of \(t.type) blocks")
            }
            guard t.relativeOffset <= UInt64(fileSize), dataStart + Int(t.relativeOffset) <= fileSize - bytes
            else {
                throw .truncated(
                    path: path,
                    reason: "tensor \(t.name) needs bytes up to \(UInt64(dataStart) &+ t.relativeOffset &+ UInt64(bytes)), file has \(fileSize)"
                )
            }
            guard index[t.name] == nil else { throw .corrupt(path: path, reason: "tensor \(t.name) appears twice") }
            index[t.name] = tensors.count
            tensors.append(
                GGUFTensorInfo(
                    name: t.name, dimensions: t.dims, type: t.type, offset: dataStart + Int(t.relativeOffset),
                    byteCount: bytes))
        }
        self.tensors = tensors
        self.tensorIndex = index
    }

    /// The tensor called `name`, if the file has one.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The raw bytes of a tensor, valid while this value (and so its mapping) is alive.
    public func data(for tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping.bytes[tensor.offset..<(tensor.offset + tensor.byteCount)])
    }

    /// `general.architecture`, e.g. `llama`, `qwen2`, `bert`.
    public var architecture: String? { metadata["general.architecture"]?.stringValue }

    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    public func double(_ key: String) -> Double? { metadata[key]?.doubleValue }
    public func bool(_ key: String) -> Bool? {
        if case .bool(let b) = metadata[key] { return b }
        return nil
    }
    public func stringArray(_ key: String) -> [String]? {
        guard let items = metadata[key]?.arrayValue else { return nil }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let s = item.stringValue else { return nil }
            out.append(s)
        }
        return out
    }
    public func intArray(_ key: String) -> [Int]? {
        guard let items = metadata[key]?.arrayValue else { return nil }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let v = item.intValue else { return nil }
            out.append(v)
        }
        return out
    }

    /// Names what a file that is not GGUF seems to be, so the error helps the user.
    private static func describeForeignMagic(_ bytes: UnsafeRawBufferPointer) -> String {
        let prefix = Array(bytes.prefix(8))
        if prefix.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "it is a zip archive (unpack it first)" }
        if prefix.starts(with: [0x1F, 0x8B]) { return "it is gzip-compressed (unpack it first)" }
        if bytes.count > 8, bytes[8] == UInt8(ascii: "{") { return "it looks like a safetensors file, not GGUF" }
        if prefix.isEmpty { return "the file is empty" }
        return "it does not start with the GGUF signature"
    }
}

/// Why a GGUF file could not be used.
public enum GGUFError: Error, CustomStringConvertible, Sendable, Equatable {
    case unreadable(path: String, reason: String)
    case notGGUF(path: String, reason: String)
    case unsupportedVersion(path: String, version: UInt32)
    case truncated(path: String, reason: String)
    case corrupt(path: String, reason: String)
    case unsupportedTensorType(path: String, tensor: String, type: UInt32)
    case missingKey(path: String, key: String)
    case missingTensor(path: String, tensor: String)
    case unsupportedArchitecture(path: String, architecture: String)
    case unexpectedShape(path: String, tensor: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): \(reason)"
        case .notGGUF(let path, let reason): "\(path): not a GGUF model file: \(reason)"
        case .unsupportedVersion(let path, let version):
            "\(path): GGUF version \(version) is not supported (versions 2 and 3 are); re-download or re-convert the model"
        case .truncated(let path, let reason):
            "\(path): the file is truncated (\(reason)); the download was probably interrupted — fetch it again"
        case .corrupt(let path, let reason): "\(path): corrupt GGUF file: \(reason)"
        case .unsupportedTensorType(let path, let tensor, let type):
            "\(path): tensor \(tensor) uses ggml type \(type), which assist cannot run; choose a Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/Q4_K/Q5_K/Q6_K/F16/F32 file"
        case .missingKey(let path, let key): "\(path): metadata key \(key) is missing"
        case .missingTensor(let path, let tensor): "\(path): tensor \(tensor) is missing"
        case .unsupportedArchitecture(let path, let architecture):
            "\(path): architecture '\(architecture)' is not supported (llama and qwen2 are)"
        case .unexpectedShape(let path, let tensor, let expected, let found):
            "\(path): tensor \(tensor) has shape \(found), expected \(expected)"
        }
    }
}

/// A cursor over untrusted bytes: every read checks that the bytes are there.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var position = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - position }

    mutating func take(_ n: Int, what: @autoclosure () -> String) throws(GGUFError) -> UnsafeRawBufferPointer {
        guard n >= 0, n <= remaining else {
            throw .truncated(path: path, reason: "\(what()) at byte \(position) runs past the end")
        }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    mutating func readUInt8() throws(GGUFError) -> UInt8 { try take(1, what: "a byte")[0] }
    mutating func readUInt16() throws(GGUFError) -> UInt16 {
        UInt16(littleEndian: try take(2, what: "a 16-bit value").loadUnaligned(as: UInt16.self))
    }
    mutating func readUInt32() throws(GGUFError) -> UInt32 {
        UInt32(littleEndian: try take(4, what: "a 32-bit value").loadUnaligned(as: UInt32.self))
    }
    mutating func readUInt64() throws(GGUFError) -> UInt64 {
        UInt64(littleEndian: try take(8, what: "a 64-bit value").loadUnaligned(as: UInt64.self))
    }

    mutating func readString() throws(GGUFError) -> String {
        let length = try readUInt64()
        guard length <= UInt64(remaining) else {
            throw .truncated(path: path, reason: "a string of \(length) bytes at byte \(position) runs past the end")
        }
        let raw = try take(Int(length), what: "a string")
        return String(decoding: raw, as: UTF8.self)
    }

    mutating func readValue(typeCode: UInt32, depth: Int) throws(GGUFError) -> GGUFValue {
        switch typeCode {
        case 0: return .uint(UInt64(try readUInt8()))
        case 1: return .int(Int64(Int8(bitPattern: try readUInt8())))
        case 2: return .uint(UInt64(try readUInt16()))
        case 3: return .int(Int64(Int16(bitPattern: try readUInt16())))
        case 4: return .uint(UInt64(try readUInt32()))
        case 5: return .int(Int64(Int32(bitPattern: try readUInt32())))
        case 6: return .float(Double(Float(bitPattern: try readUInt32())))
        case 7: return .bool(try readUInt8() != 0)
        case 8: return .string(try readString())
        case 9:
            guard depth < GGUFFile.Limits.maxArrayNesting else {
                throw .corrupt(path: path, reason: "arrays nested more than \(GGUFFile.Limits.maxArrayNesting) deep")
            }
            let elementType = try readUInt32()
            let count = try readUInt64()
            // Every element takes at least one byte, so a count beyond the remaining bytes is a lie.
            guard count <= UInt64(remaining) else {
                throw .truncated(path: path, reason: "an array of \(count) elements at byte \(position) runs past the end")
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<count { items.append(try readValue(typeCode: elementType, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint(try readUInt64())
        case 11: return .int(Int64(bitPattern: try readUInt64()))
        case 12: return .float(Double(bitPattern: try readUInt64()))
        default:
            throw .corrupt(path: path, reason: "unknown metadata value type \(typeCode) at byte \(position)")
        }
    }
}
