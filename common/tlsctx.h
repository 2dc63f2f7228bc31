/* SPDX-License-Identifier: MIT */
/*
 * OpenSSL TLS contexts for the mediator's TLS fallback listener and for its clients.
 *
 * TLS adds reachability only (docs/PROTOCOL.md 7.1): the buri protocol inside authenticates
 * the mediator by its key fingerprint and signature, so neither side verifies certificates
 * and a self-signed server certificate is enough. Both contexts allow TLS 1.2 and later only,
 * refuse compression and renegotiation, and set SSL_MODE_ENABLE_PARTIAL_WRITE |
 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER for non-blocking streams that retry from a buffer
 * that may have moved. The caller owns the returned context (SSL_CTX_free). Not for data
 * paths; call at start-up.
 */
#ifndef BURI_TLSCTX_H
#define BURI_TLSCTX_H

#include <stddef.h>

#include <openssl/ssl.h>

/* Server context. With cert_file and key_file (PEM; cert_file may hold a chain) it uses
 * them; with both NULL it generates an ephemeral EC P-256 key and a self-signed certificate
 * (CN "buri-mediator", valid 10 years) in memory. NULL on failure (also when only one file
 * is given), with a one-line reason in err (which may be NULL). */
SSL_CTX *tlsctx_server(const char *cert_file, const char *key_file, char *err, size_t errlen);

/* Client context, without certificate verification (the mediator is authenticated by its
 * key fingerprint and signature inside the protocol, docs/PROTOCOL.md 7.1). NULL on failure
 * with a one-line reason in err (which may be NULL). */
SSL_CTX *tlsctx_client(char *err, size_t errlen);

#endif
