/* SPDX-License-Identifier: MIT */
/* RSA identities: generation, PKCS#1 v1.5 / SHA-1 signatures, DER and PEM, fingerprints,
 * key files and their permissions, and the signed-data constructions. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/hex.h"
#include "common/keyfile.h"
#include "common/pubkey.h"
#include "common/sigdata.h"
#include "test.h"

TEST_DEFINE_STATE;

static struct span
text(const char *s)
{
	return (struct span){(const uint8_t *)s, strlen(s)};
}

static void
test_sign_verify(struct pubkey *k, struct pubkey *other, unsigned int bits)
{
	uint8_t sig[WIRE_SIG_MAX];
	struct span parts[] = {text("buri "), text("signed "), text("data")};
	struct span whole = text("buri signed data"), changed = text("buri signed datA");
	size_t siglen;
	char name[96];

	snprintf(name, sizeof(name), "RSA-%u: sign, verify over parts or whole, refuse changes",
		 bits);
	TEST_START(name);
	ASSERT_INT_EQ(pubkey_bits(k), bits);
	ASSERT_INT_EQ(pubkey_sign(k, parts, 3, sig, sizeof(sig), &siglen), 0);
	ASSERT_INT_EQ(siglen, bits / 8);
	ASSERT_INT_EQ(pubkey_verify(k, parts, 3, sig, siglen), 0);
	ASSERT_INT_EQ(pubkey_verify(k, &whole, 1, sig, siglen), 0);
	ASSERT_INT_EQ(pubkey_verify(k, &changed, 1, sig, siglen), E_SIGNATURE);
	ASSERT_INT_EQ(pubkey_verify(other, &whole, 1, sig, siglen), E_SIGNATURE);
	ASSERT_INT_EQ(pubkey_verify(k, &whole, 1, sig, siglen - 1), E_SIGNATURE);
	sig[siglen / 2] ^= 4;
	ASSERT_INT_EQ(pubkey_verify(k, &whole, 1, sig, siglen), E_SIGNATURE);
	ASSERT_INT_EQ(pubkey_sign(k, parts, 3, sig, siglen - 1, &siglen), E_NOSPACE);
	TEST_DONE();
}

/* The signature is RSASSA-PKCS1-v1_5 with SHA-1, checked by OpenSSL's own verify. */
static void
test_scheme_is_pkcs1_sha1(struct pubkey *k)
{
	uint8_t sig[WIRE_SIG_MAX], der[WIRE_PUBKEY_MAX];
	struct span msg = text("scheme check");
	size_t siglen, dlen;
	const uint8_t *p = der;
	EVP_PKEY *pk;
	EVP_PKEY_CTX *ctx;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	TEST_START("signature verifies as RSASSA-PKCS1-v1_5 with SHA-1 in plain OpenSSL");
	ASSERT_INT_EQ(pubkey_sign(k, &msg, 1, sig, sizeof(sig), &siglen), 0);
	ASSERT_INT_EQ(pubkey_to_der(k, der, sizeof(der), &dlen), 0);
	pk = d2i_PUBKEY(NULL, &p, (long)dlen);
	ASSERT_TRUE(pk != NULL && md != NULL);
	if (pk != NULL && md != NULL) {
		ASSERT_INT_EQ(EVP_DigestVerifyInit(md, &ctx, EVP_sha1(), NULL, pk), 1);
		ASSERT_INT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
		ASSERT_INT_EQ(EVP_DigestVerify(md, sig, siglen, msg.p, msg.len), 1);
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	TEST_DONE();
}

static void
test_der(struct pubkey *k)
{
	uint8_t der[WIRE_PUBKEY_MAX + 1], fp1[20], fp2[20];
	size_t len;
	struct pubkey *pub;
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	uint8_t *p;
	int n;

	TEST_START("DER: round trip; trailing bytes, truncation, 1024-bit RSA and EC refused");
	ASSERT_INT_EQ(pubkey_to_der(k, der, sizeof(der), &len), 0);
	pub = pubkey_from_der(der, len);
	ASSERT_TRUE(pub != NULL && !pubkey_has_private(pub));
	if (pub != NULL) {
		ASSERT_INT_EQ(pubkey_fingerprint(k, fp1), 0);
		ASSERT_INT_EQ(pubkey_fingerprint(pub, fp2), 0);
		ASSERT_MEM_EQ(fp1, fp2, 20);
	}
	pubkey_free(pub);
	der[len] = 0;
	ASSERT_TRUE(pubkey_from_der(der, len + 1) == NULL);
	ASSERT_TRUE(pubkey_from_der(der, len - 1) == NULL);
	ASSERT_TRUE(pubkey_from_der(der, 0) == NULL);
	ASSERT_TRUE(small != NULL && ec != NULL);
	p = der;
	n = i2d_PUBKEY(small, &p);
	ASSERT_TRUE(n > 0 && pubkey_from_der(der, (size_t)n) == NULL);
	p = der;
	n = i2d_PUBKEY(ec, &p);
	ASSERT_TRUE(n > 0 && pubkey_from_der(der, (size_t)n) == NULL);
	EVP_PKEY_free(small);
	EVP_PKEY_free(ec);
	TEST_DONE();
}

static void
test_fingerprint(struct pubkey *k)
{
	uint8_t fp[20], back[20], der[WIRE_PUBKEY_MAX], sha[20];
	char s[PUBKEY_FP_STR_LEN], plain[41];
	size_t len;
	unsigned int shalen;

	TEST_START("fingerprint = SHA-1 of the DER; colon form and plain form parse back");
	ASSERT_INT_EQ(pubkey_fingerprint(k, fp), 0);
	ASSERT_INT_EQ(pubkey_to_der(k, der, sizeof(der), &len), 0);
	ASSERT_TRUE(EVP_Digest(der, len, sha, &shalen, EVP_sha1(), NULL) == 1);
	ASSERT_MEM_EQ(fp, sha, 20);
	pubkey_fingerprint_str(fp, s);
	ASSERT_INT_EQ(strlen(s), 59);
	ASSERT_INT_EQ(s[2], ':');
	ASSERT_INT_EQ(pubkey_fingerprint_parse(s, back), 0);
	ASSERT_MEM_EQ(back, fp, 20);
	hex_encode(fp, 20, plain);
	ASSERT_INT_EQ(pubkey_fingerprint_parse(plain, back), 0);
	ASSERT_MEM_EQ(back, fp, 20);
	s[5] = '-';
	ASSERT_INT_EQ(pubkey_fingerprint_parse(s, back), E_ENCODING);
	ASSERT_INT_EQ(pubkey_fingerprint_parse("ab:cd", back), E_ENCODING);
	plain[39] = 'g';
	ASSERT_INT_EQ(pubkey_fingerprint_parse(plain, back), E_ENCODING);
	TEST_DONE();
}

static void
test_keyfiles(struct pubkey *k, const char *dir)
{
	char priv[512], pub[512];
	struct pubkey *loaded = NULL;
	uint8_t fp1[20], fp2[20];
	struct stat st;

	snprintf(priv, sizeof(priv), "%s/node.key", dir);
	snprintf(pub, sizeof(pub), "%s/node.pub", dir);

	TEST_START("key files: private written 0600, public 0644, both load back");
	umask(0);
	ASSERT_INT_EQ(keyfile_store(priv, k, true), 0);
	ASSERT_INT_EQ(keyfile_store(pub, k, false), 0);
	ASSERT_INT_EQ(stat(priv, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0600);
	ASSERT_INT_EQ(stat(pub, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0644);
	ASSERT_INT_EQ(keyfile_load(priv, true, &loaded), 0);
	ASSERT_TRUE(loaded != NULL && pubkey_has_private(loaded));
	if (loaded != NULL) {
		ASSERT_INT_EQ(pubkey_fingerprint(loaded, fp1), 0);
		ASSERT_INT_EQ(pubkey_fingerprint(k, fp2), 0);
		ASSERT_MEM_EQ(fp1, fp2, 20);
	}
	pubkey_free(loaded);
	ASSERT_INT_EQ(keyfile_load(pub, false, &loaded), 0);
	ASSERT_TRUE(loaded != NULL && !pubkey_has_private(loaded));
	pubkey_free(loaded);
	TEST_DONE();

	TEST_START(
		"key files: group-readable private key is E_PERM, public file is not a key pair");
	ASSERT_INT_EQ(chmod(priv, 0640), 0);
	ASSERT_INT_EQ(keyfile_load(priv, true, &loaded), E_PERM);
	ASSERT_TRUE(loaded == NULL);
	ASSERT_INT_EQ(keyfile_load(pub, true, &loaded), E_PERM); /* 0644 */
	ASSERT_INT_EQ(chmod(pub, 0600), 0);
	ASSERT_INT_EQ(keyfile_load(pub, true, &loaded), E_KEY);
	ASSERT_INT_EQ(keyfile_load("/nonexistent/buri.key", true, &loaded), E_IO);
	TEST_DONE();

	TEST_START("key files: rewriting replaces the file and leaves no temporary behind");
	ASSERT_INT_EQ(keyfile_store(priv, k, true), 0);
	ASSERT_INT_EQ(stat(priv, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0600);
	{
		char tmp[600];

		snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", priv, (long)getpid());
		ASSERT_TRUE(stat(tmp, &st) != 0);
	}
	TEST_DONE();
}

static void
test_encrypted_pem_refused(struct pubkey *k, const char *dir)
{
	char path[512];
	FILE *f;
	EVP_PKEY *pk;
	size_t len;
	struct pubkey *loaded = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char pem[PUBKEY_PEM_MAX];

	TEST_START("an encrypted private key is refused, never prompted for");
	ASSERT_INT_EQ(pubkey_to_pem(k, true, pem, sizeof(pem), &len), 0);
	ASSERT_TRUE(bio != NULL && BIO_write(bio, pem, (int)len) == (int)len);
	pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	ASSERT_TRUE(pk != NULL);
	snprintf(path, sizeof(path), "%s/enc.key", dir);
	f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	if (f != NULL && pk != NULL) {
		ASSERT_INT_EQ(PEM_write_PrivateKey(f, pk, EVP_aes_256_cbc(),
						   (const unsigned char *)"secret", 6, NULL, NULL),
			      1);
		fclose(f);
		chmod(path, 0600);
		ASSERT_INT_EQ(keyfile_load(path, true, &loaded), E_KEY);
	}
	EVP_PKEY_free(pk);
	BIO_free(bio);
	TEST_DONE();
}

static void
test_sigdata(void)
{
	uint8_t ni[128], nr[128], gi[256], gr[256];
	struct handshake_values v = {1, ni, nr, gi, gr};
	struct span p[SIGDATA_MAX_PARTS];

	memset(ni, 1, sizeof(ni));
	memset(nr, 2, sizeof(nr));
	memset(gi, 3, sizeof(gi));
	memset(gr, 4, sizeof(gr));
	TEST_START("signed data: AUTH = suite|Ni|Nr|Gi|Gr, AUTH OK/KE2 = Nr|Ni|Gr|Gi, "
		   "KE3 = Ni|Nr|Gi|Gr");
	ASSERT_INT_EQ(sigdata_parts(SIGDATA_AUTH, &v, p), 5);
	ASSERT_TRUE(p[0].len == 1 && p[0].p[0] == 1 && p[1].p == ni && p[2].p == nr &&
		    p[3].p == gi && p[4].p == gr);
	ASSERT_INT_EQ(sigdata_parts(SIGDATA_AUTH_OK, &v, p), 4);
	ASSERT_TRUE(p[0].p == nr && p[1].p == ni && p[2].p == gr && p[3].p == gi);
	ASSERT_INT_EQ(sigdata_parts(SIGDATA_KE2, &v, p), 4);
	ASSERT_TRUE(p[0].p == nr && p[1].p == ni && p[2].p == gr && p[3].p == gi);
	ASSERT_INT_EQ(sigdata_parts(SIGDATA_KE3, &v, p), 4);
	ASSERT_TRUE(p[0].p == ni && p[0].len == 128 && p[1].p == nr && p[2].p == gi &&
		    p[2].len == 256 && p[3].p == gr);
	TEST_DONE();
}

int
main(void)
{
	struct pubkey *k2048 = pubkey_generate(2048), *k3072 = pubkey_generate(3072);
	char dir[] = "/tmp/buri-test-pubkey-XXXXXX";

	TEST_START("generate 2048- and 3072-bit keys; other sizes refused");
	ASSERT_TRUE(k2048 != NULL && k3072 != NULL);
	ASSERT_TRUE(pubkey_generate(1024) == NULL);
	ASSERT_TRUE(pubkey_generate(2000) == NULL);
	TEST_DONE();
	if (k2048 == NULL || k3072 == NULL || mkdtemp(dir) == NULL)
		return test_finish();
	test_sign_verify(k2048, k3072, 2048);
	test_sign_verify(k3072, k2048, 3072);
	test_scheme_is_pkcs1_sha1(k2048);
	test_der(k3072);
	test_fingerprint(k2048);
	test_keyfiles(k2048, dir);
	test_encrypted_pem_refused(k2048, dir);
	test_sigdata();
	pubkey_free(k2048);
	pubkey_free(k3072);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return test_finish();
}
