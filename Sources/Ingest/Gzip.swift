import Foundation

/// What is wrong with bytes given to `Gzip.decompress`.
public enum GzipError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data does not start with the gzip signature.
    case notGzip
    /// A compression method other than deflate (8), the only one gzip defines.
    case unsupportedMethod(UInt8)
    /// The data ends inside a member: the file was cut off (an interrupted download or copy).
    case truncated
    /// The compressed stream breaks the deflate format; `detail` says where.
    case corrupt(detail: String)
    /// The decompressed bytes do not match the checksum stored with them.
    case checksumMismatch
    /// Decompressing would exceed `limit` bytes.
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .notGzip: return "not gzip data"
        case .unsupportedMethod(let method): return "gzip compression method \(method) is not deflate"
        case .truncated: return "the gzip data is cut off (the file is incomplete)"
        case .corrupt(let detail): return "the gzip data is corrupt: \(detail)"
        case .checksumMismatch: return "the gzip data is corrupt: its checksum does not match"
        case .tooLarge(let limit): return "it decompresses to more than \(limit >> 20) MiB"
        }
    }
}

/// gzip files (RFC 1952) holding deflate streams (RFC 1951), as Mailman and HyperKitty serve mail archives.
///
/// Decompression is whole-buffer: archives are read once per change, then indexed from the result. Every
/// member of a multi-member file is decompressed (concatenated .gz files are one valid gzip file) and its
/// CRC-32 and length are checked, so a damaged archive is reported instead of indexed as garbage.
public enum Gzip {
    /// The two bytes every gzip member starts with.
    public static let signature: [UInt8] = [0x1F, 0x8B]

    /// Whether `prefix` starts like gzip data.
    public static func isGzip(_ prefix: Data) -> Bool { prefix.starts(with: signature) }

    /// The decompressed bytes of every member of `data`, in order. Bytes after the last member that do not
    /// start another member (zero padding some tools add) are ignored. Throws `GzipError`.
    public static func decompress(_ data: Data, limit: Int = 1 << 30) throws -> Data {
        var output = Data()
        try decompress(data, limit: limit) { output.append($0) }
        return output
    }

    /// Like `decompress(_:limit:)`, handing the output to `sink` in pieces of about a megabyte, so that
    /// memory stays bounded by the compressed size whatever the archive expands to. Throws `GzipError`, or
    /// what `sink` throws.
    public static func decompress(
        _ data: Data, limit: Int, to sink: (UnsafeBufferPointer<UInt8>) throws -> Void
    ) throws {
        let bytes = [UInt8](data)
        try withoutActuallyEscaping(sink) { sink in
            try bytes.withUnsafeBufferPointer { input in
                func startsMember(_ offset: Int) -> Bool {
                    offset + 1 < input.count && input[offset] == signature[0] && input[offset + 1] == signature[1]
                }
                guard startsMember(0) else { throw GzipError.notGzip }
                var output = InflateOutput(limit: limit, sink: sink)
                var position = 0
                while startsMember(position) {
                    position = try member(input, at: position, into: &output)
                }
            }
        }
    }

    /// Decompresses the member starting at `start` into `output`; returns the offset after it.
    private static func member(
        _ input: UnsafeBufferPointer<UInt8>, at start: Int, into output: inout InflateOutput
    ) throws -> Int {
        var position = start
        func byte() throws(GzipError) -> UInt8 {
            guard position < input.count else { throw .truncated }
            defer { position += 1 }
            return input[position]
        }
        func skip(_ count: Int) throws(GzipError) {
            guard position + count <= input.count else { throw .truncated }
            position += count
        }
        _ = try byte()
        _ = try byte()
        let method = try byte()
        guard method == 8 else { throw GzipError.unsupportedMethod(method) }
        let flags = try byte()
        guard flags & 0xE0 == 0 else { throw GzipError.corrupt(detail: "reserved header flags are set") }
        try skip(6)  // modification time, extra flags, operating system
        if flags & 0x04 != 0 {
            let length = Int(try byte()) | Int(try byte()) << 8
            try skip(length)
        }
        if flags & 0x08 != 0 { while try byte() != 0 {} }  // original file name
        if flags & 0x10 != 0 { while try byte() != 0 {} }  // comment
        if flags & 0x02 != 0 { try skip(2) }  // header CRC

        var reader = BitReader(input, from: position)
        try Inflater.inflate(&reader, into: &output)
        position = try reader.alignedByteOffset()
        let (checksum, length) = try output.finishMember()

        var trailer: [UInt32] = []
        for _ in 0..<2 {
            var value: UInt32 = 0
            for shift in stride(from: 0, to: 32, by: 8) { value |= UInt32(try byte()) << UInt32(shift) }
            trailer.append(value)
        }
        guard trailer[0] == checksum, trailer[1] == UInt32(truncatingIfNeeded: length) else {
            throw GzipError.checksumMismatch
        }
        return position
    }
}

/// Where inflated bytes go: a buffer that keeps the last 32 KiB (the farthest a back-reference reaches)
/// and hands everything before it to the sink once it passes a megabyte, with the member's running CRC-32
/// and length.
struct InflateOutput {
    private(set) var bytes: [UInt8] = []
    private let limit: Int
    private let sink: (UnsafeBufferPointer<UInt8>) throws -> Void
    /// Bytes of the whole stream handed to the sink so far.
    private var emitted = 0
    private var memberStart = 0
    private var crc = CRC32.initial

    static let window = 1 << 15
    static let flushSize = 1 << 20

    init(limit: Int, sink: @escaping (UnsafeBufferPointer<UInt8>) throws -> Void) {
        self.limit = limit
        self.sink = sink
        bytes.reserveCapacity(Self.flushSize + Self.window + 258)
    }

    /// Bytes of the whole stream produced so far.
    var total: Int { emitted + bytes.count }

    @inline(__always) mutating func append(_ byte: UInt8) throws {
        guard total < limit else { throw GzipError.tooLarge(limit: limit) }
        bytes.append(byte)
        if bytes.count >= Self.flushSize + Self.window { try flush(keeping: Self.window) }
    }

    mutating func append(_ buffer: UnsafeBufferPointer<UInt8>) throws {
        guard total + buffer.count <= limit else { throw GzipError.tooLarge(limit: limit) }
        bytes.append(contentsOf: buffer)
        if bytes.count >= Self.flushSize + Self.window { try flush(keeping: Self.window) }
    }

    /// Repeats `length` bytes from `distance` back (they may overlap what is written).
    @inline(__always) mutating func copy(distance: Int, length: Int) throws {
        guard distance <= total - memberStart else { throw GzipError.corrupt(detail: "a back-reference before the start") }
        guard total + length <= limit else { throw GzipError.tooLarge(limit: limit) }
        let start = bytes.count - distance
        for offset in 0..<length { bytes.append(bytes[start + offset]) }
        if bytes.count >= Self.flushSize + Self.window { try flush(keeping: Self.window) }
    }

    /// Ends a member: hands over everything and returns the member's CRC-32 and length.
    mutating func finishMember() throws -> (crc: UInt32, length: Int) {
        try flush(keeping: 0)
        defer {
            memberStart = emitted
            crc = CRC32.initial
        }
        return (CRC32.finish(crc), emitted - memberStart)
    }

    private mutating func flush(keeping kept: Int) throws {
        let count = bytes.count - kept
        guard count > 0 else { return }
        try bytes.withUnsafeBufferPointer { all in
            let piece = UnsafeBufferPointer(rebasing: all[..<count])
            crc = CRC32.update(crc, piece)
            try sink(piece)
        }
        bytes.removeFirst(count)
        emitted += count
    }
}

/// Bits of a byte buffer, least significant bit first, as deflate packs them.
///
/// Reading past the end yields zero bits so that a Huffman lookup may look ahead; consuming any of them
/// throws `truncated`.
struct BitReader {
    private let input: UnsafeBufferPointer<UInt8>
    /// Next byte to load (may run past the end: such bytes read as zero).
    private var position: Int
    private var buffer: UInt64 = 0
    private var count = 0

    init(_ input: UnsafeBufferPointer<UInt8>, from position: Int) {
        self.input = input
        self.position = position
    }

    @inline(__always) private mutating func refill() {
        while count <= 56 {
            if position < input.count { buffer |= UInt64(input[position]) << UInt64(count) }
            position += 1
            count += 8
        }
    }

    /// The next `width` bits (at most 32), not consumed.
    @inline(__always) mutating func peek(_ width: Int) -> UInt32 {
        if count < width { refill() }
        return UInt32(truncatingIfNeeded: buffer & ((1 << UInt64(width)) - 1))
    }

    @inline(__always) mutating func consume(_ width: Int) throws(GzipError) {
        buffer >>= UInt64(width)
        count -= width
        // Bits consumed so far: everything loaded minus what is still buffered.
        if (position - input.count) * 8 > count { throw .truncated }
    }

    @inline(__always) mutating func take(_ width: Int) throws(GzipError) -> Int {
        guard width > 0 else { return 0 }
        let value = peek(width)
        try consume(width)
        return Int(value)
    }

    /// Drops the bits up to the next byte boundary (stored blocks and the end of a stream start there).
    mutating func alignToByte() throws(GzipError) {
        try consume(count & 7)
    }

    /// The offset of the first byte not consumed, after aligning to a byte boundary.
    mutating func alignedByteOffset() throws(GzipError) -> Int {
        try alignToByte()
        return position - count / 8
    }

    /// Copies `length` bytes straight from the input (a stored block), after `alignToByte`.
    mutating func copyBytes(_ length: Int, into output: inout InflateOutput) throws {
        var remaining = length
        while remaining > 0 && count >= 8 {
            try output.append(UInt8(try take(8)))
            remaining -= 1
        }
        guard remaining > 0 else { return }
        // The buffer is empty: read the rest in one piece.
        let start = position
        guard start + remaining <= input.count else { throw GzipError.truncated }
        try output.append(UnsafeBufferPointer(rebasing: input[start..<(start + remaining)]))
        position += remaining
    }
}

/// A canonical Huffman code as a lookup table indexed by the next `width` input bits: each entry holds
/// the symbol (upper bits) and its code length (low 4 bits; 0 marks a bit pattern no code starts with).
struct HuffmanTable {
    private(set) var entries: [UInt16]
    private(set) var width: Int

    init(lengths: ArraySlice<UInt8>) throws(GzipError) {
        var counts = [Int](repeating: 0, count: 16)
        for length in lengths { counts[Int(length)] += 1 }
        counts[0] = 0
        var left = 1
        for length in 1...15 {
            left = (left << 1) - counts[length]
            if left < 0 { throw .corrupt(detail: "a Huffman code is over-subscribed") }
        }
        width = lengths.max().map(Int.init) ?? 0
        entries = [UInt16](repeating: 0, count: 1 << width)
        guard width > 0 else { return }
        var next = [Int](repeating: 0, count: 16)
        var code = 0
        for length in 1...15 {
            code = (code + counts[length - 1]) << 1
            next[length] = code
        }
        for (symbol, length) in zip(0..., lengths) where length > 0 {
            let length = Int(length)
            let code = next[length]
            next[length] += 1
            // Deflate sends codes most significant bit first into an LSB-first stream: index by the
            // reversed code, and fill every entry whose low bits are that code.
            var reversed = 0
            for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
            let entry = UInt16(symbol << 4 | length)
            for index in stride(from: reversed, to: entries.count, by: 1 << length) { entries[index] = entry }
        }
    }

    @inline(__always) func decode(_ reader: inout BitReader) throws(GzipError) -> Int {
        guard width > 0 else { throw .corrupt(detail: "a code is used that the block did not define") }
        let entry = entries[Int(reader.peek(width))]
        let length = Int(entry & 15)
        guard length > 0 else { throw .corrupt(detail: "an invalid Huffman code") }
        try reader.consume(length)
        return Int(entry >> 4)
    }
}

/// The deflate decoder: stored, fixed-code and dynamic-code blocks.
enum Inflater {
    private static let lengthBase: [Int] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
    ]
    private static let lengthExtra: [Int] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    private static let distanceBase: [Int] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
        4097, 6145, 8193, 12289, 16385, 24577,
    ]
    private static let distanceExtra: [Int] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]
    /// The order in which a dynamic block sends the code lengths of its code-length code.
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private static let fixedLiterals: HuffmanTable = {
        let lengths = [UInt8](repeating: 8, count: 144) + [UInt8](repeating: 9, count: 112)
            + [UInt8](repeating: 7, count: 24) + [UInt8](repeating: 8, count: 8)
        return try! HuffmanTable(lengths: lengths[...])
    }()
    private static let fixedDistances: HuffmanTable = try! HuffmanTable(lengths: [UInt8](repeating: 5, count: 30)[...])

    /// Decodes one deflate stream from `reader`, appending to `output`.
    static func inflate(_ reader: inout BitReader, into output: inout InflateOutput) throws {
        var isFinal = false
        while !isFinal {
            isFinal = try reader.take(1) == 1
            switch try reader.take(2) {
            case 0:
                try reader.alignToByte()
                let length = try reader.take(16)
                guard try reader.take(16) == length ^ 0xFFFF else {
                    throw GzipError.corrupt(detail: "a stored block's length check fails")
                }
                try reader.copyBytes(length, into: &output)
            case 1:
                try codes(&reader, literals: fixedLiterals, distances: fixedDistances, into: &output)
            case 2:
                let (literals, distances) = try dynamicTables(&reader)
                try codes(&reader, literals: literals, distances: distances, into: &output)
            default:
                throw GzipError.corrupt(detail: "an invalid block type")
            }
        }
    }

    private static func dynamicTables(_ reader: inout BitReader) throws(GzipError) -> (HuffmanTable, HuffmanTable) {
        let literalCount = try reader.take(5) + 257
        let distanceCount = try reader.take(5) + 1
        let codeLengthCount = try reader.take(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw .corrupt(detail: "too many codes in a block") }
        var codeLengthLengths = [UInt8](repeating: 0, count: 19)
        for index in 0..<codeLengthCount { codeLengthLengths[codeLengthOrder[index]] = UInt8(try reader.take(3)) }
        let codeLengthTable = try HuffmanTable(lengths: codeLengthLengths[...])

        var lengths: [UInt8] = []
        lengths.reserveCapacity(literalCount + distanceCount)
        while lengths.count < literalCount + distanceCount {
            let symbol = try codeLengthTable.decode(&reader)
            let value: UInt8
            let repeats: Int
            switch symbol {
            case 0...15:
                lengths.append(UInt8(symbol))
                continue
            case 16:
                guard let previous = lengths.last else { throw .corrupt(detail: "a length repeat with nothing before it") }
                value = previous
                repeats = 3 + (try reader.take(2))
            case 17:
                value = 0
                repeats = 3 + (try reader.take(3))
            default:
                value = 0
                repeats = 11 + (try reader.take(7))
            }
            guard lengths.count + repeats <= literalCount + distanceCount else {
                throw .corrupt(detail: "code lengths run past their count")
            }
            lengths.append(contentsOf: repeatElement(value, count: repeats))
        }
        guard lengths[256] != 0 else { throw .corrupt(detail: "a block without an end code") }
        return (try HuffmanTable(lengths: lengths[..<literalCount]), try HuffmanTable(lengths: lengths[literalCount...]))
    }

    private static func codes(
        _ reader: inout BitReader, literals: HuffmanTable, distances: HuffmanTable, into output: inout InflateOutput
    ) throws {
        while true {
            let symbol = try literals.decode(&reader)
            if symbol < 256 {
                try output.append(UInt8(symbol))
                continue
            }
            if symbol == 256 { return }
            let lengthIndex = symbol - 257
            guard lengthIndex < lengthBase.count else { throw GzipError.corrupt(detail: "an invalid length code") }
            let length = lengthBase[lengthIndex] + (try reader.take(lengthExtra[lengthIndex]))
            let distanceIndex = try distances.decode(&reader)
            guard distanceIndex < distanceBase.count else { throw GzipError.corrupt(detail: "an invalid distance code") }
            let distance = distanceBase[distanceIndex] + (try reader.take(distanceExtra[distanceIndex]))
            try output.copy(distance: distance, length: length)
        }
    }
}

/// CRC-32 as gzip uses it (the reflected polynomial 0xEDB88320).
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index -> UInt32 in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 != 0 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    /// The running value before any byte.
    static let initial: UInt32 = 0xFFFF_FFFF

    /// The running value after `bytes`.
    static func update(_ running: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var crc = running
        table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc
    }

    /// The checksum of everything `running` has seen.
    static func finish(_ running: UInt32) -> UInt32 { ~running }
}
