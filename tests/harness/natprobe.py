#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Probes for the NAT lab (tests/harness/natlab.sh), run inside a namespace with ip netns exec.

  natprobe.py udp [--port P] [--send ADDR:PORT]... [--gap MS] [--text T] [--wait MS]
                  [--count N] [--until U] [--reply R] [--connect]
      Binds 0.0.0.0:P (0, the default: any port) and prints "ready"; sends one datagram with
      the text T (default "probe") to each destination (--gap ms apart), then listens for MS
      ms (default 0), or until N datagrams came, or one with the text U, and prints one line
      per datagram: "from ADDR:PORT TEXT". With --reply, each datagram is answered with the text R. With
      --connect (one destination), the socket is connected, so an ICMP port unreachable for
      it shows as a line "refused"; a wait that ends without data or error prints "silent".
      Last line: "end".
  natprobe.py tcp-serve [--count N] PORT MS
      Prints "ready", then accepts connections for MS ms (or until N came): for each, prints
      "from ADDR:PORT", writes "seen-as ADDR:PORT" to the client and closes.
  natprobe.py tcp-connect [--port P] ADDR:PORT...
      Connects to each destination in turn from local port P (0: any); prints
      "seen-as ADDR:PORT" (what the server saw) or "failed ADDR:PORT ERROR" for each.

Only standard library; every operation is bounded in time.
"""
import argparse
import select
import socket
import sys
import time


def endpoint(s):
    addr, _, port = s.rpartition(":")
    return addr, int(port)


def say(*words):
    print(*words, flush=True)


def udp(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", a.port))
    if a.connect:
        if len(a.send) != 1:
            sys.exit("--connect wants exactly one --send")
        s.connect(endpoint(a.send[0]))
    say("ready")
    for i, d in enumerate(a.send):
        if i > 0:
            time.sleep(a.gap / 1000)
        if a.connect:
            s.send(a.text.encode())
        else:
            s.sendto(a.text.encode(), endpoint(d))
    heard, n = False, 0
    end = time.monotonic() + a.wait / 1000
    while a.count == 0 or n < a.count:
        left = end - time.monotonic()
        if left <= 0:
            break
        if not select.select([s], [], [], left)[0]:
            continue
        try:
            data, src = s.recvfrom(2048)
        except ConnectionRefusedError:
            say("refused")
            heard = True
            continue
        heard, n = True, n + 1
        text = data.decode(errors="replace")
        say("from %s:%d %s" % (src[0], src[1], text))
        if text == a.until:
            break
        if a.reply is not None:
            s.sendto(a.reply.encode(), src)
    if a.connect and not heard:
        say("silent")
    say("end")


def tcp_serve(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", a.port))
    s.listen(8)
    say("ready")
    n = 0
    end = time.monotonic() + a.wait / 1000
    while a.count == 0 or n < a.count:
        left = end - time.monotonic()
        if left <= 0:
            break
        if not select.select([s], [], [], left)[0]:
            continue
        c, src = s.accept()
        n += 1
        peer = "%s:%d" % src
        say("from " + peer)
        c.settimeout(2)
        c.sendall(("seen-as %s\n" % peer).encode())
        c.close()
    say("end")


def tcp_connect(a):
    for d in a.dest:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(3)
        try:
            s.bind(("0.0.0.0", a.port))
            s.connect(endpoint(d))
            line = b""
            while not line.endswith(b"\n"):
                b = s.recv(256)
                if not b:
                    break
                line += b
            say(line.decode(errors="replace").strip() or "failed %s no answer" % d)
        except OSError as e:
            say("failed %s %s" % (d, e))
        finally:
            s.close()


def main():
    p = argparse.ArgumentParser(description="NAT lab probes")
    sub = p.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("udp")
    u.add_argument("--port", type=int, default=0)
    u.add_argument("--send", action="append", default=[])
    u.add_argument("--gap", type=int, default=0)
    u.add_argument("--text", default="probe")
    u.add_argument("--wait", type=int, default=0)
    u.add_argument("--count", type=int, default=0)
    u.add_argument("--until")
    u.add_argument("--reply")
    u.add_argument("--connect", action="store_true")
    t = sub.add_parser("tcp-serve")
    t.add_argument("--count", type=int, default=0)
    t.add_argument("port", type=int)
    t.add_argument("wait", type=int)
    c = sub.add_parser("tcp-connect")
    c.add_argument("--port", type=int, default=0)
    c.add_argument("dest", nargs="+")
    a = p.parse_args()
    {"udp": udp, "tcp-serve": tcp_serve, "tcp-connect": tcp_connect}[a.cmd](a)


if __name__ == "__main__":
    main()
