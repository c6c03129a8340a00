import Testing
@testable import Ingest

@Suite struct ReplyCleanerTests {
    @Test func dropsQuotesAttributionAndSignature() {
        let body = """
            Sounds good, let's ship Friday.

            On Tue, Mar 5, 2024 at 10:30 AM Alice Example <alice@example.com> wrote:
            > Can we ship on Friday?
            > > Older quote
            >
            > Thanks

            --
            Bob Builder
            Builder Corp
            """
        #expect(ReplyCleaner.ownWords(body) == "Sounds good, let's ship Friday.")
    }

    @Test func keepsInlineReplies() {
        let body = """
            Alice wrote:
            > Question one?
            Answer one.
            > Question two?

            Answer two.
            > Closing remark
            """
        #expect(ReplyCleaner.ownWords(body) == "Answer one.\n\nAnswer two.")
        let lines = ReplyCleaner.ownLines(body)
        #expect(lines.map(\.lineIndex) == [2, 4, 5])
    }

    @Test func twoLineAttributionAndOtherLanguages() {
        let twoLine = "Yes.\n\nOn Tue, Mar 5, 2024 at 10:30 AM Alice Example <\nalice@example.com> wrote:\n> q\n"
        #expect(ReplyCleaner.ownWords(twoLine) == "Yes.")
        for attribution in [
            "Am 05.03.2024 um 10:30 schrieb Alice Example <alice@example.com>:",
            "Le mar. 5 mars 2024 à 10:30, Alice <alice@example.com> a écrit :",
            "El mar, 5 mar 2024 a las 10:30, Alice (<alice@example.com>) escribió:",
            "Op di 5 mrt. 2024 om 10:30 schreef Alice <alice@example.com>:",
        ] {
            #expect(ReplyCleaner.ownWords("Mine.\n\(attribution)\n> theirs") == "Mine.", "\(attribution)")
        }
    }

    @Test func outlookHistoryAndTrailers() {
        let outlook = """
            Approved.

            Sent from my iPhone

            -----Original Message-----
            From: Alice
            Sent: Tuesday, March 5, 2024 10:30 AM
            To: Bob
            Subject: Budget

            Please approve the budget.
            """
        #expect(ReplyCleaner.ownWords(outlook) == "Approved.")
        let noSeparator = """
            Thanks!
            ________________________________
            From: Alice <alice@example.com>
            Sent: Tuesday, March 5, 2024 10:30
            To: Bob <bob@example.com>
            Subject: Re: Budget

            Old text
            """
        #expect(ReplyCleaner.ownWords(noSeparator) == "Thanks!")
        let german = "Passt.\n\nVon: Alice\nGesendet: Dienstag, 5. März 2024 10:30\nAn: Bob\nBetreff: Budget\n\nAlt"
        #expect(ReplyCleaner.ownWords(german) == "Passt.")
        #expect(ReplyCleaner.ownWords("Ok.\nVon meinem iPhone gesendet") == "Ok.")
        #expect(ReplyCleaner.ownWords("Ok.\nGet Outlook for Android") == "Ok.")
    }

    @Test func mailingListFooter() {
        let body = """
            Patch looks fine to me.

            _______________________________________________
            dev mailing list
            dev@lists.example.org
            https://lists.example.org/mailman/listinfo/dev
            """
        #expect(ReplyCleaner.ownWords(body) == "Patch looks fine to me.")
        // A rule of underscores inside one's own text stays.
        #expect(ReplyCleaner.ownWords("Fill in: ____________\nthanks") == "Fill in: ____________\nthanks")
    }

    @Test func mailmanScrubbedAttachmentNotices() {
        let body = """
            The build passes on arm64 now.

            -------------- next part --------------
            An HTML attachment was scrubbed...
            URL: <http://lists.example.org/pipermail/dev/attachments/20240102/6f1e/attachment.html>
            """
        #expect(ReplyCleaner.ownWords(body) == "The build passes on arm64 now.")
        // An attachment Mailman kept as text is part of what the sender wrote.
        let inline = "See the log below.\n\n-------------- next part --------------\nerror: linker failed\nexit 1"
        #expect(ReplyCleaner.ownWords(inline) == inline)
    }

    @Test func keepsOrdinaryText() {
        let body = "From: the top of the page, read this.\nThen continue.\n\nThe end."
        #expect(ReplyCleaner.ownWords(body) == body)
        #expect(ReplyCleaner.ownWords("") == "")
        #expect(ReplyCleaner.ownWords("> only quotes\n> here") == "")
    }
}
