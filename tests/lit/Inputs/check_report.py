#!/usr/bin/env python3
"""Checks a `kiln report` page as a user's browser sees it: well-formed markup with nothing to
fetch and no script, then (with --chromium) rendered by headless Chromium without a console
message, into a screenshot that is not blank.

usage: check_report.py REPORT.html [--chromium CHROMIUM --screenshot OUT.png]
"""
import argparse
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit truecolour PNG, unfiltered."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    at, idat, width = 8, b"", 0
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                raise ValueError(f"PNG depth {depth} colour type {colour}")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("report")
    p.add_argument("--chromium")
    p.add_argument("--screenshot")
    args = p.parse_args()
    text = open(args.report, encoding="utf-8").read()
    try:
        root = ET.fromstring(text.split("\n", 1)[1])  # after <!DOCTYPE html>: XML
    except ET.ParseError as e:
        print(f"report: not well-formed: {e}")
        return 1
    svgs = [e for e in root.iter() if e.tag.endswith("svg")]
    external = re.findall(r"<script|\bsrc=|\bhref=|url\(|@import", text)
    print(f"report: well-formed, {len(svgs)} svg, {len(external)} external reference(s) or script(s)")
    if external:
        return 1
    if not args.chromium:
        return 0
    run = subprocess.run([args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          "--window-size=1360,2200", "--enable-logging=stderr", "--v=0",
                          f"--screenshot={os.path.abspath(args.screenshot)}", "file://" + os.path.abspath(args.report)],
                         capture_output=True, text=True, timeout=120)
    console = [l for l in run.stderr.splitlines() if ":CONSOLE" in l]
    print(f"chromium: exit {run.returncode}, {len(console)} console message(s)")
    for l in console:
        print("  " + l)
    width, height, channels, rows = png_pixels(args.screenshot)
    colours, inked = set(), 0
    for row in rows[::4]:
        for x in range(0, width * channels, channels * 4):
            px = row[x:x + 3]
            colours.add(px)
            inked += px != b"\xff\xff\xff"
    share = inked / (len(rows[::4]) * len(range(0, width * channels, channels * 4)))
    print(f"screenshot: {width}x{height}, {len(colours)} colours sampled, {100 * share:.0f}% not white")
    return 0 if run.returncode == 0 and not console and len(colours) > 20 and share > 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
