#!/usr/bin/env python3
"""Test peer for tcp-jitter: a TCP server that reads late (or promptly), and its client.

  peer.py server HOST PORT DELAY_S   prints "listening PID PORT", accepts one connection,
                                     waits until data is queued, sleeps DELAY_S, reads it all,
                                     prints "read N PEER_PORT" and exits
  peer.py client HOST PORT           connects, prints "connected LOCAL_PORT", sends 1000
                                     bytes, waits for the server to close, exits
"""
import os
import select
import socket
import sys
import time


def server(host: str, port: int, delay: float) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((host, port))
        ls.listen(1)
        print(f"listening {os.getpid()} {ls.getsockname()[1]}", flush=True)
        conn, peer = ls.accept()
        with conn:
            if delay > 0:
                # the data is queued on the socket; now the application stalls
                select.select([conn], [], [], 30)
                time.sleep(delay)
            n = 0
            while n < 1000:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                n += len(chunk)
            print(f"read {n} {peer[1]}", flush=True)


def client(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=30) as s:
        print(f"connected {s.getsockname()[1]}", flush=True)
        s.sendall(b"x" * 1000)
        s.recv(1)  # until the server closes


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        client(sys.argv[2], int(sys.argv[3]))
