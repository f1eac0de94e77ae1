#!/usr/bin/env python3
"""Traffic generator for nettracer's end-to-end tests: the independent truth.

One process opens every connection (so both ends belong to its PID), moves
exactly the requested bytes each way, holds the connections open, reads
getsockopt(TCP_INFO) on both ends just before closing, and reports all of it
as JSON lines on stdout:

  {"phase": "ready", "pid": N, "ports": {"4": P, "6": P}}   listeners bound; waits for a line on stdin
  {"phase": "open", "connections": [...]}                  all connections established and exchanged
  {"phase": "closed", "connections": [...]}                closed; TCP_INFO of each end before close

usage: traffic.py SPEC_JSON
  SPEC: {"connections": [{"family": 4|6, "client_bytes": N, "server_bytes": M}],
         "hold": SECONDS, "addr4"/"addr6": optional addresses to listen on,
         "comm_hex": optional process name to take first (hex bytes: anything goes),
         "preopen": true to open and exchange before "ready" (connections older than the tracer),
         "server_port": fixed listening port, and per connection "client_port": fixed source port,
         "server_netns" / "client_netns": ip netns names where the listeners / the clients live}
"""
import json
import os
import socket
import struct
import sys
import threading
import time

TCP_INFO_FMT = {
    # offset, struct format (see linux/tcp.h, struct tcp_info)
    "rtt_us": (68, "I"),
    "rttvar_us": (72, "I"),
    "total_retrans": (100, "I"),
    "bytes_acked": (120, "Q"),
    "bytes_received": (128, "Q"),
    "segs_out": (136, "I"),
    "segs_in": (140, "I"),
}


def tcp_info(sock):
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    return {k: struct.unpack_from("=" + f, raw, off)[0] for k, (off, f) in TCP_INFO_FMT.items()}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def recv_exact(sock, n, out):
    got = 0
    while got < n:
        chunk = sock.recv(min(65536, n - got))
        if not chunk:
            break
        got += len(chunk)
    out.append(got)


def send_pattern(sock, n):
    block = bytes(range(256)) * 256
    sent = 0
    while sent < n:
        sent += sock.send(block[: min(len(block), n - sent)])
    return sent


def endpoint(sock):
    addr = sock.getsockname()
    return {"addr": addr[0], "port": addr[1]}


def enter_netns(name):
    """Switch this thread to network namespace NAME (ip netns): sockets made
    afterwards live there, those made before stay where they were."""
    import ctypes
    CLONE_NEWNET = 0x40000000
    libc = ctypes.CDLL(None, use_errno=True)
    path = "/proc/1/ns/net" if name is None else f"/var/run/netns/{name}"
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns({path})")
    finally:
        os.close(fd)


def set_comm(name):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_NAME = 15
    if libc.prctl(PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")


def main():
    spec = json.loads(sys.argv[1])
    if "comm_hex" in spec:
        set_comm(bytes.fromhex(spec["comm_hex"]))
    listeners = {}
    if spec.get("server_netns"):
        enter_netns(spec["server_netns"])
    for fam, addr in ((4, spec.get("addr4", "127.0.0.1")), (6, spec.get("addr6", "::1"))):
        if not any(c["family"] == fam for c in spec["connections"]):
            continue
        l = socket.socket(socket.AF_INET if fam == 4 else socket.AF_INET6, socket.SOCK_STREAM)
        l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind((addr, spec.get("server_port", 0)))
        l.listen(64)
        listeners[fam] = l
    if spec.get("client_netns"):
        enter_netns(spec["client_netns"])
    ready = {"phase": "ready", "pid": os.getpid(), "ports": {str(f): l.getsockname()[1] for f, l in listeners.items()}}
    if not spec.get("preopen"):
        emit(ready)
        sys.stdin.readline()  # the tracers are attached

    conns = []
    for c in spec["connections"]:
        l = listeners[c["family"]]
        client = socket.socket(l.family, socket.SOCK_STREAM)
        if c.get("client_port"):
            client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            client.bind((c.get("client_addr", l.getsockname()[0]), c["client_port"]))
        client.connect(l.getsockname()[:2])
        server, _ = l.accept()
        # Both directions at once: large transfers must not deadlock on full buffers.
        got_server, got_client = [], []
        t1 = threading.Thread(target=recv_exact, args=(server, c["client_bytes"], got_server))
        t2 = threading.Thread(target=recv_exact, args=(client, c["server_bytes"], got_client))
        t1.start()
        t2.start()
        client_sent = send_pattern(client, c["client_bytes"])
        server_sent = send_pattern(server, c["server_bytes"])
        t1.join()
        t2.join()
        conns.append({
            "family": c["family"],
            "client": endpoint(client),
            "server": endpoint(server),
            "client_sent": client_sent,
            "client_received": got_client[0],
            "server_sent": server_sent,
            "server_received": got_server[0],
            "_socks": (client, server),
        })
    public = lambda: [{k: v for k, v in c.items() if not k.startswith("_")} for c in conns]
    if spec.get("preopen"):
        # Connections exist before the tracers start: they must be found, not seen opening.
        emit(ready)
        sys.stdin.readline()
    emit({"phase": "open", "connections": public()})

    time.sleep(spec.get("hold", 0))

    for c in conns:
        client, server = c["_socks"]
        c["client_tcp_info"] = tcp_info(client)
        c["server_tcp_info"] = tcp_info(server)
        client.close()  # active close: FIN from the client
        server.recv(1)  # EOF
        server.close()
    time.sleep(0.2)  # let the FIN/ACK exchange finish before we exit
    emit({"phase": "closed", "pid": os.getpid(), "connections": public()})


if __name__ == "__main__":
    main()
