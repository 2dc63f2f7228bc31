/* SPDX-License-Identifier: MIT */
/*
 * The test vectors of docs/PROTOCOL.md section 12, from tests/vectors/vectors.txt (written by
 * the independent tests/vectors/refimpl.py), reproduced with common/: every KEYMAT, DH value,
 * signature, message body, cleartext frame, tunnel control packet and sealed message.
 *   test_vectors VECTORS_DIR
 */
#include <openssl/bn.h>

#include "common/dh.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/hex.h"
#include "common/pkt.h"
#include "common/pubkey.h"
#include "common/sigdata.h"
#include "test.h"

TEST_DEFINE_STATE;

enum { MAX_ENTRIES = 256, MAX_VALUE = 4096 };

struct entry {
	char section[48];
	char key[32];
	uint8_t *value; /* decoded hex, or NULL for decimal values */
	size_t len;
	unsigned long long number;
};

static struct entry entries[MAX_ENTRIES];
static size_t n_entries;
static char vectors_dir[1024];

static const struct entry *
find(const char *section, const char *key)
{
	for (size_t i = 0; i < n_entries; i++)
		if (strcmp(entries[i].section, section) == 0 && strcmp(entries[i].key, key) == 0)
			return &entries[i];
	return NULL;
}

/* The bytes of section.key; the test fails (and an empty span is returned) if it is absent. */
static struct span
bytes(const char *section, const char *key)
{
	const struct entry *e = find(section, key);

	if (e == NULL || e->value == NULL) {
		printf("# missing hex value [%s] %s\n", section, key);
		test_state.failed_here = 1;
		return (struct span){(const uint8_t *)"", 0};
	}
	return (struct span){e->value, e->len};
}

static unsigned long long
number(const char *section, const char *key)
{
	const struct entry *e = find(section, key);

	if (e == NULL || e->value != NULL) {
		printf("# missing number [%s] %s\n", section, key);
		test_state.failed_here = 1;
		return 0;
	}
	return e->number;
}

static int
add_entry(const char *section, char *line)
{
	static const char *const decimal[] = {"nbytes", "identity", "spi", "spi_i",
					      "spi_r",	"msgid",    "tag"};
	struct entry *e = &entries[n_entries];
	char *eq = strstr(line, " ="), *val;

	if (eq == NULL || n_entries == MAX_ENTRIES || (size_t)(eq - line) >= sizeof(e->key) ||
	    strlen(section) >= sizeof(e->section))
		return -1;
	*eq = '\0';
	val = eq + 2 + (eq[2] == ' '); /* "key = value", or "key =" for an empty value */
	val[strcspn(val, "\r\n")] = '\0';
	memcpy(e->section, section, strlen(section) + 1);
	memcpy(e->key, line, strlen(line) + 1);
	for (size_t i = 0; i < ARRAY_SIZE(decimal); i++)
		if (strcmp(line, decimal[i]) == 0) {
			e->number = strtoull(val, NULL, 10);
			n_entries++;
			return 0;
		}
	if ((e->value = malloc(strlen(val) / 2 + 1)) == NULL ||
	    hex_decode(val, strlen(val), e->value, strlen(val) / 2 + 1, &e->len) != 0)
		return -1;
	n_entries++;
	return 0;
}

static int
load_vectors(void)
{
	static char line[2 * MAX_VALUE + 64];
	char path[1200], section[48] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/vectors.txt", vectors_dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (line[0] == '[') {
			line[strcspn(line, "]")] = '\0';
			if (strlen(line + 1) >= sizeof(section))
				break;
			memcpy(section, line + 1, strlen(line + 1) + 1);
			continue;
		}
		if (add_entry(section, line) != 0) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

static bool
span_eq(struct span a, const uint8_t *b, size_t blen)
{
	return a.len == blen && memcmp(a.p, b, blen) == 0;
}

#define ASSERT_SPAN_EQ(want, got, gotlen)                                                          \
	do {                                                                                       \
		if (!span_eq((want), (got), (gotlen))) {                                           \
			test_fail(__FILE__, __LINE__, "bytes differ from the vector");             \
			test_hexdump("got", (got), (gotlen));                                      \
			test_hexdump("want", (want).p, (want).len);                                \
		}                                                                                  \
	} while (0)

static struct pubkey *
load_test_key(const char *name)
{
	char path[1200], pem[PUBKEY_PEM_MAX];
	size_t n;
	FILE *f;

	/* Read directly: a checked-out test key is mode 0644, which keyfile_load() refuses. */
	snprintf(path, sizeof(path), "%s/%s", vectors_dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(pem, 1, sizeof(pem), f);
	fclose(f);
	return pubkey_from_pem(pem, n, true);
}

static struct pubkey *node_key, *mediator_key;

static void
test_keys(void)
{
	uint8_t der[WIRE_PUBKEY_MAX], fp[WIRE_KFP_LEN];
	size_t len;

	TEST_START("[keys] test keys: DER SubjectPublicKeyInfo and fingerprints");
	ASSERT_TRUE(node_key != NULL && mediator_key != NULL);
	if (node_key == NULL || mediator_key == NULL) {
		TEST_DONE();
		return;
	}
	ASSERT_INT_EQ(pubkey_to_der(node_key, der, sizeof(der), &len), 0);
	ASSERT_SPAN_EQ(bytes("keys", "node_spki"), der, len);
	ASSERT_INT_EQ(pubkey_fingerprint(node_key, fp), 0);
	ASSERT_SPAN_EQ(bytes("keys", "node_kfp"), fp, sizeof(fp));
	ASSERT_INT_EQ(pubkey_to_der(mediator_key, der, sizeof(der), &len), 0);
	ASSERT_SPAN_EQ(bytes("keys", "mediator_spki"), der, len);
	ASSERT_INT_EQ(pubkey_fingerprint(mediator_key, fp), 0);
	ASSERT_SPAN_EQ(bytes("keys", "mediator_kfp"), fp, sizeof(fp));
	TEST_DONE();
}

static void
test_keymat(const char *section, struct crypto *c)
{
	static uint8_t out[KEYMAT_MAX];
	struct span k = bytes(section, "secret"), ni = bytes(section, "ni"),
		    nr = bytes(section, "nr");
	size_t n = (size_t)number(section, "nbytes");
	struct session_keys s;
	char name[96];

	snprintf(name, sizeof(name), "[%s] KEYMAT expansion", section);
	TEST_START(name);
	ASSERT_TRUE(n <= sizeof(out));
	ASSERT_INT_EQ(keymat_expand(c, k.p, k.len, ni.p, ni.len, nr.p, nr.len, out, n), 0);
	ASSERT_SPAN_EQ(bytes(section, "keymat"), out, n);
	if (find(section, "ke_ir") != NULL) {
		ASSERT_TRUE(k.len == WIRE_DH_LEN && ni.len == WIRE_NONCE_LEN);
		ASSERT_INT_EQ(keymat_session(c, k.p, ni.p, nr.p, &s), 0);
		ASSERT_SPAN_EQ(bytes(section, "ke_ir"), s.i2r.ke, sizeof(s.i2r.ke));
		ASSERT_SPAN_EQ(bytes(section, "ka_ir"), s.i2r.ka, sizeof(s.i2r.ka));
		ASSERT_SPAN_EQ(bytes(section, "ke_ri"), s.r2i.ke, sizeof(s.r2i.ke));
		ASSERT_SPAN_EQ(bytes(section, "ka_ri"), s.r2i.ka, sizeof(s.r2i.ka));
	}
	TEST_DONE();
}

/* g^x mod p and y^x mod p with BIGNUMs and our prime: the values are consistent and in range. */
static void
test_dh(const char *section)
{
	struct span xi = bytes(section, "xi"), xr = bytes(section, "xr");
	BIGNUM *p = BN_bin2bn(dh_modp2048_p, WIRE_DH_LEN, NULL), *g = BN_new();
	BIGNUM *bxi = BN_bin2bn(xi.p, (int)xi.len, NULL), *bxr = BN_bin2bn(xr.p, (int)xr.len, NULL);
	BIGNUM *gi = BN_new(), *gr = BN_new(), *k1 = BN_new(), *k2 = BN_new();
	BN_CTX *ctx = BN_CTX_new();
	uint8_t out[WIRE_DH_LEN];
	char name[96];

	snprintf(name, sizeof(name), "[%s] Gi = 2^xi, Gr = 2^xr, K = Gr^xi = Gi^xr mod p", section);
	TEST_START(name);
	ASSERT_TRUE(BN_set_word(g, 2) && BN_mod_exp(gi, g, bxi, p, ctx) &&
		    BN_mod_exp(gr, g, bxr, p, ctx) && BN_mod_exp(k1, gr, bxi, p, ctx) &&
		    BN_mod_exp(k2, gi, bxr, p, ctx));
	ASSERT_TRUE(BN_bn2binpad(gi, out, sizeof(out)) == WIRE_DH_LEN);
	ASSERT_SPAN_EQ(bytes(section, "gi"), out, sizeof(out));
	ASSERT_INT_EQ(dh_check_public(out), 0);
	ASSERT_TRUE(BN_bn2binpad(gr, out, sizeof(out)) == WIRE_DH_LEN);
	ASSERT_SPAN_EQ(bytes(section, "gr"), out, sizeof(out));
	ASSERT_INT_EQ(dh_check_public(out), 0);
	ASSERT_TRUE(BN_cmp(k1, k2) == 0);
	ASSERT_TRUE(BN_bn2binpad(k1, out, sizeof(out)) == WIRE_DH_LEN);
	ASSERT_SPAN_EQ(bytes(section, "k"), out, sizeof(out));
	TEST_DONE();
	BN_free(p);
	BN_free(g);
	BN_free(bxi);
	BN_free(bxr);
	BN_free(gi);
	BN_free(gr);
	BN_free(k1);
	BN_free(k2);
	BN_CTX_free(ctx);
}

static void
test_clear_frames(void)
{
	uint8_t frame[1100];
	struct msg m;
	size_t len;

	TEST_START("[login-helo] [login-helo-ok] HELO and HELO OK from the login values");
	memset(&m, 0, sizeof(m));
	m.type = MSG_HELO;
	m.u.helo.suite = WIRE_SUITE_1;
	memcpy(m.u.helo.kfp, bytes("keys", "mediator_kfp").p, WIRE_KFP_LEN);
	memcpy(m.u.helo.ni, bytes("login-helo", "ni").p, WIRE_NONCE_LEN);
	memcpy(m.u.helo.gi, bytes("login-dh", "gi").p, WIRE_DH_LEN);
	ASSERT_INT_EQ(frame_clear_encode(MSG_CH_CLEAR_C2S, &m, frame, sizeof(frame), &len), 0);
	ASSERT_SPAN_EQ(bytes("login-helo", "frame"), frame, len);
	ASSERT_SPAN_EQ(bytes("login-helo", "body"), frame + 8, len - 8);
	memset(&m, 0, sizeof(m));
	m.type = MSG_HELO_OK;
	memcpy(m.u.helo_ok.nr, bytes("login-helo-ok", "nr").p, WIRE_NONCE_LEN);
	memcpy(m.u.helo_ok.gr, bytes("login-dh", "gr").p, WIRE_DH_LEN);
	ASSERT_INT_EQ(frame_clear_encode(MSG_CH_CLEAR_S2C, &m, frame, sizeof(frame), &len), 0);
	ASSERT_SPAN_EQ(bytes("login-helo-ok", "frame"), frame, len);
	TEST_DONE();
}

/* The signed bytes from the handshake values, the signature by the right test key, and the
 * message body carrying it. kind decides the sigdata layout; type the message. */
static void
test_signed(const char *section, enum sigdata_kind kind, const struct handshake_values *v,
	    uint16_t type, unsigned int channel)
{
	struct span want_signed = bytes(section, "signed"), kfp = bytes(section, "signer_kfp");
	struct pubkey *signer = NULL;
	struct span parts[SIGDATA_MAX_PARTS];
	uint8_t joined[1024], sig[WIRE_SIG_MAX], body[1024], fp[WIRE_KFP_LEN];
	size_t n = sigdata_parts(kind, v, parts), off = 0, siglen, len;
	struct msg m;
	char name[96];

	snprintf(name, sizeof(name), "[%s] signed bytes, signature and body", section);
	TEST_START(name);
	for (size_t i = 0; i < n && off + parts[i].len <= sizeof(joined); i++) {
		memcpy(joined + off, parts[i].p, parts[i].len);
		off += parts[i].len;
	}
	ASSERT_SPAN_EQ(want_signed, joined, off);
	if (pubkey_fingerprint(node_key, fp) == 0 && span_eq(kfp, fp, sizeof(fp)))
		signer = node_key;
	else if (pubkey_fingerprint(mediator_key, fp) == 0 && span_eq(kfp, fp, sizeof(fp)))
		signer = mediator_key;
	ASSERT_TRUE(signer != NULL);
	if (signer == NULL) {
		TEST_DONE();
		return;
	}
	ASSERT_INT_EQ(pubkey_sign(signer, parts, n, sig, sizeof(sig), &siglen), 0);
	ASSERT_SPAN_EQ(bytes(section, "signature"), sig, siglen);
	ASSERT_INT_EQ(pubkey_verify(signer, parts, n, sig, siglen), 0);
	memset(&m, 0, sizeof(m));
	m.type = type;
	if (type == MSG_AUTH || type == MSG_AUTH_OK) {
		m.u.auth.identity = (uint32_t)number(section, "identity");
		m.u.auth.sig = (struct span){sig, siglen};
	} else {
		memcpy(m.u.ke.nonce, type == MSG_KE2 ? v->nr : v->ni, WIRE_NONCE_LEN);
		memcpy(m.u.ke.dh, type == MSG_KE2 ? v->gr : v->gi, WIRE_DH_LEN);
		m.u.ke.sig = (struct span){sig, siglen};
	}
	ASSERT_INT_EQ(msg_encode(channel, &m, body, sizeof(body), &len), 0);
	ASSERT_SPAN_EQ(bytes(section, "body"), body, len);
	TEST_DONE();
}

static void
test_login(void)
{
	struct handshake_values v = {
		.suite = WIRE_SUITE_1,
		.ni = bytes("login-helo", "ni").p,
		.nr = bytes("login-helo-ok", "nr").p,
		.gi = bytes("login-dh", "gi").p,
		.gr = bytes("login-dh", "gr").p,
	};

	test_signed("login-auth", SIGDATA_AUTH, &v, MSG_AUTH, MSG_CH_SESSION_C2S);
	test_signed("login-auth-ok", SIGDATA_AUTH_OK, &v, MSG_AUTH_OK, MSG_CH_SESSION_S2C);
}

/* A tunnel control packet from the exchange's values. */
static void
test_tunnel(void)
{
	struct handshake_values v = {
		.suite = WIRE_SUITE_1,
		.ni = bytes("tunnel-ke1", "ni").p,
		.nr = bytes("tunnel-ke2", "nr").p,
		.gi = bytes("tunnel-dh", "gi").p,
		.gr = bytes("tunnel-dh", "gr").p,
	};
	uint32_t spi_i = (uint32_t)number("tunnel-dh", "spi_i");
	uint32_t spi_r = (uint32_t)number("tunnel-dh", "spi_r");
	struct tunnel_ctl t, back;
	uint8_t pkt[WIRE_TUNNEL_CTL_MAX];
	size_t len;

	TEST_START("[tunnel-ke1] KE1 packet: initiator (lower SPI) to responder");
	ASSERT_TRUE(spi_i < spi_r);
	memset(&t, 0, sizeof(t));
	t.dst_spi = spi_r;
	t.src_spi = spi_i;
	t.msg.type = MSG_KE1;
	memcpy(t.msg.u.ke.nonce, v.ni, WIRE_NONCE_LEN);
	memcpy(t.msg.u.ke.dh, v.gi, WIRE_DH_LEN);
	ASSERT_INT_EQ(tunnel_ctl_encode(&t, pkt, sizeof(pkt), &len), 0);
	ASSERT_SPAN_EQ(bytes("tunnel-ke1", "packet"), pkt, len);
	ASSERT_SPAN_EQ(bytes("tunnel-ke1", "body"), pkt + 12, len - 12);
	TEST_DONE();

	test_signed("tunnel-ke2", SIGDATA_KE2, &v, MSG_KE2, MSG_CH_TUNNEL);
	test_signed("tunnel-ke3", SIGDATA_KE3, &v, MSG_KE3, MSG_CH_TUNNEL);

	TEST_START("[tunnel-ke2] [tunnel-ke3] packets decode with the SPIs of each direction");
	ASSERT_INT_EQ(tunnel_ctl_decode(bytes("tunnel-ke2", "packet").p,
					bytes("tunnel-ke2", "packet").len, &back),
		      0);
	ASSERT_TRUE(back.dst_spi == spi_i && back.src_spi == spi_r && back.msg.type == MSG_KE2);
	ASSERT_INT_EQ(tunnel_ctl_decode(bytes("tunnel-ke3", "packet").p,
					bytes("tunnel-ke3", "packet").len, &back),
		      0);
	ASSERT_TRUE(back.dst_spi == spi_r && back.src_spi == spi_i && back.msg.type == MSG_KE3);
	TEST_DONE();
}

/* A sealed message: seal reproduces it, open gives the payload back. */
static void
test_sealed(const char *section, const char *what, struct crypto *c)
{
	struct span ke = bytes(section, "ke"), ka = bytes(section, "ka"), iv = bytes(section, "iv");
	struct span payload = bytes(section, "payload"), sealed = bytes(section, what);
	uint32_t msgid = (uint32_t)number(section, "msgid");
	bool udp = strcmp(what, "packet") == 0;
	static uint8_t out[70000], back[70000];
	struct pkt_hdr h;
	struct dirkey k;
	size_t len = 0, got = 0;
	char name[96];

	snprintf(name, sizeof(name), "[%s] seal reproduces the %s, open returns the payload",
		 section, udp ? "UDP packet" : "TCP frame");
	TEST_START(name);
	ASSERT_TRUE(ke.len == sizeof(k.ke) && ka.len == sizeof(k.ka) && iv.len == WIRE_IV_LEN);
	if (ke.len != sizeof(k.ke) || ka.len != sizeof(k.ka) || iv.len != WIRE_IV_LEN) {
		TEST_DONE();
		return;
	}
	memcpy(k.ke, ke.p, sizeof(k.ke));
	memcpy(k.ka, ka.p, sizeof(k.ka));
	if (udp)
		ASSERT_INT_EQ(pkt_seal_udp(c, &k, (uint32_t)number(section, "spi"), msgid, iv.p,
					   payload.p, payload.len, out, sizeof(out), &len),
			      0);
	else
		ASSERT_INT_EQ(pkt_seal_tcp(c, &k, msgid, iv.p, payload.p, payload.len, out,
					   sizeof(out), &len),
			      0);
	ASSERT_SPAN_EQ(sealed, out, len);
	ASSERT_INT_EQ(udp ? pkt_open_udp(c, &k, sealed.p, sealed.len, &h, back, sizeof(back), &got)
			  : pkt_open_tcp(c, &k, sealed.p, sealed.len, &h, back, sizeof(back), &got),
		      0);
	ASSERT_SPAN_EQ(payload, back, got);
	TEST_DONE();
}

int
main(int argc, char **argv)
{
	struct crypto *c = crypto_new();

	snprintf(vectors_dir, sizeof(vectors_dir), "%s", argc > 1 ? argv[1] : "tests/vectors");
	TEST_START("vectors.txt and the test keys load");
	ASSERT_INT_EQ(load_vectors(), 0);
	ASSERT_TRUE(n_entries > 50);
	node_key = load_test_key("test-node-2048.pem");
	mediator_key = load_test_key("test-mediator-3072.pem");
	ASSERT_TRUE(node_key != NULL && mediator_key != NULL && c != NULL);
	TEST_DONE();
	if (test_state.failed_total != 0 || c == NULL)
		return test_finish();

	test_keys();
	test_keymat("keymat-short", c);
	test_keymat("keymat-suite1", c);
	test_dh("login-dh");
	test_clear_frames();
	test_keymat("login-keys", c);
	test_login();
	test_sealed("login-auth-sealed", "frame", c);
	test_sealed("login-auth-ok-sealed", "frame", c);
	test_sealed("session-ping-sealed", "frame", c);
	test_sealed("udp-data", "packet", c);
	test_sealed("udp-dummy", "packet", c);
	test_dh("tunnel-dh");
	test_tunnel();
	test_keymat("tunnel-keys", c);
	test_sealed("tunnel-dummy", "packet", c);

	pubkey_free(node_key);
	pubkey_free(mediator_key);
	crypto_free(c);
	for (size_t i = 0; i < n_entries; i++)
		free(entries[i].value);
	return test_finish();
}
