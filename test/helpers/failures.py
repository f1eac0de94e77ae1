#!/usr/bin/env python3
"""Connection failures and endings for nettracer's end-to-end tests: each
scenario makes one happen and reports, as one JSON line, what the
application itself saw (the truth the tracer's records are checked against).

usage: failures.py SCENARIO ARGS...
  connect ADDR PORT [abandon SECONDS]
      bind a local port, connect; report {"sport", "errno", "seconds"}; with
      abandon: a non-blocking connect closed after SECONDS while connecting
  endings ADDR
      a listener on ADDR and five connections to it, each ending one way;
      report per case the client's and the server's ports and what each saw
  pileup ADDR PORT CLIENTS
      a listener with backlog 1 that never accepts, and CLIENTS non-blocking
      connects to it; report {"port", "pid"} once they are all sent, then
      hold everything until stdin closes
"""
import json
import os
import socket
import struct
import sys
import time


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def connect(addr, port, abandon=None):
    s = socket.socket(family_of(addr), socket.SOCK_STREAM)
    s.bind(("", 0))
    sport = s.getsockname()[1]
    start = time.monotonic()
    if abandon is not None:
        s.setblocking(False)
        err = s.connect_ex((addr, int(port)))
        time.sleep(float(abandon))
        s.close()
        emit({"pid": os.getpid(), "sport": sport, "errno": err, "seconds": time.monotonic() - start})
        return
    try:
        s.connect((addr, int(port)))
        err = 0
    except OSError as e:
        err = e.errno
    emit({"pid": os.getpid(), "sport": sport, "errno": err, "seconds": time.monotonic() - start})
    s.close()


def saw(fn):
    """What the application saw from fn(): 0, or the errno it got."""
    try:
        fn()
        return 0
    except OSError as e:
        return e.errno


def endings(addr):
    lst = socket.socket(family_of(addr), socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((addr, 0))
    lst.listen(16)
    port = lst.getsockname()[1]
    out = {"pid": os.getpid(), "port": port}

    def pair():
        c = socket.create_connection((addr, port))
        a, _ = lst.accept()
        # a byte each way: both ends are used (the server's owner known)
        c.sendall(b"c")
        a.recv(1)
        a.sendall(b"s")
        c.recv(1)
        return c, a

    def ports(c, a):
        return {"client": c.getsockname()[1], "server": a.getsockname()[1], "server_peer": a.getpeername()[1]}

    # The client closes first: FIN from the client.
    c, a = pair()
    p = ports(c, a)
    c.close()
    p["server_read"] = len(a.recv(10))  # 0: the FIN
    a.close()
    out["client_first"] = p

    # The server closes first.
    c, a = pair()
    p = ports(c, a)
    a.close()
    p["client_read"] = len(c.recv(10))
    c.close()
    out["server_first"] = p

    # The client closes with SO_LINGER 0: it sends a reset.
    c, a = pair()
    p = ports(c, a)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    time.sleep(0.05)
    p["server_saw"] = saw(lambda: a.recv(10))
    a.close()
    out["linger0"] = p

    # The server closes with data it has not read: it sends a reset.
    c, a = pair()
    p = ports(c, a)
    c.sendall(b"unread")
    time.sleep(0.05)
    a.close()
    time.sleep(0.05)
    p["client_saw"] = saw(lambda: c.recv(10))
    c.close()
    out["unread"] = p
    lst.close()
    emit(out)


def pileup(addr, port, clients):
    lst = socket.socket(family_of(addr), socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((addr, int(port)))
    lst.listen(1)
    held = []
    for _ in range(int(clients)):
        s = socket.socket(family_of(addr), socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((addr, int(port)))
        held.append(s)
    time.sleep(0.5)
    emit({"port": int(port), "pid": os.getpid()})
    sys.stdin.read()
    for s in held:
        s.close()
    lst.close()


def main():
    what, args = sys.argv[1], sys.argv[2:]
    if what == "connect":
        connect(args[0], args[1], args[3] if len(args) > 3 and args[2] == "abandon" else None)
    elif what == "endings":
        endings(args[0])
    elif what == "pileup":
        pileup(*args)
    else:
        sys.exit("failures.py: unknown scenario " + what)


if __name__ == "__main__":
    main()
