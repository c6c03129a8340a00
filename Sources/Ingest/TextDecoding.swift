import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turning bytes into text: binary sniffing, UTF-8 validation with a lossy fallback, and legacy charsets.
enum TextDecoding {
    /// At most this fraction of a file's bytes may be invalid UTF-8 for it to be decoded lossily.
    static let maxInvalidFraction = 0.05
    /// Above this fraction of control characters (other than tab, newline, CR, form feed, ESC) it is binary.
    static let maxControlFraction = 0.10

    /// Whether the bytes look like a binary file rather than text: any NUL byte, or many control characters.
    static func looksBinary(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
        if memchr(base, 0, bytes.count) != nil { return true }
        // Control characters are counted on a prefix: a text file does not turn binary halfway.
        let sample = min(bytes.count, 1 << 16)
        var controls = 0
        for i in 0..<sample {
            let b = bytes[i]
            if b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D && b != 0x0C && b != 0x1B { controls += 1 }
        }
        return Double(controls) > Double(sample) * maxControlFraction
    }

    enum UTF8Result {
        case valid(String)
        case lossy(String, invalidBytes: Int)
    }

    /// Decodes UTF-8, replacing invalid sequences with U+FFFD and counting the bytes that were invalid.
    static func decodeUTF8(_ bytes: UnsafeRawBufferPointer) -> UTF8Result {
        let buffer = bytes.bindMemory(to: UInt8.self)
        if let valid = String(validating: buffer, as: UTF8.self) { return .valid(valid) }
        return .lossy(String(decoding: buffer, as: UTF8.self), invalidBytes: countInvalidUTF8(buffer))
    }

    /// Counts bytes that are not part of a well-formed UTF-8 sequence (overlongs and surrogates included).
    static func countInvalidUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        var invalid = 0
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            var need = 0
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; upper = 0x9F
            case 0xF0: need = 3; lower = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; upper = 0x8F
            default: invalid += 1; i += 1; continue
            }
            var ok = i + need < n
            if ok {
                for k in 1...need {
                    let cc = b[i + k]
                    let lo: UInt8 = k == 1 ? lower : 0x80
                    let hi: UInt8 = k == 1 ? upper : 0xBF
                    if cc < lo || cc > hi { ok = false; break }
                }
            }
            if ok { i += need + 1 } else { invalid += 1; i += 1 }
        }
        return invalid
    }

    /// Decodes text in a named charset, never failing: unknown charsets fall back to UTF-8 when the
    /// bytes are valid UTF-8 and to Windows-1252 otherwise; undecodable bytes become U+FFFD.
    static func decode(_ data: some DataProtocol, charset: String?) -> String {
        let bytes = Array(data)
        let name = Charset.canonicalName(charset)
        switch name {
        case "UTF-8", "US-ASCII", nil:
            return bytes.withUnsafeBytes { raw in
                switch decodeUTF8(raw) {
                case .valid(let s): return s
                case .lossy(let s, let invalid):
                    // Mislabeled 8-bit text (common in old mail) reads better as Windows-1252.
                    if Double(invalid) > Double(bytes.count) * maxInvalidFraction || invalid * 2 > nonASCIICount(raw) {
                        return Charset.iconvDecode(bytes, from: "WINDOWS-1252") ?? s
                    }
                    return s
                }
            }
        case let charsetName?:
            if let s = Charset.iconvDecode(bytes, from: charsetName) { return s }
            return decode(bytes, charset: nil)
        }
    }

    private static func nonASCIICount(_ raw: UnsafeRawBufferPointer) -> Int {
        var n = 0
        for b in raw where b >= 0x80 { n += 1 }
        return n
    }
}

/// Charset names as found in mail headers, mapped to what glibc's iconv understands, and the conversion.
enum Charset {
    /// The iconv name for a MIME charset label, or nil for UTF-8/ASCII (and for no label at all).
    static func canonicalName(_ label: String?) -> String? {
        guard let label else { return nil }
        var l = String(TextScan.trimASCIIWhitespace(label))
        if let first = l.utf8.first, let last = l.utf8.last, first >= 0x80 || last >= 0x80 {
            l = l.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        l = l.lowercased()
        if l.hasPrefix("\""), l.hasSuffix("\""), l.count >= 2 { l = String(l.dropFirst().dropLast()) }
        if l.isEmpty { return nil }
        switch l {
        case "utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8": return "UTF-8"
        case "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "default", "unknown-8bit",
             "x-unknown", "unknown", "7bit", "8bit":
            return "US-ASCII"
        // Latin-1 labels are decoded as Windows-1252, its superset, as browsers do: mailers mislabel.
        case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819":
            return "WINDOWS-1252"
        case "gb2312", "gbk", "x-gbk", "cp936", "euc-cn", "x-euc-cn", "gb_2312-80", "chinese": return "GB18030"
        case "gb18030": return "GB18030"
        case "big5", "x-big5", "big5-hkscs", "cn-big5", "csbig5": return "BIG5-HKSCS"
        case "shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j", "cp932",
             "ms932":
            return "CP932"
        case "euc-jp", "x-euc-jp", "eucjp": return "EUC-JP"
        case "iso-2022-jp", "csiso2022jp": return "ISO-2022-JP-2"
        case "euc-kr", "ks_c_5601-1987", "ksc5601", "ks_c_5601", "korean", "cp949", "x-windows-949":
            return "CP949"
        case "koi8-r", "koi8r", "cskoi8r": return "KOI8-R"
        case "koi8-u", "koi8u": return "KOI8-U"
        case "iso-8859-8-i", "iso-8859-8-e": return "ISO-8859-8"
        case "iso-8859-6-i", "iso-8859-6-e": return "ISO-8859-6"
        case "utf-7", "unicode-1-1-utf-7": return "UTF-7"
        default: break
        }
        // iso8859-2, iso_8859-2, latin2 → ISO-8859-2; cp1250, windows-1250, x-cp1250 → WINDOWS-1250.
        if let n = numberSuffix(l, prefixes: ["iso-8859-", "iso8859-", "iso_8859-", "iso8859_"]) {
            return "ISO-8859-\(n)"
        }
        if let n = numberSuffix(l, prefixes: ["windows-", "cp", "x-cp", "win-", "win"]), (1250...1258).contains(n) {
            return "WINDOWS-\(n)"
        }
        if let n = numberSuffix(l, prefixes: ["windows-", "cp", "x-cp"]), n == 874 { return "CP874" }
        if let n = numberSuffix(l, prefixes: ["latin"]) {
            let map = [2: 2, 3: 3, 4: 4, 5: 9, 6: 10, 7: 13, 8: 14, 9: 15, 10: 16]
            if let iso = map[n] { return "ISO-8859-\(iso)" }
        }
        return l.uppercased()
    }

    private static func numberSuffix(_ s: String, prefixes: [String]) -> Int? {
        for p in prefixes where s.hasPrefix(p) {
            if let n = Int(s.dropFirst(p.count)) { return n }
        }
        return nil
    }

    /// Converts `bytes` from `charset` to a String with glibc iconv, replacing undecodable bytes with
    /// U+FFFD. Returns nil when iconv does not know the charset.
    static func iconvDecode(_ bytes: [UInt8], from charset: String) -> String? {
        let cd = iconv_open("UTF-8", charset)
        guard let cd, cd != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(cd) }
        if bytes.isEmpty { return "" }
        var output = [UInt8]()
        output.reserveCapacity(bytes.count * 2 + 16)
        var chunk = [UInt8](repeating: 0, count: max(4096, bytes.count * 3 + 16))
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        var input = bytes
        input.withUnsafeMutableBufferPointer { inBuf in
            guard let inBase = inBuf.baseAddress else { return }
            var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBase).assumingMemoryBound(to: CChar.self)
            var inLeft = inBuf.count
            chunk.withUnsafeMutableBufferPointer { outBuf in
                guard let outBase = outBuf.baseAddress else { return }
                while true {
                    var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBase).assumingMemoryBound(to: CChar.self)
                    var outLeft = outBuf.count
                    let result = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                    let produced = outBuf.count - outLeft
                    output.append(contentsOf: UnsafeBufferPointer(start: outBase, count: produced))
                    if result != -1 {
                        if inLeft == 0 {
                            // Flush any shift state (ISO-2022-JP ends in ASCII mode).
                            var flushPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBase).assumingMemoryBound(to: CChar.self)
                            var flushLeft = outBuf.count
                            _ = iconv(cd, nil, nil, &flushPtr, &flushLeft)
                            output.append(contentsOf: UnsafeBufferPointer(start: outBase, count: outBuf.count - flushLeft))
                            break
                        }
                        continue
                    }
                    let err = errno
                    if err == E2BIG { continue }
                    // EILSEQ: an invalid byte; EINVAL: an incomplete sequence at the end. Replace and go on.
                    output.append(contentsOf: replacement)
                    if err == EINVAL || inLeft <= 1 { break }
                    inPtr = inPtr.map { $0 + 1 }
                    inLeft -= 1
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
