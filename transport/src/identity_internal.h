/*
 * The inside of a bf_identity, shared by identity.c (creates, loads) and
 * tls.c (presents it in the handshake). Internal to libbftransport.
 */
#ifndef BF_IDENTITY_INTERNAL_H
#define BF_IDENTITY_INTERNAL_H

#include <bildfunk/identity.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct bf_identity {
  EVP_PKEY *key;
  X509 *cert;
  uint8_t fp[BF_TLS_FP_BYTES];
};

#endif
