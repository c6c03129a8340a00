import Foundation
import Inference
import Testing

@testable import Server

extension ServerSuite {
    /// OpenAI's own Python client against the server: chat (whole and streamed), embeddings, errors.
    @Suite(.serialized)
    struct OpenAIClientTests {
        static let script = #"""
            import base64, json, struct, sys
            import openai
            from openai import OpenAI

            base, model, embed_model = sys.argv[1], sys.argv[2], sys.argv[3]
            client = OpenAI(base_url=base + "/v1", api_key="not-needed", max_retries=0, timeout=600)
            out = {}
            out["models"] = [m.id for m in client.models.list().data]
            messages = [
                {"role": "system", "content": "You answer in one short sentence."},
                {"role": "user", "content": "What is the capital of France?"},
            ]
            whole = client.chat.completions.create(model=model, messages=messages, max_tokens=20, temperature=0)
            out["text"] = whole.choices[0].message.content
            out["role"] = whole.choices[0].message.role
            out["finish_reason"] = whole.choices[0].finish_reason
            out["object"] = whole.object
            out["usage"] = [whole.usage.prompt_tokens, whole.usage.completion_tokens, whole.usage.total_tokens]

            pieces, finish, ids, objects, usage = [], None, set(), set(), None
            stream = client.chat.completions.create(
                model=model, messages=messages, max_tokens=20, temperature=0, stream=True,
                stream_options={"include_usage": True})
            for chunk in stream:
                ids.add(chunk.id)
                objects.add(chunk.object)
                if chunk.usage is not None:
                    usage = chunk.usage.completion_tokens
                for choice in chunk.choices:
                    if choice.delta.content:
                        pieces.append(choice.delta.content)
                    if choice.finish_reason:
                        finish = choice.finish_reason
            out["stream_text"] = "".join(pieces)
            out["stream_pieces"] = len(pieces)
            out["stream_finish_reason"] = finish
            out["stream_ids"] = len(ids)
            out["stream_objects"] = sorted(objects)
            out["stream_usage"] = usage

            # Without encoding_format the client picks its own (base64, decoded for the caller).
            texts = ["tomatoes in the raised bed", "the meetup venue"]
            auto = client.embeddings.create(model=embed_model, input=texts)
            out["embeddings"] = [list(d.embedding) for d in sorted(auto.data, key=lambda d: d.index)]
            # Asked for explicitly, base64 comes back as is: little-endian float32s.
            packed = client.embeddings.create(model=embed_model, input=texts, encoding_format="base64")
            raw = base64.b64decode(packed.data[0].embedding)
            out["base64_first"] = list(struct.unpack("<%df" % (len(raw) // 4), raw))
            plain = client.embeddings.create(model=embed_model, input="one text", encoding_format="float")
            out["plain_dimensions"] = len(plain.data[0].embedding)
            out["embedding_usage"] = plain.usage.prompt_tokens

            try:
                client.chat.completions.create(model="no-such-model", messages=messages, max_tokens=4)
                out["missing_model"] = "no error"
            except openai.NotFoundError as error:
                out["missing_model"] = error.status_code
            try:
                client.chat.completions.create(model=model, messages=[], max_tokens=4)
                out["empty_messages"] = "no error"
            except openai.BadRequestError as error:
                out["empty_messages"] = error.status_code
            print(json.dumps(out))
            """#

        @Test func pythonClientChatsStreamsAndEmbeds() async throws {
            let scratch = try Scratch()
            let embedder = try TestModels.embedder()
            let output = try await withServer(embedder: embedder) { running, _ in
                try await runPython(
                    Self.script, arguments: [running.baseURL, TestModels.chatModelName, embedder.modelID], in: scratch)
            }
            let result = try #require(
                try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "script printed: \(output)")
            #expect(result["models"] as? [String] == [TestModels.chatModelName])
            let text = try #require(result["text"] as? String)
            #expect(!text.isEmpty)
            #expect(result["role"] as? String == "assistant")
            #expect(result["object"] as? String == "chat.completion")
            #expect(["stop", "length"].contains(result["finish_reason"] as? String))
            let usage = try #require(result["usage"] as? [Int])
            #expect(usage[0] > 0 && usage[1] > 0 && usage[2] == usage[0] + usage[1])

            // Greedy decoding: the stream carries exactly the text of the whole answer.
            #expect(result["stream_text"] as? String == text)
            #expect((result["stream_pieces"] as? Int ?? 0) > 1)
            #expect(result["stream_finish_reason"] as? String == result["finish_reason"] as? String)
            #expect(result["stream_ids"] as? Int == 1)
            #expect(result["stream_objects"] as? [String] == ["chat.completion.chunk"])
            #expect(result["stream_usage"] as? Int == usage[1])

            let vectors = try #require(result["embeddings"] as? [[Double]])
            let direct = try embedder.embed(["tomatoes in the raised bed", "the meetup venue"])
            #expect(vectors.count == 2)
            for (served, expected) in zip(vectors, direct) {
                #expect(served.count == expected.count)
                #expect(zip(served, expected).allSatisfy { abs($0 - Double($1)) < 1e-6 })
            }
            let unpacked = try #require(result["base64_first"] as? [Double])
            #expect(unpacked.count == direct[0].count)
            #expect(zip(unpacked, direct[0]).allSatisfy { abs($0 - Double($1)) < 1e-6 })
            #expect(result["plain_dimensions"] as? Int == embedder.dimensions)
            #expect((result["embedding_usage"] as? Int ?? 0) > 0)
            #expect(result["missing_model"] as? Int == 404)
            #expect(result["empty_messages"] as? Int == 400)
        }
    }
}
