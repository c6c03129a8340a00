import Foundation

/// A fast, stable 64-bit content fingerprint used to notice changed files, messages and chunks.
///
/// Not cryptographic: it only has to tell "same bytes" from "edited bytes", and a collision would at worst
/// skip re-indexing one edited file. It reads 8 bytes per step so that hashing a large mbox costs little
/// next to parsing it, and it is defined on little-endian byte order so the stored values are portable.
struct ContentHasher {
    private var state: UInt64
    private var length: UInt64 = 0
    private var pending: UInt64 = 0
    private var pendingCount: Int = 0

    private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
    private static let mixer: UInt64 = 0xBF58_476D_1CE4_E5B9

    init(seed: UInt64 = 0x6A09_E667_F3BC_C908) {
        state = seed
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* mixer
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func absorb(_ word: UInt64) {
        state = (state ^ Self.mix(word &* Self.multiplier)).rotateLeft(27) &* 5 &+ 0x52DC_E729
    }

    mutating func update(_ buffer: UnsafeRawBufferPointer) {
        length &+= UInt64(buffer.count)
        var index = 0
        let count = buffer.count
        // Finish a partially filled word first so that chunk boundaries never change the result.
        while pendingCount > 0 && pendingCount < 8 && index < count {
            pending |= UInt64(buffer[index]) << (8 * UInt64(pendingCount))
            pendingCount += 1
            index += 1
        }
        if pendingCount == 8 {
            absorb(pending)
            pending = 0
            pendingCount = 0
        }
        while index + 8 <= count {
            let word = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            absorb(word)
            index += 8
        }
        while index < count {
            pending |= UInt64(buffer[index]) << (8 * UInt64(pendingCount))
            pendingCount += 1
            index += 1
        }
    }

    mutating func update(_ data: Data) {
        data.withUnsafeBytes { update($0) }
    }

    mutating func update(_ string: String) {
        var copy = string
        copy.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// The fingerprint of everything fed so far, as 16 lowercase hex digits.
    func finalize() -> String {
        var copy = self
        if copy.pendingCount > 0 {
            copy.absorb(copy.pending ^ (UInt64(copy.pendingCount) << 59))
        }
        let value = Self.mix(copy.state ^ copy.length)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func hash(_ data: Data) -> String {
        var hasher = ContentHasher()
        hasher.update(data)
        return hasher.finalize()
    }

    static func hash(_ string: String) -> String {
        var hasher = ContentHasher()
        hasher.update(string)
        return hasher.finalize()
    }
}

extension UInt64 {
    fileprivate func rotateLeft(_ amount: UInt64) -> UInt64 {
        (self << amount) | (self >> (64 - amount))
    }
}
