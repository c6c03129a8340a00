import Foundation
import Index
import Inference
import Ingest
import Testing
@testable import Assistant

/// The ask pipeline's own logic (gating, streaming, citation checking), driven by a scripted generator.
/// Answer quality with a real model is covered by `EndToEndTests`.
@Suite struct AskerPipelineTests {
    let hits = [
        noteHit(1, path: "notes/launch.md", text: "The launch date was set to March 14 after the review.", date: "2024-02-01", score: 0.9),
        mailHit(2, subject: "Re: launch", from: "Ana <ana@x.org>", text: "The launch moves to April 2 because QA found a blocker.", date: "2024-03-01", messageID: "abc@x.org", score: 0.8),
    ]

    func events(_ stream: AsyncThrowingStream<AskEvent, Error>) async throws -> (tokens: String, result: AskResult, retrieved: Int) {
        var tokens = ""
        var result: AskResult?
        var retrieved = -1
        for try await event in stream {
            switch event {
            case let .retrieved(hits): retrieved = hits.count
            case let .token(text): tokens += text
            case let .finished(final): result = final
            }
        }
        return (tokens, try #require(result), retrieved)
    }

    @Test func answersStreamAndCarryOnlyVerifiedCitations() async throws {
        let generator = ScriptedGenerator(reply: "The launch moves to April 2 [2], earlier it was March 14 [1][5].")
        let asker = Asker(retriever: FixedRetriever(hits), generator: generator, prompts: packagedLibrary,
                          options: AskOptions(today: day("2024-03-10")))
        let (tokens, result, retrieved) = try await events(asker.ask("When is the launch?"))
        #expect(retrieved == 2)
        #expect(tokens == "The launch moves to April 2 [2], earlier it was March 14 [1][5].")
        #expect(result.found)
        #expect(result.answer == "The launch moves to April 2 [2], earlier it was March 14 [1].")
        #expect(result.citations.map(\.n) == [1, 2])
        #expect(result.firstTokenSeconds != nil)
        #expect(result.model == "scripted")
        let prompt = try #require(generator.prompts.first)
        #expect(prompt.first?.role == .system)
        #expect(prompt.first?.content.contains("NOT_FOUND") == true)
        let user = try #require(prompt.last?.content)
        #expect(user.contains("(today is 2024-03-10)"))
        #expect(user.contains("<<<SOURCE [2] | 2024-03-01 | email \"Re: launch\" from Ana <ana@x.org>\n"))
        #expect(user.hasSuffix("with the source number in brackets after each fact.\n"))
        #expect(ContextPacker.timeline(result.sources) == "[2] 2024-03-01, [1] 2024-02-01")
        #expect(result.sourceLines == ["[1] notes/launch.md:1-1 (2024-02-01)", "[2] Re: launch — Ana <ana@x.org>, 2024-03-01 <abc@x.org>"])
    }

    @Test func aReflexiveNotFoundGetsASecondLookWithoutTheSentinel() async throws {
        let generator = ScriptedGenerator(replies: ["NOT_FOUND", "The launch moves to April 2 [2]."])
        let asker = Asker(retriever: FixedRetriever(hits), generator: generator, prompts: packagedLibrary)
        let (tokens, result, _) = try await events(asker.ask("When is the launch?"))
        #expect(result.found)
        #expect(tokens == "The launch moves to April 2 [2].", "the first reply, the sentinel, is never shown")
        #expect(result.firstTokenSeconds != nil)
        #expect(result.citations.map(\.n) == [2])
        let prompts = generator.prompts
        #expect(prompts.count == 2)
        #expect(prompts.first?.first?.content.contains("NOT_FOUND") == true)
        #expect(prompts.last?.first?.content.contains("NOT_FOUND") == false)
        #expect(prompts.first?.last == prompts.last?.last, "the same sources and question")
        #expect(result.timings?.phases.contains { $0.name == "second_look" } == true)

        // Switched off, the sentinel is the last word.
        let once = ScriptedGenerator(replies: ["NOT_FOUND", "The launch moves to April 2 [2]."])
        let plain = Asker(retriever: FixedRetriever(hits), generator: once, prompts: packagedLibrary,
                          options: AskOptions(secondLook: false))
        #expect(try await events(plain.ask("When is the launch?")).result.found == false)
        #expect(once.prompts.count == 1)
    }

    @Test func firstTokenCountsUpToTheShownRepliesPrefill() {
        let phases = [("retrieval", 0.1), ("prefill", 0.5), ("decode", 0.1), ("embedder_load_again", 0.2), ("second_look", 1.0)]
        let timings = AskTimings(phases: phases.map { AskTimings.Phase(name: $0.0, seconds: $0.1, cpuSeconds: 0) })
        #expect(abs(timings.firstTokenSeconds - 1.9) < 1e-9, "the sentinel reply was never shown; the second is shown whole")
        #expect(abs(AskTimings(phases: Array(timings.phases.prefix(3))).firstTokenSeconds - 0.6) < 1e-9)
        #expect(timings.table.contains("embedder_load_again "), "names are not cut")
    }

    @Test func aSecondLookFacesEveryCheck() async throws {
        let generator = ScriptedGenerator(replies: ["NOT_FOUND", "The launch cost $4,500 [1]."])
        let asker = Asker(retriever: FixedRetriever(hits), generator: generator, prompts: packagedLibrary)
        let (tokens, result, _) = try await events(asker.ask("How much did the launch cost?"))
        #expect(tokens == AskResult.notFoundAnswer, "a second reply that fails a check is never shown")
        #expect(!result.found)
        #expect(result.declined == AskResult.Declined(reason: .amountNotInSources, modelReply: "The launch cost $4,500 [1]."))
    }

    @Test func sentinelIsNeverStreamedAndBecomesThePlainMessage() async throws {
        let asker = Asker(retriever: FixedRetriever(hits), generator: ScriptedGenerator(reply: "NOT_FOUND"), prompts: packagedLibrary)
        let (tokens, result, _) = try await events(asker.ask("What is the wifi password?"))
        #expect(tokens == AskResult.notFoundAnswer)
        #expect(!result.found)
        #expect(result.answer == "I couldn't find this in your notes or mail.")
        #expect(result.citations.isEmpty)
        #expect(result.sources.count == 2, "the closest sources are still shown")
    }

    @Test func irrelevantRetrievalSkipsTheModel() async throws {
        let generator = ScriptedGenerator(reply: "should not be asked")
        var options = AskOptions()
        options.relevance = RelevanceGate(minimumScore: 0.95)
        let asker = Asker(retriever: FixedRetriever(hits), generator: generator, prompts: packagedLibrary, options: options)
        let result = try await asker.answer("When is the launch?")
        #expect(!result.found)
        #expect(generator.prompts.isEmpty)
        #expect(result.firstTokenSeconds == nil)
        #expect(result.sources.map(\.hit.chunkID) == [1, 2])

        let lexical = Asker(retriever: FixedRetriever(hits), generator: generator, prompts: packagedLibrary)
        #expect(try await !lexical.answer("Which wifi password does the cottage use?").found)
        #expect(generator.prompts.isEmpty, "no hit shares a content word with the question")
    }

    @Test func jsonHasTheCLIShape() async throws {
        let asker = Asker(retriever: FixedRetriever(hits), generator: ScriptedGenerator(reply: "April 2 [2]."), prompts: packagedLibrary)
        let result = try await asker.answer("When is the launch?")
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(result)) as? [String: Any])
        for key in ["answer", "citations", "found", "model", "seconds", "first_token_seconds"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        let citation = try #require((object["citations"] as? [[String: Any]])?.first)
        for key in ["n", "path", "line_start", "line_end", "message_id", "date", "quote"] {
            #expect(citation[key] != nil, "missing \(key)")
        }
        #expect(citation["date"] as? String == "2024-03-01T12:00:00Z")
        #expect(citation["quote"] as? String == "The launch moves to April 2 because QA found a blocker.")
    }

    @Test func conversationRetrievesWithThePreviousQuestionAndKeepsHistory() async throws {
        let retriever = FixedRetriever(hits)
        let generator = ScriptedGenerator(reply: "The launch moves to April 2 [2].")
        let conversation = RAGConversation(asker: Asker(retriever: retriever, generator: generator, prompts: packagedLibrary))
        _ = try await Asker.result(of: conversation.ask("When is the launch?"))
        _ = try await Asker.result(of: conversation.ask("Why did it move?"))
        #expect(retriever.queries.map(\.text) == ["When is the launch?", "When is the launch? Why did it move?"])
        let second = try #require(generator.prompts.last)
        try #require(second.map(\.role) == [.system, .user, .assistant, .user])
        #expect(second[1].content == "When is the launch?")
        #expect(second[2].content == "The launch moves to April 2 [2].")
        #expect(await conversation.turns.count == 2)
    }
}

@Suite struct MailboxReaderTests {
    @Test func readsThreadsAndOwnWordsFromAnMboxInBlocks() throws {
        let mbox = """
            From ana@x.org Mon Jan  1 10:00:00 2024
            From: Ana <ana@x.org>
            To: Dana <dana@x.org>
            Subject: Launch
            Date: Mon, 1 Jan 2024 10:00:00 +0000
            Message-ID: <a1@x.org>

            We decided to launch on March 14.

            From bob@x.org Tue Jan  2 10:00:00 2024
            From: Bob <bob@x.org>
            To: Ana <ana@x.org>, Dana <dana@x.org>
            Subject: Re: Launch
            Date: Tue, 2 Jan 2024 10:00:00 +0000
            Message-ID: <b1@x.org>
            In-Reply-To: <a1@x.org>
            References: <a1@x.org>

            Sounds good, I will book the venue.

            On Mon, 1 Jan 2024, Ana wrote:
            > We decided to launch on March 14.

            From carol@x.org Wed Jan  3 10:00:00 2024
            From: Carol <carol@x.org>
            To: Dana <dana@x.org>
            Subject: Lunch
            Date: Wed, 3 Jan 2024 10:00:00 +0000
            Message-ID: <c1@x.org>

            Lunch on Friday?

            """
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reader-\(UUID().uuidString).mbox")
        try mbox.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let result = try MailboxReader(blockSize: 4096).read([url.path])
        #expect(result.skipped.isEmpty)
        let launch = try #require(result.threads.first { $0.threadID == "a1@x.org" })
        #expect(launch.messages.map(\.messageID) == ["a1@x.org", "b1@x.org"])
        #expect(launch.messages[1].text == "Sounds good, I will book the venue.")
        #expect(result.threads.count == 2)

        #expect(throws: AssistantError.self) { try MailboxReader().read([url.path + ".missing"]) }
    }
}

extension MailboxReaderTests {
    @Test func readsAMaildirFolder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("maildir-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for folder in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try "From: Ana <ana@x.org>\nSubject: Launch\nMessage-ID: <a1@x.org>\n\nWe launch on March 14.\n"
            .write(to: root.appendingPathComponent("cur/1.M1.host:2,S"), atomically: true, encoding: .utf8)
        try "From: Bob <bob@x.org>\nSubject: Re: Launch\nMessage-ID: <b1@x.org>\nIn-Reply-To: <a1@x.org>\n\nI will book the venue.\n"
            .write(to: root.appendingPathComponent("new/2.M1.host"), atomically: true, encoding: .utf8)
        try "not mail at all".write(to: root.appendingPathComponent("new/3.M1.host"), atomically: true, encoding: .utf8)
        // A file far larger than any message is refused, not read into memory whole.
        let huge = root.appendingPathComponent("new/4.M1.host")
        #expect(FileManager.default.createFile(atPath: huge.path, contents: Data("From: x@x.org\n\n".utf8)))
        let handle = try FileHandle(forWritingTo: huge)
        try handle.truncate(atOffset: UInt64(MboxSplitter.defaultMaxMessageBytes) + 1)
        try handle.close()
        let result = try MailboxReader().read([root.path])
        #expect(result.threads.map { $0.messages.map(\.messageID) } == [["a1@x.org", "b1@x.org"]])
        #expect(result.skipped.map(\.path) == [root.appendingPathComponent("new/3.M1.host").path, huge.path])
        #expect(result.skipped.last?.error.contains("not treated as a mail message") == true)

        let empty = root.appendingPathComponent("cur")
        try FileManager.default.removeItem(at: empty.appendingPathComponent("1.M1.host:2,S"))
        #expect(throws: AssistantError.self) { try MailboxReader().read([root.appendingPathComponent("tmp").path]) }
    }
}

extension MailboxReaderTests {
    @Test func readsTheMailboxesOfAFolder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mailboxes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("Local Folders"), withIntermediateDirectories: true)
        // Thunderbird: an mbox without an extension per folder; a reply in Sent joins the thread in Inbox.
        try "From - Tue Jan 05 10:00:00 2021\nFrom: Ana <ana@x.org>\nSubject: Launch\nMessage-ID: <a1@x.org>\n\nWe launch on March 14.\n"
            .write(to: root.appendingPathComponent("Local Folders/Inbox"), atomically: true, encoding: .utf8)
        try "From - Tue Jan 05 11:00:00 2021\nFrom: Me <me@x.org>\nSubject: Re: Launch\nMessage-ID: <b1@x.org>\nIn-Reply-To: <a1@x.org>\n\nI will book the venue.\n"
            .write(to: root.appendingPathComponent("Local Folders/Sent"), atomically: true, encoding: .utf8)
        try "From c@x.org Wed Jan  6 09:00:00 2021\nFrom: Cy <c@x.org>\nSubject: Lunch\nMessage-ID: <c1@x.org>\n\nLunch on Friday?\n"
            .write(to: root.appendingPathComponent("archive.mbox"), atomically: true, encoding: .utf8)
        let result = try MailboxReader().read([root.path])
        #expect(result.skipped.isEmpty)
        #expect(Set(result.threads.map { $0.messages.map(\.messageID) }) == [["a1@x.org", "b1@x.org"], ["c1@x.org"]])

        let nothing = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: nothing, withIntermediateDirectories: true)
        #expect(throws: AssistantError.self) { try MailboxReader().read([nothing.path]) }
    }
}

@Suite struct RelevanceGateTests {
    let hits = [
        noteHit(1, path: "a.md", text: "The router is an RT-AX86U in the hallway.", score: 0.03),
        noteHit(2, path: "b.md", text: "Groceries: milk, eggs.", score: 0.02),
        noteHit(3, path: "c.md", text: "Passwords live in the password manager, not in notes.", score: 0.01),
    ]

    @Test func bestSimilarityDecidesAndContextKeepsSimilarOrWordyHits() {
        let gate = RelevanceGate(minimumSimilarity: 0.5, contextSimilarity: 0.3, lexicalCoverage: 0.6)
        #expect(gate.relevant(hits, question: "Which router do we have?", similarities: [0.7, 0.1, 0.35]).map(\.chunkID) == [1, 3])
        #expect(gate.relevant(hits, question: "What is my passport number?", similarities: [0.45, 0.1, 0.2]).isEmpty)
        // Exact words keep a hit the embedding scored low, once something relevant was found at all.
        #expect(gate.relevant(hits, question: "password manager", similarities: [0.6, 0.1, 0.1]).map(\.chunkID) == [1, 3])
        #expect(gate.relevant(hits, question: "password manager", similarities: [0.2, 0.1, 0.1]).isEmpty)
    }

    @Test func retrieversAgreeingOnTheFirstDocumentPassLowSimilarity() {
        var agreed = hits
        agreed[0].firstForEveryRetriever = true
        let gate = RelevanceGate(minimumSimilarity: 0.5, contextSimilarity: 0.3, lexicalCoverage: 0.6)
        #expect(gate.relevant(agreed, question: "Which router do we have?", similarities: [0.35, 0.1, 0.2]).map(\.chunkID) == [1])
        #expect(gate.relevant(hits, question: "Which router do we have?", similarities: [0.35, 0.1, 0.2]).isEmpty)
    }

    @Test func withoutSimilaritiesAnySharedWordKeepsAllHits() {
        let gate = RelevanceGate(minimumScore: 0.015)
        #expect(gate.relevant(hits, question: "router model?").map(\.chunkID) == [1, 2])
        #expect(gate.relevant(hits, question: "capital of France?").isEmpty)
    }

    @Test func cosineOfEmbeddings() {
        #expect(abs(EmbeddingRelevanceScorer.cosine([1, 0], [1, 0]) - 1) < 1e-9)
        #expect(abs(EmbeddingRelevanceScorer.cosine([1, 0], [0, 2])) < 1e-9)
        #expect(EmbeddingRelevanceScorer.cosine([1], [1, 2]) == 0)
    }
}

/// What the asker makes of a model that always replies `reply`, asked `question` over `hits`.
func scriptedAnswer(_ question: String, reply: String, hits: [SearchHit]) async throws -> AskResult {
    let asker = Asker(retriever: FixedRetriever(hits), generator: ScriptedGenerator(reply: reply), prompts: packagedLibrary)
    return try await asker.answer(question)
}

@Suite struct BareReplyTests {
    @Test func aReplyOfOnlyCitationMarkersIsNotAnAnswer() async throws {
        let hits = [noteHit(1, path: "notes/r.md", text: "Main router: ASUS RT-AX86U.", score: 0.9)]
        let asker = Asker(retriever: FixedRetriever(hits), generator: ScriptedGenerator(reply: "[1][2]"), prompts: packagedLibrary)
        let result = try await asker.answer("Which router do we have?")
        #expect(!result.found)
        #expect(result.declined?.reason == .statesNothing)
        #expect(Asker.statesSomething("The router is an RT-AX86U [1]."))
        #expect(!Asker.statesSomething(" [1] [2, 3]. "))
    }

    @Test func aReplyThatBreaksOffWhereTheFactShouldBeIsNotAnAnswer() async throws {
        let result = try await scriptedAnswer(
            "What is Dana's passport number?", reply: "Dana Okafor's passport number is [1].",
            hits: [noteHit(1, path: "notes/travel.md", text: "Dana flies to Lisbon on Monday.", score: 0.9)])
        #expect(!result.found)
        #expect(result.answer == AskResult.notFoundAnswer)
        #expect(!Asker.statesSomething("The deposit was [2]. The contract number of [1]."))
        // One complete sentence is enough, and words like "in" or "for" can end a real statement.
        #expect(Asker.statesSomething("The number is [1]. Dana flies on Monday [1]."))
        #expect(Asker.statesSomething("The keys are what the spare lock is for [1]."))
    }
}

@Suite struct AmountCheckTests {
    @Test func amountsAreComparedWithoutSeparatorsCurrencyOrZeroCents() {
        #expect(AmountCheck.amounts(in: "GBP 1,195 from July, £41.50 each, $5,320.00 due, 54.000 € a year")
            == ["1195", "41.5", "5320", "54000"])
        #expect(AmountCheck.amounts(in: "We raised $28 million, or €3bn, with 28 marshals on 20 September") == ["28 million", "3 billion"])
        #expect(AmountCheck.amounts(in: "Room B2, 14:30, 2026-07-14, 20% off, ticket TP-4417").isEmpty)
    }

    @Test func aSumOfMoneyMustBeASumSomeSourceStates() {
        let sources = ["<<<SOURCE [1] | 2026-06-12 | email \"Contract\"\nWe received the 20% deposit of $8,250. 28 marshals."]
        let question = "How much deposit did we pay?"
        #expect(AmountCheck.accepts("The deposit was $8,250 [1].", question: question, sources: sources))
        #expect(AmountCheck.accepts("You paid 8250 dollars [1].", question: question, sources: sources))
        #expect(AmountCheck.accepts("Twenty-eight marshals [1].", question: question, sources: sources), "no money, nothing to check")
        #expect(!AmountCheck.accepts("The ride raised $28 million [1].", question: question, sources: sources), "28 is a count in the source")
        #expect(!AmountCheck.accepts("The deposit was $8,520 [1].", question: question, sources: sources))
    }

    /// A real sum pinned on something else: the source states €250, but as the excess of a policy.
    @Test func aSumMustBeStatedForWhatTheReplyPinsItOn() {
        let claim = """
            <<<SOURCE [1] | 2026-06-14 | note "Water damage claim"
            On 14 June a pipe under the upstairs neighbour's bath leaked through our kitchen ceiling.
            Claim filed with Meridian Home Insurance on 15 June. Adjuster Bram Hollis
            visited on 22 June. The excess on my contents policy is €250.

            Outcome: Meridian paid €1,180 on 9 July (laptop at depreciated value, rug in full).
            <<<END SOURCE [1]
            """
        let plumber = "How much did the plumber charge the upstairs neighbour?"
        #expect(!AmountCheck.accepts("The plumber charged the upstairs neighbour €250 [1].", question: plumber, sources: [claim]))
        #expect(!AmountCheck.accepts("It was €250 [1].", question: plumber, sources: [claim]),
                "with nothing in the reply, the question says what the sum is for")
        // The same sum for what the source states it for, named by the reply or only by the question.
        #expect(AmountCheck.accepts("The excess on the contents policy is €250 [1].", question: plumber, sources: [claim]))
        #expect(AmountCheck.accepts("It is €250 [1].", question: "How much is my policy's excess?", sources: [claim]))
        #expect(AmountCheck.accepts("Meridian paid out €1,180 [1].", question: "How much did the insurer pay?", sources: [claim]))
        // An invoice names the work in one line and the total in the next, or only in its header.
        let invoice = "<<<SOURCE [2] | 2026-05-15 | email \"Invoice PM-7720: gearbox\" from Pellow Motors\nClutch and flywheel: GBP 915.00\nTotal due: GBP 890.00\n<<<END SOURCE [2]"
        #expect(AmountCheck.accepts("We paid the garage £890 for the gearbox [2].", question: "What did we pay for the gearbox work?", sources: [invoice]))
        #expect(AmountCheck.accepts("The flywheel took it to £915 [2].", question: "What did the flywheel add?", sources: [invoice]))
    }

    @Test func topicWordsMeetAcrossWordForms() {
        #expect(AmountCheck.topicWords("The plumber charged our neighbours").isSuperset(of: AmountCheck.topicWords("charge neighbour")))
        #expect(AmountCheck.topicWords("We paid the deposit") == AmountCheck.topicWords("pay deposits"))
        #expect(AmountCheck.topicWords("How much is it, in $ or 250 euros?").isEmpty)
    }

    @Test func anInventedSumIsNotAnAnswer() async throws {
        let result = try await scriptedAnswer(
            "How much did the charity ride raise?", reply: "The charity ride raised $28 million in total [1].",
            hits: [noteHit(1, path: "notes/ride.md", text: "We need 28 marshals for the charity ride.", score: 0.9)])
        #expect(!result.found)
        #expect(result.answer == AskResult.notFoundAnswer)
        // The result says which check set the reply aside, and keeps the reply for whoever wants to see it.
        #expect(result.declined == AskResult.Declined(
            reason: .amountNotInSources, modelReply: "The charity ride raised $28 million in total [1]."))
    }

    @Test func generationStopsOnceTheReplyOpensWithTheSentinel() async throws {
        let result = try await scriptedAnswer(
            "Which router do we have?", reply: "NOT_FOUND The question asks about a router. The notes do not say which one.",
            hits: [noteHit(1, path: "notes/r.md", text: "The router password is on the fridge.", score: 0.9)])
        #expect(!result.found)
        #expect(result.declined == AskResult.Declined(reason: .modelSaidNotFound, modelReply: "NOT_FOUND"))
        // One piece from the first look and one from the second, which the scripted model answers alike.
        #expect(result.timings?.answerPieces == 2)
    }

    @Test func aTimeForAnUnknownTimetableIsNotAnAnswer() async throws {
        let hit = noteHit(1, path: "notes/york.md", text: "York trip 8 October 2026: hotel Minster Lane, train still to book.", score: 0.9)
        let result = try await scriptedAnswer(
            "What time does my train to York leave?", reply: "The train leaves at 8 October 2026 from Minster Lane [1].",
            hits: [hit])
        #expect(!result.found)
        #expect(result.declined?.reason == .timeNotInSources)
        let answered = try await scriptedAnswer("When is the York trip?", reply: "On 8 October 2026 [1].", hits: [hit])
        #expect(answered.found && answered.declined == nil)
    }
}

@Suite struct CopiedSourceTests {
    @Test func aReplyCopyingABlockHeaderIsRecognised() {
        #expect(ContextItem.reproducesHeader(
            "[2] | 2026-05-20 | email \"Re: NEW DATE\" from Pádraig <p@example.org> Hi Maren, Sunday the 20th works."))
        #expect(ContextItem.reproducesHeader("Source [1] | undated | note \"Sourdough\" > Problems"))
        #expect(!ContextItem.reproducesHeader("The ride is on 20 September [2]. Pádraig confirmed by email [3]."))
    }

    @Test func aCopiedSourceIsNotAnAnswer() async throws {
        let result = try await scriptedAnswer(
            "How much money did the ride raise?",
            reply: "[1] | 2026-05-20 | note \"Ride\" We need 28 marshals for the charity ride.",
            hits: [noteHit(1, path: "notes/ride.md", text: "We need 28 marshals for the charity ride.", score: 0.9)])
        #expect(!result.found)
    }
}

@Suite struct QuantityCheckTests {
    @Test func aHowMuchOrHowManyQuestionNeedsANumber() {
        let question = "How many downloads did 3.2.0 have in its first week?"
        #expect(QuantityCheck.asksForAQuantity(question))
        #expect(QuantityCheck.asksForAQuantity("How much is our tenancy deposit?"))
        #expect(!QuantityCheck.asksForAQuantity("How did I fix flat loaves?"))
        #expect(!QuantityCheck.accepts("[1] Ingrid Halvorsen [2] Priya Natarajan", question: question))
        #expect(!QuantityCheck.accepts("The deposit is unchanged, protected with SafeDeposit [1].", question: "How much is our tenancy deposit?"))
        #expect(QuantityCheck.accepts("About 1,200 downloads [2].", question: question))
        #expect(QuantityCheck.accepts("Twelve organizations [1].", question: "How many organizations joined?"))
        #expect(QuantityCheck.accepts("It was free [1].", question: "How much did the room cost?"))
        #expect(QuantityCheck.accepts("The room cost £95 a night [1].", question: "How much did the room cost?"))
        #expect(QuantityCheck.accepts("Ingrid Halvorsen [1].", question: "Who is the release manager?"))
    }

    /// Digits that belong to dates, versions or the question do not say how many.
    @Test func datesVersionsAndTheQuestionsOwnNumbersAreNoQuantity() {
        let question = "How many downloads did tidemark 3.2.0 have in its first week?"
        let listing = "[1] tidemark-dev Re: 3.2.0: new release date Tuesday 20 October [2] Priya Natarajan This week in "
            + "tidemark -- week 37 (7-13 September 2026) Merged [3] Heads-up: security release 3.1.4 next week"
        #expect(!QuantityCheck.accepts(listing, question: question))
        #expect(!QuantityCheck.accepts("3.2.0 came out on October 20, 2026 and on 2026-10-21 [1].", question: question))
        #expect(QuantityCheck.accepts("3.2.0 had 2000 downloads in the week of 20 October [1].", question: question))
        #expect(QuantityCheck.accepts("340 downloads so far [1].", question: question))
        #expect(QuantityCheck.accepts("We need 28 marshals, 4 more than in March [1].", question: "How many marshals for the Reservoir 100?"))
        #expect(!QuantityCheck.accepts("The Reservoir 100 is on 14 June [1].", question: "How many marshals for the Reservoir 100?"))
        #expect(QuantityCheck.accepts("The plumber charged €250 on 14 June [1].", question: "How much did the plumber charge?"))
    }

    /// Asked how much something cost, a house number and a reference number are no answer.
    @Test func aHowMuchQuestionAboutMoneyNeedsASum() {
        let question = "How much is our tenancy deposit?"
        #expect(QuantityCheck.asksForASum(question))
        #expect(!QuantityCheck.asksForASum("How much honey did we get from the first extraction?"))
        #expect(!QuantityCheck.asksForASum("How many tickets did we pay for?"), "a count, not a sum")
        #expect(!QuantityCheck.accepts(
            "The deposit for our tenancy at 7 Quarry Row is unchanged, protected with SafeDeposit (ref SD-2291-774) [1].",
            question: question))
        #expect(QuantityCheck.accepts("The deposit is £1,265 [1].", question: question))
        #expect(QuantityCheck.accepts("It is 1265 pounds [1].", question: question))
        #expect(QuantityCheck.accepts("11.5 kg [1].", question: "How much honey did we get from the first extraction?"))
    }

    @Test(arguments: [
        "What annual price did we sign with Cartograf for offline maps?", "What's the nightly rate where I'm sleeping?",
        "What is the monthly rent at the new flat?", "What salary did we offer Samir?",
        "What is the catering budget for the launch event, and who gets the quotes?",
        "What did we end up paying the garage for the gearbox work?", "What does the pottery course cost?",
    ])
    func priceQuestionsAskForASum(_ question: String) {
        #expect(QuantityCheck.asksForASum(question))
        #expect(!QuantityCheck.accepts("It is 10 minutes per segment, see the 2026-07-01 mail [1].", question: question))
        #expect(QuantityCheck.accepts("It is €96 [1].", question: question))
    }

    @Test(arguments: [
        "What is the deposit scheme reference?", "What date is the rent due?", "What rate limit did we set?",
        "What did the landlord say about the deposit?", "Which budget items did Theo cut?", "What is the plan?",
    ])
    func otherQuestionsAboutMoneyTopicsDoNot(_ question: String) {
        #expect(!QuantityCheck.asksForASum(question))
        #expect(QuantityCheck.accepts("SD-2291-774 [1].", question: question))
    }
}

@Suite struct IdentifierAnswerCheckTests {
    @Test(arguments: [
        "What is Dana's passport number?", "What ticket number was the missing-photos bug?",
        "What's the order ID for the chairs?", "Which tracking code did the courier send?",
        "What is the plumber's phone number of record?", "What is the dial-in PIN for the developer call?",
        "Which IBAN do I pay the rent to?",
    ])
    func recognisesIdentifierQuestions(_ question: String) {
        #expect(IdentifierAnswerCheck.asksForIdentifier(question))
    }

    @Test(arguments: [
        "How many organizations are in the beta?", "What is the total number of guests?",
        "What number did she pick?", "When is the launch?", "What is the number of open bugs?",
        "Where did I pin the festival map?",
    ])
    func otherQuestionsPassUnchecked(_ question: String) {
        #expect(!IdentifierAnswerCheck.asksForIdentifier(question))
        #expect(IdentifierAnswerCheck.accepts("Twelve, as of May [1].", question: question, sources: ["nothing"]))
    }

    @Test func anIdentifierMustBeSpelledOutBySomeSource() {
        let question = "What ticket number was the missing-photos bug?"
        let sources = ["<<<SOURCE [1] | 2026-05-02 | email \"Re: missing photos\"\nI've opened ticket\nTP-4417 and escalated it."]
        #expect(IdentifierAnswerCheck.accepts("It was TP-4417 [1].", question: question, sources: sources))
        #expect(!IdentifierAnswerCheck.accepts("It was TP-4471 [1].", question: question, sources: sources),
                "an identifier no source contains was made up")
        #expect(!IdentifierAnswerCheck.accepts("The ticket number is [1].", question: question, sources: sources))
    }

    @Test func anIdentifierMustStandNearWhatTheQuestionNames() {
        let sources = [
            "<<<SOURCE [1] | 2026-07-20 | email \"Claim\"\nBike: Corvid GR2 gravel bike, grey, bought new in 2024.\n"
                + "Police reference FB-26-118734.",
            "<<<SOURCE [2] | 2026-06-01 | email \"Dispatched\"\nOrder: MK-58213\nTracking number: PH77310925GB",
        ]
        #expect(IdentifierAnswerCheck.namingWords("What is the EMS tracking number?") == ["tracking", "ems"])
        #expect(!IdentifierAnswerCheck.accepts(
            "The frame number is Corvid GR2 [1].", question: "What is the frame number of the stolen bike?", sources: sources),
            "a model name is not a frame number")
        #expect(!IdentifierAnswerCheck.accepts(
            "Your flight number is PH77310925GB [2].", question: "What is my flight number?", sources: sources))
        #expect(IdentifierAnswerCheck.accepts(
            "It is PH77310925GB [2].", question: "What's the tracking number for the parcels?", sources: sources))
        #expect(IdentifierAnswerCheck.accepts(
            "The police reference is FB-26-118734 [1].", question: "What is the police reference number?", sources: sources))
        #expect(IdentifierAnswerCheck.accepts(
            "MK-58213 [2].", question: "What is the order number of the jerseys?", sources: sources))
    }

    @Test func aPinMustBeSpelledOutNearTheWordPin() {
        let question = "What is the dial-in PIN for the developer call?"
        #expect(IdentifierAnswerCheck.namingWords(question) == ["pin"])
        let sources = ["<<<SOURCE [1] | 2026-10-01 | email \"Call\"\nThe call is at 17:00 UTC, room 1700 on Jitsi."]
        #expect(!IdentifierAnswerCheck.accepts("The dial-in PIN is 1700 UTC [1].", question: question, sources: sources),
                "a number no source calls a PIN is not the PIN")
        let withPin = sources + ["<<<SOURCE [2] | 2026-10-02 | email \"Dial-in\"\nPhone bridge PIN: 482 913 7#"]
        #expect(IdentifierAnswerCheck.accepts("The PIN is 482 913 7# [2].", question: question, sources: withPin))
    }

    @Test func aPasswordMustBeOneASourceGivesAsSuch() {
        let question = "What is the Wi-Fi password at home?"
        #expect(IdentifierAnswerCheck.namingWords(question) == ["password", "fi"])
        let kept = ["<<<SOURCE [1] | 2026-03-01 | note \"Home network\"\n- Passwords: in the family password manager, \"Home network\" vault."]
        #expect(!IdentifierAnswerCheck.accepts("The Wi-Fi password is **Home network** vault [1].", question: question, sources: kept),
                "where a password is kept is not the password")
        let written = ["<<<SOURCE [1] | 2026-03-01 | note \"Guest Wi-Fi\"\nGuest Wi-Fi password: tide42pool"]
        #expect(IdentifierAnswerCheck.accepts("It is tide42pool [1].", question: question, sources: written))
    }

    @Test func moneyAndDatesAreNotIdentifiers() {
        let question = "What is the contract number of the signed Cartograf agreement?"
        let sources = ["Signed on 2026-06-30: EUR 54,000 per year, $1,200 setup, call at 14:30."]
        for reply in [
            "The contract number is EUR 54,000 per year [1].", "It is $1,200 [1].", "It was signed 2026-06-30 [1].",
            "The call is at 14:30 [1].", "It is 54,000 euros [1].",
        ] {
            #expect(!IdentifierAnswerCheck.accepts(reply, question: question, sources: sources), "\(reply)")
        }
    }

    @Test func aPriceGivenForAnIdentifierIsNotAnAnswer() async throws {
        let result = try await scriptedAnswer(
            "What is the contract number of the signed Cartograf agreement?",
            reply: "The contract number of the signed Cartograf agreement is EUR 54,000 per year [1].",
            hits: [noteHit(1, path: "notes/maps.md", text: "Cartograf: EUR 54,000 per year, contract attached.", score: 0.9)])
        #expect(!result.found)
        #expect(result.citations.isEmpty)
    }
}

@Suite struct ClockTimeCheckTests {
    @Test func readsTimesOfDayAndNothingElse() {
        #expect(ClockTimeCheck.times(in: "Talk 14:00-14:30, doors 9am, dinner 7 p.m., call at 10.30 a.m., lunch at noon.")
            == [840, 870, 540, 1140, 630, 720])
        #expect(ClockTimeCheck.times(in: "On 2026-07-14, 8 October, £10.30, version 1.15, 20% off, 3:15:20").isEmpty)
        #expect(ClockTimeCheck.times(in: "12am, 12:05pm, 2:30 PM") == [0, 725, 870])
    }

    @Test func aTimeMustBeOneTheSourcesState() {
        let sources = ["[1] | 2026-08-27 | email \"Programme change\"\nYour talk moves to Saturday 10 October, 2pm-2:30pm, Hall 2."]
        #expect(ClockTimeCheck.accepts("Saturday 10 October at 14:00 [1].", question: "When is my talk now?", sources: sources))
        #expect(!ClockTimeCheck.accepts("Saturday at 11:20 [1].", question: "When is my talk now?", sources: sources))
        // Without a time a reply about a date stands, unless the question asked for the time.
        #expect(ClockTimeCheck.accepts("On 10 October [1].", question: "When is my talk?", sources: sources))
        #expect(!ClockTimeCheck.accepts(
            "[1] The train leaves at 8 October 2026 from Minster Lane Hotel.", question: "What time does my train to York leave?",
            sources: sources))
        #expect(ClockTimeCheck.asksForATime("At what time does the ride start?"))
        #expect(!ClockTimeCheck.asksForATime("How much time do we have?"))
    }
}

@Suite struct DecimalAndRepetitionTests {
    @Test func decimalNumbersMustBeOnesTheSourcesState() {
        #expect(DecimalCheck.numbers(in: "Version 3.2.1 (v2.10) scored 5.0. On 20 October, 1,195 people.") == ["3.2.1", "2.10", "5.0"])
        let sources = ["[1] 3.2.0 is out; the fix for CVE-2026-41877 ships in 3.2.1. Severity: high."]
        #expect(DecimalCheck.accepts("The fix ships in 3.2.1 [1].", sources: sources))
        #expect(!DecimalCheck.accepts("[1] The CVSS score for CVE-2026-41877 was 5.0.", sources: sources))
        #expect(DecimalCheck.accepts("It was released on 20 October 2026 [1].", sources: sources))
    }

    @Test func aReplyLoopingOnOnePhraseStatesNothing() {
        let loop = (1...8).map { "[\($0)] Priya Natarajan" }.joined(separator: " ")
        #expect(Asker.isRepetitive(loop))
        #expect(!Asker.isRepetitive("Priya Natarajan took over as release manager from José on 2 October, after he stepped back from the project [3]."))
        #expect(!Asker.isRepetitive("Priya Natarajan [1]."))
    }

    @Test func aReplyListingItsSourcesSendersStatesNothing() {
        // Asked who the treasurer is, with no source naming one (HeldOutList l38).
        #expect(Asker.isRollCall("[3] Priya Natarajan [4] Łukasz Wróbel [5] Ingrid Halvorsen [6] Søren Kjær"))
        #expect(Asker.isRollCall("Priya Natarajan [1], José Carvalho [2], Ingrid Halvorsen [3]."))
        #expect(Asker.declineReason(
            "[1] Priya Natarajan [2] José Carvalho [3] Ingrid Halvorsen", question: "Who is the treasurer?",
            sources: [], detector: NotFoundDetector()) == .statesNothing)
        // Names with something said of them, one name, or several from one source are answers.
        #expect(!Asker.isRollCall("[1] José Carvalho has offered to do it this time [2] Ingrid Halvorsen has agreed [3] Priya Natarajan"))
        #expect(!Asker.isRollCall("[1] Priya Natarajan"))
        #expect(!Asker.isRollCall("Jonas, Priya, Ines and Dana [1]."))
        #expect(!Asker.isRollCall("Jonas [1], Priya [1], Ines [1]."))
        // A question for a list may get one item per source.
        #expect(Asker.asksForOne("Which contractor is doing our kitchen renovation?"))
        #expect(Asker.asksForOne("Who's the release manager?"))
        #expect(!Asker.asksForOne("Which cities did we visit last year?"))
        #expect(Asker.declineReason(
            "[1] Lisbon [2] Porto [3] Braga", question: "Which cities did we visit last year?",
            sources: [], detector: NotFoundDetector()) == nil)
    }
}

