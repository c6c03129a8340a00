#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into Fuzz/seeds/<Target>/ (regenerated, not committed).

Seeds are real inputs from SampleData plus small generated files that reach the deeper paths quickly:
multipart and encoded mail, YAML front matter, GGUF files with every metadata type and a tokenizer,
safetensors files with every float dtype, tokenizer texts and a small tokenizer.json.
Usage: Fuzz/make-seeds.py [REPO_ROOT]
"""
import hashlib
import json
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(here)
seeds = os.path.join(here, "seeds")


def put(target, data):
    folder = os.path.join(seeds, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# --- Mail: each SampleData message alone, a few together, and generated MIME shapes.
with open(os.path.join(root, "SampleData", "inbox.mbox"), "rb") as f:
    mbox = f.read()
starts = [0] + [i + 2 for i in range(len(mbox)) if mbox.startswith(b"\n\nFrom ", i)]
messages = [mbox[a:b] for a, b in zip(starts, starts[1:] + [len(mbox)])]
for message in messages:
    put("Mail", message)
put("Mail", b"".join(messages[:4]))

FROM = "From a@example.org Mon Mar 30 21:20:00 2026\n"
put("Mail", (FROM + """Message-ID: <m1@x>
Subject: =?utf-8?B?w6lsw6hz?= and =?iso-8859-1?Q?caf=E9?= =?bogus?X?zz?=
From: =?utf-8?q?J=C3=B6rg?= <j@example.org>
To: a@example.org, "B, C" <b@example.org>
Cc: undisclosed-recipients:;
Date: Tue, 31 Mar 2026 09:00:00 +0200
References: <r1@x> <r2@x>
 <r3@x>
In-Reply-To: <r3@x>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

preamble
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 soft=
 break =3D and =ZZ bad
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PGh0bWw+PGJvZHk+PHA+SGVsbG8gJmFtcDsgPGI+d29ybGQ8L2I+PC9wPjxzY3JpcHQ+eDwvc2NyaXB0PjwvYm9keT48L2h0bWw+
--inner--
--outer
Content-Type: application/pdf; name="quote.pdf"
Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK!!!not base64
--outer
Content-Type: message/rfc822

Subject: forwarded
Content-Type: text/plain; charset=koi8-r

KOI8BODY
--outer--
epilogue
""").encode("utf-8").replace(b"KOI8BODY", bytes([0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4])))
put("Mail", FROM + """Message-ID: <m2@x>
Subject: Re: Re: Fwd: plan
In-Reply-To: <m1@x>
Date: 31 Mar 2026 10:00 -0000

On Tue, 31 Mar 2026, Jörg wrote:
> quoted line
>> deeper
>From an escaped line

-- 
signature
""")
put("Mail", FROM + "Subject: nested\nContent-Type: multipart/mixed; boundary=a\n\n--a\n"
    + "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=c\n\n--c\n"
    + "Content-Type: text/plain\n\ndeep\n--c--\n--b--\n--a--\n")
put("Mail", "no From line at all\nSubject: x\n\nbody\n")
put("Mail", FROM + "Subject: crlf\r\nContent-Type: text/plain; charset=utf-16\r\n\r\nbody\r\n\r\n" + FROM
    + "Subject: truncated")

# --- Gzip: the SampleData mbox at every kind of block (stored, fixed, dynamic), members joined, and a header
# with every optional field.
import gzip
import zlib
put("Gzip", gzip.compress(mbox, compresslevel=6, mtime=0))
put("Gzip", gzip.compress(mbox[:3000], compresslevel=0, mtime=0))
put("Gzip", gzip.compress(b"short", compresslevel=1, mtime=0))
put("Gzip", gzip.compress(b"a" * 5000, compresslevel=9, mtime=0) + gzip.compress(b"second member\n", mtime=0))
raw = zlib.compressobj(6, zlib.DEFLATED, -15)
body = raw.compress(mbox[:2000]) + raw.flush()
header = bytes([0x1F, 0x8B, 8, 0x1E, 0, 0, 0, 0, 0, 3]) + struct.pack("<H", 4) + b"XYab" + b"name.txt\0" + b"comment\0" + b"\0\0"
put("Gzip", header + body + struct.pack("<II", zlib.crc32(mbox[:2000]), 2000))


# --- Markdown: every SampleData note and generated front matter shapes.
for folder, _, files in os.walk(os.path.join(root, "SampleData", "notes")):
    for name in sorted(files):
        with open(os.path.join(folder, name), "rb") as f:
            put("Markdown", f.read())
put("Markdown", """---
title: "Plan: Q3"
tags: [work, "a b", 3]
aliases:
  - plan
  - &a anchor
ref: *a
date: 2024-02-29T10:00:00Z
created: 2024-02-29
nested: {a: {b: [1, 2, {c: d}]}}
---
# Heading with #tag
Text with [[Wiki Link|alias]] and [[Other#Section]] and #nested/tag.

```swift
# not a heading
```
## Sub
- [ ] task #todo
""")
put("Markdown", "---\ntags: work, home\n---\nbody\n")
put("Markdown", "---\n: bad yaml [\n---\nbody\n")
put("Markdown", "+++\ntitle = 'toml'\n+++\n# T\n")
put("Markdown", "\ufeff---\ntitle: bom\n---\nSetext\n======\n")

# --- GGUF: version 3 files with every metadata type, nested arrays, tensors and tokenizers.


class GGUF:
    def __init__(self):
        self.kv = []
        self.tensors = []

    @staticmethod
    def s(text):
        b = text.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def add(self, key, vtype, payload):
        self.kv.append(self.s(key) + struct.pack("<I", vtype) + payload)

    def string(self, key, v): self.add(key, 8, self.s(v))
    def u32(self, key, v): self.add(key, 4, struct.pack("<I", v))
    def bool(self, key, v): self.add(key, 7, struct.pack("<B", v))

    def array(self, key, etype, items):
        body = b"".join(self.s(x) if etype == 8 else struct.pack({5: "<i", 6: "<f", 4: "<I"}[etype], x) for x in items)
        self.add(key, 9, struct.pack("<IQ", etype, len(items)) + body)

    def tensor(self, name, dims, ggml_type, data):
        self.tensors.append((name, dims, ggml_type, data))

    def bytes(self, alignment=32):
        head = struct.pack("<4sIQQ", b"GGUF", 3, len(self.tensors), len(self.kv)) + b"".join(self.kv)
        offset, infos, blob = 0, b"", b""
        for name, dims, ggml_type, data in self.tensors:
            infos += self.s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
            infos += struct.pack("<IQ", ggml_type, offset)
            pad = (-len(data)) % alignment
            blob += data + b"\0" * pad
            offset += len(data) + pad
        out = head + infos
        return out + b"\0" * ((-len(out)) % alignment) + blob


g = GGUF()
g.string("general.architecture", "llama")
g.u32("general.alignment", 32)
g.add("u8", 0, b"\x01")
g.add("i8", 1, b"\xff")
g.add("u16", 2, b"\x01\x00")
g.add("i16", 3, b"\xff\xff")
g.add("i32", 5, struct.pack("<i", -5))
g.add("f32", 6, struct.pack("<f", 1.5))
g.bool("b", 1)
g.add("u64", 10, struct.pack("<Q", 1 << 40))
g.add("i64", 11, struct.pack("<q", -1))
g.add("f64", 12, struct.pack("<d", 2.5))
g.add("nested", 9, struct.pack("<IQ", 9, 1) + struct.pack("<IQ", 5, 2) + struct.pack("<ii", 1, 2))
g.tensor("f32", [4, 2], 0, struct.pack("<8f", *range(8)))
g.tensor("f16", [4], 1, b"\0" * 8)
g.tensor("q8_0", [32], 8, b"\0" * 34)
g.tensor("q4_0", [32, 1], 2, b"\0" * 18)
put("GGUF", g.bytes())

vocab = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + [chr(c) for c in range(0x21, 0x7F)] + ["Ġ", "Ċ", "he", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "Ġworld"]
t = GGUF()
t.string("general.architecture", "llama")
t.string("tokenizer.ggml.model", "gpt2")
t.string("tokenizer.ggml.pre", "smollm")
t.array("tokenizer.ggml.tokens", 8, vocab)
t.array("tokenizer.ggml.token_type", 5, [3, 3, 3] + [1] * (len(vocab) - 3))
t.array("tokenizer.ggml.merges", 8, ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "Ġwor l"])
t.u32("tokenizer.ggml.bos_token_id", 0)
t.u32("tokenizer.ggml.eos_token_id", 2)
put("GGUF", t.bytes())

sp = GGUF()
sp.string("tokenizer.ggml.model", "llama")
pieces = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + ["▁", "h", "e", "he", "▁he"]
sp.array("tokenizer.ggml.tokens", 8, pieces)
sp.array("tokenizer.ggml.scores", 6, [0.0] * 259 + [-1.0, -2.0, -2.0, -1.5, -1.0])
sp.array("tokenizer.ggml.token_type", 5, [2, 3, 3] + [6] * 256 + [1] * 5)
sp.u32("tokenizer.ggml.unknown_token_id", 0)
sp.bool("tokenizer.ggml.add_space_prefix", 1)
put("GGUF", sp.bytes())
put("GGUF", b"PK\x03\x04zip renamed to gguf")

# --- Safetensors: every float dtype, an integer tensor, metadata, a scalar.


def safetensors(entries, metadata=None):
    header, blob = {}, b""
    for name, dtype, shape, data in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * ((-len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + blob


put("Safetensors", safetensors([
    ("embeddings.word_embeddings.weight", "F32", [2, 3], struct.pack("<6f", *range(6))),
    ("encoder.layer.0.attention.self.query.bias", "F16", [3], b"\x00\x3c\x00\xc0\x00\x7c"),
    ("pooler.dense.weight", "BF16", [2], b"\x80\x3f\x00\x40"),
    ("double", "F64", [1], struct.pack("<d", 3.25)),
    ("ids", "I64", [2], struct.pack("<qq", 1, 2)),
    ("scalar", "F32", [], struct.pack("<f", 1.0)),
    ("empty", "F32", [0, 4], b""),
], {"format": "pt"}))
put("Safetensors", safetensors([("u8", "U8", [4], b"abcd"), ("bool", "BOOL", [1], b"\x01")]))
put("Safetensors", struct.pack("<Q", 2) + b"{}")

# --- Tokenizers: mode byte + text (see Targets/Tokenizers/main.swift), ids, and a small tokenizer.json.
texts = [
    "Hello world! It's 2026-03-30; the quote is $38,400.",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nhi<|im_end|>",
    "Ünïcödé — naïve café 東京 \U0001F600 \u200b\t\r\n  spaces   and\n\nnewlines",
    "unaffable [CLS] [SEP] [MASK] don't can't 'quoted' 12345678901234567890",
    "def f(x):\n    return x ** 2  # comment\n",
]
for folder, _, files in os.walk(os.path.join(root, "SampleData", "notes")):
    for name in sorted(files)[:2]:
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            texts.append(f.read()[:600])
for mode in range(5):
    for text in texts:
        put("Tokenizers", bytes([mode]) + text.encode())
        put("Tokenizers", bytes([mode | 0x80]) + text.encode())
put("Tokenizers", bytes([5]) + struct.pack("<6i", 0, 1, 100, -1, 2**31 - 1, 49152))
put("Tokenizers", bytes([6]) + json.dumps({
    "added_tokens": [{"id": 0, "content": "[PAD]"}, {"id": 100, "content": "[UNK]", "normalized": False}],
    "normalizer": {"type": "BertNormalizer", "lowercase": True, "strip_accents": None, "clean_text": True,
                   "handle_chinese_chars": True},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 100,
              "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "##lo": 5, "hel": 6, ",": 7}},
}).encode())
