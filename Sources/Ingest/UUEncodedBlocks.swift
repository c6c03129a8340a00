/// Old mailing-list archives carry attachments as uuencoded blocks inside plain text:
/// `begin 644 name` … lines of encoded data … `end`. They are attachments, not words.
enum UUEncodedBlocks {
    /// The text without complete uuencoded blocks, and the file names those blocks carried.
    /// A `begin` line without a matching `end` after well-formed data lines is left alone.
    static func strip(_ text: String) -> (text: String, names: [String]) {
        guard text.utf8.count > 10, mayContainBlock(text) else { return (text, []) }
        let lines = LineBytes(text)
        var names: [String] = []
        var keep = [Bool](repeating: true, count: lines.lines.count)
        var i = 0
        while i < lines.lines.count {
            guard let name = beginName(lines, i) else { i += 1; continue }
            var j = i + 1
            var dataLines = 0
            while j < lines.lines.count, isDataLine(lines, j) { dataLines += 1; j += 1 }
            if dataLines > 0, j < lines.lines.count, lines.equals(lines.trimmed(j), "end") {
                for k in i...j { keep[k] = false }
                names.append(name)
                i = j + 1
            } else {
                i += 1
            }
        }
        guard !names.isEmpty else { return (text, []) }
        var out = [UInt8]()
        out.reserveCapacity(lines.bytes.count)
        var first = true
        for (k, range) in lines.lines.enumerated() where keep[k] {
            if !first { out.append(0x0A) }
            out.append(contentsOf: lines.bytes[range])
            first = false
        }
        return (String(decoding: out, as: UTF8.self), names)
    }

    /// Whether some line starts with `begin ` (memmem over the bytes, then a look at the byte before).
    private static func mayContainBlock(_ text: String) -> Bool {
        var s = text
        return s.withUTF8 { u in
            let needle: StaticString = "begin "
            let n = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
            var from = 0
            while let at = TextScan.firstIndex(of: n, in: u, from: from) {
                if at == 0 || u[at - 1] == 0x0A { return true }
                from = at + 1
            }
            return false
        }
    }

    /// `begin <octal mode> <name>` → name.
    private static func beginName(_ lines: LineBytes, _ i: Int) -> String? {
        let r = lines.lines[i]
        let b = lines.bytes
        guard r.count > 10, lines.hasPrefix(r, Array("begin ".utf8)) else { return nil }
        var k = r.lowerBound + 6
        let modeStart = k
        while k < r.upperBound, b[k] >= 0x30, b[k] <= 0x37 { k += 1 }
        guard k - modeStart >= 3, k - modeStart <= 4, k < r.upperBound, b[k] == 0x20 else { return nil }
        let name = lines.string((k + 1)..<r.upperBound)
        return name.isEmpty ? nil : name
    }

    /// A uuencoded data line: a length character, then characters in the uuencode alphabet, about as
    /// many as the length promises.
    private static func isDataLine(_ lines: LineBytes, _ i: Int) -> Bool {
        let r = lines.lines[i]
        guard let first = r.first.map({ lines.bytes[$0] }), first >= 0x20, first <= 0x60 else { return false }
        let count = Int(first - 0x20) & 0x3F
        let expected = (count + 2) / 3 * 4
        for k in r where lines.bytes[k] < 0x20 || lines.bytes[k] > 0x60 { return false }
        let body = r.count - 1
        return body >= expected && body <= expected + 2
    }
}
