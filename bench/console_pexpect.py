#!/usr/bin/env python3
"""Counts pattern matches in a console log with pexpect, the way a pexpect-based harness would.

    console_pexpect.py FILE PATTERN...

Opens FILE with pexpect.fdpexpect.fdspawn and loops expect([patterns..., EOF]) until EOF,
counting which pattern each call returned. Prints the same JSON shape as
`bootfarm log scan --json`: bytes, lines, seconds (around the expect loop only),
megabytes_per_second and matches.
"""

import json
import os
import re
import sys
import time

import pexpect
import pexpect.fdpexpect


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: console_pexpect.py FILE PATTERN...")
    path, sources = sys.argv[1], sys.argv[2:]
    patterns = [re.compile(source.encode()) for source in sources]
    eof = len(patterns)
    counts = [0] * len(patterns)

    fd = os.open(path, os.O_RDONLY)
    try:
        # Bytes mode (no encoding), 64 KiB reads. searchwindowsize stays at its default (None:
        # each expect searches everything received since the previous match); matches come
        # every few tens of kilobytes here, so that buffer stays small.
        child = pexpect.fdpexpect.fdspawn(fd, timeout=None, maxread=65536)
        # pexpect sleeps 100 us after every read to let a live child's output accumulate; a
        # file has nothing to wait for, so the sleep would only add idle time.
        child.delayafterread = None
        expect_list = patterns + [pexpect.EOF]
        start = time.perf_counter()
        while True:
            index = child.expect(expect_list, timeout=None)
            if index == eof:
                break
            counts[index] += 1
        seconds = time.perf_counter() - start
    finally:
        os.close(fd)

    with open(path, "rb") as log:
        data = log.read()
    lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    megabytes = len(data) / 1e6
    print(json.dumps({
        "bytes": len(data),
        "lines": lines,
        "seconds": seconds,
        "megabytes_per_second": megabytes / seconds if seconds > 0 else 0,
        "matches": dict(zip(sources, counts)),
    }))


if __name__ == "__main__":
    main()
