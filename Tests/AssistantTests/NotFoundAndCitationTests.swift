import Foundation
import Index
import Testing
@testable import Assistant

@Suite struct NotFoundDetectorTests {
    let detector = NotFoundDetector()

    @Test(arguments: [
        "NOT_FOUND", "  NOT_FOUND.", "not_found", "NOT FOUND", "NOT_FOUND\nThe sources talk about budgets.",
        "The context does not contain information about the wifi password.",
        "I'm sorry, but the provided sources don't mention when the offsite is.",
        "There is no information about this in the notes.", "I couldn't find that.", "",
        "The sources do not say who owns the contract [1].",
    ])
    func recognisesAbstentions(_ reply: String) {
        #expect(detector.isNotFound(reply))
    }

    @Test(arguments: [
        "The launch moved to March 14 [2].",
        "The package was not found in the warehouse on Monday, so Ana reordered it [1]. It arrived on Friday [2]. The invoice followed [3].",
        "The offsite is in Lisbon [1]. It runs two days [1]. The notes do not say who books the hotel, but Ana suggested she could [2].",
    ])
    func acceptsAnswers(_ reply: String) {
        #expect(!detector.isNotFound(reply))
    }

    @Test func sentinelPrefixesAreHeldBack() {
        #expect(detector.couldBecomeSentinel(""))
        #expect(detector.couldBecomeSentinel(" NOT_"))
        #expect(detector.couldBecomeSentinel("NOT_FOUND and more"))
        #expect(detector.couldBecomeSentinel("NOT FOU"))
        #expect(!detector.couldBecomeSentinel("Nope"))
        #expect(!detector.couldBecomeSentinel("The"))
        #expect(detector.opensWithSentinel("\nNOT_FOUND"))
        #expect(detector.opensWithSentinel("NOT FOUND. The notes"))
        #expect(!detector.opensWithSentinel("NOT_FOU"))
        #expect(!detector.opensWithSentinel("The router is NOT_FOUND"))
    }
}

@Suite struct CitationTests {
    let items = [
        ContextItem(n: 1, hit: noteHit(11, path: "notes/launch.md", text: """
            # Launch
            We met on Monday. The launch date was set to March 14 after the review.
            Marketing will prepare the press kit.
            """, date: "2024-02-01")),
        ContextItem(n: 2, hit: mailHit(22, subject: "Re: launch", from: "Ana <ana@x.org>", text: """
            Hi all, quick update. The launch moves to April 2 because QA found a blocker. Thanks, Ana
            """, date: "2024-03-01", messageID: "abc@x.org")),
    ]
    let resolver = CitationResolver()

    @Test func parsesMarkerForms() {
        let text = "A [1]. B [2, 3]. C [Source 4]. D [1][2]. E [x] [12345] [sources 1 and 2]."
        let ids = CitationResolver.markers(in: text).map(\.ids)
        #expect(ids == [[1], [2, 3], [4], [1], [2], [1, 2]])
    }

    @Test func quotesTheBestMatchingSentenceVerbatimAndDropsUnknownIDs() {
        let answer = "The launch moved to April 2 because QA found a blocker [2][7]. It was first set to March 14 [1]. Extra [9]."
        let resolution = resolver.resolve(answer: answer, items: items)
        #expect(resolution.answer == "The launch moved to April 2 because QA found a blocker [2]. It was first set to March 14 [1]. Extra.")
        #expect(resolution.citations.map(\.n) == [1, 2])
        let byN = Dictionary(uniqueKeysWithValues: resolution.citations.map { ($0.n, $0) })
        #expect(byN[1]?.quote == "The launch date was set to March 14 after the review.")
        #expect(byN[2]?.quote == "The launch moves to April 2 because QA found a blocker.")
        #expect(byN[2]?.messageID == "abc@x.org")
        for citation in resolution.citations {
            #expect(CitationResolver.verify(citation, items: items))
        }
    }

    @Test func markerAfterTheFullStopBelongsToThePreviousSentence() {
        let resolution = resolver.resolve(answer: "Marketing prepares the press kit. [1] The launch is April 2. [2]", items: items)
        let byN = Dictionary(uniqueKeysWithValues: resolution.citations.map { ($0.n, $0) })
        #expect(byN[1]?.quote == "Marketing will prepare the press kit.")
        #expect(byN[2]?.quote == "The launch moves to April 2 because QA found a blocker.")
    }

    @Test func uncitedAnswersAreAttributedByOverlap() {
        let resolution = resolver.resolve(answer: "QA found a blocker, so the launch moves to April 2. Nice weather today.", items: items)
        #expect(resolution.citations.map(\.n) == [2])
        #expect(resolution.answer == "QA found a blocker, so the launch moves to April 2 [2]. Nice weather today.")
    }

    @Test func misattributedCitationIsCreditedToTheSupportingChunk() {
        let resolution = resolver.resolve(answer: "Marketing will prepare the press kit [2].", items: items)
        #expect(resolution.citations.map(\.n) == [1])
        #expect(resolution.citations.first?.quote == "Marketing will prepare the press kit.")
    }

    @Test func verifyRejectsForgedQuotesAndUnknownIDs() {
        let real = Citation(n: 1, hit: items[0].hit, quote: "Marketing will prepare the press kit.")
        #expect(CitationResolver.verify(real, items: items))
        var forged = real
        forged.quote = "Marketing will prepare the press kit tomorrow."
        #expect(!CitationResolver.verify(forged, items: items))
        var unknown = real
        unknown.n = 5
        #expect(!CitationResolver.verify(unknown, items: items))
    }

    @Test func longQuotesAreCutToAVerbatimPrefix() {
        let sentence = Array(repeating: "launch", count: 120).joined(separator: " ")
        let item = ContextItem(n: 1, hit: noteHit(1, path: "a.md", text: sentence))
        let resolution = CitationResolver(maxQuoteLength: 50).resolve(answer: "launch launch [1]", items: [item])
        let quote = resolution.citations.first?.quote ?? ""
        #expect(quote.count <= 50 && !quote.isEmpty)
        #expect(sentence.hasPrefix(quote))
    }
}
