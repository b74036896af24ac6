/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bf_tamper: an attacker on the path, for the sealed data plane's tests.
 *
 *   bf_tamper relay --listen PORT --to HOST:PORT [--every N] [--port-file F]
 *                   [--idle-exit S] [--bye-after N]
 *     Forwards UDP both ways between one client (whoever sends first) and
 *     the sender. Every N-th sender -> client datagram (default 10, 0 = none)
 *     is followed by a replayed copy and by a copy with one tag bit flipped;
 *     the genuine datagram always goes through, so the stream must go on.
 *     --bye-after N: after the N-th sender -> client datagram, one forged
 *     clear BYE from the sender's side (what an attacker who can spoof the
 *     sender's address sends). --jump-at N:K (up to 4 times): after the N-th
 *     sender -> client datagram, a copy of the next video datagram with its
 *     frame_index moved K ahead (a forged AU far ahead, clear mode). At exit
 *     prints one JSON line with what it injected.
 *   bf_tamper punch SRC_IP HOST:PORT
 *     Sends one punch ("PFpunch1") from SRC_IP (e.g. 127.0.0.2).
 *
 * Plain POSIX sockets, IPv4 only; not part of any program.
 */
#include <bildfunk/feedback.h>
#include <bildfunk/wire.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  stop = sig;
}

static int parse_hostport(const char *s, struct sockaddr_in *a) {
  char host[64];
  const char *c = strrchr(s, ':');
  if (!c || (size_t)(c - s) >= sizeof host) return -1;
  memcpy(host, s, (size_t)(c - s));
  host[c - s] = 0;
  memset(a, 0, sizeof *a);
  a->sin_family = AF_INET;
  a->sin_port = htons((uint16_t)atoi(c + 1));
  return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static int punch(const char *src, const char *dst) {
  struct sockaddr_in from, to;
  memset(&from, 0, sizeof from);
  from.sin_family = AF_INET;
  if (inet_pton(AF_INET, src, &from.sin_addr) != 1 || parse_hostport(dst, &to)) return 2;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&from, sizeof from) < 0) {
    perror("bf_tamper punch");
    return 1;
  }
  for (int i = 0; i < 3; i++)
    sendto(fd, "PFpunch1", 8, 0, (struct sockaddr *)&to, sizeof to);
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "punch")) return punch(argv[2], argv[3]);
  if (argc < 2 || strcmp(argv[1], "relay")) {
    fprintf(stderr, "usage: bf_tamper relay --listen PORT --to HOST:PORT [--every N] "
                    "[--port-file F] [--idle-exit S] [--bye-after N] [--jump-at N:K]... | "
                    "bf_tamper punch SRC_IP HOST:PORT\n");
    return 2;
  }
  int listen_port = 0, every = 10, idle_exit = 5;
  unsigned long bye_after = 0, jump_at[4] = {0}, jump_by[4] = {0};
  int njump = 0;
  const char *to_s = NULL, *port_file = NULL;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--listen"))
      listen_port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--to"))
      to_s = argv[i + 1];
    else if (!strcmp(argv[i], "--every"))
      every = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--port-file"))
      port_file = argv[i + 1];
    else if (!strcmp(argv[i], "--idle-exit"))
      idle_exit = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--bye-after"))
      bye_after = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--jump-at") && njump < 4) {
      char *end;
      jump_at[njump] = strtoul(argv[i + 1], &end, 10);
      if (*end != ':') return 2;
      jump_by[njump++] = strtoul(end + 1, NULL, 10);
    }
  }
  struct sockaddr_in sender, client, me;
  if (!to_s || parse_hostport(to_s, &sender) || every < 0) return 2;
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  int fc = socket(AF_INET, SOCK_DGRAM, 0); /* faces the client */
  int fs = socket(AF_INET, SOCK_DGRAM, 0); /* faces the sender */
  memset(&me, 0, sizeof me);
  me.sin_family = AF_INET;
  me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  me.sin_port = htons((uint16_t)listen_port);
  if (fc < 0 || fs < 0 || bind(fc, (struct sockaddr *)&me, sizeof me) < 0) {
    perror("bf_tamper");
    return 1;
  }
  socklen_t ml = sizeof me;
  getsockname(fc, (struct sockaddr *)&me, &ml);
  if (port_file) {
    FILE *f = fopen(port_file, "w");
    if (!f) return 1;
    fprintf(f, "%u\n", ntohs(me.sin_port));
    fclose(f);
  }
  int have_client = 0;
  unsigned long fwd_up = 0, fwd_down = 0, replayed = 0, forged = 0, byes = 0, jumps = 0;
  int jump_due = -1; /* the jump to forge on the next video datagram */
  static unsigned char buf[65536];
  while (!stop) {
    struct pollfd p[2] = {{fc, POLLIN, 0}, {fs, POLLIN, 0}};
    int r = poll(p, 2, idle_exit * 1000);
    if (r == 0) break;
    if (r < 0) continue;
    if (p[0].revents & POLLIN) {
      struct sockaddr_in from;
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(fc, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
      if (n > 0) {
        client = from;
        have_client = 1;
        sendto(fs, buf, (size_t)n, 0, (struct sockaddr *)&sender, sizeof sender);
        fwd_up++;
      }
    }
    if (p[1].revents & POLLIN) {
      ssize_t n = recv(fs, buf, sizeof buf, 0);
      if (n > 0 && have_client) {
        sendto(fc, buf, (size_t)n, 0, (struct sockaddr *)&client, sizeof client);
        fwd_down++;
        for (int j = 0; j < njump; j++)
          if (fwd_down == jump_at[j]) jump_due = j;
        if (jump_due >= 0 && n >= BF_HEADER_BYTES + 512 && buf[36] == BF_MAGIC) {
          uint32_t idx = (uint32_t)buf[8] | (uint32_t)buf[9] << 8 | (uint32_t)buf[10] << 16 |
                         (uint32_t)buf[11] << 24;
          idx += (uint32_t)jump_by[jump_due];
          for (int b = 0; b < 4; b++)
            buf[8 + b] = (uint8_t)(idx >> (8 * b));
          sendto(fc, buf, (size_t)n, 0, (struct sockaddr *)&client, sizeof client);
          jumps++;
          jump_due = -1;
        }
        if (bye_after && fwd_down == bye_after) {
          bf_feedback fb;
          memset(&fb, 0, sizeof fb);
          fb.type = BF_FB_BYE;
          fb.u.bye.reason = BF_BYE_NORMAL;
          uint8_t bye[BF_FB_MAX_BYTES];
          int bl = bf_feedback_encode(&fb, bye, sizeof bye);
          if (bl > 0) {
            sendto(fc, bye, (size_t)bl, 0, (struct sockaddr *)&client, sizeof client);
            byes++;
          }
        }
        if (every && n > 24 && fwd_down % (unsigned long)every == 0) {
          sendto(fc, buf, (size_t)n, 0, (struct sockaddr *)&client, sizeof client);
          replayed++;
          buf[n - 1] ^= 0x01;
          buf[0] = 0x7f; /* a seq far ahead, so the forgery reaches the tag check */
          sendto(fc, buf, (size_t)n, 0, (struct sockaddr *)&client, sizeof client);
          forged++;
        }
      }
    }
  }
  printf("{\"up\": %lu, \"down\": %lu, \"replayed\": %lu, \"forged\": %lu, \"byes\": %lu, "
         "\"jumps\": %lu}\n",
         fwd_up, fwd_down, replayed, forged, byes, jumps);
  return 0;
}
