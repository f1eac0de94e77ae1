#!/usr/bin/env python3
"""Sequential loopback connection churn with an exact count, for tests.

usage: churn.py COUNT [BYTES]
Binds a listener, prints {"pid": N, "port": P}, waits for a line on stdin,
then makes COUNT connections one after another (connect, send BYTES, the
server reads them, both close) and prints {"made": COUNT}.
"""
import json
import os
import socket
import sys

count = int(sys.argv[1])
size = int(sys.argv[2]) if len(sys.argv) > 2 else 100
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(128)
print(json.dumps({"pid": os.getpid(), "port": l.getsockname()[1]}), flush=True)
sys.stdin.readline()
payload = b"x" * size
made = 0
for _ in range(count):
    c = socket.create_connection(l.getsockname())
    s, _ = l.accept()
    c.sendall(payload)
    got = 0
    while got < size:
        got += len(s.recv(size - got))
    c.close()
    s.close()
    made += 1
print(json.dumps({"made": made}), flush=True)
