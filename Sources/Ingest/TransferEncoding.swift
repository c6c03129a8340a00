import Foundation

/// Content-Transfer-Encoding decoders, tolerant of what real mail contains.
enum TransferEncoding {
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    private static let base64Table: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = Int8(i) }
        // URL-safe variants appear in the wild too.
        t[Int(UInt8(ascii: "-"))] = 62
        t[Int(UInt8(ascii: "_"))] = 63
        return t
    }()

    /// Base64: characters outside the alphabet (line breaks, spaces, junk) are skipped; decoding stops at
    /// padding; a dangling final group contributes the whole bytes it holds.
    static func base64<C: Collection>(_ input: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3 + 3)
        var accumulator: UInt32 = 0
        var bits = 0
        for c in input {
            if c == 0x3D { break }
            let v = base64Table[Int(c)]
            if v < 0 { continue }
            accumulator = (accumulator << 6) | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }

    /// Quoted-printable: `=XX` escapes (either case), soft line breaks `=` at line end (trailing
    /// whitespace allowed); invalid escapes are kept literally.
    static func quotedPrintable<C: RandomAccessCollection>(_ input: C) -> [UInt8] where C.Element == UInt8, C.Index == Int {
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = input.startIndex
        let end = input.endIndex
        while i < end {
            let c = input[i]
            if c == 0x3D {
                if i + 2 < end, let h = hexValue(input[i + 1]), let l = hexValue(input[i + 2]) {
                    out.append(h << 4 | l)
                    i += 3
                    continue
                }
                // Soft line break: '=' then optional spaces/tabs then (CR)LF or end of input.
                var j = i + 1
                while j < end, input[j] == 0x20 || input[j] == 0x09 { j += 1 }
                if j == end { i = j; continue }
                if input[j] == 0x0A { i = j + 1; continue }
                if input[j] == 0x0D { i = (j + 1 < end && input[j + 1] == 0x0A) ? j + 2 : j + 1; continue }
                out.append(c)
                i += 1
                continue
            }
            out.append(c)
            i += 1
        }
        return out
    }

    /// The `Q` encoding of RFC 2047: quoted-printable where `_` stands for a space.
    static func qEncoding<C: RandomAccessCollection>(_ input: C) -> [UInt8] where C.Element == UInt8, C.Index == Int {
        quotedPrintable(input.map { $0 == 0x5F ? 0x20 : $0 })
    }
}
