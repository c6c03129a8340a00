/// Watches streamed text for stop strings, so none of a stop string is ever shown.
///
/// Text that could be the start of a stop string is held back until it is clear either way; at a full
/// match the text before the stop string is released and the stream ends.
public struct StopStringMatcher: Sendable {
    public struct Output: Sendable, Equatable {
        /// Text safe to show now.
        public var text: String
        /// Whether a stop string was found; nothing after it should be generated or shown.
        public var stopped: Bool
    }

    private let stops: [[UInt8]]
    private var held: [UInt8] = []
    private var finished = false

    public init(stops: [String]) {
        self.stops = stops.map { Array($0.utf8) }.filter { !$0.isEmpty }
    }

    /// Feeds the next piece of generated text.
    public mutating func append(_ text: String) -> Output {
        guard !finished else { return Output(text: "", stopped: true) }
        held.append(contentsOf: text.utf8)
        if let match = earliestMatch() {
            finished = true
            let out = String(decoding: held[..<match], as: UTF8.self)
            held.removeAll()
            return Output(text: out, stopped: true)
        }
        let keep = longestPartialMatch()
        let release = held.count - keep
        let out = String(decoding: held[..<release], as: UTF8.self)
        held.removeFirst(release)
        return Output(text: out, stopped: false)
    }

    /// Releases held-back text at the end of generation (it never became a stop string).
    public mutating func flush() -> String {
        defer { held.removeAll() }
        return finished ? "" : String(decoding: held, as: UTF8.self)
    }

    private func earliestMatch() -> Int? {
        var best: Int?
        for stop in stops where stop.count <= held.count {
            var i = 0
            let last = held.count - stop.count
            while i <= last, i < (best ?? Int.max) {
                if held[i] == stop[0] && held[i..<(i + stop.count)].elementsEqual(stop) {
                    best = i
                    break
                }
                i += 1
            }
        }
        return best
    }

    /// Length of the longest tail of `held` that is a proper prefix of some stop string.
    private func longestPartialMatch() -> Int {
        var best = 0
        for stop in stops {
            var length = min(stop.count - 1, held.count)
            while length > best {
                if held[(held.count - length)...].elementsEqual(stop[..<length]) {
                    best = length
                    break
                }
                length -= 1
            }
        }
        return best
    }
}
