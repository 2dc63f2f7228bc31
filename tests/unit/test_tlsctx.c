/* SPDX-License-Identifier: MIT */
/* TLS contexts: settings, the ephemeral certificate, handshakes and data both ways over a
 * socketpair (both ends non-blocking, driven in turn), certificate files, and the one-line
 * reasons for each way loading can fail. */
#include <fcntl.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/tlsctx.h"
#include "test.h"

TEST_DEFINE_STATE;

enum { XFER = 100000 }; /* bytes each way: several records and partial writes */

static char tmpdir[] = "/tmp/test_tlsctx.XXXXXX";
static char cert_path[64], key_path[64], other_key_path[64], other_rsa_path[64], garbage_path[64],
	enc_key_path[64], missing_path[64];

/* --- a pair of connected, non-blocking TLS ends ---------------------------------------- */

struct pair {
	SSL *c;
	SSL *s;
};

static bool
pair_open(struct pair *p, SSL_CTX *cctx, SSL_CTX *sctx)
{
	int sv[2];

	p->c = p->s = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
		return false;
	p->c = SSL_new(cctx);
	p->s = SSL_new(sctx);
	if (p->c == NULL || p->s == NULL || !SSL_set_fd(p->c, sv[0]) || !SSL_set_fd(p->s, sv[1])) {
		close(sv[0]);
		close(sv[1]);
		return false;
	}
	SSL_set_connect_state(p->c);
	SSL_set_accept_state(p->s);
	return true;
}

static void
pair_close(struct pair *p)
{
	if (p->c != NULL)
		close(SSL_get_fd(p->c));
	if (p->s != NULL)
		close(SSL_get_fd(p->s));
	SSL_free(p->c);
	SSL_free(p->s);
}

/* True if r (from an SSL call) only means "come back later". */
static bool
retry(SSL *ssl, int r)
{
	int e = SSL_get_error(ssl, r);

	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

static bool
handshake(struct pair *p)
{
	bool cdone = false, sdone = false;

	for (int i = 0; i < 1000 && !(cdone && sdone); i++) {
		int r;

		if (!cdone && !(cdone = (r = SSL_do_handshake(p->c)) == 1) && !retry(p->c, r))
			return false;
		if (!sdone && !(sdone = (r = SSL_do_handshake(p->s)) == 1) && !retry(p->s, r))
			return false;
	}
	return cdone && sdone;
}

/* Sends XFER random bytes from one end to the other, interleaving writes and reads so
 * neither blocks on a full socket buffer, and checks they arrive unchanged. */
static bool
transfer(SSL *from, SSL *to)
{
	static unsigned char out[XFER], in[XFER];
	size_t sent = 0, got = 0;

	if (RAND_bytes(out, sizeof(out)) != 1)
		return false;
	for (int i = 0; i < 100000 && got < XFER; i++) {
		int r;

		if (sent < XFER) {
			if ((r = SSL_write(from, out + sent, (int)(XFER - sent))) > 0)
				sent += (size_t)r;
			else if (!retry(from, r))
				return false;
		}
		if ((r = SSL_read(to, in + got, (int)(XFER - got))) > 0)
			got += (size_t)r;
		else if (!retry(to, r))
			return false;
	}
	return got == XFER && memcmp(in, out, XFER) == 0;
}

static bool
peer_cn_is(SSL *c, const char *want)
{
	X509 *x = SSL_get1_peer_certificate(c);
	char cn[128] = "";
	bool ok;

	ok = x != NULL &&
	     X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) >
		     0 &&
	     strcmp(cn, want) == 0;
	if (!ok)
		printf("# peer CN \"%s\", want \"%s\"\n", cn, want);
	X509_free(x);
	return ok;
}

/* --- files for the file-based server ---------------------------------------------------- */

static bool
write_pem(const char *path, EVP_PKEY *key, X509 *cert, const char *pass)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (f == NULL)
		return false;
	if (cert != NULL)
		ok = PEM_write_X509(f, cert) == 1;
	else if (pass != NULL)
		ok = PEM_write_PrivateKey(f, key, EVP_aes_256_cbc(), NULL, 0, NULL, (void *)pass) ==
		     1;
	else
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
	return fclose(f) == 0 && ok;
}

/* An RSA key and a self-signed certificate for CN "buri-test-file", made independently of
 * tlsctx.c so that the file path is tested with something the ephemeral code did not make. */
static X509 *
test_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);

	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"buri-test-file", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	if (X509_sign(x, key, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static bool
make_files(void)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *rsa2 = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256");
	X509 *cert = rsa != NULL ? test_cert(rsa) : NULL;
	FILE *f;
	bool ok;

	if (mkdtemp(tmpdir) == NULL)
		return false;
	snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", tmpdir);
	snprintf(key_path, sizeof(key_path), "%s/key.pem", tmpdir);
	snprintf(other_key_path, sizeof(other_key_path), "%s/other.pem", tmpdir);
	snprintf(other_rsa_path, sizeof(other_rsa_path), "%s/other-rsa.pem", tmpdir);
	snprintf(enc_key_path, sizeof(enc_key_path), "%s/encrypted.pem", tmpdir);
	snprintf(garbage_path, sizeof(garbage_path), "%s/garbage.pem", tmpdir);
	snprintf(missing_path, sizeof(missing_path), "%s/missing.pem", tmpdir);
	ok = cert != NULL && ec != NULL && rsa2 != NULL && write_pem(cert_path, NULL, cert, NULL) &&
	     write_pem(key_path, rsa, NULL, NULL) && write_pem(other_key_path, ec, NULL, NULL) &&
	     write_pem(other_rsa_path, rsa2, NULL, NULL) &&
	     write_pem(enc_key_path, rsa, NULL, "secret");
	if ((f = fopen(garbage_path, "w")) == NULL)
		ok = false;
	else {
		if (fputs("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n", f) < 0)
			ok = false;
		if (fclose(f) != 0)
			ok = false;
	}
	X509_free(cert);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(ec);
	return ok;
}

static void
remove_files(void)
{
	const char *paths[] = {cert_path,      key_path,     other_key_path,
			       other_rsa_path, enc_key_path, garbage_path};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		unlink(paths[i]);
	rmdir(tmpdir);
}

/* --- the tests ------------------------------------------------------------------------- */

static bool
settings_ok(SSL_CTX *ctx)
{
	uint64_t opts = SSL_CTX_get_options(ctx);
	long mode = SSL_CTX_get_mode(ctx);

	return SSL_CTX_get_min_proto_version(ctx) == TLS1_2_VERSION &&
	       (opts & SSL_OP_NO_COMPRESSION) != 0 && (opts & SSL_OP_NO_RENEGOTIATION) != 0 &&
	       (mode & SSL_MODE_ENABLE_PARTIAL_WRITE) != 0 &&
	       (mode & SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER) != 0;
}

static void
test_settings(SSL_CTX *cctx, SSL_CTX *sctx)
{
	TEST_START("both contexts: TLS 1.2+, no compression, no renegotiation, partial writes");
	ASSERT_TRUE(settings_ok(cctx));
	ASSERT_TRUE(settings_ok(sctx));
	ASSERT_INT_EQ(SSL_CTX_get_verify_mode(cctx), SSL_VERIFY_NONE);
	TEST_DONE();
}

static void
test_ephemeral_cert(SSL_CTX *sctx)
{
	X509 *x = SSL_CTX_get0_certificate(sctx);
	EVP_PKEY *k = x != NULL ? X509_get0_pubkey(x) : NULL;
	char group[64] = "";
	int days = 0, secs = 0;

	TEST_START("ephemeral certificate: self-signed EC P-256, CN buri-mediator, 10 years");
	ASSERT_TRUE(x != NULL && k != NULL);
	if (x == NULL || k == NULL)
		goto out;
	ASSERT_TRUE(EVP_PKEY_is_a(k, "EC"));
	ASSERT_TRUE(EVP_PKEY_get_group_name(k, group, sizeof(group), NULL) == 1);
	ASSERT_STR_EQ(group, "prime256v1");
	ASSERT_INT_EQ(X509_check_issued(x, x), X509_V_OK);
	ASSERT_INT_EQ(X509_verify(x, k), 1);
	ASSERT_TRUE(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)));
	ASSERT_TRUE(days >= 3652 && days <= 3653);
	ASSERT_INT_EQ(X509_get_version(x), X509_VERSION_3);
out:
	TEST_DONE();
}

static void
test_session(SSL_CTX *cctx, SSL_CTX *sctx, const char *cn, bool tls12, const char *name)
{
	struct pair p;
	bool ok;

	TEST_START(name);
	ASSERT_TRUE((ok = pair_open(&p, cctx, sctx)));
	if (ok && tls12)
		ASSERT_TRUE(SSL_set_max_proto_version(p.c, TLS1_2_VERSION));
	if (ok)
		ASSERT_TRUE((ok = handshake(&p)));
	if (ok) {
		ASSERT_INT_EQ(SSL_version(p.c), tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
		ASSERT_TRUE(SSL_get_current_compression(p.c) == NULL);
		ASSERT_TRUE(peer_cn_is(p.c, cn));
		ASSERT_TRUE(transfer(p.c, p.s));
		ASSERT_TRUE(transfer(p.s, p.c));
		ASSERT_TRUE(transfer(p.c, p.s));
	}
	/* In TLS 1.2 both ends refuse to start a renegotiation. */
	if (ok && tls12) {
		ASSERT_INT_EQ(SSL_renegotiate(p.c), 0);
		ASSERT_INT_EQ(SSL_renegotiate(p.s), 0);
		ERR_clear_error();
	}
	if (!ok)
		ERR_print_errors_fp(stdout);
	pair_close(&p);
	TEST_DONE();
}

static void
expect_fail(const char *cert, const char *key, const char *name)
{
	char err[256] = "";
	SSL_CTX *ctx;

	TEST_START(name);
	ctx = tlsctx_server(cert, key, err, sizeof(err));
	ASSERT_TRUE(ctx == NULL);
	ASSERT_TRUE(err[0] != '\0' && strchr(err, '\n') == NULL);
	ASSERT_INT_EQ(ERR_peek_error(), 0); /* the queue is left clean */
	printf("# %s\n", err);
	SSL_CTX_free(ctx);
	TEST_DONE();
}

static void
test_files(SSL_CTX *cctx)
{
	char err[256] = "";
	SSL_CTX *sctx;

	TEST_START("server from PEM files written to a temporary directory");
	ASSERT_TRUE(make_files());
	sctx = tlsctx_server(cert_path, key_path, err, sizeof(err));
	ASSERT_TRUE(sctx != NULL);
	if (sctx == NULL)
		printf("# %s\n", err);
	else
		ASSERT_TRUE(settings_ok(sctx));
	TEST_DONE();
	if (sctx != NULL)
		test_session(cctx, sctx, "buri-test-file", false,
			     "file certificate: handshake, data both ways");
	SSL_CTX_free(sctx);

	expect_fail(cert_path, NULL, "a certificate without a key is refused");
	expect_fail(NULL, key_path, "a key without a certificate is refused");
	expect_fail(missing_path, key_path, "a missing certificate file is refused");
	expect_fail(cert_path, missing_path, "a missing key file is refused");
	expect_fail(garbage_path, key_path, "a garbage certificate file is refused");
	expect_fail(cert_path, other_key_path, "a key of another type is refused");
	expect_fail(cert_path, other_rsa_path, "an RSA key that does not match is refused");
	expect_fail(cert_path, enc_key_path, "an encrypted key fails without prompting");
	expect_fail(key_path, key_path, "a key file given as the certificate is refused");
	remove_files();
}

int
main(void)
{
	char err[256] = "";
	SSL_CTX *cctx = tlsctx_client(err, sizeof(err));
	SSL_CTX *sctx = tlsctx_server(NULL, NULL, err, sizeof(err));

	TEST_START("tlsctx_client and the ephemeral tlsctx_server succeed");
	ASSERT_TRUE(cctx != NULL && sctx != NULL);
	if (cctx == NULL || sctx == NULL)
		printf("# %s\n", err);
	TEST_DONE();
	if (cctx == NULL || sctx == NULL)
		return test_finish();
	test_settings(cctx, sctx);
	test_ephemeral_cert(sctx);
	test_session(cctx, sctx, "buri-mediator", false,
		     "ephemeral certificate: TLS 1.3 handshake, data both ways");
	test_session(cctx, sctx, "buri-mediator", true,
		     "TLS 1.2 handshake, data both ways, renegotiation refused");
	test_files(cctx);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	return test_finish();
}
