import Foundation
import Testing
@testable import Ingest

@Suite struct MailThreaderTests {
    func msg(_ id: String, _ refs: [String] = [], _ subject: String = "Topic", day: Int?) -> ThreadableMessage {
        ThreadableMessage(messageID: id, references: refs, subject: subject,
                          date: day.map { utcDate(2024, 3, $0) })
    }

    @Test func referencesBuildOneThread() {
        let threads = MailThreader.thread([
            msg("c", ["a", "b"], "Re: Plan", day: 3),
            msg("a", [], "Plan", day: 1),
            msg("b", ["a"], "Re: Plan", day: 2),
            msg("x", [], "Other", day: 10),
        ])
        #expect(threads.count == 2)
        #expect(threads[0] == MailThread(id: "x", subject: "Other", messageIDs: ["x"]))
        #expect(threads[1] == MailThread(id: "a", subject: "Plan", messageIDs: ["a", "b", "c"]))
    }

    @Test func inReplyToOnlyAndMissingParents() {
        // b and c reply to a message we do not have; they still form one thread.
        let threads = MailThreader.thread([
            msg("b", ["missing"], "Re: Lost", day: 2),
            msg("c", ["missing"], "Re: Lost", day: 1),
            msg("d", ["b"], "Re: Lost", day: 3),
        ])
        #expect(threads.count == 1)
        #expect(threads[0].id == "c")  // earliest message of a thread whose root is missing
        #expect(threads[0].messageIDs == ["c", "b", "d"])
        #expect(threads[0].subject == "Lost")
        // A single reply to a missing parent becomes the root itself.
        let single = MailThreader.thread([msg("r", ["gone"], "Re: Solo", day: 1)])
        #expect(single == [MailThread(id: "r", subject: "Solo", messageIDs: ["r"])])
    }

    @Test func subjectFallback() {
        let threads = MailThreader.thread([
            msg("a", [], "[dev] Release plan", day: 1),
            msg("b", [], "Re: [dev] Release plan", day: 2),
            msg("c", [], "AW: Release  plan", day: 3),
            msg("d", [], "Release plan", day: 8),  // not a reply: its own thread
            msg("e", [], "Fwd: something else", day: 4),
        ])
        let byID = Dictionary(uniqueKeysWithValues: threads.map { ($0.id, $0) })
        #expect(byID["a"]?.messageIDs == ["a", "b", "c"])
        #expect(byID["d"]?.messageIDs == ["d"])
        #expect(byID["e"]?.messageIDs == ["e"])
        #expect(threads.map(\.id) == ["d", "e", "a"])  // last date, newest first
    }

    @Test func cyclesAreBroken() {
        let threads = MailThreader.thread([
            msg("a", ["b"], day: 1),
            msg("b", ["a"], day: 2),
            msg("c", ["c"], day: 3),  // refers to itself
            msg("d", ["e", "d", "e"], day: 4),
        ])
        let all = threads.flatMap(\.messageIDs).sorted()
        #expect(all == ["a", "b", "c", "d"])
    }

    @Test func fiftyThousandReferences() {
        let refs = (0..<50_000).map { "ref\($0)@x" }
        var messages = [msg("big", refs, "Re: long", day: 5)]
        messages.append(msg("ref0@x", [], "long", day: 1))
        messages.append(msg("ref25000@x", Array(refs[0..<25_000]), "Re: long", day: 3))
        // A second message with the chain reversed tries to create loops everywhere.
        messages.append(msg("rev", refs.reversed(), "Re: long", day: 6))
        let threads = MailThreader.thread(messages)
        #expect(threads.count == 1)
        #expect(threads[0].id == "ref0@x")
        #expect(threads[0].messageIDs == ["ref0@x", "ref25000@x", "big", "rev"])
    }

    @Test func manyRepliesThroughMissingParents() {
        // 20,000 replies, each under its own missing parent below one real root.
        var messages = [msg("root", [], "Big", day: 1)]
        for i in 0..<20_000 { messages.append(msg("r\(i)", ["root", "missing\(i)"], "Re: Big", day: 2)) }
        let threads = MailThreader.thread(messages)
        #expect(threads.count == 1)
        #expect(threads[0].id == "root")
        #expect(threads[0].messageIDs.count == 20_001)
    }

    @Test func duplicatesAndUndatedMessagesAreKept() {
        let threads = MailThreader.thread([
            msg("a", [], "S", day: 1),
            msg("a", [], "S", day: 2),
            msg("b", ["a"], "Re: S", day: nil),
            msg("", [], "No id", day: 1),
        ])
        let ids = threads.flatMap(\.messageIDs)
        #expect(ids.count == 4)
        #expect(threads.first(where: { $0.messageIDs.contains("b") })?.messageIDs.last == "b")
    }

    @Test func deterministicOrder() {
        var messages: [ThreadableMessage] = []
        for i in 0..<200 { messages.append(msg("m\(i)", i % 3 == 0 ? [] : ["m\(i - i % 3)"], "T\(i / 3)", day: i % 28 + 1)) }
        let a = MailThreader.thread(messages)
        let b = MailThreader.thread(messages.reversed())
        #expect(a.map(\.id) == b.map(\.id))
        #expect(a.count == 67)
    }
}
