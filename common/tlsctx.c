/* SPDX-License-Identifier: MIT */
#include "common/tlsctx.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

enum {
	EPHEMERAL_DAYS = 10 * 365 + 3, /* ten years, leap days included */
};

static const char ephemeral_cn[] = "buri-mediator";

/* The root cause of the failure in OpenSSL's error queue: the oldest entry, since the later
 * ones only say which layer passed it up ("SSL routines::system lib"). */
static const char *
reason(void)
{
	unsigned long e = ERR_peek_error();

	if (e == 0)
		return NULL;
	if (ERR_SYSTEM_ERROR(e))
		return strerror(ERR_GET_REASON(e));
	return ERR_reason_error_string(e);
}

/* "[arg: ]what[: why]", on one line; clears OpenSSL's error queue. */
static void
set_err(char *err, size_t errlen, const char *what, const char *arg, bool with_reason)
{
	const char *why = with_reason ? reason() : NULL;

	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s%s%s%s%s", arg != NULL ? arg : "", arg != NULL ? ": " : "",
			 what, why != NULL ? ": " : "", why != NULL ? why : "");
	ERR_clear_error();
}

/* The settings both ends share; see the header. */
static bool
common_setup(SSL_CTX *ctx)
{
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		return false;
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return true;
}

static bool
set_serial(X509 *x)
{
	uint64_t serial = 0;

	/* Random and positive (RFC 5280 4.1.2.2): no two ephemeral certificates share one. */
	if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
		return false;
	serial = (serial >> 1) | 1;
	return ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) == 1;
}

static bool
set_name_and_validity(X509 *x)
{
	X509_NAME *name = X509_get_subject_name(x);

	return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					  (const unsigned char *)ephemeral_cn, -1, -1, 0) == 1 &&
	       X509_set_issuer_name(x, name) == 1 &&
	       X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
	       X509_time_adj_ex(X509_getm_notAfter(x), EPHEMERAL_DAYS, 0, NULL) != NULL;
}

/* A self-signed certificate for key, or NULL. */
static X509 *
self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();

	if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 || !set_serial(x) ||
	    !set_name_and_validity(x) || X509_set_pubkey(x, key) != 1 ||
	    X509_sign(x, key, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static bool
use_ephemeral(SSL_CTX *ctx, char *err, size_t errlen)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key != NULL ? self_signed(key) : NULL;
	bool ok = false;

	if (cert == NULL)
		set_err(err, errlen, "cannot generate the ephemeral TLS certificate", NULL, true);
	else if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1)
		set_err(err, errlen, "cannot use the ephemeral TLS certificate", NULL, true);
	else
		ok = true;
	X509_free(cert); /* the context holds its own references */
	EVP_PKEY_free(key);
	return ok;
}

/* A daemon has no terminal to ask for a passphrase on: an encrypted key fails to load
 * instead of blocking start-up at OpenSSL's default prompt, and *asked says why. */
static int
no_passphrase(char *buf, int size, int rwflag, void *asked)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	if (asked != NULL)
		*(bool *)asked = true;
	return -1;
}

static bool
use_files(SSL_CTX *ctx, const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	bool asked = false;
	bool ok = false;

	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	SSL_CTX_set_default_passwd_cb_userdata(ctx, &asked);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
		set_err(err, errlen, "cannot load TLS certificate", cert_file, true);
	else if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)
		set_err(err, errlen,
			asked ? "TLS key is encrypted (not supported)" : "cannot load TLS key",
			key_file, !asked);
	else if (SSL_CTX_check_private_key(ctx) != 1)
		set_err(err, errlen, "TLS key does not match the certificate", key_file, false);
	else
		ok = true;
	/* &asked dies with this frame; the callback stays, so the context never prompts. */
	SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
	return ok;
}

SSL_CTX *
tlsctx_server(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	bool ok;

	ERR_clear_error();
	if ((cert_file == NULL) != (key_file == NULL)) {
		set_err(err, errlen,
			"TLS certificate and key files go together: give both or neither", NULL,
			false);
		return NULL;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL || !common_setup(ctx)) {
		set_err(err, errlen, "cannot create the TLS server context", NULL, true);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (cert_file != NULL)
		ok = use_files(ctx, cert_file, key_file, err, errlen);
	else
		ok = use_ephemeral(ctx, err, errlen);
	if (!ok) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *
tlsctx_client(char *err, size_t errlen)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL || !common_setup(ctx)) {
		set_err(err, errlen, "cannot create the TLS client context", NULL, true);
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Deliberate, see the header: the protocol inside authenticates the mediator. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}
