import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

#if arch(x86_64) && canImport(_Builtin_intrinsics)
    import _Builtin_intrinsics.intel
#endif

/// Streaming SHA-256 (FIPS 180-4), for verifying multi-gigabyte model downloads without loading them.
///
/// Feed bytes with `update` in pieces of any size, then call `finalize` once. On x86-64 processors with the
/// SHA extensions (most since 2017) the compression runs on those instructions (≈ 700 MB/s on one core);
/// elsewhere a portable implementation with the rounds unrolled is used (≈ 150–250 MB/s).
public struct SHA256: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
    )
    private var buffer = [UInt8](repeating: 0, count: 64)
    private var buffered = 0
    private var totalBytes: UInt64 = 0

    /// Whether to use the CPU's SHA instructions when it has them; tests turn it off to check the portable code.
    private let usesCPUExtensions: Bool

    public init() {
        usesCPUExtensions = true
    }

    init(usesCPUExtensions: Bool) {
        self.usesCPUExtensions = usesCPUExtensions
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var pointer = bytes.baseAddress, !bytes.isEmpty else { return }
        var remaining = bytes.count
        totalBytes &+= UInt64(remaining)
        if buffered > 0 {
            let take = min(64 - buffered, remaining)
            buffer.withUnsafeMutableBytes { buf in
                (buf.baseAddress! + buffered).copyMemory(from: pointer, byteCount: take)
            }
            buffered += take
            pointer += take
            remaining -= take
            if buffered == 64 {
                buffer.withUnsafeBytes { compress($0.baseAddress!, blocks: 1) }
                buffered = 0
            }
        }
        let whole = remaining / 64
        if whole > 0 {
            compress(pointer, blocks: whole)
            pointer += whole * 64
            remaining -= whole * 64
        }
        if remaining > 0 {
            buffer.withUnsafeMutableBytes { buf in buf.baseAddress!.copyMemory(from: pointer, byteCount: remaining) }
            buffered = remaining
        }
    }

    public mutating func update(_ bytes: some Collection<UInt8>) {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        Array(bytes).withUnsafeBytes { update($0) }
    }

    /// The digest of everything fed so far. The hasher should not be used afterwards.
    public mutating func finalize() -> [UInt8] {
        let bitLength = totalBytes &* 8
        var tail: [UInt8] = [0x80]
        let padding = (55 &- buffered) & 63
        tail += [UInt8](repeating: 0, count: padding)
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        let saved = totalBytes
        tail.withUnsafeBytes { update($0) }
        totalBytes = saved
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for word in [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7] {
            out += [UInt8(word >> 24), UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word)]
        }
        return out
    }

    /// Lower-case hex digest of `bytes`.
    public static func hex(of bytes: some Collection<UInt8>) -> String {
        var h = SHA256()
        h.update(bytes)
        return hexString(h.finalize())
    }

    public static func hexString(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Hex digest and size of a file, read in large chunks.
    public static func hexOfFile(atPath path: String, progress: ((Int64) -> Void)? = nil) throws(ModelStoreError) -> (digest: String, bytes: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var hasher = SHA256()
        let chunk = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = read(fd, buffer.baseAddress, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += Int64(n)
            progress?(total)
        }
        return (hexString(hasher.finalize()), total)
    }

    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x &>> n) | (x &<< (32 &- n)) }

    /// One round; the caller rotates the roles of the eight working variables instead of moving values.
    @inline(__always)
    private static func round(
        _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32, _ e: UInt32, _ f: UInt32, _ g: UInt32,
        _ h: inout UInt32, _ kw: UInt32
    ) {
        let t1 = h &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ (g ^ (e & (f ^ g))) &+ kw
        let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) | (c & (a | b)))
        d = d &+ t1
        h = t1 &+ t2
    }

    private mutating func compress(_ data: UnsafeRawPointer, blocks: Int) {
        #if arch(x86_64) && canImport(_Builtin_intrinsics)
            if usesCPUExtensions && SHAExtensions.available {
                withUnsafeMutableBytes(of: &state) { s in
                    Self.k.withUnsafeBufferPointer { k in
                        SHAExtensions.compress(
                            s.baseAddress!.assumingMemoryBound(to: UInt32.self), data, blocks: blocks, k: k.baseAddress!)
                    }
                }
                return
            }
        #endif
        var (h0, h1, h2, h3, h4, h5, h6, h7) = state
        Self.k.withUnsafeBufferPointer { kp in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { wb in
                let w = wb.baseAddress!
                let k = kp.baseAddress!
                for block in 0..<blocks {
                    let p = data + block * 64
                    for i in 0..<16 { w[i] = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }
                    for i in 16..<64 {
                        let x = w[i - 15]
                        let y = w[i - 2]
                        let s0 = Self.rotr(x, 7) ^ Self.rotr(x, 18) ^ (x &>> 3)
                        let s1 = Self.rotr(y, 17) ^ Self.rotr(y, 19) ^ (y &>> 10)
                        w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
                    }
                    var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
                    var i = 0
                    while i < 64 {
                        Self.round(a, b, c, &d, e, f, g, &h, k[i] &+ w[i])
                        Self.round(h, a, b, &c, d, e, f, &g, k[i + 1] &+ w[i + 1])
                        Self.round(g, h, a, &b, c, d, e, &f, k[i + 2] &+ w[i + 2])
                        Self.round(f, g, h, &a, b, c, d, &e, k[i + 3] &+ w[i + 3])
                        Self.round(e, f, g, &h, a, b, c, &d, k[i + 4] &+ w[i + 4])
                        Self.round(d, e, f, &g, h, a, b, &c, k[i + 5] &+ w[i + 5])
                        Self.round(c, d, e, &f, g, h, a, &b, k[i + 6] &+ w[i + 6])
                        Self.round(b, c, d, &e, f, g, h, &a, k[i + 7] &+ w[i + 7])
                        i += 8
                    }
                    h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d
                    h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= h
                }
            }
        }
        state = (h0, h1, h2, h3, h4, h5, h6, h7)
    }
}

#if arch(x86_64) && canImport(_Builtin_intrinsics)
    /// SHA-256 compression on the x86 SHA extensions (`sha256rnds2`, `sha256msg1`, `sha256msg2`).
    ///
    /// The instructions keep the state as two vectors, (A,B,E,F) and (C,D,G,H) with A in the highest lane,
    /// and do two rounds per `sha256rnds2`; `msg1`/`msg2` extend the message schedule four words at a time.
    /// The package compiles the Inference module with `-Xcc -msha -Xcc -msse4.1` so that these intrinsics
    /// can be used; they are only called after the processor has been checked to have them.
    enum SHAExtensions {
        typealias Lanes = SIMD4<UInt32>

        static let available: Bool = {
            #if os(Linux)
                guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
                    let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
                else { return false }
                let set = Set(flags.split(separator: " "))
                return set.contains("sha_ni") && set.contains("sse4_1") && set.contains("ssse3")
            #else
                return false
            #endif
        }()

        @inline(__always) private static func m(_ v: Lanes) -> __m128i { unsafeBitCast(v, to: __m128i.self) }
        @inline(__always) private static func l(_ v: __m128i) -> Lanes { unsafeBitCast(v, to: Lanes.self) }
        @inline(__always) private static func rounds2(_ a: Lanes, _ b: Lanes, _ k: Lanes) -> Lanes {
            l(_mm_sha256rnds2_epu32(m(a), m(b), m(k)))
        }
        @inline(__always) private static func message1(_ a: Lanes, _ b: Lanes) -> Lanes {
            l(_mm_sha256msg1_epu32(m(a), m(b)))
        }
        @inline(__always) private static func message2(_ a: Lanes, _ b: Lanes) -> Lanes {
            l(_mm_sha256msg2_epu32(m(a), m(b)))
        }
        @inline(__always) private static func bigEndianWords(_ p: UnsafeRawPointer, _ offset: Int) -> Lanes {
            let v = p.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
            return Lanes(v[0].byteSwapped, v[1].byteSwapped, v[2].byteSwapped, v[3].byteSwapped)
        }

        /// Compresses `blocks` 64-byte blocks at `data` into the eight state words at `state`.
        static func compress(
            _ state: UnsafeMutablePointer<UInt32>, _ data: UnsafeRawPointer, blocks: Int, k: UnsafePointer<UInt32>
        ) {
            let raw = UnsafeRawPointer(state)
            let abcd = raw.loadUnaligned(as: Lanes.self)
            let efgh = raw.loadUnaligned(fromByteOffset: 16, as: Lanes.self)
            var abef = Lanes(efgh[1], efgh[0], abcd[1], abcd[0])
            var cdgh = Lanes(efgh[3], efgh[2], abcd[3], abcd[2])
            let constants = UnsafeRawPointer(k)
            for block in 0..<blocks {
                let p = data + block * 64
                let savedABEF = abef
                let savedCDGH = cdgh
                // The last 16 schedule words, four per vector, used round-robin.
                var w = (bigEndianWords(p, 0), bigEndianWords(p, 16), bigEndianWords(p, 32), bigEndianWords(p, 48))
                @inline(__always) func get(_ i: Int) -> Lanes {
                    switch i & 3 {
                    case 0: w.0
                    case 1: w.1
                    case 2: w.2
                    default: w.3
                    }
                }
                @inline(__always) func set(_ i: Int, _ v: Lanes) {
                    switch i & 3 {
                    case 0: w.0 = v
                    case 1: w.1 = v
                    case 2: w.2 = v
                    default: w.3 = v
                    }
                }
                for j in 0..<16 {
                    let wk = get(j) &+ constants.loadUnaligned(fromByteOffset: j * 16, as: Lanes.self)
                    cdgh = rounds2(cdgh, abef, wk)
                    if j >= 3 && j <= 14 {
                        let current = get(j)
                        let previous = get(j &- 1)
                        let shifted = Lanes(previous[1], previous[2], previous[3], current[0])
                        set(j + 1, message2(get(j + 1) &+ shifted, current))
                    }
                    abef = rounds2(abef, cdgh, Lanes(wk[2], wk[3], wk[0], wk[0]))
                    if j >= 1 && j <= 12 { set(j &- 1, message1(get(j &- 1), get(j))) }
                }
                abef = abef &+ savedABEF
                cdgh = cdgh &+ savedCDGH
            }
            let out = UnsafeMutableRawPointer(state)
            out.storeBytes(of: Lanes(abef[3], abef[2], cdgh[3], cdgh[2]), as: Lanes.self)
            out.storeBytes(of: Lanes(abef[1], abef[0], cdgh[1], cdgh[0]), toByteOffset: 16, as: Lanes.self)
        }
    }
#endif
