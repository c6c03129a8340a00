import Foundation
import Index
import Testing
@testable import Assistant

@Suite struct EvaluationTests {
    @Test func factMatcherAcceptsDateRenderingsAndIgnoresCase() {
        #expect(FactMatcher.contains("Launch is on September 15th, 2026 [1].", fact: "2026-09-15"))
        #expect(FactMatcher.contains("launch: 15 Sept 2026", fact: "2026-09-15"))
        #expect(FactMatcher.contains("It is 2026-09-15.", fact: "2026-09-15"))
        #expect(!FactMatcher.contains("It is 2026-09-16.", fact: "2026-09-15"))
        #expect(FactMatcher.contains("We pay EUR 54000 a year", fact: "54,000"))
        #expect(FactMatcher.contains("the router is an rt-ax86u", fact: "RT-AX86U"))
    }

    @Test func loadsJSONLinesAndNamesTheBadLine() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("qa-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try """
            {"id": "q1", "question": "Q?", "answer_sources": ["notes/a.md", "m1@x"], "key_facts": ["x"], "answerable": true, "must_not_contain": ["PWNED"]}

            {"id": "q2", "question": "Q2?", "answer_sources": [], "key_facts": [], "answerable": false}
            """.write(to: url, atomically: true, encoding: .utf8)
        let items = try QAItem.load(url.path)
        #expect(items.map(\.id) == ["q1", "q2"])
        #expect(items[0].mustNotContain == ["PWNED"])
        #expect(items[0].isSource(noteHit(1, path: "/data/SampleData/notes/a.md", text: "")))
        #expect(items[0].isSource(mailHit(2, subject: "", from: "", text: "", date: "2024-01-01", messageID: "M1@x")))
        #expect(!items[0].isSource(noteHit(1, path: "/data/notes/ba.md", text: "")))

        try "{\"id\": \"q1\"}\nnot json".write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: AssistantError.evaluationFileInvalid(path: url.path, line: 1, reason: "")) {
            do { _ = try QAItem.load(url.path) } catch let AssistantError.evaluationFileInvalid(path, line, _) {
                throw AssistantError.evaluationFileInvalid(path: path, line: line, reason: "")
            }
        }
    }

    @Test func reportCombinesTheMetrics() async throws {
        let hits = [
            noteHit(1, path: "/d/notes/launch.md", text: "The launch is on 2026-09-15.", date: "2026-05-20", score: 0.9),
        ]
        let generator = ScriptedGenerator(reply: "The launch is on September 15, 2026 [1].")
        let asker = Asker(retriever: FixedRetriever(hits), generator: generator, prompts: packagedLibrary)
        let items = [
            QAItem(id: "a", question: "When is the launch?", answerSources: ["notes/launch.md", "missing@x"], keyFacts: ["2026-09-15"], answerable: true),
            QAItem(id: "b", question: "Who approved the launch?", answerSources: [], keyFacts: [], answerable: false),
        ]
        let report = try await AnswerEvaluation(asker: asker).run(items)
        #expect(report.questions == 2)
        #expect(report.recallAt5 == 0.5)
        #expect(report.keyFactAccuracy == 1)
        #expect(report.abstentionAccuracy == 0, "the scripted model answers the unanswerable question too")
        #expect(report.citationValidity == 1 && report.citations == 2)
        #expect(report.suggestedMinimumScore == 0.9)
    }

    @Test func thresholdSuggestionSeparatesAnswerableFromUnanswerable() {
        func item(_ score: Double, _ answerable: Bool) -> AnswerEvaluation.ItemResult {
            .init(id: "", answerable: answerable, found: true, answer: "", recallAt5: nil, hasKeyFacts: false,
                  forbiddenFound: [], citations: 0, validCitations: 0, topScore: score, seconds: 0, firstTokenSeconds: nil)
        }
        let results = [item(0.9, true), item(0.7, true), item(0.5, false), item(0.3, false), item(0.6, true)]
        #expect(AnswerEvaluation.suggestThreshold(results) == 0.6)
        #expect(AnswerEvaluation.suggestThreshold([item(0.9, true)]) == nil)
    }
}
