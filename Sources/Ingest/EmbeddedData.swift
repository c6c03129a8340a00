import Foundation

/// Data carried inside a note that is not text: images pasted as `data:image/png;base64,…` URIs (web
/// clippers, Joplin and Evernote exports), Excalidraw drawings kept as a `compressed-json` block, and
/// any other run of 1,024 ASCII characters without a space (a pasted key, a minified script, base64
/// without a `data:` prefix), which no one types into a search.
///
/// Megabytes of base64 would become thousands of chunks that mean nothing and still match vector
/// queries, so the payloads are cut out before chunking. Line breaks stay, so every remaining line keeps
/// its number and citations still point at the right line of the file.
enum EmbeddedData {
    /// Shorter base64 runs are left alone: they may be an identifier someone searches for.
    static let minimumPayload = 64

    /// Runs of printable ASCII without a space at least this long are data. Bytes of other scripts end a
    /// run: Chinese or Japanese prose has no spaces and must stay.
    static let longestWord = 1024

    /// `body` with long `base64,` payloads of `data:` URIs and other long runs without a space replaced
    /// by "…", and the lines inside `compressed-json` fences emptied.
    static func withoutPayloads(_ body: String) -> String {
        withoutLongRuns(withoutDataURIs(body))
    }

    /// `body` with every run of `longestWord` or more printable ASCII bytes but the space replaced by "…".
    static func withoutLongRuns(_ body: String) -> String {
        var run = 0
        var longest = 0
        for byte in body.utf8 {
            run = byte > 0x20 && byte < 0x7F ? run + 1 : 0
            longest = max(longest, run)
        }
        guard longest >= longestWord else { return body }
        var out: [UInt8] = []
        var start: Int?
        let bytes = Array(body.utf8)
        func close(at end: Int) {
            guard let first = start else { return }
            if end - first >= longestWord { out.append(contentsOf: Array("…".utf8)) } else { out.append(contentsOf: bytes[first..<end]) }
            start = nil
        }
        for (index, byte) in bytes.enumerated() {
            if byte > 0x20 && byte < 0x7F {
                if start == nil { start = index }
            } else {
                close(at: index)
                out.append(byte)
            }
        }
        close(at: bytes.count)
        return String(decoding: out, as: UTF8.self)
    }

    static func withoutDataURIs(_ body: String) -> String {
        guard body.contains("base64,") || body.contains("compressed-json") else { return body }
        let bytes = Array(body.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var lineStart = 0
        var drawing: (char: UInt8, length: Int)?
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let line = bytes[lineStart..<lineEnd]
            // Fences are read as the chunker reads them, so the emptied lines are one block there too.
            if let fence = drawing {
                if BlockParser.isFenceClosing(line, fence) {
                    drawing = nil
                    out.append(contentsOf: line)
                }
            } else if let fence = BlockParser.fenceOpening(line),
                line.drop(while: { $0 == 0x20 }).dropFirst(fence.length).starts(with: Array("compressed-json".utf8))
            {
                drawing = fence
                out.append(contentsOf: line)
            } else {
                appendCuttingPayloads(line, to: &out)
            }
            if lineEnd < bytes.count { out.append(0x0A) }
            lineStart = lineEnd + 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let base64Marker = Array(";base64,".utf8)

    /// Copies `line`, replacing each long payload after `data:…;base64,` with "…".
    private static func appendCuttingPayloads(_ line: ArraySlice<UInt8>, to out: inout [UInt8]) {
        var i = line.startIndex
        while i < line.endIndex {
            guard line[i...].starts(with: base64Marker), isDataURI(line, markerAt: i) else {
                out.append(line[i])
                i += 1
                continue
            }
            let payloadStart = i + base64Marker.count
            var payloadEnd = payloadStart
            while payloadEnd < line.endIndex, isBase64(line[payloadEnd]) { payloadEnd += 1 }
            out.append(contentsOf: line[i..<payloadStart])
            if payloadEnd - payloadStart >= minimumPayload {
                out.append(contentsOf: Array("…".utf8))
            } else {
                out.append(contentsOf: line[payloadStart..<payloadEnd])
            }
            i = payloadEnd
        }
    }

    /// Whether `;base64,` at `marker` ends a `data:type/subtype` prefix (parameters allowed).
    private static func isDataURI(_ line: ArraySlice<UInt8>, markerAt marker: Int) -> Bool {
        let window = line[max(line.startIndex, marker - 128)..<marker]
        guard let colon = window.lastIndex(of: 0x3A), colon >= window.startIndex + 4,
            line[(colon - 4)..<colon].elementsEqual("data".utf8)
        else { return false }
        return line[(colon + 1)..<marker].allSatisfy { $0 > 0x20 && $0 != 0x28 && $0 != 0x29 && $0 != 0x22 }
    }

    private static func isBase64(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
            || byte == 0x2B || byte == 0x2F || byte == 0x3D
    }
}
