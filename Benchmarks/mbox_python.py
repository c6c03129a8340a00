"""Parse an mbox with Python's standard library, as a yardstick for assist's mbox parser.

Usage: python3 mbox_python.py FILE.mbox
Prints one JSON object: {"messages": N, "bytes": B, "seconds": S}.
Each message is parsed with email's modern policy (decoded headers, MIME walk) and its text body
decoded, which is the same work assist does per message before chunking.
"""
import email
import json
import mailbox
import os
import sys
import time
from email import policy


def main() -> None:
    path = sys.argv[1]
    started = time.perf_counter()
    count = 0
    characters = 0
    box = mailbox.mbox(path, factory=lambda f: email.message_from_binary_file(f, policy=policy.default), create=False)
    for message in box:
        _ = (message["subject"], message["from"], message["to"], message["date"], message["message-id"])
        body = message.get_body(preferencelist=("plain", "html"))
        if body is not None:
            try:
                characters += len(body.get_content())
            except (LookupError, ValueError):
                pass
        count += 1
    seconds = time.perf_counter() - started
    print(json.dumps({"messages": count, "bytes": os.path.getsize(path), "seconds": seconds, "characters": characters}))


if __name__ == "__main__":
    main()
