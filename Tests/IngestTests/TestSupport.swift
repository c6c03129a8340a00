import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import Ingest

/// Encodes UTF-8 text into a legacy charset with iconv, for building test messages.
func encode(_ text: String, to charset: String) -> [UInt8] {
    let cd = iconv_open(charset, "UTF-8")
    guard let cd, cd != iconv_t(bitPattern: -1) else { fatalError("iconv cannot encode \(charset)") }
    defer { iconv_close(cd) }
    var input = Array(text.utf8)
    var output = [UInt8](repeating: 0, count: input.count * 4 + 64)
    let produced: Int = input.withUnsafeMutableBufferPointer { inBuf in
        output.withUnsafeMutableBufferPointer { outBuf in
            var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
            var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
            var inLeft = inBuf.count
            var outLeft = outBuf.count
            let r = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
            precondition(r != -1, "iconv failed for \(charset)")
            _ = iconv(cd, nil, nil, &outPtr, &outLeft)
            return outBuf.count - outLeft
        }
    }
    return Array(output[0..<produced])
}

func base64(_ bytes: [UInt8], lineLength: Int = 76) -> String {
    let s = Data(bytes).base64EncodedString()
    var lines: [Substring] = []
    var i = s.startIndex
    while i < s.endIndex {
        let j = s.index(i, offsetBy: lineLength, limitedBy: s.endIndex) ?? s.endIndex
        lines.append(s[i..<j])
        i = j
    }
    return lines.joined(separator: "\n")
}

/// Builds a RawMessage for one message given as text (headers + body), as if it were at the top of an mbox.
func rawMessage(_ text: String, from: String = "From sender@example.com Tue Mar  5 10:30:00 2024") -> RawMessage {
    rawMessage(bytes: Array(text.utf8), from: from)
}

func rawMessage(bytes: [UInt8], from: String = "From sender@example.com Tue Mar  5 10:30:00 2024") -> RawMessage {
    var splitter = MboxSplitter()
    var all = Data((from + "\n").utf8)
    all.append(contentsOf: bytes)
    var out = splitter.append(all)
    out += splitter.finish()
    precondition(out.count == 1, "expected one message, got \(out.count)")
    return out[0]
}

func parseMail(_ text: String) throws(IngestError) -> Document {
    try MailParser.parse(rawMessage(text), mboxPath: "/mail/test.mbox")
}

func parseMail(bytes: [UInt8]) throws(IngestError) -> Document {
    try MailParser.parse(rawMessage(bytes: bytes), mboxPath: "/mail/test.mbox")
}

func utcDate(_ y: Int, _ m: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Date {
    var c = DateComponents()
    c.year = y; c.month = m; c.day = d; c.hour = h; c.minute = mi; c.second = s
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = TimeZone(identifier: "UTC")!
    return cal.date(from: c)!
}
