#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Traffic tools for the data plane's namespace tests (run inside a namespace with ip netns exec).

  dpnet.py tcp-serve PORT SECONDS            accept one connection, print "<bytes> <sha256>"
  dpnet.py tcp-send ADDR PORT BYTES SEED     send BYTES pseudo-random bytes, print "<bytes> <sha256>"
  dpnet.py udp-recv PORT SECONDS [GROUP IFADDR]  print each datagram's text until SECONDS pass
  dpnet.py udp-send ADDR PORT TEXT [IFNAME]  one datagram (broadcast allowed; multicast via IFNAME)
  dpnet.py sniff IFACE UDPPORT SECONDS       print the first tunnel data frame (SPI != 0) seen on
                                             IFACE to UDPPORT, as hex
  dpnet.py inject IFACE HEX [FLIPBIT]        send the frame (with bit FLIPBIT of it flipped)
  dpnet.py forge IFACE HEX SPI               the frame with its SPI replaced, sent
  dpnet.py tamper IFACE HEX MSGID BIT        the frame with a fresh message ID and bit BIT of the
                                             sealed part (from the SPI on) flipped, sent
  dpnet.py telemetry SOCKET COMMAND          print the JSON answer of a DPDK telemetry command
  dpnet.py loop-relay IFACE ADDR LOOPPORT RELAYPORT PEER PEERPORT TUNPORT SECONDS
                                             a relay in miniature for the host loop (see
                                             loop_relay); prints "ready", at exit "out N in M"
  dpnet.py loop-send IFACE ADDR SPORT DPORT HEX  one frame from ADDR:SPORT to ADDR:DPORT carrying
                                             HEX, written into IFACE (as the control process would)
  dpnet.py own-count IFACE ADDR SECONDS      count frames on IFACE from ADDR to ADDR (IPv4) and
                                             ARP from ADDR for ADDR until SECONDS pass or SIGTERM;
                                             print "ready", then the count
Only standard library; every operation is bounded in time.
"""
import hashlib
import json
import random
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003


def tcp_serve(port, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(1)
    s.settimeout(secs)
    c, _ = s.accept()
    c.settimeout(secs)
    h, n = hashlib.sha256(), 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(n, h.hexdigest())


def tcp_send(addr, port, nbytes, seed):
    rnd = random.Random(seed)
    s = socket.create_connection((addr, port), timeout=20)
    h, left = hashlib.sha256(), nbytes
    while left > 0:
        b = rnd.randbytes(min(left, 65536))
        s.sendall(b)
        h.update(b)
        left -= len(b)
    s.shutdown(socket.SHUT_WR)
    s.close()
    print(nbytes, h.hexdigest())


def udp_recv(port, secs, group=None, ifaddr=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", port))
    if group:
        mreq = socket.inet_aton(group) + socket.inet_aton(ifaddr)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    end = time.time() + secs
    while time.time() < end:
        s.settimeout(max(0.05, end - time.time()))
        try:
            b, a = s.recvfrom(2048)
        except socket.timeout:
            break
        print(b.decode(errors="replace"), a[0], flush=True)


def udp_send(addr, port, text, ifname=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    if ifname:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 4)
    s.sendto(text.encode(), (addr, port))


def tunnel_frame(f, port):
    """True if f is Ethernet/IPv4/UDP to port with a non-zero first payload word."""
    if len(f) < 14 + 20 + 8 + 4 or f[12:14] != b"\x08\x00" or f[23] != 17:
        return False
    hl = (f[14] & 0xF) * 4
    u = 14 + hl
    return struct.unpack("!H", f[u + 2:u + 4])[0] == port and f[u + 8:u + 12] != b"\0" * 4


def sniff(iface, port, secs):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    end = time.time() + secs
    while time.time() < end:
        s.settimeout(max(0.05, end - time.time()))
        try:
            f = s.recv(4096)
        except socket.timeout:
            break
        if tunnel_frame(f, port):
            print(f.hex())
            return
    sys.exit(1)


def inject(iface, frame):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(frame)


def telemetry(path, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(path)
    s.recv(16384)  # the greeting
    s.send(cmd.encode())
    print(s.recv(65536).decode())


def ip_sum(h):
    s = sum(struct.unpack("!10H", h))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def iface_mac(iface):
    with open("/sys/class/net/%s/address" % iface) as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))


def loop_frame(mac, addr, sport, dport, payload, ipid):
    """Ethernet/IPv4/UDP from addr:sport to addr:dport, to and from mac (UDP checksum 0)."""
    a = socket.inet_aton(addr)
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), ipid & 0xFFFF, 0,
                               64, 17, 0, a, a))
    ip[10:12] = struct.pack("!H", ip_sum(bytes(ip)))
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    return mac + mac + b"\x08\x00" + bytes(ip) + udp + payload


def loop_relay(iface, addr, loop_port, relay_port, peer, peer_port, tun_port, secs):
    """The host loop's far side, as the control process does it for a relay over TCP.

    Out: the data plane seals a host-loop SA's packets to addr:loop_port, our own address, and
    the kernel delivers them here; they go on to peer:peer_port (the other data plane's tunnel
    port) from addr:relay_port, over plain UDP instead of a relay's TCP connection.
    In: what the peer sends to addr:relay_port arrives here through the data plane's exception
    path; it goes back into the data plane as a frame written into the mirror TAP (iface) from
    addr:loop_port to addr:tun_port, which the data plane opens as tunnel data.
    """
    out_s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out_s.bind((addr, loop_port))
    in_s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    in_s.bind((addr, relay_port))
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((iface, 0))
    mac = iface_mac(iface)
    n = [0, 0]
    end = time.time() + secs
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    try:
        while time.time() < end:
            r, _, _ = select.select([out_s, in_s], [], [], 0.1)
            if out_s in r:
                in_s.sendto(out_s.recv(65536), (peer, peer_port))
                n[0] += 1
            if in_s in r:
                raw.send(loop_frame(mac, addr, loop_port, tun_port, in_s.recv(65536), n[1]))
                n[1] += 1
    finally:
        print("out", n[0], "in", n[1], flush=True)


def own_count(iface, addr, secs):
    a = socket.inet_aton(addr)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    n = 0
    end = time.time() + secs
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    try:
        while time.time() < end:
            s.settimeout(max(0.05, end - time.time()))
            try:
                f = s.recv(4096)
            except socket.timeout:
                break
            ip = f[12:14] == b"\x08\x00" and len(f) >= 34 and f[26:30] == a and f[30:34] == a
            arp = f[12:14] == b"\x08\x06" and len(f) >= 42 and f[28:32] == a and f[38:42] == a
            n += ip or arp
    finally:
        print(n, flush=True)


def main(a):
    op = a[0]
    if op == "tcp-serve":
        tcp_serve(int(a[1]), float(a[2]))
    elif op == "tcp-send":
        tcp_send(a[1], int(a[2]), int(a[3]), int(a[4]))
    elif op == "udp-recv":
        udp_recv(int(a[1]), float(a[2]), *(a[3:5] if len(a) > 4 else []))
    elif op == "udp-send":
        udp_send(a[1], int(a[2]), a[3], a[4] if len(a) > 4 else None)
    elif op == "sniff":
        sniff(a[1], int(a[2]), float(a[3]))
    elif op == "inject":
        f = bytearray.fromhex(a[2])
        if len(a) > 3:
            bit = int(a[3])
            f[bit // 8] ^= 1 << (bit % 8)
        inject(a[1], bytes(f))
    elif op == "forge":
        f = bytearray.fromhex(a[2])
        u = 14 + (f[14] & 0xF) * 4
        f[u + 8:u + 12] = struct.pack("!I", int(a[3], 0))
        inject(a[1], bytes(f))
    elif op == "tamper":
        f = bytearray.fromhex(a[2])
        u = 14 + (f[14] & 0xF) * 4 + 8
        f[u + 4:u + 8] = struct.pack("!I", int(a[3], 0))
        bit = int(a[4])
        f[u + bit // 8] ^= 1 << (bit % 8)
        inject(a[1], bytes(f))
    elif op == "telemetry":
        telemetry(a[1], a[2])
    elif op == "loop-relay":
        loop_relay(a[1], a[2], int(a[3]), int(a[4]), a[5], int(a[6]), int(a[7]), float(a[8]))
    elif op == "loop-send":
        f = loop_frame(iface_mac(a[1]), a[2], int(a[3]), int(a[4]), bytes.fromhex(a[5]), 1)
        inject(a[1], f)
    elif op == "own-count":
        own_count(a[1], a[2], float(a[3]))
    else:
        sys.exit("unknown operation " + op)


if __name__ == "__main__":
    main(sys.argv[1:])
