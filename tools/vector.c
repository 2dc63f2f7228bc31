/* SPDX-License-Identifier: MIT */
/*
 * buri-vector: suite-1 computations on the command line, for interop checks by independent
 * implementations. Every argument is hex (or a decimal / 0x-hex number); output is one line
 * of lowercase hex. Exit status: 0 success, 1 the operation failed (bad MAC, bad padding,
 * short packet, ...), 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/keyfile.h"
#include "common/keymat.h"
#include "common/pkt.h"
#include "common/pubkey.h"

enum { EXIT_FAILED = 1, EXIT_USAGE = 2 };

struct cmd {
	const char *name;
	int argc;
	const char *usage;
	int (*run)(struct crypto *c, char **argv);
};

/* Heap copy of the bytes of a hex argument; exits with a usage error if it is not hex. */
static uint8_t *
hex_arg(const char *what, const char *s, size_t *len)
{
	size_t slen = strlen(s);
	uint8_t *p = malloc(slen / 2 + 1);

	if (p == NULL) {
		fprintf(stderr, "buri-vector: out of memory\n");
		exit(EXIT_FAILED);
	}
	if (hex_decode(s, slen, p, slen / 2 + 1, len) != 0) {
		fprintf(stderr, "buri-vector: %s: not a hex string\n", what);
		exit(EXIT_USAGE);
	}
	return p;
}

/* A hex argument that must be exactly n bytes long, copied into out. */
static void
hex_fixed(const char *what, const char *s, uint8_t *out, size_t n)
{
	size_t len;
	uint8_t *p = hex_arg(what, s, &len);

	if (len != n) {
		fprintf(stderr, "buri-vector: %s: need %zu bytes, got %zu\n", what, n, len);
		exit(EXIT_USAGE);
	}
	memcpy(out, p, n);
	wipe(p, len);
	free(p);
}

static unsigned long long
num_arg(const char *what, const char *s, unsigned long long max)
{
	int base = strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0 ? 16 : 10;
	const char *digits = base == 16 ? s + 2 : s;
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(digits, &end, base);
	if (*digits == '\0' || *digits == '-' || *digits == '+' || *end != '\0' || errno != 0 ||
	    v > max) {
		fprintf(stderr,
			"buri-vector: %s: need a number from 0 to %llu (decimal or 0x-hex)\n", what,
			max);
		exit(EXIT_USAGE);
	}
	return v;
}

static int
print_hex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (s == NULL)
		return E_NOMEM;
	hex_encode(p, n, s);
	printf("%s\n", s);
	free(s);
	return 0;
}

static void
keys_arg(char **argv, struct dirkey *k)
{
	hex_fixed("KE", argv[0], k->ke, sizeof(k->ke));
	hex_fixed("KA", argv[1], k->ka, sizeof(k->ka));
}

static int
cmd_keymat(struct crypto *c, char **argv)
{
	size_t klen, nilen, nrlen, n = num_arg("NBYTES", argv[3], KEYMAT_MAX);
	uint8_t *k = hex_arg("SECRET", argv[0], &klen), *ni = hex_arg("NI", argv[1], &nilen);
	uint8_t *nr = hex_arg("NR", argv[2], &nrlen), *out = malloc(n + 1);
	int r = E_NOMEM;

	if (out != NULL && (r = keymat_expand(c, k, klen, ni, nilen, nr, nrlen, out, n)) == 0)
		r = print_hex(out, n);
	wipe(k, klen);
	free(k);
	free(ni);
	free(nr);
	if (out != NULL)
		wipe(out, n);
	free(out);
	return r;
}

/* seal-udp and seal-tcp: argv = KE KA IV [SPI] MSGID PAYLOAD */
static int
seal(struct crypto *c, char **argv, int udp)
{
	struct dirkey k;
	uint8_t iv[WIRE_IV_LEN];
	uint32_t spi = udp ? (uint32_t)num_arg("SPI", argv[3], UINT32_MAX) : 0;
	uint32_t msgid = (uint32_t)num_arg("MSGID", argv[udp ? 4 : 3], UINT32_MAX);
	size_t plen, outlen;
	uint8_t *payload = hex_arg("PAYLOAD", argv[udp ? 5 : 4], &plen);
	uint8_t *out = malloc(pkt_sealed_len(plen));
	int r = E_NOMEM;

	keys_arg(argv, &k);
	hex_fixed("IV", argv[2], iv, sizeof(iv));
	/* The library's codes are right but terse; say what the protocol means here. */
	if (udp && spi == WIRE_SPI_CONTROL)
		fprintf(stderr, "buri-vector: SPI 0 marks a control packet; a data packet needs "
				"a non-zero SPI\n");
	if (msgid == 0)
		fprintf(stderr, "buri-vector: message ID 0 is never valid (IDs start at 1)\n");
	if (out != NULL) {
		r = udp ? pkt_seal_udp(c, &k, spi, msgid, iv, payload, plen, out,
				       pkt_sealed_len(plen), &outlen)
			: pkt_seal_tcp(c, &k, msgid, iv, payload, plen, out, pkt_sealed_len(plen),
				       &outlen);
		if (r == 0)
			r = print_hex(out, outlen);
	}
	wipe(&k, sizeof(k));
	free(payload);
	free(out);
	return r;
}

static int
cmd_seal_udp(struct crypto *c, char **argv)
{
	return seal(c, argv, 1);
}

static int
cmd_seal_tcp(struct crypto *c, char **argv)
{
	return seal(c, argv, 0);
}

/* open-udp and open-tcp: argv = KE KA PACKET */
static int
open_sealed(struct crypto *c, char **argv, int udp)
{
	struct dirkey k;
	struct pkt_hdr hdr;
	size_t len, outlen;
	uint8_t *pkt = hex_arg("PACKET", argv[2], &len);
	uint8_t *out = malloc(pkt_open_cap(len) + 1);
	int r = E_NOMEM;

	keys_arg(argv, &k);
	if (out != NULL) {
		r = udp ? pkt_open_udp(c, &k, pkt, len, &hdr, out, pkt_open_cap(len), &outlen)
			: pkt_open_tcp(c, &k, pkt, len, &hdr, out, pkt_open_cap(len), &outlen);
		if (r == 0)
			r = print_hex(out, outlen);
	}
	wipe(&k, sizeof(k));
	free(pkt);
	free(out);
	return r;
}

static int
cmd_open_udp(struct crypto *c, char **argv)
{
	return open_sealed(c, argv, 1);
}

static int
cmd_open_tcp(struct crypto *c, char **argv)
{
	return open_sealed(c, argv, 0);
}

static int
cmd_fingerprint(struct crypto *c, char **argv)
{
	uint8_t fp[WIRE_KFP_LEN];
	char s[PUBKEY_FP_STR_LEN];
	struct pubkey *k = NULL;
	int r;

	(void)c;
	/* A public key file, or else a private key file (whose permissions are then checked). */
	if ((r = keyfile_load(argv[0], false, &k)) != 0 &&
	    (r = keyfile_load(argv[0], true, &k)) != 0)
		return r;
	if ((r = pubkey_fingerprint(k, fp)) == 0) {
		pubkey_fingerprint_str(fp, s);
		printf("%s\n", s);
	}
	pubkey_free(k);
	return r;
}

static int
cmd_sign(struct crypto *c, char **argv)
{
	struct pubkey *k = NULL;
	uint8_t sig[WIRE_SIG_MAX];
	size_t len, siglen;
	uint8_t *data = hex_arg("DATA", argv[1], &len);
	struct span part = {data, len};
	int r;

	(void)c;
	if ((r = keyfile_load(argv[0], true, &k)) == 0 &&
	    (r = pubkey_sign(k, &part, 1, sig, sizeof(sig), &siglen)) == 0)
		r = print_hex(sig, siglen);
	pubkey_free(k);
	free(data);
	return r;
}

static const struct cmd cmds[] = {
	{"keymat", 4, "SECRET_HEX NI_HEX NR_HEX NBYTES", cmd_keymat},
	{"seal-udp", 6, "KE_HEX KA_HEX IV_HEX SPI MSGID PAYLOAD_HEX", cmd_seal_udp},
	{"open-udp", 3, "KE_HEX KA_HEX PACKET_HEX", cmd_open_udp},
	{"seal-tcp", 5, "KE_HEX KA_HEX IV_HEX MSGID PAYLOAD_HEX", cmd_seal_tcp},
	{"open-tcp", 3, "KE_HEX KA_HEX FRAME_HEX", cmd_open_tcp},
	{"fingerprint", 1, "KEYFILE.pem", cmd_fingerprint},
	{"sign", 2, "PRIVATE_KEYFILE.pem DATA_HEX", cmd_sign},
};

static int
usage(FILE *f)
{
	fprintf(f, "usage: buri-vector COMMAND ARGS...\n");
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "  buri-vector %s %s\n", cmds[i].name, cmds[i].usage);
	fprintf(f, "Hex in, one line of lowercase hex out. SPI and MSGID: decimal or 0x-hex.\n"
		   "Exit status 1 if the operation fails, 2 on a usage error.\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	struct crypto *c;
	int r;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return usage(stdout);
	for (size_t i = 0; argc >= 2 && i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		if (argc - 2 != cmds[i].argc) {
			fprintf(stderr, "usage: buri-vector %s %s\n", cmds[i].name, cmds[i].usage);
			return EXIT_USAGE;
		}
		if ((c = crypto_new()) == NULL) {
			fprintf(stderr, "buri-vector: OpenSSL cannot provide suite 1\n");
			return EXIT_FAILED;
		}
		r = cmds[i].run(c, argv + 2);
		crypto_free(c);
		if (r != 0) {
			fprintf(stderr, "buri-vector: %s: %s\n", cmds[i].name, err_str(r));
			return EXIT_FAILED;
		}
		return 0;
	}
	return usage(stderr);
}
