#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Interop test: buri-vector (the C implementation) against tests/vectors/refimpl.py (the
independent Python reference written from docs/PROTOCOL.md). Prints TAP; exit 1 on failure.

  interop.py --vector build/tools/buri-vector --ref tests/vectors/refimpl.py \
             [--seed N] [--iterations N] [--vectors tests/vectors/vectors.txt] [--jobs N]
"""

import argparse
import concurrent.futures
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def diag(self, msg):
        for line in str(msg).splitlines() or ['']:
            print('# ' + line, flush=True)

    def result(self, ok, name, diags=()):
        self.n += 1
        print('%s %d - %s' % ('ok' if ok else 'not ok', self.n, name), flush=True)
        if not ok:
            self.failed += 1
            for d in list(diags)[:8]:
                self.diag(d)
            if len(diags) > 8:
                self.diag('... and %d more' % (len(diags) - 8))

    def finish(self):
        print('1..%d' % self.n, flush=True)
        return 1 if self.failed else 0


def load_ref(path):
    sys.dont_write_bytecode = True      # leave no __pycache__ in the source tree
    spec = importlib.util.spec_from_file_location('refimpl', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Runner:
    def __init__(self, exe, jobs):
        self.exe = exe
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
        self.spawned = 0

    def one(self, args):
        self.spawned += 1
        r = subprocess.run(args, capture_output=True, stdin=subprocess.DEVNULL)
        return r.returncode, r.stdout.decode(errors='replace').strip(), r.stderr.decode(errors='replace').strip()

    def bv(self, *args):
        return self.one([self.exe] + [str(a) for a in args])

    def bv_many(self, arglists):
        return list(self.pool.map(lambda a: self.bv(*a), arglists))


def ref_result(fn, *args):
    """Run a refimpl function -> ('ok', value) or ('fail', msg) or ('usage', msg)."""
    try:
        return 'ok', fn(*args)
    except REF.UsageError as e:
        return 'usage', str(e)
    except REF.ProtoError as e:
        return 'fail', str(e)


def reason(msg):
    """Which receive step of PROTOCOL.md 6 rejected: MAC (step 3), padding (step 4) or
    structure (step 1). buri-vector prints the section 14 meaning of its status code."""
    m = msg.lower()
    if 'authentication' in m or 'mac mismatch' in m:
        return 'mac'
    if 'padding' in m:
        return 'padding'
    return 'structure'


def rbytes(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def edge_u32(rng):
    return rng.choice([1, 0xffffffff, 2, 0x7fffffff, 0x80000000, rng.randint(1, 0xffffffff),
                       rng.randint(1, 0xffffffff), rng.randint(1, 0xffff)])


def payload_len(rng, i):
    fixed = [0, 1, 15, 16, 17, 31, 32, 33, 2000, 1999]
    return fixed[i] if i < len(fixed) else rng.randint(0, 2000)


# ---------------------------------------------------------------------------------------

def t_cli(tap, run, args, tmp):
    """The refimpl command line, spawned a few times, agrees with buri-vector."""
    py = [sys.executable, args.ref]
    ke, ka, iv = bytes(range(32)).hex(), bytes(range(20)).hex(), bytes(range(16)).hex()
    cases = [
        ['keymat', '00ff', 'a0', 'b0', '77'],
        ['seal-udp', ke, ka, iv, '0x01020304', '9', 'abcdef'],
        ['seal-tcp', ke, ka, iv, '4294967295', ''],
        ['seal-udp', ke, ka, iv, '0', '1', ''],           # SPI 0: exit 1
        ['seal-tcp', ke, ka, iv, '0', '00'],              # MsgID 0: exit 1
        ['seal-udp', ke[:-2], ka, iv, '1', '1', ''],      # short Ke: exit 2
        ['keymat', '0g', '', '', '1'],                    # bad hex: exit 2
        ['keymat', '', '', '', '5101'],                   # too long: exit 2
        ['open-udp', ke, ka, ''],                         # empty packet: exit 1
    ]
    sealed = REF.seal_udp(bytes(range(32)), bytes(range(20)), bytes(range(16)), 3, 4, b'hello')
    cases.append(['open-udp', ke, ka, sealed.hex()])
    frame = REF.seal_tcp(bytes(range(32)), bytes(range(20)), bytes(range(16)), 4, b'')
    cases.append(['open-tcp', ke, ka, frame.hex()])
    bad = []
    for c in cases:
        r = run.one(py + c)
        b = run.bv(*c)
        if (r[0], r[1]) != (b[0], b[1]) or (r[0] != 0 and not r[2]):
            bad.append('%s: refimpl rc=%d %r / buri-vector rc=%d %r' % (' '.join(x[:20] for x in c), r[0], r[1][:60], b[0], b[1][:60]))
    tap.result(not bad, 'refimpl command line agrees with buri-vector (%d commands)' % len(cases), bad)
    r = run.one(py)
    tap.result(r[0] == 2, 'refimpl without arguments exits 2', ['rc=%d' % r[0]])


def t_keymat(tap, run, rng, iters):
    cases = []
    for i in range(iters):
        k = rbytes(rng, rng.choice([0, 1, 20, 64, 65, 256, rng.randint(0, 300)]))
        ni = rbytes(rng, rng.choice([0, 128, rng.randint(0, 200)]))
        nr = rbytes(rng, rng.choice([0, 128, rng.randint(0, 200)]))
        n = [0, 1, 19, 20, 21, 104, 5099, 5100][i] if i < 8 else rng.randint(0, 5100)
        cases.append((k, ni, nr, n))
    outs = run.bv_many([('keymat', k.hex(), ni.hex(), nr.hex(), n) for k, ni, nr, n in cases])
    bad = []
    for (k, ni, nr, n), (rc, out, err) in zip(cases, outs):
        want = REF.keymat(k, ni, nr, n).hex()
        if rc != 0 or out != want:
            bad.append('keymat K=%d Ni=%d Nr=%d n=%d: rc=%d %s...' % (len(k), len(ni), len(nr), n, rc, out[:40]))
    tap.result(not bad, 'keymat: %d random inputs (lengths 0..300, NBYTES 0..5100) match' % len(cases), bad)


def t_seal_random(tap, run, rng, iters, transport):
    cases = []
    for i in range(iters):
        ke, ka, iv = rbytes(rng, 32), rbytes(rng, 20), rbytes(rng, 16)
        pl = rbytes(rng, payload_len(rng, i))
        msgid = [1, 0xffffffff][i] if i < 2 else edge_u32(rng)
        spi = [0xffffffff, 1][i] if i < 2 else edge_u32(rng)
        cases.append((ke, ka, iv, spi, msgid, pl))
    if transport == 'udp':
        argl = [('seal-udp', ke.hex(), ka.hex(), iv.hex(), spi, msgid, pl.hex())
                for ke, ka, iv, spi, msgid, pl in cases]
        seal = lambda c: REF.seal_udp(*c)
        open_ref = lambda ke, ka, p: REF.open_udp(ke, ka, p)[2]
    else:
        argl = [('seal-tcp', ke.hex(), ka.hex(), iv.hex(), '0x%x' % msgid, pl.hex())
                for ke, ka, iv, spi, msgid, pl in cases]
        seal = lambda c: REF.seal_tcp(c[0], c[1], c[2], c[4], c[5])
        open_ref = lambda ke, ka, p: REF.open_tcp(ke, ka, p)[1]
    outs = run.bv_many(argl)
    refs = [seal(c) for c in cases]
    bad = []
    for c, r, (rc, out, err) in zip(cases, refs, outs):
        if rc != 0 or out != r.hex():
            bad.append('seal-%s payload %d bytes spi %d msgid %d: rc=%d, got %s..., want %s...'
                       % (transport, len(c[5]), c[3], c[4], rc, out[:48], r.hex()[:48]))
    tap.result(not bad, 'seal-%s: %d random packets identical byte for byte' % (transport, len(cases)), bad)
    outs = run.bv_many([('open-%s' % transport, c[0].hex(), c[1].hex(), r.hex()) for c, r in zip(cases, refs)])
    bad = ['open-%s payload %d bytes: rc=%d %s' % (transport, len(c[5]), rc, err)
           for c, (rc, out, err) in zip(cases, outs) if rc != 0 or out != c[5].hex()]
    tap.result(not bad, 'open-%s (buri-vector) of %d reference-sealed packets returns the payload'
               % (transport, len(cases)), bad)
    bad = []
    for c, r in zip(cases, refs):
        got = ref_result(open_ref, c[0], c[1], r)
        if got != ('ok', c[5]):
            bad.append('refimpl open-%s payload %d: %r' % (transport, len(c[5]), got))
    tap.result(not bad, 'open-%s (refimpl) of its own %d sealed packets returns the payload'
               % (transport, len(cases)), bad)


def t_large(tap, run, rng):
    """Payloads near the command line's limit (one argument is at most 128 KiB of hex)."""
    bad = []
    ke, ka, iv = rbytes(rng, 32), rbytes(rng, 20), rbytes(rng, 16)
    for n in (4096, 65000):
        pl = rbytes(rng, n)
        for tr, sealed, argv in (
                ('udp', REF.seal_udp(ke, ka, iv, 9, 9, pl), ('seal-udp', ke.hex(), ka.hex(), iv.hex(), 9, 9, pl.hex())),
                ('tcp', REF.seal_tcp(ke, ka, iv, 9, pl), ('seal-tcp', ke.hex(), ka.hex(), iv.hex(), 9, pl.hex()))):
            rc, out, err = run.bv(*argv)
            if rc != 0 or out != sealed.hex():
                bad.append('seal-%s %d bytes: rc=%d %s' % (tr, n, rc, err))
            rc, out, err = run.bv('open-' + tr, ke.hex(), ka.hex(), sealed.hex())
            if rc != 0 or out != pl.hex():
                bad.append('open-%s %d bytes: rc=%d %s' % (tr, n, rc, err))
    tap.result(not bad, 'seal/open of 4096- and 65000-byte payloads agree (udp, tcp)', bad)


def t_tamper(tap, run, rng, transport):
    ke, ka = rbytes(rng, 32), rbytes(rng, 20)
    if transport == 'udp':
        pkts = [REF.seal_udp(ke, ka, rbytes(rng, 16), rng.randint(1, 0xffffffff), rng.randint(1, 0xffffffff),
                             rbytes(rng, n)) for n in (0, 17, 32)]
        open_ref = lambda p: REF.open_udp(ke, ka, p)
    else:
        pkts = [REF.seal_tcp(ke, ka, rbytes(rng, 16), rng.randint(1, 0xffffffff), rbytes(rng, n))
                for n in (0, 17, 32)]
        open_ref = lambda p: REF.open_tcp(ke, ka, p)
    variants = {'flip': [], 'truncate': [], 'append': []}
    for p in pkts:
        for i in range(len(p)):
            q = bytearray(p)
            q[i] ^= rng.randint(1, 255)
            variants['flip'].append(('%d-byte packet, byte %d' % (len(p), i), bytes(q)))
        for n in range(len(p)):
            variants['truncate'].append(('%d-byte packet cut to %d' % (len(p), n), p[:n]))
        for extra in (b'\x00', bytes([rng.randint(0, 255)])):
            variants['append'].append(('%d-byte packet + %s' % (len(p), extra.hex()), p + extra))
    order = []
    for kind, vs in variants.items():
        outs = run.bv_many([('open-' + transport, ke.hex(), ka.hex(), q.hex()) for _, q in vs])
        bad = []
        for (what, q), (rc, out, err) in zip(vs, outs):
            if rc != 1 or not err or out:
                bad.append('buri-vector %s: rc=%d stdout=%r stderr=%r' % (what, rc, out[:40], err[:80]))
            r = ref_result(open_ref, q)
            if r[0] != 'fail':
                bad.append('refimpl %s: %r' % (what, r))
            elif reason(r[1]) != reason(err):
                order.append('%s: buri-vector %r (%s), refimpl %r (%s)' % (what, err, reason(err), r[1], reason(r[1])))
        lens = ', '.join(str(len(p)) for p in pkts)
        tap.result(not bad, 'open-%s rejects (exit 1, message on stderr) every %s of %s-byte packets (%d cases), '
                   'refimpl too' % (transport, {'flip': 'single-byte change', 'truncate': 'truncation',
                                                'append': 'appended byte'}[kind], lens, len(vs)), bad)
    tap.result(not order, 'open-%s: each rejection comes from the same receive step (structure / MAC / '
               'padding, PROTOCOL.md 6 order) in both' % transport, order)


def _mac_valid(ke, ka, w0, msgid, plain, iv):
    """A message with an arbitrary (block-aligned) plaintext and a correct MAC."""
    c = REF.aes256cbc(ke, iv, plain)
    body = w0.to_bytes(4, 'big') + msgid.to_bytes(4, 'big') + c + iv
    return body + REF.mac96(ka, body)


def t_bad_padding(tap, run, rng):
    ke, ka = rbytes(rng, 32), rbytes(rng, 20)
    pads = {
        'last byte 0': rbytes(rng, 15) + b'\x00',
        'last byte 17': rbytes(rng, 15) + b'\x11',
        'last byte 0xff': rbytes(rng, 31) + b'\xff',
        'last byte 33 (> block, < length)': rbytes(rng, 47) + b'\x21',
        'n=5, one pad byte 4': rbytes(rng, 11) + b'\x05\x05\x04\x05\x05',
        'n=5, first pad byte differs': rbytes(rng, 11) + b'\x06\x05\x05\x05\x05',
        'n=16, one pad byte 0x0f': b'\x10' * 7 + b'\x0f' + b'\x10' * 8,
        'n=16 in second block, first block garbage': rbytes(rng, 16) + b'\x10' * 15 + b'\x11',
        'n=2 with x,2': rbytes(rng, 14) + b'\x01\x02',
    }
    argl, who = [], []
    bad = []
    for name, plain in pads.items():
        iv = rbytes(rng, 16)
        spi, msgid = rng.randint(1, 0xffffffff), rng.randint(1, 0xffffffff)
        u = _mac_valid(ke, ka, spi, msgid, plain, iv)
        t = _mac_valid(ke, ka, 4 + len(plain) + 28, msgid, plain, iv)
        argl += [('open-udp', ke.hex(), ka.hex(), u.hex()), ('open-tcp', ke.hex(), ka.hex(), t.hex())]
        who += ['udp ' + name, 'tcp ' + name]
        for tr, pkt, fn in (('udp', u, REF.open_udp), ('tcp', t, REF.open_tcp)):
            r = ref_result(fn, ke, ka, pkt)
            if r[0] != 'fail' or 'padding' not in r[1]:
                bad.append('refimpl %s %s: %r' % (tr, name, r))
    for w, (rc, out, err) in zip(who, run.bv_many(argl)):
        if rc != 1 or not err or reason(err) != 'padding':
            bad.append('buri-vector %s: rc=%d %r %r' % (w, rc, out[:40], err))
    tap.result(not bad, 'malformed padding under a valid MAC is rejected as a padding error (%d plaintexts x udp/tcp)'
               % len(pads), bad)
    # Good padding at the edges under a crafted MAC is accepted (sanity of the crafting).
    okcases = {'n=1': rbytes(rng, 15) + b'\x01', 'n=16': b'\x10' * 16, 'n=16 after data': rbytes(rng, 16) + b'\x10' * 16}
    bad = []
    for name, plain in okcases.items():
        iv = rbytes(rng, 16)
        u = _mac_valid(ke, ka, 7, 7, plain, iv)
        want = REF.pkcs7_unpad(plain).hex()
        rc, out, err = run.bv('open-udp', ke.hex(), ka.hex(), u.hex())
        if rc != 0 or out != want:
            bad.append('buri-vector udp %s: rc=%d %r %r' % (name, rc, out, err))
        r = ref_result(REF.open_udp, ke, ka, u)
        if r != ('ok', (7, 7, bytes.fromhex(want))):
            bad.append('refimpl udp %s: %r' % (name, r))
    tap.result(not bad, 'crafted packets with valid edge padding (n=1, n=16) are accepted', bad)


def t_header_checks(tap, run, rng):
    """Valid MAC but a header the spec rejects: SPI 0, MsgID 0, TCP size field wrong."""
    ke, ka = rbytes(rng, 32), rbytes(rng, 20)
    plain = REF.pkcs7_pad(b'payload')
    cases = []
    cases.append(('udp SPI 0 (a control packet)', 'open-udp', _mac_valid(ke, ka, 0, 5, plain, rbytes(rng, 16))))
    cases.append(('udp MsgID 0', 'open-udp', _mac_valid(ke, ka, 5, 0, plain, rbytes(rng, 16))))
    cases.append(('tcp MsgID 0', 'open-tcp', _mac_valid(ke, ka, 4 + 16 + 28, 0, plain, rbytes(rng, 16))))
    good = 4 + 16 + 28
    for size in (0, 3, 4, good - 16, good - 1, good + 1, good + 16, 65584, 65585, 65620, 0xffffffff):
        cases.append(('tcp size field %d (frame needs %d)' % (size, good), 'open-tcp',
                      _mac_valid(ke, ka, size, 5, plain, rbytes(rng, 16))))
    outs = run.bv_many([(cmd, ke.hex(), ka.hex(), p.hex()) for _, cmd, p in cases])
    bad = []
    for (name, cmd, p), (rc, out, err) in zip(cases, outs):
        if rc != 1 or not err or reason(err) != 'structure':
            bad.append('buri-vector %s: rc=%d %r %r' % (name, rc, out, err))
        r = ref_result(REF.open_udp if cmd == 'open-udp' else REF.open_tcp, ke, ka, p)
        if r[0] != 'fail' or reason(r[1]) != 'structure':
            bad.append('refimpl %s: %r' % (name, r))
    tap.result(not bad, 'valid MAC but SPI 0 / MsgID 0 / wrong TCP size field: rejected as structure errors (%d cases)'
               % len(cases), bad)


def t_usage(tap, run, rng):
    ke, ka, iv = rbytes(rng, 32).hex(), rbytes(rng, 20).hex(), rbytes(rng, 16).hex()
    ok_pkt = REF.seal_udp(bytes.fromhex(ke), bytes.fromhex(ka), bytes.fromhex(iv), 1, 1, b'x').hex()
    fails = [  # exit 1: operation fails
        ('seal-udp SPI 0', ('seal-udp', ke, ka, iv, 0, 1, '00')),
        ('seal-udp SPI 0x0', ('seal-udp', ke, ka, iv, '0x0', 1, '')),
        ('seal-udp MsgID 0', ('seal-udp', ke, ka, iv, 1, 0, '00')),
        ('seal-tcp MsgID 0', ('seal-tcp', ke, ka, iv, 0, '')),
        ('open-udp SPI 0', ('open-udp', ke, ka, '00000000' + ok_pkt[8:])),
    ]
    usage = [  # exit 2: usage errors
        ('odd-length hex payload', ('seal-udp', ke, ka, iv, 1, 1, 'abc')),
        ('non-hex payload', ('seal-udp', ke, ka, iv, 1, 1, 'zz')),
        ('hex with a space', ('seal-tcp', ke, ka, iv, 1, 'ab cd')),
        ('0x prefix on hex bytes', ('seal-tcp', ke, ka, iv, 1, '0xabcd')),
        ('non-hex packet', ('open-udp', ke, ka, ok_pkt[:-2] + 'g0')),
        ('Ke 31 bytes', ('seal-udp', ke[:-2], ka, iv, 1, 1, '')),
        ('Ke 33 bytes', ('seal-tcp', ke + '00', ka, iv, 1, '')),
        ('Ka 19 bytes', ('seal-udp', ke, ka[:-2], iv, 1, 1, '')),
        ('Ka 21 bytes', ('open-udp', ke, ka + '00', ok_pkt)),
        ('IV 15 bytes', ('seal-udp', ke, ka, iv[:-2], 1, 1, '')),
        ('IV 17 bytes', ('seal-tcp', ke, ka, iv + '00', 1, '')),
        ('Ke empty on open-tcp', ('open-tcp', '', ka, ok_pkt)),
        ('SPI 2^32', ('seal-udp', ke, ka, iv, 0x100000000, 1, '')),
        ('MsgID -1', ('seal-udp', ke, ka, iv, 1, -1, '')),
        ('MsgID not a number', ('seal-tcp', ke, ka, iv, 'one', '')),
        ('keymat NBYTES 5101', ('keymat', '00', '', '', 5101)),
        ('keymat NBYTES x', ('keymat', '00', '', '', 'x')),
        ('keymat bad hex secret', ('keymat', '0', '', '', 1)),
        ('missing argument', ('seal-udp', ke, ka, iv, 1, 1)),
        ('extra argument', ('open-tcp', ke, ka, ok_pkt, 'x')),
        ('unknown command', ('frobnicate',)),
        ('no command', ()),
    ]
    outs = run.bv_many([a for _, a in fails + usage])
    bad = []
    for (name, a), (rc, out, err), want in zip(fails + usage, outs, [1] * len(fails) + [2] * len(usage)):
        if rc != want or not err:
            bad.append('buri-vector %s: rc=%d (want %d) stderr=%r' % (name, rc, want, err[:80]))
        if a:
            r = run.one([sys.executable, ARGS.ref] + [str(x) for x in a]) if name in (
                'SPI 2^32', 'keymat NBYTES 5101', 'hex with a space', 'open-udp SPI 0', 'seal-udp SPI 0x0') else None
            if r is not None and r[0] != want:
                bad.append('refimpl %s: rc=%d (want %d)' % (name, r[0], want))
    tap.result(not bad, 'SPI 0 / MsgID 0 exit 1; malformed hex, wrong key lengths, bad numbers exit 2 (%d cases)'
               % len(outs), bad)


def t_fingerprints(tap, run, tmp, vecs):
    vdir = os.path.dirname(os.path.abspath(ARGS.ref))
    for name in ('test-node-2048.pem', 'test-mediator-3072.pem'):
        src = os.path.join(vdir, name)
        dst = os.path.join(tmp, name)
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o600)
        b = run.bv('fingerprint', dst)
        r = run.one([sys.executable, ARGS.ref, 'fingerprint', dst])
        der = subprocess.run(['openssl', 'pkey', '-in', dst, '-pubout', '-outform', 'DER'], capture_output=True).stdout
        o = subprocess.run(['openssl', 'dgst', '-sha1', '-c'], input=der, capture_output=True).stdout.decode().strip()
        o = o.split('= ', 1)[-1]
        key = 'node_kfp' if 'node' in name else 'mediator_kfp'
        v = vecs.get('keys', {}).get(key, '')
        v = ':'.join(v[i:i + 2] for i in range(0, len(v), 2))
        ok = b[0] == 0 and r[0] == 0 and b[1] == r[1] == o == v and len(o) == 59
        tap.result(ok, 'fingerprint %s: buri-vector == refimpl == openssl dgst -sha1 -c == vectors.txt' % name,
                   ['buri-vector rc=%d %s %s' % b, 'refimpl     rc=%d %s %s' % r, 'openssl        %s' % o,
                    'vectors.txt    %s' % v])
    # a public PEM (no permission rule) and keys section 3 does not accept
    dst = os.path.join(tmp, 'test-node-2048.pem')
    pub = os.path.join(tmp, 'node-public.pem')
    subprocess.run(['openssl', 'pkey', '-in', dst, '-pubout', '-out', pub], check=True, capture_output=True)
    os.chmod(pub, 0o644)
    b = run.bv('fingerprint', pub)
    r = run.one([sys.executable, ARGS.ref, 'fingerprint', pub])
    tap.result(b[0] == r[0] == 0 and b[1] == r[1] and b[1].replace(':', '') == vecs.get('keys', {}).get('node_kfp'),
               'fingerprint of a public PEM (mode 0644) equals that of its private key', [str(b), str(r)])
    bad = []
    for what, gen in (('RSA-1024', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']),
                      ('EC P-256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'])):
        f = os.path.join(tmp, what + '.pem')
        subprocess.run(['openssl', 'genpkey'] + gen + ['-out', f], check=True, capture_output=True)
        os.chmod(f, 0o600)
        b = run.bv('fingerprint', f)
        r = run.one([sys.executable, ARGS.ref, 'fingerprint', f])
        if b[0] != 1 or r[0] != 1:
            bad.append('%s: buri-vector rc=%d %s, refimpl rc=%d %s' % (what, b[0], b[2], r[0], r[2]))
    tap.result(not bad, 'keys outside section 3 (RSA-1024, EC) are refused by both', bad)
    # permissions (section 3): any group or other permission is refused; 0600 / 0400 accepted
    bad = []
    for mode, want in ((0o600, 0), (0o400, 0), (0o640, 1), (0o604, 1), (0o644, 1),
                       (0o620, 1), (0o602, 1), (0o610, 1)):
        os.chmod(dst, mode)
        b = run.bv('fingerprint', dst)
        r = run.one([sys.executable, ARGS.ref, 'fingerprint', dst])
        if b[0] != want or r[0] != want:
            bad.append('mode %o: buri-vector rc=%d, refimpl rc=%d, want %d' % (mode, b[0], r[0], want))
    tap.result(not bad, 'private key file mode: 0600/0400 accepted, any group/other bit refused',
               bad)
    os.chmod(dst, 0o600)


def t_vectors(tap, run, tmp, vecs, path):
    # 1. the reference still generates exactly this file
    gen = os.path.join(tmp, 'gen')
    r = run.one([sys.executable, ARGS.ref, 'gen', gen])
    same = r[0] == 0 and open(os.path.join(gen, 'vectors.txt')).read() == open(path).read()
    tap.result(same, 'refimpl gen reproduces %s exactly' % os.path.relpath(path), [r[2]])
    # 2. buri-vector reproduces every vector it can compute
    keys = {}
    vdir = os.path.dirname(os.path.abspath(ARGS.ref))
    for name in ('test-node-2048.pem', 'test-mediator-3072.pem'):
        dst = os.path.join(tmp, 'v-' + name)
        shutil.copyfile(os.path.join(vdir, name), dst)
        os.chmod(dst, 0o600)
        keys[REF.kfp(REF.spki_der_from_pem(dst)).hex()] = dst
    jobs = []   # (description, argv, expected stdout)
    for sec, kv in vecs.items():
        if {'secret', 'ni', 'nr', 'nbytes', 'keymat'} <= kv.keys():
            jobs.append(('[%s] keymat' % sec, ('keymat', kv['secret'], kv['ni'], kv['nr'], kv['nbytes']), kv['keymat']))
            km = bytes.fromhex(kv['keymat'])
            for k, (a, b) in (('ke_ir', (0, 32)), ('ka_ir', (32, 52)), ('ke_ri', (52, 84)), ('ka_ri', (84, 104))):
                if k in kv and kv[k] != km[a:b].hex():
                    jobs.append(('[%s] %s is KEYMAT[%d:%d]' % (sec, k, a, b), None, None))
        if {'ke', 'ka', 'iv', 'msgid', 'payload', 'packet', 'spi'} <= kv.keys():
            jobs.append(('[%s] seal-udp' % sec, ('seal-udp', kv['ke'], kv['ka'], kv['iv'], kv['spi'], kv['msgid'],
                                                 kv['payload']), kv['packet']))
            jobs.append(('[%s] open-udp' % sec, ('open-udp', kv['ke'], kv['ka'], kv['packet']), kv['payload']))
        if {'ke', 'ka', 'iv', 'msgid', 'payload', 'frame'} <= kv.keys():
            jobs.append(('[%s] seal-tcp' % sec, ('seal-tcp', kv['ke'], kv['ka'], kv['iv'], kv['msgid'],
                                                 kv['payload']), kv['frame']))
            jobs.append(('[%s] open-tcp' % sec, ('open-tcp', kv['ke'], kv['ka'], kv['frame']), kv['payload']))
        if {'signer_kfp', 'signed', 'signature'} <= kv.keys():
            jobs.append(('[%s] sign' % sec, ('sign', keys.get(kv['signer_kfp'], 'no-such-key'), kv['signed']),
                         kv['signature']))
    runnable = [j for j in jobs if j[1] is not None]
    outs = run.bv_many([j[1] for j in runnable])
    bad = [j[0] + ': inconsistent in vectors.txt' for j in jobs if j[1] is None]
    for (what, argv, want), (rc, out, err) in zip(runnable, outs):
        if rc != 0 or out != want:
            bad.append('%s: rc=%d %s got %s... want %s...' % (what, rc, err, out[:40], want[:40]))
    tap.result(not bad and len(runnable) >= 10, 'buri-vector reproduces the %d computable values of vectors.txt'
               % len(runnable), bad)
    # 3. the reference verifies the signatures with the published public keys, and the DH values
    bad = []
    try:
        spk = {'node': bytes.fromhex(vecs['keys']['node_spki']), 'mediator': bytes.fromhex(vecs['keys']['mediator_spki'])}
        by_kfp = {REF.kfp(v).hex(): v for v in spk.values()}
        for sec, kv in vecs.items():
            if 'signature' in kv:
                REF.rsa_verify(by_kfp[kv['signer_kfp']], bytes.fromhex(kv['signed']), bytes.fromhex(kv['signature']))
        for sec in ('login-dh', 'tunnel-dh'):
            kv = vecs[sec]
            xi, xr = int(kv['xi'], 16), int(kv['xr'], 16)
            if REF.dh_public(xi).hex() != kv['gi'] or REF.dh_public(xr).hex() != kv['gr']:
                bad.append('[%s] G values' % sec)
            if REF.dh_secret(xi, bytes.fromhex(kv['gr'])).hex() != kv['k'] or \
               REF.dh_secret(xr, bytes.fromhex(kv['gi'])).hex() != kv['k']:
                bad.append('[%s] K' % sec)
    except Exception as e:  # noqa: BLE001 - any failure is a test failure
        bad.append('%s: %s' % (type(e).__name__, e))
    tap.result(not bad, 'vectors.txt signatures verify with the published SPKIs; DH values recompute', bad)


def t_sign(tap, run, rng, tmp):
    vdir = os.path.dirname(os.path.abspath(ARGS.ref))
    bad = []
    for name in ('test-node-2048.pem', 'test-mediator-3072.pem'):
        dst = os.path.join(tmp, 's-' + name)
        shutil.copyfile(os.path.join(vdir, name), dst)
        os.chmod(dst, 0o600)
        for n in (0, 1, 768, 769, rng.randint(2, 2000)):
            data = rbytes(rng, n)
            b = run.bv('sign', dst, data.hex())
            want = REF.rsa_sign(dst, data).hex()
            if b[0] != 0 or b[1] != want:
                bad.append('%s %d bytes: rc=%d %s' % (name, n, b[0], b[2]))
    tap.result(not bad, 'sign: buri-vector signatures equal the reference (PKCS#1 v1.5, SHA-1)', bad)


def t_dh_prime(tap):
    doc = os.path.join(os.path.dirname(os.path.abspath(ARGS.ref)), '..', '..', 'docs', 'PROTOCOL.md')
    if not os.path.exists(doc):
        tap.result(False, 'docs/PROTOCOL.md not found next to refimpl.py', [doc])
        return
    probs = REF.check_doc(doc, ARGS.vectors)
    prime = [p for p in probs if p.startswith('section 4')]
    tap.result(not prime, 'PROTOCOL.md section 4 prime equals the RFC 3526 formula', prime)
    rest = [p for p in probs if not p.startswith('section 4')]
    tap.result(not rest, 'PROTOCOL.md section 12 holds exactly the values of vectors.txt', rest)


def main():
    global REF, ARGS
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, '..', '..'))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--vector', default=os.path.join(root, 'build', 'tools', 'buri-vector'))
    ap.add_argument('--ref', default=os.path.join(root, 'tests', 'vectors', 'refimpl.py'))
    ap.add_argument('--vectors', default=None, help='vectors.txt (default: next to --ref)')
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--iterations', type=int, default=40)
    ap.add_argument('--jobs', type=int, default=max(2, min(8, (os.cpu_count() or 2) * 2)))
    ARGS = ap.parse_args()
    if ARGS.seed is None:
        ARGS.seed = int(time.time())
    if ARGS.vectors is None:
        ARGS.vectors = os.path.join(os.path.dirname(os.path.abspath(ARGS.ref)), 'vectors.txt')
    tap = Tap()
    t0 = time.time()
    tap.diag('buri-vector: %s' % ARGS.vector)
    tap.diag('refimpl:     %s' % ARGS.ref)
    tap.diag('seed %d, iterations %d (rerun with --seed %d)' % (ARGS.seed, ARGS.iterations, ARGS.seed))
    if not os.access(ARGS.vector, os.X_OK):
        tap.result(False, 'buri-vector is executable', ['not found: %s' % ARGS.vector])
        return tap.finish()
    REF = load_ref(ARGS.ref)
    run = Runner(ARGS.vector, ARGS.jobs)
    rng = random.Random(ARGS.seed)
    with open(ARGS.vectors, encoding='utf-8') as f:
        vecs = REF.parse_vectors(f.read())
    with tempfile.TemporaryDirectory(prefix='buri-interop-') as tmp:
        steps = [
            (t_cli, (tap, run, ARGS, tmp)),
            (t_keymat, (tap, run, rng, ARGS.iterations)),
            (t_seal_random, (tap, run, rng, ARGS.iterations, 'udp')),
            (t_seal_random, (tap, run, rng, ARGS.iterations, 'tcp')),
            (t_large, (tap, run, rng)),
            (t_tamper, (tap, run, rng, 'udp')),
            (t_tamper, (tap, run, rng, 'tcp')),
            (t_bad_padding, (tap, run, rng)),
            (t_header_checks, (tap, run, rng)),
            (t_usage, (tap, run, rng)),
            (t_fingerprints, (tap, run, tmp, vecs)),
            (t_sign, (tap, run, rng, tmp)),
            (t_vectors, (tap, run, tmp, vecs, ARGS.vectors)),
            (t_dh_prime, (tap,)),
        ]
        for fn, fargs in steps:
            t1 = time.time()
            fn(*fargs)
            tap.diag('%s: %.1f s' % (fn.__name__, time.time() - t1))
    run.pool.shutdown()
    tap.diag('%d processes spawned, %.1f s' % (run.spawned, time.time() - t0))
    return tap.finish()


REF = None
ARGS = None

if __name__ == '__main__':
    sys.exit(main())
