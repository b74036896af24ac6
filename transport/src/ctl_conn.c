/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One control connection: a non-blocking TCP socket around the control
 * session, with a bounded output buffer. See bildfunk/ctl_conn.h.
 */
#include <bildfunk/ctl_conn.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void bf_ctl_conn_init(bf_ctl_conn *k) {
  memset(k, 0, offsetof(bf_ctl_conn, out)); /* the buffer needs no clearing */
  k->fd = -1;
}

static void nodelay(int fd) {
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void bf_ctl_conn_adopt(bf_ctl_conn *k, int fd) {
  bf_ctl_conn_init(k);
  k->fd = fd;
  nodelay(fd);
}

int bf_ctl_conn_connect(bf_ctl_conn *k, const bf_addr *to, uint64_t deadline_ns) {
  bf_ctl_conn_init(k);
  int fd = socket(to->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return -errno;
  nodelay(fd);
  k->fd = fd;
  k->connecting = 1;
  k->connect_deadline_ns = deadline_ns;
  if (connect(fd, (const struct sockaddr *)&to->ss, to->len) < 0 && errno != EINPROGRESS)
    k->connect_err = errno;
  return 0;
}

int bf_ctl_conn_connected(bf_ctl_conn *k, uint64_t now_ns) {
  if (k->fd < 0) return -EBADF;
  if (!k->connecting) return 1;
  if (k->connect_err) return -k->connect_err;
  struct pollfd p = {k->fd, POLLOUT, 0};
  if (poll(&p, 1, 0) <= 0) return now_ns >= k->connect_deadline_ns ? -ETIMEDOUT : 0;
  int e = 0;
  socklen_t el = sizeof e;
  if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0) e = errno;
  if (e) {
    k->connect_err = e;
    return -e;
  }
  k->connecting = 0;
  return 1;
}

int bf_ctl_conn_start(bf_ctl_conn *k, const bf_ctl_session_cfg *cfg, uint64_t now_ns) {
  if (k->fd < 0 || k->connecting || k->s) return -EINVAL;
  return bf_ctl_session_new(cfg, now_ns, &k->s);
}

static int closed(const bf_ctl_conn *k) {
  return k->s && bf_ctl_session_state(k->s) == BF_CTL_ST_CLOSED;
}

/* Starts the linger the first time the session is seen closed. */
static void note_closed(bf_ctl_conn *k, uint64_t now_ns) {
  if (!k->closed_seen && closed(k)) {
    k->closed_seen = 1;
    k->closed_ns = now_ns;
  }
}

int bf_ctl_conn_read(bf_ctl_conn *k, uint64_t now_ns) {
  if (k->fd < 0 || k->connecting || !k->s || k->broken || closed(k)) return 0;
  uint8_t buf[BF_CTL_CONN_READ_BYTES];
  for (;;) {
    ssize_t n = recv(k->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0 && !k->fed && (size_t)n >= BF_CTL_BUSY_BYTES &&
        !memcmp(buf, BF_CTL_BUSY_LINE, BF_CTL_BUSY_BYTES)) {
      k->busy = 1; /* the sender refused us at accept */
      n = 0;
    }
    if (n > 0) {
      k->fed += (uint64_t)n;
      (void)bf_ctl_session_feed(k->s, buf, (size_t)n, now_ns);
      note_closed(k, now_ns);
      return (int)n;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    bf_ctl_session_eof(k->s, now_ns); /* 0: the peer closed; < 0: reset */
    note_closed(k, now_ns);
    return -EPIPE;
  }
}

int bf_ctl_conn_event(bf_ctl_conn *k, bf_ctl_event *ev, uint64_t now_ns) {
  if (!k->s) return 0;
  note_closed(k, now_ns);
  if (bf_ctl_session_poll(k->s, ev)) {
    k->drained = 1;
    return 1;
  }
  if (!k->drained || closed(k)) return 0;
  /* The ring may have been nearly full: let the session decode what it held back. */
  k->drained = 0;
  (void)bf_ctl_session_feed(k->s, NULL, 0, now_ns);
  if (!bf_ctl_session_poll(k->s, ev)) return 0;
  k->drained = 1;
  return 1;
}

void bf_ctl_conn_tick(bf_ctl_conn *k, uint64_t now_ns) {
  if (k->s && now_ns >= bf_ctl_session_deadline(k->s)) bf_ctl_session_tick(k->s, now_ns);
  note_closed(k, now_ns);
}

/* The connection is gone: drop what waits and end the session. */
static int broke(bf_ctl_conn *k, uint64_t now_ns) {
  k->broken = 1;
  k->out_off = k->out_len = 0;
  bf_ctl_session_eof(k->s, now_ns);
  note_closed(k, now_ns);
  return -EPIPE;
}

int bf_ctl_conn_flush(bf_ctl_conn *k, uint64_t now_ns) {
  if (k->fd < 0 || k->connecting || !k->s) return 0;
  note_closed(k, now_ns);
  if (k->broken) return -EPIPE;
  for (;;) {
    if (k->out_off) { /* what is left goes to the front: the buffer stays linear */
      memmove(k->out, k->out + k->out_off, k->out_len - k->out_off);
      k->out_len -= k->out_off;
      k->out_off = 0;
    }
    if (k->out_len < sizeof k->out)
      k->out_len += bf_ctl_session_take_out(k->s, k->out + k->out_len, sizeof k->out - k->out_len);
    if (!k->out_len) return 0;
    ssize_t w = send(k->fd, k->out, k->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (w < 0) return broke(k, now_ns);
    if (w == 0) return 0; /* nothing taken: wait for POLLOUT */
    k->out_off = (size_t)w;
  }
}

size_t bf_ctl_conn_pending(const bf_ctl_conn *k) {
  if (k->broken) return 0;
  return k->out_len - k->out_off + (k->s ? bf_ctl_session_pending_out(k->s) : 0);
}

short bf_ctl_conn_poll_events(const bf_ctl_conn *k) {
  if (k->fd < 0 || k->broken) return 0;
  if (k->connecting) return POLLOUT;
  short ev = closed(k) ? 0 : POLLIN;
  if (bf_ctl_conn_pending(k)) ev |= POLLOUT;
  return ev;
}

uint64_t bf_ctl_conn_deadline(const bf_ctl_conn *k) {
  if (k->fd < 0) return UINT64_MAX;
  if (k->connecting) return k->connect_deadline_ns;
  if (!k->s) return UINT64_MAX;
  if (!closed(k)) return bf_ctl_session_deadline(k->s);
  return k->closed_seen ? k->closed_ns + BF_CTL_CONN_LINGER_NS : 0;
}

int bf_ctl_conn_done(const bf_ctl_conn *k, uint64_t now_ns) {
  if (k->fd < 0) return 1;
  if (!closed(k)) return 0;
  if (k->broken || !bf_ctl_conn_pending(k)) return 1;
  return k->closed_seen && now_ns >= k->closed_ns + BF_CTL_CONN_LINGER_NS;
}

void bf_ctl_conn_close(bf_ctl_conn *k) {
  if (k->fd >= 0) close(k->fd);
  bf_ctl_session_del(&k->s);
  bf_ctl_conn_init(k);
}
