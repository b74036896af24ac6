/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bf_inpeer: a peer that sends input datagrams it has no right to send, for
 * the input tests: the punch (so a direct-mode sender adopts it), then COUNT
 * INPUT datagrams (0xB0, in the clear), each pressing a key (usage 0x04 'a'
 * and releasing it, one event pair per datagram, sequences counting from 1),
 * 2 ms apart.
 *   bf_inpeer HOST:PORT COUNT [nopunch]
 * Prints "sent N" at the end. Exit 0, or 1 when the address is bad.
 */
#include <bildfunk/inputmsg.h>
#include <bildfunk/punch.h>
#include <bildfunk/transport.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bf_inpeer HOST:PORT COUNT [nopunch]\n");
    return 2;
  }
  bf_addr to;
  if (bf_addr_parse(argv[1], 0, &to) < 0) {
    fprintf(stderr, "bf_inpeer: bad address %s\n", argv[1]);
    return 1;
  }
  int count = atoi(argv[2]);
  bf_udp_config uc;
  bf_udp_config_default(&uc);
  uc.bind = "127.0.0.1:0";
  uc.quiet = 1;
  uc.gso = 0;
  bf_transport *t = NULL;
  if (bf_udp_open(&uc, &t) < 0) {
    fprintf(stderr, "bf_inpeer: no socket\n");
    return 1;
  }
  bf_transport_set_peer(t, &to);
  if (argc < 4 || strcmp(argv[3], "nopunch")) bf_punch_send(t);
  int sent = 0;
  for (int i = 0; i < count; i++) {
    bf_inmsg_input m;
    memset(&m, 0, sizeof m);
    m.snap_seq = (uint32_t)i + 1;
    m.first_seq = 2u * (uint32_t)i + 1;
    m.n_events = 2;
    m.ev[0] = (bf_inev){BF_INEV_KEY_DOWN, 0, 0x04, 0, 0};
    m.ev[1] = (bf_inev){BF_INEV_KEY_UP, 0, 0x04, 0, 0};
    m.rel_x = 10 * (i + 1); /* and the pointer moving */
    uint8_t b[BF_INMSG_MAX_BYTES];
    int n = bf_inmsg_input_encode(&m, b, sizeof b);
    bf_dgram g = {b, (size_t)n, NULL, 0};
    if (n > 0 && bf_send(t, &g) == 1) sent++;
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  printf("sent %d\n", sent);
  bf_transport_close(&t);
  return 0;
}
