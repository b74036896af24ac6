/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One control connection (issues #6, #12): a TCP socket, the sans-I/O
 * control session on it (ctl_session.h) and a bounded buffer of the bytes
 * the kernel has not taken yet — the plumbing both programs share: the
 * client's one connection (client/src/ctl_client.c, connected here with a
 * timeout) and each of the sender's (sender/ctl_server.c, accepted there).
 * The caller owns the loop and the clock: it polls the fd for
 * bf_ctl_conn_poll_events(), reads, ticks and flushes when it is ready or
 * at bf_ctl_conn_deadline(), takes the session's events with
 * bf_ctl_conn_event() and closes the connection once bf_ctl_conn_done().
 *
 * One behaviour for both programs:
 *  - Reads: one recv of up to BF_CTL_CONN_READ_BYTES per bf_ctl_conn_read(),
 *    fed to the session at once; the caller takes the events before it
 *    reads again (at most BF_CTL_CONN_READS times per wake-up), so a peer
 *    that floods cannot pile up undecoded bytes inside the session (which
 *    stops decoding while its event ring is full; its TLS input has no
 *    bound of its own).
 *  - Writes: the session's output is moved into |out| and sent without
 *    blocking. A short write keeps the rest, in order, for the next flush
 *    (POLLOUT is asked for); output beyond BF_CTL_CONN_OUT_BYTES waits
 *    inside the session. A failed write (anything but EAGAIN / EINTR) means
 *    the connection is gone: the unsent bytes are dropped and the session is
 *    told the stream ended (bf_ctl_session_eof: its CLOSED event says "the
 *    connection to the peer was lost"), at once rather than by a later read.
 *  - Closing: once the session is CLOSED its last bytes (Bye, close_notify)
 *    are flushed; bf_ctl_conn_done() is 1 when they are out, when the
 *    connection broke, or BF_CTL_CONN_LINGER_NS after the close at the
 *    latest (a peer that never reads cannot keep a connection open).
 *  - Both ends set TCP_NODELAY: control messages are small and urgent.
 *
 * Costs: the caller embeds the struct (16 KiB of output buffer; the sender
 * has one per connection slot) and the session adds its heap (~104 KiB plus
 * OpenSSL's); a read takes 4 KiB of stack. Latency: none added — a message
 * goes to the kernel in the flush after it is made; the buffer only holds
 * what TCP did not take yet, and its bound caps memory, not delay. Not
 * here: the listener and its accept policy (the sender's), what the events
 * mean. POSIX sockets; part of builds with the control session (BF_HAVE_SEAL,
 * so not the Windows build). Not thread-safe.
 */
#ifndef BILDFUNK_CTL_CONN_H
#define BILDFUNK_CTL_CONN_H

#include <bildfunk/common.h>
#include <bildfunk/ctl_session.h>
#include <bildfunk/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BF_CTL_CONN_OUT_BYTES 16384u /* unsent bytes held per connection */
#define BF_CTL_CONN_READ_BYTES 4096u /* one recv */
#define BF_CTL_CONN_READS 64u        /* recvs per wake-up at most: a flood cannot starve the loop */
#define BF_CTL_CONN_LINGER_NS 1000000000ull /* a closed session's last bytes get this long */
/* What a sender writes, in the clear, on a connection it refuses at accept
 * because too many are being set up (docs/protocol.md §11): not a TLS record
 * (0x42 is no TLS content type), so a client tells "busy" from a broken
 * handshake. Then it closes. */
#define BF_CTL_BUSY_LINE "BFbusy1\n"
#define BF_CTL_BUSY_BYTES 8u

/* Caller-owned; fields are read-only outside ctl_conn.c. */
typedef struct bf_ctl_conn {
  int fd;            /* the socket; -1: none */
  bf_ctl_session *s; /* owned; NULL until bf_ctl_conn_start() */
  int connecting;    /* bf_ctl_conn_connect() is under way */
  int connect_err;   /* errno of a failed connect */
  uint64_t connect_deadline_ns;
  int broken;      /* a write failed: nothing moves any more */
  int drained;     /* events were taken since the session last decoded */
  int closed_seen; /* the session was seen CLOSED, at |closed_ns| */
  uint64_t closed_ns;
  uint64_t fed;            /* bytes read and fed to the session so far */
  int busy;                /* the peer refused the connection: BF_CTL_BUSY_LINE came first */
  size_t out_off, out_len; /* out[out_off, out_len) waits for the kernel */
  uint8_t out[BF_CTL_CONN_OUT_BYTES];
} bf_ctl_conn;

/* An empty connection (fd -1, no session). */
void bf_ctl_conn_init(bf_ctl_conn *k);

/* Takes |fd|, a connected non-blocking TCP socket (accepted), and sets
 * TCP_NODELAY on it. The fd is owned by |k| from now on. */
void bf_ctl_conn_adopt(bf_ctl_conn *k, int fd);

/* Starts a non-blocking TCP connect to |to|, to be given up at
 * |deadline_ns|. Returns 0 when it is under way (bf_ctl_conn_connected()
 * says how it ends; a connect() that failed at once is reported there, on
 * its first call), or -errno when no socket could be made. */
int bf_ctl_conn_connect(bf_ctl_conn *k, const bf_addr *to, uint64_t deadline_ns);

/* After bf_ctl_conn_connect(): 1 connected (and from then on), 0 still
 * under way, -ETIMEDOUT (|now_ns| past the deadline) or the -errno of the
 * failed connect (e.g. -ECONNREFUSED). Polls the socket with no wait. */
int bf_ctl_conn_connected(bf_ctl_conn *k, uint64_t now_ns);

/* Creates the session (bf_ctl_session_new with |cfg|) on the connected
 * socket. Returns 0 or its error. */
int bf_ctl_conn_start(bf_ctl_conn *k, const bf_ctl_session_cfg *cfg, uint64_t now_ns);

/* One recv, fed to the session. Returns the bytes fed (> 0: take the
 * events, then read again), 0 when nothing is there (or the session is
 * closed), or -EPIPE when the stream ended (EOF or a reset; the session was
 * told, its CLOSED event follows). A stream that begins with
 * BF_CTL_BUSY_LINE ends the same way with |busy| set. */
int bf_ctl_conn_read(bf_ctl_conn *k, uint64_t now_ns);

/* The session's next event: 1 and |*ev|, or 0 when there is none. When the
 * events taken so far filled its ring, the session decodes what waited
 * before this says 0. */
int bf_ctl_conn_event(bf_ctl_conn *k, bf_ctl_event *ev, uint64_t now_ns);

/* Runs the session's timers when bf_ctl_session_deadline() has come. */
void bf_ctl_conn_tick(bf_ctl_conn *k, uint64_t now_ns);

/* Moves the session's output to the kernel, as far as it takes it now.
 * Returns 0, or -EPIPE when the write failed (see above; the session's
 * CLOSED event follows). */
int bf_ctl_conn_flush(bf_ctl_conn *k, uint64_t now_ns);

/* Bytes not yet handed to the kernel (the buffer's and the session's). */
size_t bf_ctl_conn_pending(const bf_ctl_conn *k);

/* poll() events to wait for: POLLOUT while connecting or while bytes wait;
 * POLLIN until the session is closed. 0 without a socket. */
short bf_ctl_conn_poll_events(const bf_ctl_conn *k);

/* When the caller must service the connection without socket activity:
 * the connect deadline, the session's timers, the end of the linger of a
 * closed session (0: the close was not seen by a flush yet, service now);
 * UINT64_MAX: none. */
uint64_t bf_ctl_conn_deadline(const bf_ctl_conn *k);

/* 1 when the connection has nothing left to do: the session is closed and
 * its last bytes are out, the connection broke, or the linger is over. */
int bf_ctl_conn_done(const bf_ctl_conn *k, uint64_t now_ns);

/* Closes the socket (unsent bytes are dropped) and frees the session; |k|
 * is empty again. Fine on an empty connection. */
void bf_ctl_conn_close(bf_ctl_conn *k);

#ifdef __cplusplus
}
#endif

#endif /* BILDFUNK_CTL_CONN_H */
