"""A local SMTP server for tests that saves every message it accepts.

Usage: python3 smtp-sink.py FOLDER

Listens on 127.0.0.1 on a free port. Once it accepts connections it writes the port number
to FOLDER/port. Message N is saved as FOLDER/message-N.eml (the DATA as received, after
dot-unstuffing) with its envelope recipients, one a line, in FOLDER/message-N.rcpt; the
.eml file appears last, whole. Runs until it gets SIGTERM or SIGINT.
"""

import os
import signal
import socket
import sys
import threading

from aiosmtpd.controller import Controller


def write_atomically(path, data):
    with open(path + ".partial", "wb") as file:
        file.write(data)
    os.replace(path + ".partial", path)


class SavingHandler:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            base = os.path.join(self.folder, "message-%d" % self.count)
        write_atomically(base + ".rcpt", "".join(address + "\n" for address in envelope.rcpt_tos).encode())
        write_atomically(base + ".eml", envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    folder = sys.argv[1]
    controller = None
    # Another process may take the probed port before the server binds it: try again.
    for _ in range(20):
        candidate = Controller(SavingHandler(folder), hostname="127.0.0.1", port=free_port())
        try:
            candidate.start()
        except Exception as error:  # noqa: BLE001 - any failure to listen means another try
            print("smtp-sink: %s" % error, file=sys.stderr)
            continue
        controller = candidate
        break
    if controller is None:
        sys.exit("smtp-sink: no free port found")

    def stop(*_):
        controller.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    write_atomically(os.path.join(folder, "port"), str(controller.port).encode())
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
