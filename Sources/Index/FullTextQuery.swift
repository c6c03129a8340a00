import Foundation

/// Turns whatever the user typed into an FTS5 query that cannot fail to parse.
///
/// FTS5 has its own syntax (`AND`, `OR`, `NOT`, `NEAR(…)`, `"phrases"`, `col:`, `*`, `^`); a question such as
/// `what's "NEAR(" the C++ AND-gate*?` would be a syntax error or mean something else. So the text is split
/// into words (letters and digits only), common English function words are dropped, and each remaining
/// word is quoted as a literal and OR-ed: BM25 then ranks chunks that contain more and rarer words higher.
public enum FullTextQuery {
    /// The FTS5 MATCH expression for `text`, or nil when it holds no searchable word.
    public static func sanitize(_ text: String) -> String? {
        let words = terms(in: text)
        guard !words.isEmpty else { return nil }
        return words.map { "\"\($0)\"" }.joined(separator: " OR ")
    }

    /// The searchable words of `text`, lowercased, de-duplicated in order, stopwords dropped (unless every
    /// word is a stopword, as in "who is it": then they are all the question has).
    public static func terms(in text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                current.unicodeScalars.append(scalar)
            } else if !current.isEmpty {
                words.append(current.lowercased())
                current = ""
            }
        }
        if !current.isEmpty { words.append(current.lowercased()) }
        var seen = Set<String>()
        let unique = words.filter { seen.insert($0).inserted }
        let content = unique.filter { !stopwords.contains($0) }
        return content.isEmpty ? unique : content
    }

    /// Function words that carry no topic: matching them only adds noise to BM25.
    static let stopwords: Set<String> = [
        "a", "about", "after", "again", "all", "am", "an", "and", "any", "are", "as", "at", "be", "been", "before",
        "being", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during",
        "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers",
        "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "me", "more", "most", "my",
        "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out",
        "over", "own", "s", "same", "she", "should", "so", "some", "such", "t", "than", "that", "the", "their",
        "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under",
        "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
        "why", "will", "with", "would", "you", "your", "yours", "tell", "know", "find", "show", "please",
        "did", "does", "near", "says", "said", "mention", "mentioned",
    ]
}
