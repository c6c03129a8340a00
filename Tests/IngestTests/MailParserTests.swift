import Foundation
import Testing
@testable import Ingest

@Suite struct MailParserTests {
    @Test func plainMessageHeaders() throws {
        let doc = try parseMail("""
            From: "Doe, Jane" <jane@example.com>
            To: Bob <bob@example.com>, "Smith, Al" <al@example.com>
            Cc: carol@example.com
            Subject: Quarterly
             planning
            Date: Tue, 5 Mar 2024 10:30:00 +0100 (CET)
            Message-ID: <abc123@example.com>
            References: <root@example.com>
             <mid@example.com>
            In-Reply-To: <mid@example.com>

            Hello team,
            this is the body.
            """)
        #expect(doc.kind == .mail)
        #expect(doc.title == "Quarterly planning")
        #expect(doc.from == "\"Doe, Jane\" <jane@example.com>")
        #expect(doc.to == ["Bob <bob@example.com>", "\"Smith, Al\" <al@example.com>", "carol@example.com"])
        #expect(doc.date == utcDate(2024, 3, 5, 9, 30))
        #expect(doc.messageID == "abc123@example.com")
        #expect(doc.references == ["root@example.com", "mid@example.com"])
        #expect(doc.body == "Hello team,\nthis is the body.")
        // From line 1, ten header lines, blank line 12: body starts at 13.
        #expect(doc.bodyLineOffset == 13)
        #expect(doc.mboxOffset == 0)
        #expect(doc.path == "/mail/test.mbox")
    }

    @Test func mailSentByAMachineIsMarkedAutomated() throws {
        func automated(_ headers: String) throws -> Bool {
            try parseMail(headers + "\nSubject: Hello\n\nBody.").isAutomated
        }
        #expect(try automated("From: News <news@shop.example>\nPrecedence: bulk"))
        #expect(try automated("From: Ana <ana@example.com>\nAuto-Submitted: auto-replied"))
        #expect(try automated("From: Riverbend Half <noreply@race.example>"))
        #expect(try automated("From: \"Do Not Reply\" <do-not-reply+4417@tickets.example>"))
        #expect(try automated("From: MAILER-DAEMON@mx.example"))
        // A discussion list is people talking, and "Auto-Submitted: no" says a person sent it.
        #expect(try !automated("From: Kwame <kwame@example.org>\nPrecedence: list\nList-Id: <dev.lists.example>"))
        #expect(try !automated("From: Ana <ana@example.com>\nAuto-Submitted: no"))
        #expect(try !automated("From: Orders <orders@shop.example>"))
    }

    @Test func gmailLabelsBecomeTagsAndMarkSpamAndTrash() throws {
        let labelled = try parseMail("""
            From: a@example.com
            Subject: Flights
            X-Gmail-Labels: Inbox,Travel,Category Updates,Opened,=?UTF-8?Q?F=C3=A9vrier?=,Travel

            Your booking.
            """)
        #expect(labelled.tags == ["Travel", "Février"])
        #expect(!labelled.isDiscarded)
        let spam = try parseMail("From: a@example.com\nSubject: Win\nX-Gmail-Labels: Spam,Unread\n\nYou won.")
        #expect(spam.isDiscarded && spam.tags.isEmpty)
        #expect(try parseMail("From: a@example.com\nX-Gmail-Labels: Archived,Trash\n\nold").isDiscarded)
        #expect(try !parseMail("From: a@example.com\nSubject: Trash pickup\n\nTrash day is Monday.").isDiscarded)
    }

    @Test func mailingListArchiveSendersReadAsAddresses() throws {
        let doc = try parseMail("""
            From: alice at example.org (Alice Smith)
            Subject: [dev] Release 2.1
            Date: Mon, 02 Mar 2026 10:15:01 +0000

            Release 2.1 is planned for March 20.
            """)
        #expect(doc.from == "Alice Smith <alice@example.org>")
        #expect(HeaderValues.unobfuscatedSender("bob at lists.example.net") == "bob@lists.example.net")
        for untouched in ["Meet me at noon (really)", "Jane Doe <jane@example.com>", "x at y (unclosed"] {
            #expect(HeaderValues.unobfuscatedSender(untouched) == untouched)
        }
    }

    @Test func bodyLineOffsetInsideAnMbox() throws {
        let mbox = """
            From a@x Tue Mar  5 10:30:00 2024
            Subject: first

            one

            From b@x Tue Mar  5 10:31:00 2024
            Subject: second
            Message-ID: <2@x>

            line A
            line B

            """
        var splitter = MboxSplitter()
        let messages = splitter.append(Data(mbox.utf8)) + splitter.finish()
        try #require(messages.count == 2)
        let doc = try MailParser.parse(messages[1], mboxPath: "/m.mbox")
        let lines = mbox.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[doc.bodyLineOffset - 1] == "line A")
        #expect(doc.mboxOffset == messages[1].offset)
        #expect(doc.mboxLength == messages[1].length)
    }

    @Test func encodedWords() throws {
        let doc = try parseMail("""
            From: =?ISO-8859-1?Q?Andr=E9?= Pirard <pirard@example.org>
            To: =?UTF-8?B?0JjQstCw0L0=?= <ivan@example.ru>, =?utf-8?q?M=C3=BCller=2C_Hans?= <h@example.de>
            Subject: =?UTF-8?B?SGVsbG8g?= =?UTF-8?B?V29ybGQ=?= and =?UTF-8?Q?caf=C3=A9?= =?bogus?X?abc?= end

            x
            """)
        #expect(doc.from == "André Pirard <pirard@example.org>")
        #expect(doc.to == ["Иван <ivan@example.ru>", "Müller, Hans <h@example.de>"])
        #expect(doc.title == "Hello World and café =?bogus?X?abc?= end")
        #expect(EncodedWords.decode("=?UTF-8?Q?a?= b =?UTF-8?Q?c?=") == "a b c")
        #expect(EncodedWords.decode("=?UTF-8?Q?a?=   =?UTF-8?Q?_c?=") == "a c")
        // A three-byte character split across two words survives.
        #expect(EncodedWords.decode("=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=") == "€")
        #expect(EncodedWords.decode("=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=") == "日本語")
        #expect(EncodedWords.decode("=?UTF-8?Q?unterminated") == "=?UTF-8?Q?unterminated")
        #expect(EncodedWords.decode("=?UTF-8*en?Q?lang?=") == "lang")
    }

    @Test func htmlOnly() throws {
        let doc = try parseMail("""
            Subject: html
            Content-Type: text/html; charset=utf-8

            <html><head><title>T</title><style>p { color: red }</style></head>
            <body><script>alert("x")</script>
            <p>First &amp; <b>bold</b>&nbsp;para&#46;</p><p>Second&hellip; &#x1F600; &unknown;</p>
            <ul><li>one</li><li>two</li></ul>
            <!-- comment <p>hidden</p> -->
            a &lt; b<br>next line
            </body></html>
            """)
        #expect(doc.body == "First & bold para.\n\nSecond… 😀 &unknown;\n\n- one\n- two\n\na < b\nnext line")
    }

    @Test func htmlBlockquotesAreMarkedAsQuotes() throws {
        let html = """
            <div>My reply here.</div><br>
            <div class="gmail_quote">On Tue, Mar 5, 2024 at 10:30 AM Alice &lt;a@x&gt; wrote:<br>
            <blockquote><p>Old text</p><p>second para<br>next</p><blockquote>older</blockquote></blockquote></div>
            """
        #expect(HTMLText.text(fromHTML: html) == """
            My reply here.
            On Tue, Mar 5, 2024 at 10:30 AM Alice <a@x> wrote:

            > Old text
            >
            > second para
            > next
            >
            >> older
            """)
        #expect(ReplyCleaner.ownWords(HTMLText.text(fromHTML: html)) == "My reply here.")
    }

    @Test func base64AndQuotedPrintable() throws {
        let text = "Grüße aus München — ein längerer Text.\nZweite Zeile."
        let b64 = try parseMail("""
            Subject: b64
            Content-Type: text/plain; charset="utf-8"
            Content-Transfer-Encoding: base64

            \(base64(Array(text.utf8), lineLength: 20).replacingOccurrences(of: "A", with: "A\t"))
            """)
        #expect(b64.body == text)
        let qp = try parseMail("""
            Subject: qp
            Content-Type: text/plain; charset=iso-8859-1
            Content-Transfer-Encoding: Quoted-Printable

            Gr=FC=DFe, this line is soft=
             broken and =3D sign, bad =ZZ escape, =e9 lower hex.=20
            Last=
            """)
        #expect(qp.body == "Grüße, this line is soft broken and = sign, bad =ZZ escape, é lower hex.\nLast")
    }

    @Test func alternativePrefersPlain() throws {
        let doc = try parseMail("""
            Subject: alt
            MIME-Version: 1.0
            Content-Type: multipart/alternative; boundary="XYZ"

            preamble is ignored
            --XYZ
            Content-Type: text/html

            <p>HTML version</p>
            --XYZ
            Content-Type: text/plain; charset=us-ascii

            Plain version
            --XYZ--
            epilogue is ignored
            """)
        #expect(doc.body == "Plain version")
        let htmlOnly = try parseMail("""
            Subject: alt
            Content-Type: multipart/alternative; boundary=b1

            --b1
            Content-Type: multipart/related; boundary=b2

            --b2
            Content-Type: text/html; charset=utf-8

            <div>Rich <i>text</i></div>
            --b2
            Content-Type: image/png
            Content-ID: <img1>
            Content-Transfer-Encoding: base64

            iVBORw0KGgo=
            --b2--
            --b1--
            """)
        #expect(htmlOnly.body == "Rich text")
        #expect(htmlOnly.attachments.isEmpty)
    }

    @Test func crlfMultipart() throws {
        let text = """
            Subject: crlf
            Content-Type: multipart/alternative;
            \tboundary="b"

            --b
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: quoted-printable

            Soft=
             break and caf=C3=A9
            second line
            --b
            Content-Type: text/html

            <p>html</p>
            --b--
            """.replacingOccurrences(of: "\n", with: "\r\n")
        let doc = try parseMail(text)
        #expect(doc.title == "crlf")
        #expect(doc.body == "Soft break and café\nsecond line")
        #expect(!doc.body.contains("\r"))
    }

    @Test func attachmentsAreListedNotIndexed() throws {
        let doc = try parseMail("""
            Subject: files
            Content-Type: multipart/mixed; boundary="==outer=="

            --==outer==
            Content-Type: text/plain

            See attached.
            --==outer==
            Content-Type: application/pdf; name="report.pdf"
            Content-Disposition: attachment; filename="report.pdf"
            Content-Transfer-Encoding: base64

            JVBERi0xLjQK
            --==outer==
            Content-Type: text/plain; name=notes.txt
            Content-Disposition: attachment;
             filename*=UTF-8''%E2%82%AC%20budget.txt

            secret attachment text
            --==outer==
            Content-Type: image/jpeg; name="=?UTF-8?Q?f=C3=B6to.jpg?="

            binary
            --==outer==
            Content-Type: application/octet-stream
            Content-Disposition: attachment;
             filename*0="long";
             filename*1="name.bin"

            x
            --==outer==
            Content-Type: text/plain

            Trailer text.
            --==outer==--
            """)
        #expect(doc.body == "See attached.\n\nTrailer text.")
        #expect(doc.attachments == ["report.pdf", "€ budget.txt", "föto.jpg", "longname.bin"])
    }

    @Test func inlineTextWithAFileNameIsBody() throws {
        let doc = try parseMail("""
            Subject: a simple multipart
            Content-Type: multipart/mixed; boundary="h90"

            --h90
            Content-Type: text/plain
            Content-Disposition: inline;
            \tfilename="msg.txt"

            a simple kind of mirror
            --h90
            Content-Type: text/plain; name="log.txt"

            attached log
            --h90
            Content-Type: text/plain
            Content-Disposition: attachment; filename="notes.txt"

            attached notes
            --h90--
            """)
        #expect(doc.body == "a simple kind of mirror")
        #expect(doc.attachments == ["log.txt", "notes.txt"])
    }

    @Test func aMissingEmptyLineAfterTheHeadersLosesNoText() throws {
        let doc = try parseMail("""
            From: aperson@dom.ain
            Subject: here's something interesting
            counter to RFC 2822, there's no separating newline here
            and a second line
            """)
        #expect(doc.title == "here's something interesting")
        #expect(doc.body == "counter to RFC 2822, there's no separating newline here\nand a second line")

        // The same inside a multipart: a part without headers whose text starts on its first line.
        let part = try parseMail("""
            Subject: parts
            Content-Type: multipart/mixed; boundary=b
            X-Odd-Spacing : kept as a header line, not body

            --b
            first part text
            --b
            Content-Type: text/plain
            Content-Transfer-Encoding: 7bit
            Received: from example
             by example

            second part text
            --b--
            """)
        #expect(part.body == "first part text\n\nsecond part text")
    }

    @Test func aMessageFileHasNoFromLine() throws {
        let text = "From: Ana <ana@x.org>\nSubject: Keys\nMessage-ID: <k1@x.org>\n\nThe keys are with the neighbour.\n"
        let received = Date(timeIntervalSince1970: 1_700_000_000)
        let doc = try MailParser.parse(messageFile: Data(text.utf8), path: "/Maildir/cur/1:2,S", received: received)
        #expect(doc.kind == .mail && doc.messageID == "k1@x.org" && doc.title == "Keys")
        #expect(doc.bodyLineOffset == 5, "the file's first header is line 1")
        #expect(doc.date == received, "no Date header: the file's time")
        #expect(doc.body == "The keys are with the neighbour.")

        #expect(throws: IngestError.notAMessage(path: "/x.eml", reason: "the file is empty")) {
            try MailParser.parse(messageFile: Data("\n \n".utf8), path: "/x.eml", received: received)
        }
        #expect(throws: IngestError.notAMessage(path: "/x.eml", reason: "it does not start with header fields")) {
            try MailParser.parse(messageFile: Data("%PDF-1.4 binary".utf8), path: "/x.eml", received: received)
        }
    }

    @Test func uuencodedBlocksBecomeAttachments() throws {
        let doc = try parseMail("""
            Subject: old style

            Here is the file.

            begin 644 hello.txt
            ,:&5L;&\\@=V]R;&0*
            `
            end

            And a line that says begin 644 but is prose.
            """)
        #expect(doc.body == "Here is the file.\n\n\nAnd a line that says begin 644 but is prose.")
        #expect(doc.attachments == ["hello.txt"])
    }

    @Test func nestedMessage() throws {
        let doc = try parseMail("""
            Subject: Fwd: original
            Content-Type: multipart/mixed; boundary=outer

            --outer
            Content-Type: text/plain

            Forwarding this.
            --outer
            Content-Type: message/rfc822

            From: Origin <origin@example.com>
            Date: Mon, 4 Mar 2024 09:00:00 +0000
            Subject: =?UTF-8?Q?original_=E2=9C=93?=
            Content-Type: multipart/alternative; boundary=inner

            --inner
            Content-Type: text/plain

            The original words.
            --inner--
            --outer--
            """)
        #expect(doc.body == """
            Forwarding this.

            From: Origin <origin@example.com>
            Date: Mon, 4 Mar 2024 09:00:00 +0000
            Subject: original ✓

            The original words.
            """)
    }

    @Test func deepNestingIsRefusedWithoutCrashing() {
        var text = "Subject: deep\nContent-Type: multipart/mixed; boundary=b0\n\n"
        let depth = 10_000
        for level in 1...depth {
            text += "--b\(level - 1)\nContent-Type: multipart/mixed; boundary=b\(level)\n\n"
        }
        text += "--b\(depth)\nContent-Type: text/plain\n\ncore\n"
        #expect(throws: IngestError.nestingTooDeep(path: "/mail/test.mbox", offset: 0, limit: MailParser.maxNestingDepth)) {
            try parseMail(text)
        }
        // Nested messages count too.
        var nested = "Subject: deep\n"
        for _ in 0..<200 { nested += "Content-Type: message/rfc822\n\nSubject: inner\n" }
        nested += "\nbody\n"
        #expect(throws: IngestError.self) { try parseMail(nested) }
        // Just under the limit works.
        var ok = "Subject: ok\nContent-Type: multipart/mixed; boundary=b0\n\n"
        for level in 1..<MailParser.maxNestingDepth {
            ok += "--b\(level - 1)\nContent-Type: multipart/mixed; boundary=b\(level)\n\n"
        }
        ok += "--b\(MailParser.maxNestingDepth - 1)\nContent-Type: text/plain\n\ncore\n"
        #expect((try? parseMail(ok))?.body == "core")
    }

    static let charsetSamples: [(charset: String, text: String)] = [
        ("ISO-8859-1", "Café crème, naïve façade"),
        ("ISO-8859-2", "Zażółć gęślą jaźń, Příliš žluťoučký kůň"),
        ("ISO-8859-3", "Ĉiu ĝojas pri ŝia ĥoro"),
        ("ISO-8859-4", "Ģimene ķēniņš ŗ"),
        ("ISO-8859-5", "Съешь же ещё этих мягких булок"),
        ("ISO-8859-6", "مرحبا بالعالم"),
        ("ISO-8859-7", "Καλημέρα κόσμε"),
        ("ISO-8859-8", "שלום עולם"),
        ("ISO-8859-9", "Günaydın, şeker İstanbul"),
        ("ISO-8859-10", "Ŋ ŧ ū ĸ ð"),
        ("ISO-8859-11", "สวัสดีครับ"),
        ("ISO-8859-13", "Ąžuolas ėžeras Łódź"),
        ("ISO-8859-14", "Ŵ ŷ ẁ ḃ"),
        ("ISO-8859-15", "Prix: 10 € œuvre"),
        ("ISO-8859-16", "Științe și țară"),
        ("Windows-1250", "Zażółć gęślą jaźń „cudzysłów”"),
        ("Windows-1251", "Привет, мир — тест"),
        ("Windows-1252", "“Smart quotes” – and € …"),
        ("Windows-1253", "Γειά σου κόσμε"),
        ("Windows-1254", "İyi günler, şimdi"),
        ("Windows-1255", "שלום עולם"),
        ("Windows-1256", "مرحبا بالعالم"),
        ("Windows-1257", "Labas rytas, ąčęėįšųūž"),
        ("Windows-1258", "Xin chào"),
        ("KOI8-R", "Съешь же ещё этих мягких французских булок"),
        ("KOI8-U", "Їжак і ґудзик, Україна"),
        ("Shift_JIS", "日本語のテキスト、カタカナ"),
        ("EUC-JP", "日本語のテキスト、ひらがな"),
        ("ISO-2022-JP", "日本語のメール本文です"),
        ("GB2312", "你好，世界。简体中文"),
        ("GBK", "你好，世界。镕"),
        ("GB18030", "你好，世界 𠀀"),
        ("Big5", "你好，世界。繁體中文"),
        ("EUC-KR", "안녕하세요 세계"),
        ("US-ASCII", "plain ascii"),
        ("UTF-8", "ünïcödé ✓ 日本"),
    ]

    @Test(arguments: charsetSamples)
    func charset(_ sample: (charset: String, text: String)) throws {
        let iconvName = sample.charset == "Shift_JIS" ? "SHIFT_JIS" : sample.charset
        let encoded = encode(sample.text, to: iconvName)
        var eightBit = Array("Subject: charset\nContent-Type: text/plain; charset=\"\(sample.charset)\"\nContent-Transfer-Encoding: 8bit\n\n".utf8)
        eightBit += encoded
        #expect(try parseMail(bytes: eightBit).body == sample.text)
        let b64 = try parseMail("""
            Subject: =?\(sample.charset)?B?\(Data(encoded).base64EncodedString())?=
            Content-Type: text/plain; charset=\(sample.charset.lowercased())
            Content-Transfer-Encoding: base64

            \(base64(encoded))
            """)
        #expect(b64.body == sample.text)
        #expect(b64.title == sample.text)
    }

    @Test func unknownAndMislabeledCharsets() throws {
        var bytes = Array("Subject: x\nContent-Type: text/plain; charset=x-made-up\n\n".utf8)
        bytes += Array("caf".utf8) + [0xE9]
        #expect(try parseMail(bytes: bytes).body == "café")
        var utf8Labeled = Array("Subject: x\nContent-Type: text/plain; charset=utf-8\n\n".utf8)
        utf8Labeled += [0x47, 0x72, 0xFC, 0xDF, 0x65]  // Latin-1 "Grüße" labeled UTF-8
        #expect(try parseMail(bytes: utf8Labeled).body == "Grüße")
        var rawHeader = Array("Subject: Gr".utf8) + [0xFC, 0xDF, 0x65] + Array("\n\nbody".utf8)
        #expect(try parseMail(bytes: rawHeader).title == "Grüße")
        rawHeader = Array("Subject: ".utf8) + Array("日本".utf8) + Array("\n\nbody".utf8)
        #expect(try parseMail(bytes: rawHeader).title == "日本")
    }

    @Test func dateVariants() {
        let expected = utcDate(2024, 3, 5, 9, 30)
        let variants = [
            "Tue, 5 Mar 2024 10:30:00 +0100", "5 Mar 2024 10:30:00 +0100", "Tue, 05 Mar 24 09:30:00 GMT",
            "Tue, 5 Mar 2024 09:30:00 +0000 (UTC)", "Tue, 5 Mar 2024 04:30:00 EST", "Tue, 5 Mar 2024 01:30:00 PST",
            "Tuesday, 5 March 2024 09:30 UT", "Tue, 5 Mar 2024 09:30:00 Z", "Tue Mar  5 09:30:00 2024",
            "2024-03-05T09:30:00Z", "Tue, 5 Mar 2024 10:30:00 +0100 (CET)", "Tue,  5 Mar 2024 09:30:00 -0000",
        ]
        for v in variants { #expect(DateParsing.parse(v) == expected, "\(v)") }
        #expect(DateParsing.parse("Sun, 31 Dec 99 23:59:59 GMT") == utcDate(1999, 12, 31, 23, 59, 59))
        #expect(DateParsing.parse("Mar 5, 2024, 9:30 AM") == expected)
        #expect(DateParsing.parse("March 5, 2024 12:15 PM") == utcDate(2024, 3, 5, 12, 15))
        #expect(DateParsing.parse("5 Mar 2024 9:30 pm +0000") == utcDate(2024, 3, 5, 21, 30))
        #expect(DateParsing.parse("not a date") == nil)
        #expect(FlexibleDate.parse("2024-03-05") == utcDate(2024, 3, 5))
        #expect(FlexibleDate.parse(" 2024-03-05T09:30:00Z ") == expected)
        #expect(DateParsing.parse("Tue, 31 Feb 2024 10:00:00 +0000") == nil)
    }

    @Test func dateFallsBackToFromLine() throws {
        let raw = rawMessage("Subject: no date\n\nbody", from: "From someone@example.com Wed Mar  6 08:00:00 2024")
        let doc = try MailParser.parse(raw, mboxPath: "/m")
        #expect(doc.date == utcDate(2024, 3, 6, 8))
        let broken = try parseMail("Subject: x\nDate: garbage here\n\nbody")
        #expect(broken.date == utcDate(2024, 3, 5, 10, 30))
    }

    @Test func messageIDs() throws {
        let bare = try parseMail("Subject: x\nMessage-Id: bare-id@example.com\nIn-Reply-To: Your message of Tuesday <p@x>\n\nb")
        #expect(bare.messageID == "bare-id@example.com")
        #expect(bare.references == ["p@x"])
        let a = try parseMail("From: a@x\nSubject: s\nDate: Tue, 5 Mar 2024 10:30:00 +0100\n\nbody text")
        let b = try parseMail("From: a@x\nSubject: s\nDate: Tue, 5 Mar 2024 10:30:00 +0100\n\nbody text")
        let c = try parseMail("From: a@x\nSubject: s\nDate: Tue, 5 Mar 2024 10:30:00 +0100\n\nother text")
        #expect(a.messageID == b.messageID)
        #expect(a.messageID != c.messageID)
        #expect(a.messageID?.hasPrefix("synth-") == true)
        #expect(a.messageID?.hasSuffix("@assist.local") == true)
    }

    @Test func referencesAreDedupedAndCapped() throws {
        let ids = (0..<50_000).map { "<id\($0)@x>" }
        let doc = try parseMail("Subject: x\nMessage-ID: <self@x>\nReferences: \(ids.joined(separator: "\n "))\n <id5@x> <self@x>\nIn-Reply-To: <id49999@x>\n\nb")
        #expect(doc.references.count == MailParser.maxReferences)
        #expect(doc.references.first == "id0@x")
        #expect(doc.references.last == "id49999@x")
        #expect(Set(doc.references).count == doc.references.count)
        #expect(!doc.references.contains("self@x"))
    }

    @Test func digestAndEncodedAttachedMessage() throws {
        let inner = "From: Inner <i@x>\nSubject: inside\n\nInner body.\n"
        let doc = try parseMail("""
            Subject: digest
            Content-Type: multipart/mixed; boundary=o

            --o
            Content-Type: multipart/digest; boundary=d

            --d

            From: First <f@x>
            Subject: one

            Digest entry one.
            --d

            From: Second <s@x>
            Subject: two

            Digest entry two.
            --d--
            --o
            Content-Type: message/rfc822
            Content-Transfer-Encoding: base64

            \(base64(Array(inner.utf8)))
            --o--
            """)
        #expect(doc.body.contains("Subject: one\n\nDigest entry one."))
        #expect(doc.body.contains("Subject: two\n\nDigest entry two."))
        #expect(doc.body.hasSuffix("From: Inner <i@x>\nSubject: inside\n\nInner body."))
    }

    @Test func malformedMessages() {
        #expect(throws: IngestError.self) { try MailParser.parse(rawMessage("\n\n"), mboxPath: "/m") }
        #expect(throws: IngestError.self) { try parseMail("no colon here at all\n\nbody") }
        let huge = "Subject: x\nX-Big: " + String(repeating: "a", count: 100) + "\n" + String(repeating: "X-Junk: \(String(repeating: "b", count: 1000))\n", count: 5000) + "\nbody"
        #expect(throws: IngestError.headerTooLarge(path: "/mail/test.mbox", offset: 0, bytes: 5_045_119, limit: MailHeaders.maxBytes)) {
            try parseMail(huge)
        }
        // No body at all is fine; a missing closing boundary still yields the text.
        #expect((try? parseMail("Subject: only headers"))?.body == "")
        let unclosed = try? parseMail("Subject: x\nContent-Type: multipart/mixed; boundary=q\n\n--q\n\nunclosed part\n")
        #expect(unclosed?.body == "unclosed part")
        let noBoundary = try? parseMail("Subject: x\nContent-Type: multipart/mixed\n\nplain after all\n")
        #expect(noBoundary?.body == "plain after all")
    }

    @Test func truncatedMessageStillParses() throws {
        var text = "From a@b Tue Mar  5 10:30:00 2024\nSubject: big\nContent-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: text/plain\n\nhello\n--z\nContent-Type: application/zip; name=big.zip\nContent-Transfer-Encoding: base64\n\n"
        text += String(repeating: "QUJDRA==\n", count: 2000)
        var splitter = MboxSplitter(maxMessageBytes: 2048)
        let messages = splitter.append(Data(text.utf8)) + splitter.finish()
        #expect(messages.first?.isTruncated == true)
        let doc = try MailParser.parse(messages[0], mboxPath: "/m")
        #expect(doc.body == "hello")
        #expect(doc.attachments == ["big.zip"])
    }
}
