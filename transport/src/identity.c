/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Identities (key + self-signed certificate on disk), the pin store, the
 * pairing code and the pairing rate limiter. See bildfunk/identity.h.
 *
 * Files are written to "<name>.tmp" with mode 0600 and renamed over the
 * old one, so a crash leaves either the old or the new content.
 */
#include <bildfunk/identity.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define PATH_CAP 4096

struct bf_identity {
  EVP_PKEY *key;
  X509 *cert;
  uint8_t fp[BF_FP_BYTES];
};

/* ---- files --------------------------------------------------------------- */

int bf_config_dir(char *out, size_t cap) {
  if (!out || !cap) return -EINVAL;
  const char *x = getenv("XDG_CONFIG_HOME");
  int n;
  if (x && x[0] == '/') {
    n = snprintf(out, cap, "%s/bildfunk", x);
  } else {
    const char *h = getenv("HOME");
    if (!h || !h[0]) return -ENOENT;
    n = snprintf(out, cap, "%s/.config/bildfunk", h);
  }
  return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* mkdir -p with mode 0700 for what it creates. */
static int make_dirs(const char *dir) {
  char p[PATH_CAP];
  size_t n = strlen(dir);
  if (!n || n >= sizeof p) return -ENAMETOOLONG;
  memcpy(p, dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (p[i] != '/' && p[i] != '\0') continue;
    char c = p[i];
    p[i] = '\0';
    if (mkdir(p, 0700) != 0 && errno != EEXIST) return -errno;
    p[i] = c;
  }
  return 0;
}

/* Writes |len| bytes to |path| atomically with mode 0600. */
static int write_file(const char *path, const void *data, size_t len) {
  char tmp[PATH_CAP];
  int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
  if (n < 0 || (size_t)n >= sizeof tmp) return -ENAMETOOLONG;
  (void)unlink(tmp);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  const uint8_t *p = data;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = -errno;
      close(fd);
      unlink(tmp);
      return e;
    }
    p += w;
    len -= (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    int e = -errno;
    unlink(tmp);
    return e;
  }
  if (rename(tmp, path) != 0) {
    int e = -errno;
    unlink(tmp);
    return e;
  }
  return 0;
}

/* Reads a whole (small) file into a NUL-terminated heap buffer. */
static int read_file(const char *path, char **out, size_t *out_len) {
  FILE *f = fopen(path, "rbe");
  if (!f) return -errno;
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) { /* a directory reads as EIO */
    fclose(f);
    return -EISDIR;
  }
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (!buf) {
    fclose(f);
    return -ENOMEM;
  }
  for (;;) {
    if (len + 1 >= cap) {
      if (cap >= (64u << 20)) {
        free(buf);
        fclose(f);
        return -EFBIG;
      }
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        fclose(f);
        return -ENOMEM;
      }
      buf = nb;
      cap *= 2;
    }
    size_t r = fread(buf + len, 1, cap - 1 - len, f);
    len += r;
    if (r == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return -EIO;
  }
  buf[len] = '\0';
  *out = buf;
  if (out_len) *out_len = len;
  return 0;
}

/* ---- identity ------------------------------------------------------------ */

void bf_identity_del(bf_identity **pid) {
  if (!pid || !*pid) return;
  EVP_PKEY_free((*pid)->key);
  X509_free((*pid)->cert);
  free(*pid);
  *pid = NULL;
}

static int finish(bf_identity *id) {
  unsigned int n = 0;
  if (X509_check_private_key(id->cert, id->key) != 1) return -EBADMSG;
  if (X509_digest(id->cert, EVP_sha256(), id->fp, &n) != 1 || n != BF_FP_BYTES) return -EIO;
  return 0;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn) {
  X509 *x = X509_new();
  if (!x) return NULL;
  uint8_t serial[8];
  ASN1_INTEGER *sn = NULL;
  BIGNUM *bn = NULL;
  X509_NAME *name = X509_get_subject_name(x);
  if (RAND_bytes(serial, sizeof serial) != 1) goto error;
  serial[0] &= 0x7f; /* positive */
  bn = BN_bin2bn(serial, sizeof serial, NULL);
  if (!bn || !(sn = BN_to_ASN1_INTEGER(bn, NULL))) goto error;
  if (X509_set_version(x, 2) != 1 || X509_set_serialNumber(x, sn) != 1) goto error;
  /* Validity is not checked by bildfunk (the pin is); keep it wide. */
  if (!X509_gmtime_adj(X509_getm_notBefore(x), -86400L) ||
      !X509_time_adj_ex(X509_getm_notAfter(x), 36500, 0, NULL))
    goto error;
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) !=
          1 ||
      X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, key) != 1)
    goto error;
  if (X509_sign(x, key, NULL) <= 0) goto error; /* Ed25519: no separate digest */
  ASN1_INTEGER_free(sn);
  BN_free(bn);
  return x;
error:
  ASN1_INTEGER_free(sn);
  BN_free(bn);
  X509_free(x);
  return NULL;
}

int bf_identity_generate(const char *cn, bf_identity **out) {
  if (!out) return -EINVAL;
  *out = NULL;
  bf_identity *id = calloc(1, sizeof *id);
  if (!id) return -ENOMEM;
  id->key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  if (id->key) id->cert = make_cert(id->key, cn && cn[0] ? cn : "bildfunk");
  int rc = id->cert ? finish(id) : -EIO;
  ERR_clear_error();
  if (rc) {
    bf_identity_del(&id);
    return rc;
  }
  *out = id;
  return 0;
}

/* PEM text of |obj| in a malloc'd buffer. Secret material goes through a
 * BIO_s_secmem(), whose buffer is cleansed when freed. */
static int pem_of(int (*wr)(BIO *, const void *), const void *obj, int secret, char **out,
                  size_t *len) {
  BIO *b = BIO_new(secret ? BIO_s_secmem() : BIO_s_mem());
  if (!b) return -ENOMEM;
  char *p = NULL;
  int rc = -EIO;
  if (wr(b, obj) == 1) {
    long n = BIO_get_mem_data(b, &p);
    if (n > 0 && (*out = malloc((size_t)n))) {
      memcpy(*out, p, (size_t)n);
      *len = (size_t)n;
      rc = 0;
    }
  }
  BIO_free(b);
  return rc;
}

static int wr_key(BIO *b, const void *k) {
  return PEM_write_bio_PrivateKey(b, (EVP_PKEY *)k, NULL, NULL, 0, NULL, NULL);
}
static int wr_cert(BIO *b, const void *c) {
  return PEM_write_bio_X509(b, (X509 *)c);
}

/* The certificate first: the key file's existence is what marks an
 * identity as created, so a crash in between only leaves a stray cert that
 * the next run overwrites. */
static int save_identity(const bf_identity *id, const char *key_path, const char *cert_path) {
  char *pem = NULL;
  size_t len = 0;
  int rc = pem_of(wr_cert, id->cert, 0, &pem, &len);
  if (!rc) {
    rc = write_file(cert_path, pem, len);
    free(pem);
  }
  if (!rc && !(rc = pem_of(wr_key, id->key, 1, &pem, &len))) {
    rc = write_file(key_path, pem, len);
    OPENSSL_cleanse(pem, len);
    free(pem);
  }
  return rc;
}

static int load_identity(const char *key_path, const char *cert_path, bf_identity **out) {
  struct stat st;
  if (stat(cert_path, &st) == 0 && !S_ISREG(st.st_mode)) return -EISDIR;
  if (stat(key_path, &st) != 0) return -errno;
  if (!S_ISREG(st.st_mode)) return -EISDIR; /* else "chmod 600 it" or a read error */
  if (st.st_mode & 077) return -EPERM;
  bf_identity *id = calloc(1, sizeof *id);
  if (!id) return -ENOMEM;
  int rc = -EBADMSG;
  FILE *f = fopen(key_path, "re");
  if (!f) {
    rc = -errno;
    goto done;
  }
  id->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  if (!(f = fopen(cert_path, "re"))) {
    rc = -errno;
    goto done;
  }
  id->cert = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  if (id->key && id->cert) rc = finish(id);
done:
  ERR_clear_error();
  if (rc)
    bf_identity_del(&id);
  else
    *out = id;
  return rc;
}

int bf_identity_load(const char *dir, const char *role, const char *cn, bf_identity **out) {
  if (!role || !role[0] || !out) return -EINVAL;
  for (const char *p = role; *p; p++)
    if (*p < 'a' || *p > 'z') return -EINVAL;
  *out = NULL;
  char def[PATH_CAP], kp[PATH_CAP], cp[PATH_CAP], name[96];
  if (!dir) {
    int rc = bf_config_dir(def, sizeof def);
    if (rc) return rc;
    dir = def;
  }
  int a = snprintf(kp, sizeof kp, "%s/%s-key.pem", dir, role);
  int b = snprintf(cp, sizeof cp, "%s/%s-cert.pem", dir, role);
  if (a < 0 || b < 0 || (size_t)a >= sizeof kp || (size_t)b >= sizeof cp) return -ENAMETOOLONG;
  struct stat st;
  if (stat(kp, &st) == 0) return load_identity(kp, cp, out);
  if (errno != ENOENT) return -errno;
  int rc = make_dirs(dir);
  if (rc) return rc;
  snprintf(name, sizeof name, "bildfunk %s", role);
  bf_identity *id = NULL;
  if ((rc = bf_identity_generate(cn && cn[0] ? cn : name, &id))) return rc;
  if ((rc = save_identity(id, kp, cp))) {
    bf_identity_del(&id);
    return rc;
  }
  *out = id;
  return 0;
}

void bf_identity_fp(const bf_identity *id, uint8_t fp[BF_FP_BYTES]) {
  memcpy(fp, id->fp, BF_FP_BYTES);
}

X509 *bf_identity_cert(const bf_identity *id) {
  return id ? id->cert : NULL;
}

EVP_PKEY *bf_identity_key(const bf_identity *id) {
  return id ? id->key : NULL;
}

void bf_fp_hex(const uint8_t fp[BF_FP_BYTES], char out[BF_FP_HEX_BYTES]) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < BF_FP_BYTES; i++) {
    out[2 * i] = hex[fp[i] >> 4];
    out[2 * i + 1] = hex[fp[i] & 15];
  }
  out[2 * BF_FP_BYTES] = '\0';
}

/* ---- pin store ----------------------------------------------------------- */

struct bf_pinstore {
  char *path; /* NULL: memory only */
  size_t n, cap;
  bf_pin *pins;
};

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void clean_name(char dst[BF_PIN_MAX_NAME + 1], const char *src) {
  size_t i = 0;
  for (; src && src[i] && i < BF_PIN_MAX_NAME; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  dst[i] = '\0';
}

static int push(bf_pinstore *ps, const bf_pin *p) {
  if (ps->n >= BF_PIN_MAX_PINS) return -ENOSPC;
  if (ps->n == ps->cap) {
    size_t nc = ps->cap ? ps->cap * 2 : 8;
    bf_pin *np = realloc(ps->pins, nc * sizeof *np);
    if (!np) return -ENOMEM;
    ps->pins = np;
    ps->cap = nc;
  }
  ps->pins[ps->n++] = *p;
  return 0;
}

static int parse_line(const char *line, size_t len, bf_pin *p) {
  if (len < 2 * BF_FP_BYTES + 3) return -EBADMSG;
  for (size_t i = 0; i < BF_FP_BYTES; i++) {
    int h = hexval(line[2 * i]), l = hexval(line[2 * i + 1]);
    if (h < 0 || l < 0) return -EBADMSG;
    p->fp[i] = (uint8_t)(h << 4 | l);
  }
  size_t i = 2 * BF_FP_BYTES;
  if (line[i++] != ' ') return -EBADMSG;
  int64_t t = 0;
  size_t digits = 0;
  for (; i < len && line[i] >= '0' && line[i] <= '9' && digits < 18; i++, digits++)
    t = t * 10 + (line[i] - '0');
  if (!digits || i >= len || line[i++] != ' ') return -EBADMSG;
  p->paired_unix = t;
  char name[BF_PIN_MAX_NAME + 1];
  size_t nl = len - i < BF_PIN_MAX_NAME ? len - i : BF_PIN_MAX_NAME;
  memcpy(name, line + i, nl);
  name[nl] = '\0';
  clean_name(p->name, name);
  return 0;
}

static int save(const bf_pinstore *ps) {
  if (!ps->path) return 0;
  size_t line = 2 * BF_FP_BYTES + 1 + 20 + 1 + BF_PIN_MAX_NAME + 1;
  char *buf = malloc(ps->n * line + 1);
  if (!buf) return -ENOMEM;
  size_t len = 0;
  for (size_t i = 0; i < ps->n; i++) {
    char hex[BF_FP_HEX_BYTES];
    bf_fp_hex(ps->pins[i].fp, hex);
    int w = snprintf(buf + len, line + 1, "%s %lld %s\n", hex, (long long)ps->pins[i].paired_unix,
                     ps->pins[i].name);
    if (w > 0) len += (size_t)w;
  }
  int rc = write_file(ps->path, buf, len);
  free(buf);
  return rc;
}

int bf_pinstore_open(const char *path, bf_pinstore **out) {
  return bf_pinstore_open_at(path, out, NULL);
}

int bf_pinstore_open_at(const char *path, bf_pinstore **out, size_t *bad_line) {
  if (bad_line) *bad_line = 0;
  if (!out) return -EINVAL;
  *out = NULL;
  bf_pinstore *ps = calloc(1, sizeof *ps);
  if (!ps) return -ENOMEM;
  int rc = 0;
  if (path) {
    if (!(ps->path = strdup(path))) {
      rc = -ENOMEM;
      goto done;
    }
    char *text = NULL;
    size_t len = 0;
    rc = read_file(path, &text, &len);
    if (rc == -ENOENT) {
      rc = 0;
    } else if (!rc) {
      size_t line = 0;
      for (size_t s = 0; s < len && !rc;) {
        size_t e = s, end;
        while (e < len && text[e] != '\n')
          e++;
        end = e > s && text[e - 1] == '\r' ? e - 1 : e; /* CRLF */
        line++;
        if (end > s) {
          bf_pin p;
          rc = parse_line(text + s, end - s, &p);
          if (rc == -EBADMSG && bad_line) *bad_line = line;
          if (!rc) rc = push(ps, &p);
        }
        s = e + 1;
      }
      free(text);
    }
  }
done:
  if (rc)
    bf_pinstore_del(&ps);
  else
    *out = ps;
  return rc;
}

int bf_pinstore_reload(bf_pinstore *ps) {
  if (!ps) return -EINVAL;
  if (!ps->path) return 0;
  bf_pinstore *fresh = NULL;
  int rc = bf_pinstore_open(ps->path, &fresh);
  if (rc < 0) return rc;
  bf_pin *old = ps->pins;
  ps->pins = fresh->pins;
  ps->n = fresh->n;
  ps->cap = fresh->cap;
  fresh->pins = old;
  bf_pinstore_del(&fresh);
  return 0;
}

void bf_pinstore_del(bf_pinstore **pps) {
  if (!pps || !*pps) return;
  free((*pps)->path);
  free((*pps)->pins);
  free(*pps);
  *pps = NULL;
}

int bf_pinstore_add(bf_pinstore *ps, const uint8_t fp[BF_FP_BYTES], const char *name,
                    int64_t now_unix, int unique_name) {
  if (!ps || !fp) return -EINVAL;
  int rc = bf_pinstore_reload(ps); /* another process may have changed the file */
  if (rc < 0) return rc;
  rc = bf_pinstore_put(ps, fp, name, now_unix, unique_name);
  return rc ? rc : save(ps);
}

int bf_pinstore_put(bf_pinstore *ps, const uint8_t fp[BF_FP_BYTES], const char *name,
                    int64_t now_unix, int unique_name) {
  if (!ps || !fp) return -EINVAL;
  bf_pin p;
  memcpy(p.fp, fp, BF_FP_BYTES);
  p.paired_unix = now_unix;
  clean_name(p.name, name ? name : "");
  size_t w = 0;
  for (size_t i = 0; i < ps->n; i++) {
    const bf_pin *q = &ps->pins[i];
    int drop = !memcmp(q->fp, fp, BF_FP_BYTES) || (unique_name && !strcmp(q->name, p.name));
    if (!drop) ps->pins[w++] = *q;
  }
  ps->n = w;
  return push(ps, &p);
}

const char *bf_pinstore_path(const bf_pinstore *ps) {
  return ps ? ps->path : NULL;
}

const bf_pin *bf_pinstore_find_fp(const bf_pinstore *ps, const uint8_t fp[BF_FP_BYTES]) {
  if (!ps || !fp) return NULL;
  for (size_t i = 0; i < ps->n; i++)
    if (!memcmp(ps->pins[i].fp, fp, BF_FP_BYTES)) return &ps->pins[i];
  return NULL;
}

const bf_pin *bf_pinstore_find_name(const bf_pinstore *ps, const char *name) {
  if (!ps || !name) return NULL;
  for (size_t i = 0; i < ps->n; i++)
    if (!strcmp(ps->pins[i].name, name)) return &ps->pins[i];
  return NULL;
}

static int fp_prefix_match(const bf_pin *p, const char *what, size_t len) {
  char hex[BF_FP_HEX_BYTES];
  bf_fp_hex(p->fp, hex);
  for (size_t i = 0; i < len; i++) {
    char c = what[i];
    if (c >= 'A' && c <= 'F') c = (char)(c - 'A' + 'a');
    if (c != hex[i]) return 0;
  }
  return 1;
}

int bf_pinstore_revoke(bf_pinstore *ps, const char *what) {
  if (!ps || !what || !what[0]) return -EINVAL;
  int rc = bf_pinstore_reload(ps); /* another process may have changed the file */
  if (rc < 0) return rc;
  size_t len = strlen(what), hexlen = 0;
  while (hexlen < len && hexval(what[hexlen]) >= 0)
    hexlen++;
  int by_fp = hexlen == len && len >= 8 && len <= 2 * BF_FP_BYTES;
  size_t named = 0, prefixed = 0;
  for (size_t i = 0; i < ps->n; i++) {
    named += !strcmp(ps->pins[i].name, what);
    prefixed += by_fp && fp_prefix_match(&ps->pins[i], what, len);
  }
  if (!named && prefixed > 1) return -EEXIST;
  if (!named && !prefixed) return -ENOENT;
  size_t w = 0;
  for (size_t i = 0; i < ps->n; i++) {
    const bf_pin *q = &ps->pins[i];
    int drop = named ? !strcmp(q->name, what) : fp_prefix_match(q, what, len);
    if (!drop) ps->pins[w++] = *q;
  }
  int removed = (int)(ps->n - w);
  ps->n = w;
  rc = save(ps);
  return rc ? rc : removed;
}

size_t bf_pinstore_count(const bf_pinstore *ps) {
  return ps ? ps->n : 0;
}

const bf_pin *bf_pinstore_at(const bf_pinstore *ps, size_t i) {
  return ps && i < ps->n ? &ps->pins[i] : NULL;
}

/* ---- pairing code -------------------------------------------------------- */

/* ---- rate limiter -------------------------------------------------------- */

void bf_pair_limiter_init(bf_pair_limiter *l, uint32_t max_attempts, uint64_t window_ns) {
  memset(l, 0, sizeof *l);
  if (max_attempts < 1) max_attempts = 1;
  if (max_attempts > BF_PAIR_LIMIT_MAX) max_attempts = BF_PAIR_LIMIT_MAX;
  l->max_attempts = max_attempts;
  l->window_ns = window_ns;
}

int bf_pair_limiter_try(bf_pair_limiter *l, uint64_t now_ns, uint64_t *retry_after_ns) {
  uint32_t keep = 0;
  for (uint32_t i = 0; i < l->n; i++) /* drop attempts that left the window */
    if (now_ns - l->t[i] < l->window_ns && now_ns >= l->t[i]) l->t[keep++] = l->t[i];
  l->n = keep;
  if (l->n >= l->max_attempts) {
    if (retry_after_ns) *retry_after_ns = l->t[0] + l->window_ns - now_ns;
    return -EAGAIN;
  }
  l->t[l->n++] = now_ns;
  if (retry_after_ns) *retry_after_ns = 0;
  return 0;
}
