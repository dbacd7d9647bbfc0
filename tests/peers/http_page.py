#!/usr/bin/env python3
"""http_page.py - write a small web site for a browser test into DIR.

usage: http_page.py DIR

DIR/index.html links style.css (which makes the heading green), shows picture.png (a
32x32 PNG made here) and runs app.js. Once the page has loaded, the script writes into
the paragraph #result whether the image loaded (naturalWidth > 0) and the stylesheet
applied: "image loaded, stylesheet applied" when both did, "missing" in place of either
that did not. Before the script runs, the paragraph says "the script has not run".
"""
import os
import struct
import sys
import zlib

INDEX = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Served by http-server</title>
<link rel="stylesheet" href="style.css"><script src="app.js" defer></script></head>
<body><h1 id="heading">Served by http-server</h1>
<img id="picture" src="picture.png" width="96" height="96" alt="a gradient">
<p id="result">the script has not run</p></body></html>
"""
STYLE = "h1 { color: rgb(0, 128, 0); font-family: sans-serif; }\n"
SCRIPT = """window.addEventListener("load", function () {
  var img = document.getElementById("picture");
  var heading = document.getElementById("heading");
  var green = getComputedStyle(heading).color === "rgb(0, 128, 0)";
  document.getElementById("result").textContent =
    "image " + (img.complete && img.naturalWidth > 0 ? "loaded" : "missing") +
    ", stylesheet " + (green ? "applied" : "missing");
});
"""


def png(width, height):
    rows = b"".join(b"\x00" + b"".join(bytes([x * 8, y * 8, 160]) for x in range(width))
                    for y in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) +
            chunk(b"IEND", b""))


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    for name, text in (("index.html", INDEX), ("style.css", STYLE), ("app.js", SCRIPT)):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    with open(os.path.join(d, "picture.png"), "wb") as f:
        f.write(png(32, 32))


if __name__ == "__main__":
    main()
