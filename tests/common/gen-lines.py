#!/usr/bin/env python3
"""gen-lines.py SEED COUNT INPUT EXPECTED - a random byte stream and what lines-split prints.

INPUT gets COUNT lines of random bytes (NULs included, no CR or LF), each ended at
random by LF, CRLF or a lone CR, the last one sometimes unterminated. EXPECTED gets
the output lines-split must print for it, computed here independently of the C code
with Java's readLine rules: a line ends at CRLF, CR or LF.
"""
import random
import re
import sys


def escape(line: bytes) -> str:
    out = []
    for byte in line:
        if byte == 0x5C:
            out.append("\\\\")
        elif 0x20 <= byte <= 0x7E:
            out.append(chr(byte))
        else:
            out.append("\\x%02x" % byte)
    return "".join(out)


def main() -> None:
    seed, count, input_path, expected_path = sys.argv[1:5]
    rng = random.Random(int(seed))
    alphabet = bytes(b for b in range(256) if b not in (0x0A, 0x0D))
    chunks = []
    for _ in range(int(count)):
        length = rng.choice([0, 1, 2, rng.randrange(100)])
        chunks.append(bytes(rng.choice(alphabet) for _ in range(length)))
        chunks.append(rng.choice([b"\n", b"\r\n", b"\r"]))
    if rng.random() < 0.5:
        chunks.append(b"unterminated")
    data = b"".join(chunks)

    pieces = re.split(rb"\r\n|\r|\n", data)
    lines, rest = pieces[:-1], pieces[-1]
    with open(input_path, "wb") as f:
        f.write(data)
    with open(expected_path, "w", encoding="ascii") as f:
        for line in lines:
            f.write("line %d [%s]\n" % (len(line), escape(line)))
        if rest:
            f.write("last %d [%s]\n" % (len(rest), escape(rest)))


if __name__ == "__main__":
    main()
