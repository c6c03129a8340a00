import Foundation

/// Data carried inside a note that is not text: images pasted as `data:image/png;base64,…` URIs (web
/// clippers, Joplin and Evernote exports) and Excalidraw drawings kept as a `compressed-json` block.
///
/// Megabytes of base64 would become thousands of chunks that mean nothing and still match vector
/// queries, so the payloads are cut out before chunking. Line breaks stay, so every remaining line keeps
/// its number and citations still point at the right line of the file.
enum EmbeddedData {
    /// Shorter base64 runs are left alone: they may be an identifier someone searches for.
    static let minimumPayload = 64

    /// `body` with long `base64,` payloads of `data:` URIs replaced by "…", and the lines inside
    /// `compressed-json` fences emptied.
    static func withoutPayloads(_ body: String) -> String {
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
