#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Independent reference implementation of the buri wire protocol (crypto suite 1).

Written from docs/PROTOCOL.md alone, without reading common/ or tools/vector.c, so that
the C implementation and this one can only agree where the document is clear.
Python standard library plus the `openssl` command line tool (OpenSSL 3) for AES-256-CBC
and RSA signing; everything else (KEYMAT, HMAC-SHA1-96 framing, PKCS#7, DH group 14,
signature verification, fingerprints) is computed here.

Command line (mirrors tools/buri-vector):

  refimpl.py keymat SECRET_HEX NI_HEX NR_HEX NBYTES
  refimpl.py seal-udp KE_HEX KA_HEX IV_HEX SPI MSGID PAYLOAD_HEX
  refimpl.py open-udp KE_HEX KA_HEX PACKET_HEX
  refimpl.py seal-tcp KE_HEX KA_HEX IV_HEX MSGID PAYLOAD_HEX
  refimpl.py open-tcp KE_HEX KA_HEX FRAME_HEX
  refimpl.py fingerprint KEYFILE.pem
  refimpl.py sign PRIVATE_KEYFILE.pem DATA_HEX
  refimpl.py gen OUTDIR          (vectors.txt, and vectors.md: the text of PROTOCOL.md section 12)
  refimpl.py check-doc PROTOCOL.md VECTORS.txt

Hex in, one line of lowercase hex out (fingerprint: colon-separated). SPI and MSGID are
decimal or 0x-hex. Exit status 1 if the operation fails (bad MAC, bad padding, short
packet, MsgID 0, SPI 0, ...), 2 on a usage error (bad hex, wrong key length, ...).
"""

import hashlib
import hmac
import os
import re
import stat
import subprocess
import sys

SUITE = 1

KE_LEN = 32          # AES-256 key
KA_LEN = 20          # HMAC-SHA1 key
IV_LEN = 16
BLOCK = 16
MAC_LEN = 12         # HMAC-SHA1-96
HDR_LEN = 8          # W0 | MsgID
MIN_PROTECTED = HDR_LEN + BLOCK + IV_LEN + MAC_LEN     # 52
NONCE_LEN = 128
DH_LEN = 256
KFP_LEN = 20
KEYMAT_MAX = 255 * 20                                    # 5100
SESSION_KEYMAT = 104
TCP_MAX_BODY = 65536                                     # section 7.1
TCP_MAX_SIZE = 65584                                     # section 7.1: 4 + 65552 + 28
CLEAR_MAX_BODY = 2048                                   # section 7.1
UDP_MAX = 65507                                          # section 7.2: one UDP datagram over IPv4
CONTROL_MAX = 1200
SPKI_MAX = 800
RSA_MIN_BITS, RSA_MAX_BITS = 2048, 4096

# message types (section 8)
T_HELO, T_HELO_OK, T_AUTH, T_REGISTER, T_AUTH_OK, T_ERROR = 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006
T_RESULT, T_PING, T_PONG = 0x0100, 0x0101, 0x0102
T_KE1, T_KE2, T_KE3 = 0x1001, 0x1002, 0x1003


class ProtoError(Exception):
    """The operation failed (exit status 1): a receiver would reject, a sender must refuse."""


class UsageError(Exception):
    """Malformed command line input (exit status 2)."""


# ---------------------------------------------------------------------------------------
# integers

def u8(v):
    return v.to_bytes(1, 'big')


def u16(v):
    return v.to_bytes(2, 'big')


def u32(v):
    return v.to_bytes(4, 'big')


def be32(b, off=0):
    return int.from_bytes(b[off:off + 4], 'big')


# ---------------------------------------------------------------------------------------
# section 4: Diffie-Hellman group 14, prime from the RFC 3526 formula

def _arctan_inv(x, one):
    """one * arctan(1/x) in fixed point (truncating; error a few units)."""
    total = term = one // x
    x2 = x * x
    n = 1
    sign = -1
    while term:
        term //= x2
        total += sign * (term // (2 * n + 1))
        sign = -sign
        n += 1
    return total


def pi_floor_scaled(bits, guard=64):
    """floor(2^bits * pi), with Machin's formula pi = 16 atan(1/5) - 4 atan(1/239)."""
    one = 1 << (bits + guard)
    pi_fixed = 16 * _arctan_inv(5, one) - 4 * _arctan_inv(239, one)
    # truncation errors are far below 2^(guard-8); make sure the floor is unambiguous
    low = (pi_fixed - (1 << 16)) >> guard
    high = (pi_fixed + (1 << 16)) >> guard
    if low != high:
        raise ArithmeticError('pi too close to a rounding boundary; raise guard bits')
    return low


def group14_prime():
    return (1 << 2048) - (1 << 1984) - 1 + (1 << 64) * (pi_floor_scaled(1918) + 124476)


P = group14_prime()
G = 2


def dh_public(x):
    return pow(G, x, P).to_bytes(DH_LEN, 'big')


def dh_check_public(y_bytes):
    if len(y_bytes) != DH_LEN:
        raise ProtoError('DH public value must be 256 bytes')
    y = int.from_bytes(y_bytes, 'big')
    if not 2 <= y <= P - 2:
        raise ProtoError('DH public value out of range [2, p-2]')
    return y


def dh_secret(x, y_bytes):
    y = dh_check_public(y_bytes)
    return pow(y, x, P).to_bytes(DH_LEN, 'big')     # left-padded with zero bytes


# ---------------------------------------------------------------------------------------
# section 5: KEYMAT and session keys

def keymat(k, ni, nr, nbytes):
    if nbytes < 0 or nbytes > KEYMAT_MAX:
        raise ProtoError('KEYMAT length must be 0..%d bytes' % KEYMAT_MAX)
    out = b''
    t = b''
    n = 1
    while len(out) < nbytes:
        t = hmac.new(k, t + ni + nr + u8(n), hashlib.sha1).digest()
        out += t
        n += 1
    return out[:nbytes]


def session_keys(k, ni, nr):
    """-> dict ke_ir, ka_ir, ke_ri, ka_ri (section 5 table)."""
    km = keymat(k, ni, nr, SESSION_KEYMAT)
    return {'ke_ir': km[0:32], 'ka_ir': km[32:52], 'ke_ri': km[52:84], 'ka_ri': km[84:104]}


# ---------------------------------------------------------------------------------------
# section 6: message protection

def pkcs7_pad(p):
    n = BLOCK - (len(p) % BLOCK)
    return p + bytes([n]) * n


def pkcs7_unpad(p):
    if not p or len(p) % BLOCK:
        raise ProtoError('bad padding: length')
    n = p[-1]
    if not 1 <= n <= BLOCK:
        raise ProtoError('bad padding: last byte %d' % n)
    if p[-n:] != bytes([n]) * n:
        raise ProtoError('bad padding: pad bytes differ')
    return p[:-n]


def aes256cbc(key, iv, data, decrypt=False):
    """Raw AES-256-CBC on whole blocks, via `openssl enc -nopad`."""
    if len(key) != KE_LEN or len(iv) != IV_LEN or len(data) % BLOCK:
        raise ValueError('aes256cbc: bad lengths')
    if not data:
        return b''
    cmd = ['openssl', 'enc', '-aes-256-cbc', '-nopad', '-K', key.hex(), '-iv', iv.hex()]
    if decrypt:
        cmd.append('-d')
    r = subprocess.run(cmd, input=data, capture_output=True)
    if r.returncode != 0 or len(r.stdout) != len(data):
        raise RuntimeError('openssl enc failed: %s' % r.stderr.decode(errors='replace'))
    return r.stdout


def mac96(ka, data):
    return hmac.new(ka, data, hashlib.sha1).digest()[:MAC_LEN]


def _check_keys(ke, ka, iv=None):
    if len(ke) != KE_LEN:
        raise UsageError('Ke must be %d bytes' % KE_LEN)
    if len(ka) != KA_LEN:
        raise UsageError('Ka must be %d bytes' % KA_LEN)
    if iv is not None and len(iv) != IV_LEN:
        raise UsageError('IV must be %d bytes' % IV_LEN)


def _check_u32(v, what):
    if not 0 <= v <= 0xffffffff:
        raise UsageError('%s out of u32 range' % what)


def protect(ke, ka, iv, w0_of_len, msgid, payload):
    """Steps 1-4 of section 6. w0_of_len(total_length) gives the first word."""
    c = aes256cbc(ke, iv, pkcs7_pad(payload))
    total = HDR_LEN + len(c) + IV_LEN + MAC_LEN
    body = u32(w0_of_len(total)) + u32(msgid) + c + iv
    return body + mac96(ka, body)


def unprotect(ke, ka, data, structure_check):
    """Receive steps of section 6 (replay state is not kept: step 2 and 5 are the caller's)."""
    # 1. structure
    if len(data) < MIN_PROTECTED:
        raise ProtoError('short message: %d bytes, need at least %d' % (len(data), MIN_PROTECTED))
    if (len(data) - (IV_LEN + MAC_LEN + HDR_LEN)) % BLOCK:
        raise ProtoError('bad length: %d - 36 is not a multiple of 16' % len(data))
    if be32(data, 4) == 0:
        raise ProtoError('MsgID 0')
    structure_check(data)
    # 3. MAC over every byte before it, constant-time comparison
    body, tag = data[:-MAC_LEN], data[-MAC_LEN:]
    if not hmac.compare_digest(mac96(ka, body), tag):
        raise ProtoError('MAC mismatch')
    # 4. decrypt, then padding
    c = data[HDR_LEN:-(IV_LEN + MAC_LEN)]
    iv = data[-(IV_LEN + MAC_LEN):-MAC_LEN]
    return be32(data, 4), pkcs7_unpad(aes256cbc(ke, iv, c, decrypt=True))


def seal_udp(ke, ka, iv, spi, msgid, payload):
    _check_keys(ke, ka, iv)
    _check_u32(spi, 'SPI')
    _check_u32(msgid, 'MsgID')
    if spi == 0:
        raise ProtoError('SPI 0 marks a control packet; a data packet needs a non-zero SPI')
    if msgid == 0:
        raise ProtoError('MsgID 0 is never valid')
    if HDR_LEN + len(pkcs7_pad(payload)) + IV_LEN + MAC_LEN > UDP_MAX:
        raise ProtoError('a data packet must fit one UDP datagram (%d bytes)' % UDP_MAX)
    return protect(ke, ka, iv, lambda total: spi, msgid, payload)


def _udp_structure(data):
    if be32(data, 0) == 0:
        raise ProtoError('SPI 0: a control packet, not a data packet')
    if len(data) > UDP_MAX:
        raise ProtoError('larger than a UDP datagram (%d bytes)' % UDP_MAX)


def open_udp(ke, ka, packet):
    """-> (spi, msgid, payload)."""
    _check_keys(ke, ka)
    msgid, payload = unprotect(ke, ka, packet, _udp_structure)
    return be32(packet, 0), msgid, payload


def seal_tcp(ke, ka, iv, msgid, payload):
    _check_keys(ke, ka, iv)
    _check_u32(msgid, 'MsgID')
    if msgid == 0:
        raise ProtoError('MsgID 0 is never valid')
    if len(payload) > TCP_MAX_BODY:
        raise ProtoError('protected TCP body larger than %d bytes' % TCP_MAX_BODY)
    return protect(ke, ka, iv, lambda total: total - 4, msgid, payload)


def _tcp_structure(data):
    size = be32(data, 0)
    if size < 4 or size > TCP_MAX_SIZE:
        raise ProtoError('frame size %d outside 4..%d' % (size, TCP_MAX_SIZE))
    if size != len(data) - 4:
        raise ProtoError('size field %d disagrees with frame length %d' % (size, len(data)))


def open_tcp(ke, ka, frame):
    """-> (msgid, payload)."""
    _check_keys(ke, ka)
    msgid, payload = unprotect(ke, ka, frame, _tcp_structure)
    if len(payload) > TCP_MAX_BODY:
        raise ProtoError('protected TCP body larger than %d bytes' % TCP_MAX_BODY)
    return msgid, payload


def clear_frame(body):
    """Section 7.1 cleartext frame: size | 0x00000000 | body."""
    if len(body) > CLEAR_MAX_BODY:
        raise ProtoError('cleartext body larger than %d bytes' % CLEAR_MAX_BODY)
    return u32(4 + len(body)) + u32(0) + body


def control_packet(dst_spi, src_spi, body):
    """Section 7.2 control packet: 0 | dstSPI | srcSPI | body."""
    if dst_spi == 0 or src_spi == 0:
        raise ProtoError('control packet SPIs must be non-zero')
    pkt = u32(0) + u32(dst_spi) + u32(src_spi) + body
    if len(pkt) > CONTROL_MAX:
        raise ProtoError('control packet larger than %d bytes' % CONTROL_MAX)
    return pkt


# ---------------------------------------------------------------------------------------
# section 3: keys, DER SubjectPublicKeyInfo, signatures, fingerprints

OID_RSA = bytes.fromhex('2a864886f70d010101')     # 1.2.840.113549.1.1.1
SHA1_DIGESTINFO = bytes.fromhex('3021300906052b0e03021a05000414')


def _der(buf, off, want_tag):
    if off + 2 > len(buf) or buf[off] != want_tag:
        raise ProtoError('DER: expected tag 0x%02x' % want_tag)
    ln = buf[off + 1]
    off += 2
    if ln & 0x80:
        nb = ln & 0x7f
        if nb == 0 or nb > 3 or off + nb > len(buf):
            raise ProtoError('DER: bad length')
        ln = int.from_bytes(buf[off:off + nb], 'big')
        off += nb
    if off + ln > len(buf):
        raise ProtoError('DER: truncated')
    return buf[off:off + ln], off + ln


def spki_rsa(spki):
    """Parse a DER SubjectPublicKeyInfo with rsaEncryption -> (n, e). Checks section 3."""
    if len(spki) > SPKI_MAX:
        raise ProtoError('public key larger than %d bytes' % SPKI_MAX)
    seq, end = _der(spki, 0, 0x30)
    if end != len(spki):
        raise ProtoError('DER: trailing bytes')
    alg, off = _der(seq, 0, 0x30)
    oid, aoff = _der(alg, 0, 0x06)
    if oid != OID_RSA:
        raise ProtoError('not an rsaEncryption key')
    bits, off = _der(seq, off, 0x03)
    if off != len(seq) or not bits or bits[0] != 0:
        raise ProtoError('DER: bad BIT STRING')
    rsa, roff = _der(bits[1:], 0, 0x30)
    n, noff = _der(rsa, 0, 0x02)
    e, eoff = _der(rsa, noff, 0x02)
    n, e = int.from_bytes(n, 'big'), int.from_bytes(e, 'big')
    if not RSA_MIN_BITS <= n.bit_length() <= RSA_MAX_BITS:
        raise ProtoError('RSA modulus of %d bits; 2048..4096 accepted' % n.bit_length())
    return n, e


def _pem_is_public(path):
    with open(path, 'rb') as f:
        head = f.read(4096)
    return b'-----BEGIN PUBLIC KEY-----' in head


def check_private_key_mode(path):
    """Section 3: a private key file with any permission for group or others is refused."""
    st = os.stat(path)
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ProtoError('%s: private key accessible by group or others (mode %o)'
                         % (path, stat.S_IMODE(st.st_mode)))


def spki_der_from_pem(path):
    """DER SubjectPublicKeyInfo of a PEM key file (private PKCS#8 or public)."""
    public = _pem_is_public(path)
    if not public:
        check_private_key_mode(path)
    cmd = ['openssl', 'pkey', '-in', path, '-pubout', '-outform', 'DER', '-passin', 'pass:']
    if public:
        cmd[2:2] = ['-pubin']
    r = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL)
    if r.returncode != 0 or not r.stdout:
        raise ProtoError('%s: cannot read key: %s' % (path, r.stderr.decode(errors='replace').strip()))
    spki_rsa(r.stdout)
    return r.stdout


def kfp(spki):
    return hashlib.sha1(spki).digest()


def kfp_text(fp):
    return ':'.join('%02x' % b for b in fp)


def rsa_sign(path, data):
    """RSASSA-PKCS1-v1_5 with SHA-1 by `openssl dgst -sha1 -sign`; verified here before use."""
    spki = spki_der_from_pem(path)
    r = subprocess.run(['openssl', 'dgst', '-sha1', '-sign', path, '-passin', 'pass:'],
                       input=data, capture_output=True)
    if r.returncode != 0:
        raise ProtoError('openssl dgst -sign failed: %s' % r.stderr.decode(errors='replace').strip())
    rsa_verify(spki, data, r.stdout)
    return r.stdout


def emsa_pkcs1_v15_sha1(data, k):
    t = SHA1_DIGESTINFO + hashlib.sha1(data).digest()
    if k < len(t) + 11:
        raise ProtoError('modulus too short')
    return b'\x00\x01' + b'\xff' * (k - len(t) - 3) + b'\x00' + t


def rsa_verify(spki, data, sig):
    n, e = spki_rsa(spki)
    k = (n.bit_length() + 7) // 8
    if len(sig) != k:
        raise ProtoError('signature of %d bytes for a %d-byte modulus' % (len(sig), k))
    s = int.from_bytes(sig, 'big')
    if s >= n:
        raise ProtoError('signature representative out of range')
    em = pow(s, e, n).to_bytes(k, 'big')
    if not hmac.compare_digest(em, emsa_pkcs1_v15_sha1(data, k)):
        raise ProtoError('signature verification failed')


# ---------------------------------------------------------------------------------------
# sections 8 and 9: message bodies and signed data

def blob(b, lo, hi):
    if not lo <= len(b) <= hi:
        raise ProtoError('blob length %d outside %d..%d' % (len(b), lo, hi))
    return u16(len(b)) + b


def _fixed(b, n, what):
    if len(b) != n:
        raise ProtoError('%s must be %d bytes' % (what, n))
    return b


def helo(server_kfp, ni, gi, suite=SUITE):
    return (u16(T_HELO) + u8(suite) + _fixed(server_kfp, KFP_LEN, 'ServerKfp')
            + _fixed(ni, NONCE_LEN, 'Ni') + _fixed(gi, DH_LEN, 'Gi'))


def helo_ok(nr, gr):
    return u16(T_HELO_OK) + _fixed(nr, NONCE_LEN, 'Nr') + _fixed(gr, DH_LEN, 'Gr')


def auth(identity, signature):
    if identity == 0:
        raise ProtoError('identity 0 never names a node')
    return u16(T_AUTH) + u32(identity) + blob(signature, 256, 512)


def auth_ok(identity, signature):
    return u16(T_AUTH_OK) + u32(identity) + blob(signature, 256, 512)


def ping(tag):
    return u16(T_PING) + u32(tag)


def pong(tag):
    return u16(T_PONG) + u32(tag)


def ke1(ni, gi):
    return u16(T_KE1) + _fixed(ni, NONCE_LEN, 'Ni') + _fixed(gi, DH_LEN, 'Gi')


def ke2(nr, gr, signature):
    return u16(T_KE2) + _fixed(nr, NONCE_LEN, 'Nr') + _fixed(gr, DH_LEN, 'Gr') + blob(signature, 256, 512)


def ke3(ni, gi, signature):
    return u16(T_KE3) + _fixed(ni, NONCE_LEN, 'Ni') + _fixed(gi, DH_LEN, 'Gi') + blob(signature, 256, 512)


def signed_auth(ni, nr, gi, gr, suite=SUITE):
    """AUTH and REGISTER: suite | Ni | Nr | Gi | Gr (769 bytes)."""
    return u8(suite) + ni + nr + gi + gr


def signed_auth_ok(ni, nr, gi, gr):
    """AUTH OK: Nr | Ni | Gr | Gi (768 bytes)."""
    return nr + ni + gr + gi


def signed_ke2(ni, nr, gi, gr):
    """KE2 (responder): Nr | Ni | Gr | Gi."""
    return nr + ni + gr + gi


def signed_ke3(ni, nr, gi, gr):
    """KE3 (initiator): Ni | Nr | Gi | Gr."""
    return ni + nr + gi + gr


# ---------------------------------------------------------------------------------------
# test vectors

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_KEY = os.path.join(HERE, 'test-node-2048.pem')
MEDIATOR_KEY = os.path.join(HERE, 'test-mediator-3072.pem')


def det(label, n):
    """Fixed pseudo-random test input: SHAKE-256('buri test vector ' + label)."""
    return hashlib.shake_256(b'buri test vector ' + label.encode()).digest(n)


def _ipv4_checksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(int.from_bytes(b[i:i + 2], 'big') for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def icmp_echo_packet():
    """IPv4 ICMP echo request 100.64.0.1 -> 100.64.0.2, id 1, seq 1, 16 data bytes."""
    data = b'buri ping test!!'
    icmp = bytearray(b'\x08\x00\x00\x00' + u16(1) + u16(1) + data)
    icmp[2:4] = u16(_ipv4_checksum(bytes(icmp)))
    ip = bytearray(b'\x45\x00' + u16(20 + len(icmp)) + u16(0x1234) + u16(0x4000)
                   + b'\x40\x01\x00\x00' + bytes([100, 64, 0, 1]) + bytes([100, 64, 0, 2]))
    ip[10:12] = u16(_ipv4_checksum(bytes(ip)))
    return bytes(ip + icmp)


class _Private:
    """Copy of a test key with mode 0600, as section 3 requires of private key files."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        import tempfile
        self.tmp = tempfile.TemporaryDirectory()
        dst = os.path.join(self.tmp.name, os.path.basename(self.path))
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(self.path, 'rb') as src, os.fdopen(fd, 'wb') as out:
            out.write(src.read())
        return dst

    def __exit__(self, *exc):
        self.tmp.cleanup()


def build_vectors():
    """-> list of (section name, description, [(key, value-or-None-for-comment)])."""
    H = lambda b: b.hex()
    V = []

    def sec(name, desc, items):
        V.append((name, desc, items))

    def keys_items(k, ni, nr):
        km = keymat(k, ni, nr, SESSION_KEYMAT)
        ks = session_keys(k, ni, nr)
        return km, ks, [('secret', H(k)), ('ni', H(ni)), ('nr', H(nr)), ('nbytes', '104'),
                        ('keymat', H(km)), ('ke_ir', H(ks['ke_ir'])), ('ka_ir', H(ks['ka_ir'])),
                        ('ke_ri', H(ks['ke_ri'])), ('ka_ri', H(ks['ka_ri']))]

    with _Private(NODE_KEY) as node_key, _Private(MEDIATOR_KEY) as med_key:
        node_spki = spki_der_from_pem(node_key)
        med_spki = spki_der_from_pem(med_key)
        node_kfp, med_kfp = kfp(node_spki), kfp(med_spki)

        sec('keys', 'The two published test keys, `tests/vectors/test-node-2048.pem` and '
            '`tests/vectors/test-mediator-3072.pem`: their DER SubjectPublicKeyInfo and '
            'fingerprint (section 3).',
            [('# fingerprint of test-node-2048: %s' % kfp_text(node_kfp), None),
             ('node_spki', H(node_spki)), ('node_kfp', H(node_kfp)),
             ('# fingerprint of test-mediator-3072: %s' % kfp_text(med_kfp), None),
             ('mediator_spki', H(med_spki)), ('mediator_kfp', H(med_kfp))])

        # KEYMAT (a): short
        k, ni, nr = bytes(range(16)), bytes.fromhex('a0a1a2a3'), bytes.fromhex('b0b1b2b3')
        sec('keymat-short', 'KEYMAT (section 5) with small inputs, 50 bytes (three HMAC blocks, '
            'the last one cut).',
            [('secret', H(k)), ('ni', H(ni)), ('nr', H(nr)), ('nbytes', '50'),
             ('keymat', H(keymat(k, ni, nr, 50)))])

        # KEYMAT (b): suite-1 sized, K with leading zero bytes
        k = b'\x00\x00' + det('keymat K', 254)
        ni, nr = det('keymat Ni', 128), det('keymat Nr', 128)
        _, _, items = keys_items(k, ni, nr)
        sec('keymat-suite1', 'KEYMAT for a suite-1 session: K of 256 bytes starting with two zero '
            'bytes (kept, section 4), 128-byte nonces, the 104 session bytes and the four keys.',
            items)

        # worked login
        xi = int.from_bytes(det('login xi 436', 32), 'big')
        xr = int.from_bytes(det('login xr', 32), 'big')
        gi, gr = dh_public(xi), dh_public(xr)
        k = dh_secret(xi, gr)
        if k != dh_secret(xr, gi):
            raise AssertionError('DH sides disagree')
        if k[0] != 0:
            raise AssertionError('login K was chosen to have a leading zero byte')
        ni, nr = det('login Ni', 128), det('login Nr', 128)
        sec('login-dh', 'Worked login (section 10): the node\'s private exponent xi and the '
            'mediator\'s xr (256-bit constants), Gi = 2^xi mod p, Gr = 2^xr mod p and the '
            'shared secret K. xi was picked so that K starts with a zero byte.',
            [('xi', '%064x' % xi), ('xr', '%064x' % xr), ('gi', H(gi)), ('gr', H(gr)), ('k', H(k))])

        b_helo = helo(med_kfp, ni, gi)
        sec('login-helo', 'HELO: suite 1, ServerKfp = fingerprint of test-mediator-3072, the '
            'node nonce Ni and Gi; the body and its cleartext TCP frame (section 7.1).',
            [('ni', H(ni)), ('body', H(b_helo)), ('frame', H(clear_frame(b_helo)))])

        b_helo_ok = helo_ok(nr, gr)
        sec('login-helo-ok', 'HELO OK: the mediator nonce Nr and Gr; body and cleartext frame.',
            [('nr', H(nr)), ('body', H(b_helo_ok)), ('frame', H(clear_frame(b_helo_ok)))])

        _, ks, items = keys_items(k, ni, nr)
        sec('login-keys', 'The login\'s session keys: KEYMAT(K, Ni, Nr), 104 bytes.', items)

        identity = 0x64400001     # 100.64.0.1
        sd = signed_auth(ni, nr, gi, gr)
        sig = rsa_sign(node_key, sd)
        b_auth = auth(identity, sig)
        sec('login-auth', 'AUTH for identity 100.64.0.1: the 769 signed bytes '
            '`suite | Ni | Nr | Gi | Gr`, the signature by test-node-2048 and the body.',
            [('identity', str(identity)), ('signer_kfp', H(node_kfp)), ('signed', H(sd)),
             ('signature', H(sig)), ('body', H(b_auth))])
        iv = det('login auth iv', 16)
        sec('login-auth-sealed', 'The AUTH body sealed as a protected TCP frame (section 6, W0 = '
            'size) with Ke(i→r), Ka(i→r), MsgID 1.',
            [('ke', H(ks['ke_ir'])), ('ka', H(ks['ka_ir'])), ('iv', H(iv)), ('msgid', '1'),
             ('payload', H(b_auth)), ('frame', H(seal_tcp(ks['ke_ir'], ks['ka_ir'], iv, 1, b_auth)))])

        sd = signed_auth_ok(ni, nr, gi, gr)
        sig = rsa_sign(med_key, sd)
        b_aok = auth_ok(identity, sig)
        sec('login-auth-ok', 'AUTH OK for 100.64.0.1: the 768 signed bytes `Nr | Ni | Gr | Gi`, '
            'the signature by test-mediator-3072 (384 bytes) and the body.',
            [('identity', str(identity)), ('signer_kfp', H(med_kfp)), ('signed', H(sd)),
             ('signature', H(sig)), ('body', H(b_aok))])
        iv = det('login auth ok iv', 16)
        sec('login-auth-ok-sealed', 'The AUTH OK body sealed with Ke(r→i), Ka(r→i), MsgID 1.',
            [('ke', H(ks['ke_ri'])), ('ka', H(ks['ka_ri'])), ('iv', H(iv)), ('msgid', '1'),
             ('payload', H(b_aok)), ('frame', H(seal_tcp(ks['ke_ri'], ks['ka_ri'], iv, 1, b_aok)))])

        tag = 0x00000007
        b_ping = ping(tag)
        iv = det('login ping iv', 16)
        sec('session-ping-sealed', 'The node\'s next message on the same session: PING with tag 7, '
            'sealed with Ke(i→r), Ka(i→r), MsgID 2.',
            [('tag', str(tag)), ('ke', H(ks['ke_ir'])), ('ka', H(ks['ka_ir'])), ('iv', H(iv)),
             ('msgid', '2'), ('payload', H(b_ping)),
             ('frame', H(seal_tcp(ks['ke_ir'], ks['ka_ir'], iv, 2, b_ping)))])

        # UDP data packets with simple keys
        ke, ka = bytes(range(32)), bytes(range(0x20, 0x34))
        iv, spi, msgid = bytes(range(0x40, 0x50)), 0xdeadbeef, 7
        pl = icmp_echo_packet()
        sec('udp-data', 'A tunnel data packet (section 7.2): SPI 0xdeadbeef, MsgID 7, payload a '
            '44-byte IPv4 ICMP echo request from 100.64.0.1 to 100.64.0.2.',
            [('ke', H(ke)), ('ka', H(ka)), ('iv', H(iv)), ('spi', str(spi)), ('msgid', str(msgid)),
             ('payload', H(pl)), ('packet', H(seal_udp(ke, ka, iv, spi, msgid, pl)))])
        iv, msgid = bytes(range(0x50, 0x60)), 8
        sec('udp-dummy', 'A dummy message (empty payload) with the same keys and SPI, MsgID 8: '
            'the padded plaintext is sixteen 0x10 bytes.',
            [('ke', H(ke)), ('ka', H(ka)), ('iv', H(iv)), ('spi', str(spi)), ('msgid', str(msgid)),
             ('payload', ''), ('packet', H(seal_udp(ke, ka, iv, spi, msgid, b'')))])

        # tunnel key exchange: initiator test-node-2048, responder test-mediator-3072
        spi_i, spi_r = 0x00c0ffee, 0x0badf00d       # initiator has the lower inbound SPI
        xi = int.from_bytes(det('tunnel xi', 32), 'big')
        xr = int.from_bytes(det('tunnel xr', 32), 'big')
        gi, gr = dh_public(xi), dh_public(xr)
        k = dh_secret(xr, gi)
        if k != dh_secret(xi, gr):
            raise AssertionError('DH sides disagree')
        ni, nr = det('tunnel Ni', 128), det('tunnel Nr', 128)
        sec('tunnel-dh', 'Tunnel key exchange (section 11). The initiator (inbound SPI 0x00c0ffee, '
            'the lower one, key test-node-2048) and the responder (inbound SPI 0x0badf00d, key '
            'test-mediator-3072 used as a 3072-bit node key): private exponents, public values '
            'and K.',
            [('spi_i', str(spi_i)), ('spi_r', str(spi_r)), ('xi', '%064x' % xi), ('xr', '%064x' % xr),
             ('gi', H(gi)), ('gr', H(gr)), ('k', H(k))])

        b = ke1(ni, gi)
        sec('tunnel-ke1', 'KE1 control packet, initiator to responder: dstSPI = 0x0badf00d, '
            'srcSPI = 0x00c0ffee.',
            [('ni', H(ni)), ('body', H(b)), ('packet', H(control_packet(spi_r, spi_i, b)))])
        sd = signed_ke2(ni, nr, gi, gr)
        sig = rsa_sign(med_key, sd)
        b = ke2(nr, gr, sig)
        sec('tunnel-ke2', 'KE2 control packet, responder to initiator: `Nr | Ni | Gr | Gi` signed '
            'by the responder (test-mediator-3072).',
            [('nr', H(nr)), ('signer_kfp', H(med_kfp)), ('signed', H(sd)), ('signature', H(sig)),
             ('body', H(b)), ('packet', H(control_packet(spi_i, spi_r, b)))])
        sd = signed_ke3(ni, nr, gi, gr)
        sig = rsa_sign(node_key, sd)
        b = ke3(ni, gi, sig)
        sec('tunnel-ke3', 'KE3 control packet, initiator to responder: `Ni | Nr | Gi | Gr` signed '
            'by the initiator (test-node-2048).',
            [('signer_kfp', H(node_kfp)), ('signed', H(sd)), ('signature', H(sig)),
             ('body', H(b)), ('packet', H(control_packet(spi_r, spi_i, b)))])

        _, ks, items = keys_items(k, ni, nr)
        sec('tunnel-keys', 'The tunnel keys: KEYMAT(K, Ni, Nr), 104 bytes.', items)
        iv = det('tunnel dummy iv', 16)
        sec('tunnel-dummy', 'The responder\'s dummy message that completes the exchange: empty '
            'payload, Ke(r→i), Ka(r→i), the initiator\'s inbound SPI, MsgID 1.',
            [('ke', H(ks['ke_ri'])), ('ka', H(ks['ka_ri'])), ('iv', H(iv)), ('spi', str(spi_i)),
             ('msgid', '1'), ('payload', ''),
             ('packet', H(seal_udp(ks['ke_ri'], ks['ka_ri'], iv, spi_i, 1, b'')))])
    return V


BODY_BOUNDS = {T_HELO: (407, 407), T_HELO_OK: (386, 386), T_AUTH: (264, 520), T_REGISTER: (267, 1514),
               T_AUTH_OK: (264, 520), T_ERROR: (6, 1030), T_RESULT: (10, 1034), T_PING: (6, 6),
               T_PONG: (6, 6), T_KE1: (386, 386), T_KE2: (644, 900), T_KE3: (644, 900)}


def check_vectors(V):
    """Cross-check generated bodies against the length table of section 8."""
    for name, desc, items in V:
        kv = dict((k, v) for k, v in items if v is not None)
        for key in ('body', 'payload'):
            if key in kv and len(kv[key]) >= 4 and name != 'udp-data':
                b = bytes.fromhex(kv[key])
                lo, hi = BODY_BOUNDS[int.from_bytes(b[:2], 'big')]
                if not lo <= len(b) <= hi:
                    raise AssertionError('[%s] %s: %d bytes, section 8 says %d..%d' % (name, key, len(b), lo, hi))
        if 'packet' in kv and name.startswith('tunnel-ke'):
            if len(kv['packet']) // 2 > CONTROL_MAX:
                raise AssertionError('[%s] control packet too large' % name)


def _line(key, val):
    return ('%s = %s' % (key, val)).rstrip()


def render_txt(V):
    out = ['# buri protocol test vectors (crypto suite 1), generated by tests/vectors/refimpl.py gen.',
           '# Same content as docs/PROTOCOL.md section 12. All byte strings lowercase hex;',
           '# nbytes, identity, spi, spi_i, spi_r, msgid and tag are decimal integers.', '']
    for name, desc, items in V:
        out.append('[%s]' % name)
        for key, val in items:
            out.append(key if val is None else _line(key, val))
        out.append('')
    return '\n'.join(out)


def render_md(V):
    out = ['All byte strings are lowercase hex; `nbytes`, `identity`, `spi`, `spi_i`, `spi_r`, '
           '`msgid` and `tag` are decimal. Each block starts with the name of its section in '
           '`tests/vectors/vectors.txt`. `ke_ir`, `ka_ir`, `ke_ri`, `ka_ri` are Ke(i→r), Ka(i→r), '
           'Ke(r→i), Ka(r→i); `signed` is the exact byte string given to Sign; a sealed `packet` '
           'or `frame` is `W0 | MsgID | C | IV | MAC`. RSA PKCS#1 v1.5 signatures are '
           'deterministic, so every value can be recomputed.', '']
    for name, desc, items in V:
        out.append('**%s.** %s' % (name, desc))
        out.append('')
        out.append('```')
        out.append('[%s]' % name)
        for key, val in items:
            out.append(key if val is None else _line(key, val))
        out.append('```')
        out.append('')
    return '\n'.join(out).rstrip('\n') + '\n'


def parse_vectors(text):
    """vectors.txt -> ordered dict name -> dict key -> value (strings)."""
    secs = {}
    cur = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        m = re.fullmatch(r'\[([A-Za-z0-9_.-]+)\]', line)
        if m:
            cur = secs.setdefault(m.group(1), {})
            continue
        m = re.fullmatch(r'([A-Za-z0-9_]+)\s*=\s*([0-9a-f]*)', line)
        if not m or cur is None:
            raise ValueError('vectors line %d: cannot parse %r' % (n, raw))
        if m.group(1) in cur:
            raise ValueError('vectors line %d: duplicate key %s' % (n, m.group(1)))
        cur[m.group(1)] = m.group(2)
    return secs


def _section(md, number):
    """Text of PROTOCOL.md section `number` (from its ## heading to the next ## heading)."""
    m = re.search(r'^## %d\.[^\n]*\n(.*?)(?=^## |\Z)' % number, md, re.S | re.M)
    return m.group(1) if m else None


def check_doc(doc_path, txt_path):
    problems = []
    with open(doc_path, encoding='utf-8') as f:
        md = f.read()
    with open(txt_path, encoding='utf-8') as f:
        txt = f.read()
    # (a) the prime in section 4
    s4 = _section(md, 4)
    m = re.search(r'```\s*\np = [^\n]*\n\s*=((?:[\s0-9A-Fa-f])+)```', s4 or '')
    if not m:
        problems.append('section 4: prime block not found')
    else:
        doc_p = int(re.sub(r'\s', '', m.group(1)), 16)
        if doc_p != P:
            problems.append('section 4: prime differs from the RFC 3526 formula\n  doc:     %X\n  formula: %X'
                            % (doc_p, P))
            words_doc = m.group(1).split()
            words_f = re.findall('.{8}', '%0512X' % P)
            if len(words_doc) != len(words_f):
                problems.append('section 4:   doc has %d words, expected %d' % (len(words_doc), len(words_f)))
            for i, (a, b) in enumerate(zip(words_doc, words_f)):
                if a.upper() != b:
                    problems.append('section 4:   word %d: doc %s, formula %s' % (i + 1, a, b))
    # (b) vectors
    s12 = _section(md, 12)
    if s12 is None:
        problems.append('section 12 not found')
        s12 = ''
    blocks = {}
    for body in re.findall(r'^```[^\n]*\n(.*?)^```', s12, re.S | re.M):
        lines = [ln.strip() for ln in body.splitlines() if ln.strip()]
        if lines and re.fullmatch(r'\[[^\]]+\]', lines[0]):
            blocks[lines[0][1:-1]] = [ln for ln in lines[1:] if not ln.startswith('#')]
    doc_lines = set(ln.strip() for ln in s12.splitlines())
    try:
        vecs = parse_vectors(txt)
    except ValueError as e:
        problems.append(str(e))
        vecs = {}
    for name, kv in vecs.items():
        want = [_line(k, v) for k, v in kv.items()]
        for ln in want:
            if ln not in doc_lines:
                problems.append('[%s] %s: not in section 12' % (name, ln.split(' =')[0]))
        if name not in blocks:
            problems.append('[%s]: no code block for it in section 12' % name)
        elif blocks[name] != want:
            problems.append('[%s]: section 12 block differs from vectors.txt' % name)
    for name in blocks:
        if name not in vecs:
            problems.append('[%s]: in section 12 but not in %s' % (name, txt_path))
    return problems


# ---------------------------------------------------------------------------------------
# command line

def _hex(s, what):
    if not re.fullmatch(r'(?:[0-9a-fA-F]{2})*', s):
        raise UsageError('%s: not an even-length hex string' % what)
    return bytes.fromhex(s)


def _int(s, what):
    if re.fullmatch(r'0[xX][0-9a-fA-F]+', s):
        v = int(s, 16)
    elif re.fullmatch(r'[0-9]+', s):
        v = int(s, 10)
    else:
        raise UsageError('%s: not a decimal or 0x-hex integer' % what)
    _check_u32(v, what)
    return v


USAGE = __doc__.split('Command line (mirrors tools/buri-vector):')[1].split('Hex in,')[0]


def main(argv):
    if len(argv) < 2:
        raise UsageError('usage: refimpl.py COMMAND ARGS...' + USAGE)
    cmd, a = argv[1], argv[2:]
    nargs = {'keymat': 4, 'seal-udp': 6, 'open-udp': 3, 'seal-tcp': 5, 'open-tcp': 3,
             'fingerprint': 1, 'sign': 2, 'gen': 1, 'check-doc': 2}
    if cmd not in nargs:
        raise UsageError('unknown command %r' % cmd)
    if len(a) != nargs[cmd]:
        raise UsageError('%s takes %d arguments' % (cmd, nargs[cmd]))
    if cmd == 'keymat':
        k, ni, nr = _hex(a[0], 'SECRET'), _hex(a[1], 'NI'), _hex(a[2], 'NR')
        nbytes = _int(a[3], 'NBYTES')
        if nbytes > KEYMAT_MAX:
            raise UsageError('NBYTES: KEYMAT is at most %d bytes (255 blocks)' % KEYMAT_MAX)
        print(keymat(k, ni, nr, nbytes).hex())
    elif cmd == 'seal-udp':
        ke, ka, iv = _hex(a[0], 'KE'), _hex(a[1], 'KA'), _hex(a[2], 'IV')
        spi, msgid, pl = _int(a[3], 'SPI'), _int(a[4], 'MSGID'), _hex(a[5], 'PAYLOAD')
        print(seal_udp(ke, ka, iv, spi, msgid, pl).hex())
    elif cmd == 'open-udp':
        ke, ka, pkt = _hex(a[0], 'KE'), _hex(a[1], 'KA'), _hex(a[2], 'PACKET')
        print(open_udp(ke, ka, pkt)[2].hex())
    elif cmd == 'seal-tcp':
        ke, ka, iv = _hex(a[0], 'KE'), _hex(a[1], 'KA'), _hex(a[2], 'IV')
        msgid, pl = _int(a[3], 'MSGID'), _hex(a[4], 'PAYLOAD')
        print(seal_tcp(ke, ka, iv, msgid, pl).hex())
    elif cmd == 'open-tcp':
        ke, ka, fr = _hex(a[0], 'KE'), _hex(a[1], 'KA'), _hex(a[2], 'FRAME')
        print(open_tcp(ke, ka, fr)[1].hex())
    elif cmd == 'fingerprint':
        print(kfp_text(kfp(spki_der_from_pem(a[0]))))
    elif cmd == 'sign':
        print(rsa_sign(a[0], _hex(a[1], 'DATA')).hex())
    elif cmd == 'gen':
        V = build_vectors()
        check_vectors(V)
        os.makedirs(a[0], exist_ok=True)
        with open(os.path.join(a[0], 'vectors.txt'), 'w', encoding='utf-8') as f:
            f.write(render_txt(V))
        with open(os.path.join(a[0], 'vectors.md'), 'w', encoding='utf-8') as f:
            f.write(render_md(V))
    elif cmd == 'check-doc':
        problems = check_doc(a[0], a[1])
        for p in problems:
            print(p)
        if problems:
            return 1
        print('ok: prime and %s match %s' % (a[1], a[0]))
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv))
    except UsageError as e:
        print('refimpl: %s' % e, file=sys.stderr)
        sys.exit(2)
    except ProtoError as e:
        print('refimpl: %s' % e, file=sys.stderr)
        sys.exit(1)
    except OSError as e:
        print('refimpl: %s' % e, file=sys.stderr)
        sys.exit(1)
