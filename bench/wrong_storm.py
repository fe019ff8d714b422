#!/usr/bin/python3
"""bench/wrong_storm.py: the wrong-password storm of bench/run's row 9.

One thread per source address (127.0.0.FIRST .. 127.0.0.FIRST+SOURCES-1),
each with its own keep-alive HTTPS connection bound to that address, POSTs
Redfish logins with a wrong password for a made-up name, one after the
other, for SECONDS; then prints how many it sent. Runs as its own process
so that its threads never hold the measuring client's interpreter lock.

usage: wrong_storm.py PORT CA SOURCES FIRST SECONDS
"""

import http.client
import json
import secrets
import ssl
import sys
import threading
import time


def storm(port, ca, source, until, counts):
    ctx = ssl.create_default_context(cafile=ca)
    body = json.dumps({"UserName": "storm-" + secrets.token_hex(4),
                       "Password": "Wrong-" + secrets.token_hex(8)})
    conn, sent = None, 0
    while time.monotonic() < until:
        try:
            if conn is None:
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30,
                                                   source_address=(source, 0))
            conn.request("POST", "/redfish/v1/SessionService/Sessions", body=body,
                         headers={"Content-Type": "application/json"})
            conn.getresponse().read()
            sent += 1
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None
    if conn is not None:
        conn.close()
    counts.append(sent)


def main():
    port, ca, sources, first, seconds = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                         int(sys.argv[4]), float(sys.argv[5]))
    until = time.monotonic() + seconds
    counts = []
    threads = [threading.Thread(target=storm, args=(port, ca, f"127.0.0.{first + i}", until,
                                                    counts))
               for i in range(sources)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"sent={sum(counts)} seconds={seconds}")


if __name__ == "__main__":
    main()
