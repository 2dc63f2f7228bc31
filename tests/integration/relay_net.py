#!/usr/bin/env python3
"""buri-relay over loopback (127.0.0.1 only), TAP output.

    relay_net.py BURI_RELAY SOURCE_ROOT

  settings        the reference config passes --check; mistakes exit 2 with file:line: key
  secret          created 0600 on first start, --print-secret prints it
  udp <-> udp     two fake nodes bind a session (RELAY BIND made here from PROTOCOL.md with
                  the standard library alone) and exchange data and control datagrams
  tcp <-> udp     one node over TCP frames `len (u16) | datagram`, the other over UDP
  abuse           10,000 datagrams with the right SPIs from a third socket are never
                  delivered; a BIND with a wrong token is ignored; a captured BIND replayed
                  from another port does not steal the side; an expired grant gets E_EXPIRED;
                  a frame shorter than 8 bytes closes the connection
  nat rebinding   a newer BIND from a new port moves the side; the old port is cut off
  counters        SIGUSR1 logs them; SIGTERM exits 0

The whole run is bounded by an alarm; only the relay this script started is ever signalled.
"""
import hmac
import os
import re
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time

TIME_LIMIT = 120  # seconds for the whole script
LOOP = "127.0.0.1"

relay_proc = None
n_tests = 0
n_failed = 0


def ok(cond, name, diag=""):
    global n_tests, n_failed
    n_tests += 1
    print(f"{'ok' if cond else 'not ok'} {n_tests} - {name}")
    if not cond:
        n_failed += 1
        for line in str(diag).splitlines():
            print(f"# {line}")
    sys.stdout.flush()


def stop_relay():
    """Signals only the process this script started."""
    if relay_proc is not None and relay_proc.poll() is None:
        relay_proc.kill()
        relay_proc.wait()


def on_alarm(signum, frame):
    stop_relay()
    print(f"Bail out! relay_net.py took more than {TIME_LIMIT} s")
    sys.exit(1)


# --- the wire, from docs/PROTOCOL.md 7.4 and section 9 ---

def token(secret, session, expiry, side, identity, peer):
    return hmac.new(secret, b"buri relay" + session +
                    struct.pack(">IBII", expiry, side, identity, peer), "sha1").digest()


class Grant:
    """What a node gets in RELAY: one side of a session."""

    def __init__(self, secret, session, side, identity, peer, expiry=None):
        self.session, self.side, self.identity, self.peer = session, side, identity, peer
        self.expiry = expiry if expiry is not None else int(time.time()) + 600
        self.token = token(secret, session, self.expiry, side, identity, peer)

    def bind(self, seq, spis, tok=None):
        body = struct.pack(">H8sIBIIQB", 0x0500, self.session, self.expiry, self.side,
                           self.identity, self.peer, seq, len(spis))
        body += b"".join(struct.pack(">I", s) for s in spis) + bytes(8)
        body += hmac.new(tok or self.token, body, "sha1").digest()[:12]
        return bytes(8) + body

    def bound(self, d):
        """RELAY BOUND for this grant as a dict, or None if it is not one (MAC included)."""
        if len(d) != 48 or d[:8] != bytes(8):
            return None
        body = d[8:]
        if not hmac.compare_digest(hmac.new(self.token, body[:28], "sha1").digest()[:12],
                                   body[28:]):
            return None
        t, session, side, seq, status, peer_bound, addr, port = struct.unpack(
            ">H8sBQHBIH", body[:28])
        if t != 0x0501 or session != self.session or side != self.side:
            return None
        return {"seq": seq, "status": status, "peer_bound": peer_bound,
                "addr": socket.inet_ntoa(struct.pack(">I", addr)), "port": port}


def data_packet(spi, payload):
    return struct.pack(">II", spi, 7) + payload


def control_packet(dst_spi, src_spi, payload):
    return struct.pack(">III", 0, dst_spi, src_spi) + payload


# --- fake nodes ---

class UdpNode:
    def __init__(self, relay_port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((LOOP, 0))
        self.port = self.s.getsockname()[1]
        self.relay = (LOOP, relay_port)

    def send(self, d):
        self.s.sendto(d, self.relay)

    def recv(self, timeout=2.0):
        self.s.settimeout(timeout)
        try:
            d, src = self.s.recvfrom(70000)
        except socket.timeout:
            return None
        return d if src == self.relay else b"(from a stranger)"

    def drain(self, timeout=0.3):
        got = []
        while (d := self.recv(timeout)) is not None:
            got.append(d)
        return got

    def close(self):
        self.s.close()


class TcpNode:
    def __init__(self, relay_port):
        self.s = socket.create_connection((LOOP, relay_port), timeout=5)
        self.buf = b""

    def send(self, d):
        self.s.sendall(struct.pack(">H", len(d)) + d)

    def send_many(self, ds):
        self.s.sendall(b"".join(struct.pack(">H", len(d)) + d for d in ds))

    def recv(self, timeout=2.0):
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 2:
                n = struct.unpack(">H", self.buf[:2])[0]
                if len(self.buf) >= 2 + n:
                    d, self.buf = self.buf[2:2 + n], self.buf[2 + n:]
                    return d
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                return b"(closed)"
            self.buf += chunk

    def closed_by_peer(self, timeout=2.0):
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1) == b""
        except (socket.timeout, ConnectionResetError):
            return False

    def close(self):
        self.s.close()


# --- the relay process ---

def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind((LOOP, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_log(path, pattern, timeout=5.0, start=0):
    """The first match of pattern in the log after offset start, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, encoding="utf-8", errors="replace") as f:
            f.seek(start)
            m = re.search(pattern, f.read())
        if m:
            return m
        time.sleep(0.05)
    return None


def counters(line):
    return {k: int(v) for k, v in re.findall(r"([a-z_]+) (\d+)", line)}


def check_settings(relay, root, tmp):
    def run(*args):
        p = subprocess.run([relay, *args], capture_output=True, text=True, timeout=10)
        return p.returncode, p.stdout + p.stderr

    rc, out = run("-c", os.path.join(root, "configs", "relay.cfg"), "--check")
    ok(rc == 0 and "OK: udp 0.0.0.0:7790, tcp 7791" in out,
       "reference configs/relay.cfg passes --check", out)
    cases = [
        ("unknown key", 'limits = {\n  sesions = 3;\n};\n', r"bad\.cfg:2: limits\.sesions: unknown setting"),
        ("port out of range", 'listen = { udp_port = 70000; };\n', r"bad\.cfg:1: listen\.udp_port: 70000 is out of range"),
        ("wrong type", 'log = { stats_interval = "60"; };\n', r"bad\.cfg:1: log\.stats_interval: expected an integer"),
        ("not an address", 'listen = { address = "localhost"; };\n', r"bad\.cfg:1: listen\.address: \"localhost\" is not an IPv4"),
        ("burst below one datagram", 'limits = { session_burst_kib = 8; };\n', r"bad\.cfg:1: limits\.session_burst_kib"),
    ]
    bad = os.path.join(tmp, "bad.cfg")
    for name, text, pattern in cases:
        with open(bad, "w", encoding="utf-8") as f:
            f.write(text)
        rc, out = run("-c", bad, "--check")
        ok(rc == 2 and re.search(pattern, out), f"bad setting ({name}): exit 2, file:line: key", out)
    rc, out = run("-c", os.path.join(tmp, "missing.cfg"), "--check")
    ok(rc == 2 and "missing.cfg" in out, "a missing config file: exit 2", out)
    rc, out = run("--help")
    ok(rc == 0 and "--print-secret" in out and "--check" in out, "--help", out)


def start_relay(relay, cfg, log):
    global relay_proc
    relay_proc = subprocess.Popen([relay, "-c", cfg], stdout=subprocess.DEVNULL,
                                  stderr=open(log, "w"))
    return wait_log(log, r"relaying on udp") is not None


def bind_ok(node, g, seq, spis, want_peer_bound, name):
    node.send(g.bind(seq, spis))
    d = node.recv()
    b = g.bound(d) if d else None
    good = b is not None and b["status"] == 0 and b["seq"] == seq and \
        b["peer_bound"] == want_peer_bound
    ok(good, name, f"answer {b}")
    return b


def main():
    relay, root = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TIME_LIMIT)
    with tempfile.TemporaryDirectory(prefix="buri-relay-") as tmp:
        try:
            run(relay, root, tmp)
        finally:
            stop_relay()
    print(f"1..{n_tests}")
    return 1 if n_failed else 0


def run(relay, root, tmp):
    check_settings(relay, root, tmp)

    udp_port, tcp_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    secret_path, log, cfg = (os.path.join(tmp, n) for n in ("relay.secret", "relay.log", "relay.cfg"))
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(f'listen = {{ address = "{LOOP}"; udp_port = {udp_port}; tcp_port = {tcp_port}; }};\n'
                f'secret = "{secret_path}";\n'
                'log = { level = "info"; stats_interval = 3600; };\n')
    if not start_relay(relay, cfg, log):
        ok(False, "buri-relay starts", open(log, encoding="utf-8").read())
        return
    ok(True, "buri-relay starts")
    st = os.stat(secret_path)
    secret = open(secret_path, "rb").read()
    ok(len(secret) == 32 and stat.S_IMODE(st.st_mode) == 0o600 and
       wait_log(log, r"secret .* created \(32 random bytes, mode 0600\)"),
       "secret created: 32 bytes, mode 0600, logged", f"{len(secret)} bytes, mode {oct(st.st_mode)}")
    p = subprocess.run([relay, "-c", cfg, "--print-secret"], capture_output=True, text=True, timeout=10)
    ok(p.returncode == 0 and p.stdout.strip() == secret.hex(), "--print-secret prints its hex",
       p.stdout + p.stderr)

    spi_a, spi_b, spi_c, spi_d = 0x1001, 0x1002, 0x2001, 0x2002
    id_a, id_b, id_c, id_d = 0x64400001, 0x64400002, 0x64400003, 0x64400004
    s1, s2 = os.urandom(8), os.urandom(8)
    ga, gb = Grant(secret, s1, 0, id_a, id_b), Grant(secret, s1, 1, id_b, id_a)
    a, b, x = UdpNode(udp_port), UdpNode(udp_port), UdpNode(udp_port)

    # --- udp <-> udp ---
    bind_ok(a, ga, 100, [spi_a], 0, "A binds side 0 over UDP: status 0, peer not bound yet")
    capture = gb.bind(100, [spi_b])
    b.send(capture)
    ans = gb.bound(b.recv() or b"")
    ok(ans is not None and ans["status"] == 0 and ans["peer_bound"] == 1 and
       ans["addr"] == LOOP and ans["port"] == b.port,
       "B binds side 1: status 0, peer bound, its address and port as the relay saw them", ans)
    payload = os.urandom(1200)
    a.send(data_packet(spi_b, payload))
    ok(b.recv() == data_packet(spi_b, payload), "A -> B: data packet delivered unchanged")
    b.send(data_packet(spi_a, payload[:300]))
    ok(a.recv() == data_packet(spi_a, payload[:300]), "B -> A: data packet delivered unchanged")
    b.send(control_packet(spi_a, spi_b, b"KE1" + bytes(380)))
    ok(a.recv() == control_packet(spi_a, spi_b, b"KE1" + bytes(380)),
       "B -> A: tunnel control packet (0 | dstSPI | srcSPI) delivered")
    a.send(data_packet(spi_a, b"to myself"))
    ok(b.drain() == [] and a.drain() == [], "A with its own SPI: dropped")

    # --- tcp <-> udp ---
    gc, gd = Grant(secret, s2, 0, id_c, id_d), Grant(secret, s2, 1, id_d, id_c)
    c, d = TcpNode(tcp_port), UdpNode(udp_port)
    c.send(gc.bind(5, [spi_c]))
    ans = gc.bound(c.recv() or b"")
    ok(ans is not None and ans["status"] == 0 and ans["addr"] == "0.0.0.0" and ans["port"] == 0,
       "C binds over TCP: answered in a frame, address and port 0", ans)
    bind_ok(d, gd, 5, [spi_d], 1, "D binds the other side over UDP: peer bound")
    big = os.urandom(8000)
    d.send(data_packet(spi_c, big))
    ok(c.recv() == data_packet(spi_c, big), "D (UDP) -> C (TCP): 8000-byte datagram in one frame")
    c.send(data_packet(spi_d, big[:1400]))
    ok(d.recv() == data_packet(spi_d, big[:1400]), "C (TCP) -> D (UDP)")
    burst = [data_packet(spi_d, bytes([i]) * (20 + i)) for i in range(50)]
    c.send_many(burst)
    got = [d.recv() for _ in burst]
    ok(got == burst, "50 frames in one TCP write: all delivered in order",
       f"{sum(1 for g in got if g is not None)} of 50 arrived")
    ok(a.drain() == [] and b.drain() == [], "nothing of session 2 reaches session 1")

    # --- abuse ---
    before = relay_counters(log, "before")
    for i in range(10000):
        x.send(data_packet(spi_b if i % 2 else spi_a, struct.pack(">I", i)))
        if i % 200 == 199:
            time.sleep(0.002)  # stay within the relay's socket buffer: count, not lose
    a.send(data_packet(spi_b, b"marker"))
    got_b, got_a, got_x = b.drain(0.5), a.drain(0.2), x.drain(0.2)
    ok(got_b == [data_packet(spi_b, b"marker")] and got_a == [] and got_x == [],
       "10,000 datagrams with the right SPIs from a third socket: none delivered",
       f"B got {len(got_b)}, A got {len(got_a)}, X got {len(got_x)}")
    after = relay_counters(log, "flood")
    dropped = after.get("drop_no_route", 0) - before.get("drop_no_route", 0)
    ok(dropped >= 9000, "... and the relay counted them (drop_no_route)", f"{dropped} counted")

    wrong = Grant(os.urandom(32), s1, 1, id_b, id_a)
    x.send(wrong.bind(1000, [spi_b]))
    ok(x.drain(0.5) == [], "a BIND for session 1 with a wrong token: no answer")
    x.send(capture)
    ok(x.drain(0.5) == [], "B's captured BIND replayed from another port: no answer")
    a.send(data_packet(spi_b, b"still B"))
    ok(b.recv() == data_packet(spi_b, b"still B") and x.drain(0.2) == [],
       "... and B keeps its side: A's traffic still reaches B, not the replayer")
    expired = Grant(secret, os.urandom(8), 0, id_a, id_c, expiry=int(time.time()) - 10)
    x.send(expired.bind(1, [0x3001]))
    ans = expired.bound(x.recv() or b"")
    ok(ans is not None and ans["status"] == 256, "an expired grant: RELAY BOUND with E_EXPIRED (256)", ans)
    e = TcpNode(tcp_port)
    e.s.sendall(struct.pack(">H", 3) + b"abc")
    ok(e.closed_by_peer(), "a TCP frame shorter than 8 bytes closes the connection")
    e.close()

    # --- NAT rebinding ---
    b2 = UdpNode(udp_port)
    bind_ok(b2, gb, 101, [spi_b], 1, "B from a new port with a newer seq: rebound")
    a.send(data_packet(spi_b, b"to the new port"))
    ok(b2.recv() == data_packet(spi_b, b"to the new port") and b.drain(0.2) == [],
       "A's traffic follows B to its new port")
    b.send(data_packet(spi_a, b"old port"))
    ok(a.drain(0.3) == [], "the old port is cut off")
    b2.send(data_packet(spi_a, b"new port"))
    ok(a.recv() == data_packet(spi_a, b"new port"), "the new port reaches A")

    # --- counters and exit ---
    st = relay_counters(log, "end")
    ok(st.get("bind_bad_mac", 0) >= 1 and st.get("bind_replay", 0) >= 1 and
       st.get("bind_expired", 0) == 1 and st.get("bind_ok", 0) == 5 and
       st.get("tcp_bad_frame", 0) == 1 and st.get("fwd_pkts", 0) == 3 + 2 + 50 + 4 and
       st.get("drop_no_route", 0) >= 10000 + 2,
       "SIGUSR1: the counters say what happened", st)
    for n in (a, b, b2, c, d, x):
        n.close()
    relay_proc.send_signal(signal.SIGTERM)
    try:
        rc = relay_proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        rc = None
    ok(rc == 0 and wait_log(log, r"stats \(exit\)"), "SIGTERM: clean exit 0 with a last counters line",
       f"exit status {rc}")


def relay_counters(log, what):
    """Asks the relay for its counters (SIGUSR1) and reads them from the log."""
    start = os.path.getsize(log)
    relay_proc.send_signal(signal.SIGUSR1)
    m = wait_log(log, r"stats \(SIGUSR1\): ([^\n]*)\n", start=start)
    return counters(m.group(1)) if m else {}


if __name__ == "__main__":
    sys.exit(main())
