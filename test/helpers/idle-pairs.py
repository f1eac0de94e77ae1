#!/usr/bin/env python3
"""Idle loopback connection pairs held open, for tests.

usage: idle-pairs.py COUNT
Opens COUNT connected loopback pairs (2 * COUNT tracked connection ends),
prints {"pid": N, "port": P}, and holds them until stdin closes.
"""
import json
import os
import resource
import socket
import sys

count = int(sys.argv[1])
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1024)
held = []
for _ in range(count):
    c = socket.create_connection(l.getsockname())
    s, _ = l.accept()
    held += [c, s]
print(json.dumps({"pid": os.getpid(), "port": l.getsockname()[1]}), flush=True)
sys.stdin.read()
