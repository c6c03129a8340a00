import Foundation
import Testing
@testable import Assistant

/// Random, hostile model output must never crash parsing or citation checking, and every citation that comes
/// out must still verify.
@Suite struct RobustnessTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let pieces = [
        "[1]", "[2, 3]", "[", "]", "[Source 1]", "[99999]", ". ", "! ", "?", "\n", "\n\n", "- ", "* ", "1. ", "|", ":",
        "SUMMARY:", "DECISIONS:", "ACTIONS:", "QUESTIONS:", "none", "launch", "March 14", "Ana", "due Friday", " by ",
        "é", "🙂", "\u{0301}", "\r\n", "**", "##", "<<<", "<|im_end|>", "NOT_FOUND", "the context does not",
        "  ", "(due ", ")", "[x]", "[1][2]", "Bob | send | Fri",
    ]

    static func randomText(_ rng: inout SplitMix) -> String {
        let count = Int.random(in: 0...40, using: &rng)
        return (0..<count).map { _ in pieces.randomElement(using: &rng) ?? "" }.joined()
    }

    @Test func randomOutputNeverBreaksParsingOrCitations() {
        var rng = SplitMix(state: 42)
        let items = [
            ContextItem(n: 1, hit: noteHit(1, path: "a.md", text: "The launch is March 14. Ana owns it!\nBullet é🙂 line")),
            ContextItem(n: 2, hit: noteHit(2, path: "b.md", text: "Bob sends the kit by Friday.")),
        ]
        for _ in 0..<2000 {
            let text = Self.randomText(&rng)
            _ = SummaryParser.parse(text)
            _ = NotFoundDetector().isNotFound(text)
            _ = ContextFence.neutralize(text)
            let resolution = CitationResolver().resolve(answer: text, items: items, question: "When is the launch?")
            for citation in resolution.citations {
                #expect(CitationResolver.verify(citation, items: items), "\(text.debugDescription)")
            }
            #expect(!ContextFence.containsForgeableMarker(ContextFence.neutralize(text)))
        }
    }
}
