/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sender's administration commands: --list-clients prints the paired
 * clients, --revoke NAME|FPPREFIX unpairs one. They read and write the pin
 * store in the config directory and nothing else (no identity, no sockets),
 * then the program exits. Also where that directory is (--config-dir, or
 * the platform's, bildfunk/identity.h), which the control plane shares.
 *
 * Not here: pairing itself (ctl_server.h, with the operator's confirmation).
 * No state besides the options; one thread.
 */
#ifndef BF_SENDER_SEND_ADMIN_H
#define BF_SENDER_SEND_ADMIN_H

#include "send_cli.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Runs --list-clients or --revoke from |o|; output on stdout, errors on
 * stderr. Returns the exit code. */
int bf_send_admin_run(const bf_send_options *o);

/* The config directory into |dir| (|cap| bytes): --config-dir or the
 * platform's. 0 or a negative errno (no HOME / XDG_CONFIG_HOME). */
int bf_send_admin_dir(const bf_send_options *o, char *dir, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* BF_SENDER_SEND_ADMIN_H */
