import Foundation

/// Turns an HTML mail body into plain text: tags removed, `script`/`style`/`head` dropped, entities
/// decoded, whitespace collapsed as a browser would, paragraphs and list items kept on their own lines.
///
/// A single linear pass over the bytes; no DOM, no recursion.
enum HTMLText {
    private static let blockTags: Set<String> = [
        "p", "div", "br", "tr", "table", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
        "blockquote", "pre", "hr", "section", "article", "header", "footer", "address", "center", "form",
        "fieldset", "figure", "figcaption", "main", "nav", "aside", "tbody", "thead", "tfoot", "caption",
    ]
    /// Block elements separated by a blank line rather than a line break.
    private static let paragraphTags: Set<String> = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "hr"]
    /// Elements whose content is never text.
    private static let skippedContent: Set<String> = ["script", "style", "head", "title", "noscript", "template", "svg", "object"]

    static func text(fromHTML html: String) -> String {
        let u = Array(html.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        var i = 0
        var pendingSpace = false
        var preDepth = 0
        var quoteDepth = 0
        /// 0 = in a line, 1 = a line break is pending, 2 = a blank line is pending.
        var pendingBreak = 0

        /// The shallowest quote depth seen while the pending break accumulated: a blank line belongs to
        /// the quote only if it lies inside it.
        var breakQuoteDepth = 0
        func breakLine(_ level: Int) {
            if !out.isEmpty {
                breakQuoteDepth = pendingBreak == 0 ? quoteDepth : min(breakQuoteDepth, quoteDepth)
                pendingBreak = max(pendingBreak, level)
            }
            pendingSpace = false
        }
        func emitText(_ bytes: [UInt8]) {
            for b in bytes {
                let isSpace = b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C
                if preDepth > 0 {
                    if b == 0x0A { breakLine(1); continue }
                    if b == 0x0D { continue }
                } else if isSpace {
                    pendingSpace = true
                    continue
                }
                if pendingBreak > 0 || out.isEmpty {
                    while let last = out.last, last == 0x20 { out.removeLast() }
                    if !out.isEmpty {
                        out.append(0x0A)
                        if pendingBreak > 1 {
                            // A blank line inside a quote stays part of the quote.
                            out.append(contentsOf: repeatElement(0x3E, count: breakQuoteDepth))
                            out.append(0x0A)
                        }
                    }
                    // Quoted history (<blockquote>) is marked as in plain-text mail, so that
                    // ReplyCleaner can tell it from the sender's own words.
                    if quoteDepth > 0 {
                        out.append(contentsOf: repeatElement(0x3E, count: quoteDepth))
                        out.append(0x20)
                    }
                    pendingBreak = 0
                    pendingSpace = false
                } else if pendingSpace {
                    out.append(0x20)
                }
                pendingSpace = false
                out.append(b)
            }
        }

        var text: [UInt8] = []
        // Once a '<' has no '>' after it, none later does either: the rest is text (keeps this linear).
        var tagsPossible = true
        while i < u.count {
            let c = u[i]
            if c == 0x3C {  // '<'
                if !text.isEmpty { emitText(text); text.removeAll(keepingCapacity: true) }
                if i + 3 < u.count, u[i + 1] == 0x21, u[i + 2] == 0x2D, u[i + 3] == 0x2D {
                    i = find(u, "-->", from: i + 4).map { $0 + 3 } ?? u.count
                    continue
                }
                guard tagsPossible, let close = tagEnd(u, from: i + 1) else {
                    tagsPossible = false
                    text.append(c)
                    i += 1
                    continue
                }
                var j = i + 1
                let closing = j < close && u[j] == 0x2F
                if closing { j += 1 }
                let nameStart = j
                while j < close, (u[j] >= 0x41 && u[j] <= 0x5A) || (u[j] >= 0x61 && u[j] <= 0x7A) || (u[j] >= 0x30 && u[j] <= 0x39) {
                    j += 1
                }
                if j == nameStart { text.append(c); i += 1; continue }  // "a < b" is text
                let name = String(decoding: u[nameStart..<j], as: UTF8.self).lowercased()
                i = close + 1
                if !closing, skippedContent.contains(name) {
                    // Skip to the matching closing tag.
                    i = findClosingTag(u, name: name, from: i) ?? u.count
                    continue
                }
                if name == "pre" { preDepth = max(0, preDepth + (closing ? -1 : 1)) }
                if name == "li" && !closing {
                    breakLine(1)
                    emitText([0x2D])
                    pendingSpace = true
                } else if name == "br" {
                    breakLine(1)
                } else if name == "td" || name == "th" {
                    if !closing { pendingSpace = true }
                } else if name == "blockquote" {
                    // Leaving a quote, the break is outside it; entering one, the break comes before it.
                    if closing { quoteDepth = max(0, quoteDepth - 1) }
                    breakLine(2)
                    if !closing { quoteDepth = min(32, quoteDepth + 1) }
                } else if blockTags.contains(name) || name == "li" {
                    breakLine(paragraphTags.contains(name) ? 2 : 1)
                }
                continue
            }
            if c == 0x26, let (decoded, next) = entity(u, at: i) {
                text.append(contentsOf: decoded)
                i = next
                continue
            }
            text.append(c)
            i += 1
        }
        if !text.isEmpty { emitText(text) }
        while let last = out.last, last == 0x20 || last == 0x0A || last == 0x3E { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }

    /// The index of the `>` ending a tag that starts at `from` (quotes in attributes respected).
    private static func tagEnd(_ u: [UInt8], from: Int) -> Int? {
        var i = from
        var quote: UInt8 = 0
        while i < u.count {
            let c = u[i]
            if quote != 0 { if c == quote { quote = 0 } }
            else if c == 0x22 || c == 0x27 { quote = c }
            else if c == 0x3E { return i }
            i += 1
        }
        return nil
    }

    private static func find(_ u: [UInt8], _ needle: String, from: Int) -> Int? {
        let n = Array(needle.utf8)
        guard n.count > 0, u.count >= n.count, from <= u.count - n.count else { return nil }
        var i = from
        while i <= u.count - n.count {
            if u[i] == n[0], u[(i + 1)..<(i + n.count)].elementsEqual(n[1...]) { return i }
            i += 1
        }
        return nil
    }

    /// After the `</name>` that closes a skipped element, case-insensitively.
    private static func findClosingTag(_ u: [UInt8], name: String, from: Int) -> Int? {
        let n = Array(name.utf8)
        var i = from
        while i + 2 + n.count <= u.count {
            if u[i] == 0x3C, u[i + 1] == 0x2F {
                var match = true
                for k in 0..<n.count where (u[i + 2 + k] | 0x20) != n[k] { match = false; break }
                if match, let end = tagEnd(u, from: i + 2) { return end + 1 }
            }
            i += 1
        }
        return nil
    }

    static let namedEntities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©", "reg": "®",
        "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "sbquo": "‚",
        "ldquo": "“", "rdquo": "”", "bdquo": "„", "bull": "•", "middot": "·", "euro": "€", "pound": "£",
        "yen": "¥", "cent": "¢", "sect": "§", "para": "¶", "deg": "°", "plusmn": "±", "times": "×",
        "divide": "÷", "laquo": "«", "raquo": "»", "iexcl": "¡", "iquest": "¿", "shy": "\u{00AD}",
        "zwnj": "\u{200C}", "zwj": "\u{200D}", "ensp": " ", "emsp": " ", "thinsp": " ", "larr": "←",
        "rarr": "→", "uarr": "↑", "darr": "↓", "harr": "↔", "frac12": "½", "frac14": "¼", "frac34": "¾",
        "sup2": "²", "sup3": "³", "micro": "µ", "ordf": "ª", "ordm": "º", "dagger": "†", "Dagger": "‡",
        "permil": "‰", "prime": "′", "Prime": "″", "szlig": "ß", "auml": "ä", "ouml": "ö", "uuml": "ü",
        "Auml": "Ä", "Ouml": "Ö", "Uuml": "Ü", "euml": "ë", "iuml": "ï", "Euml": "Ë", "Iuml": "Ï",
        "aacute": "á", "eacute": "é", "iacute": "í", "oacute": "ó", "uacute": "ú", "yacute": "ý",
        "Aacute": "Á", "Eacute": "É", "Iacute": "Í", "Oacute": "Ó", "Uacute": "Ú", "Yacute": "Ý",
        "agrave": "à", "egrave": "è", "igrave": "ì", "ograve": "ò", "ugrave": "ù",
        "Agrave": "À", "Egrave": "È", "Igrave": "Ì", "Ograve": "Ò", "Ugrave": "Ù",
        "acirc": "â", "ecirc": "ê", "icirc": "î", "ocirc": "ô", "ucirc": "û",
        "Acirc": "Â", "Ecirc": "Ê", "Icirc": "Î", "Ocirc": "Ô", "Ucirc": "Û",
        "atilde": "ã", "ntilde": "ñ", "otilde": "õ", "Atilde": "Ã", "Ntilde": "Ñ", "Otilde": "Õ",
        "aring": "å", "Aring": "Å", "aelig": "æ", "AElig": "Æ", "ccedil": "ç", "Ccedil": "Ç",
        "oslash": "ø", "Oslash": "Ø", "eth": "ð", "ETH": "Ð", "thorn": "þ", "THORN": "Þ", "yuml": "ÿ",
        "oelig": "œ", "OElig": "Œ", "scaron": "š", "Scaron": "Š", "zcaron": "ž", "Zcaron": "Ž",
    ]

    /// Decodes `&name;`, `&#123;` or `&#x1F600;` at `at`; returns the UTF-8 bytes and the index after it.
    private static func entity(_ u: [UInt8], at: Int) -> ([UInt8], Int)? {
        var j = at + 1
        let limit = min(u.count, at + 34)
        if j < limit, u[j] == 0x23 {
            j += 1
            var hex = false
            if j < limit, u[j] | 0x20 == 0x78 { hex = true; j += 1 }
            var value: UInt32 = 0
            let digitsStart = j
            while j < limit {
                if hex, let h = TransferEncoding.hexValue(u[j]) { value = value &* 16 &+ UInt32(h) }
                else if !hex, u[j] >= 0x30, u[j] <= 0x39 { value = value &* 10 &+ UInt32(u[j] - 0x30) }
                else { break }
                if value > 0x10FFFF { return nil }
                j += 1
            }
            guard j > digitsStart else { return nil }
            if j < u.count, u[j] == 0x3B { j += 1 }
            let scalar = Unicode.Scalar(value == 0 ? 0xFFFD : value) ?? "\u{FFFD}"
            return (Array(String(Character(scalar)).utf8), j)
        }
        let nameStart = j
        while j < limit, (u[j] >= 0x41 && u[j] <= 0x5A) || (u[j] >= 0x61 && u[j] <= 0x7A) || (u[j] >= 0x30 && u[j] <= 0x39) {
            j += 1
        }
        guard j > nameStart else { return nil }
        let name = String(decoding: u[nameStart..<j], as: UTF8.self)
        guard let value = namedEntities[name] else { return nil }
        if j < u.count, u[j] == 0x3B { j += 1 }
        return (Array(value.utf8), j)
    }
}
