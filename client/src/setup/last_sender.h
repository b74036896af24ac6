/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The last sender: a file in the client's config directory ("last-sender",
 * one line, HOST[:PORT] as typed) that remembers the sender the last session
 * was established with, so the window can prefill it when `bildfunk` starts
 * without a HOST.
 *
 * Not here: when to read or write it (setup), the window (pairscreen.h).
 * Writing goes through a temporary file in the same directory renamed over
 * the old one: a reader sees the old or the new name, never half of one.
 * Plain file I/O on the caller's thread, at setup only.
 */
#ifndef BF_CLIENT_LAST_SENDER_H
#define BF_CLIENT_LAST_SENDER_H

#include <stddef.h>
#include <stdio.h>

#define BF_LAST_SENDER_MAX 1024u /* bytes of the longest line, with its NUL */

/* The file |name| under |config_dir| (NULL = bf_config_dir()) into |out|.
 * 0, or -ENOENT (no config directory) / -ENAMETOOLONG. */
int bf_config_file_path(const char *config_dir, const char *name, char *out, size_t cap);
/* The last sender's file (above). */
int bf_last_sender_path(const char *config_dir, char *out, size_t cap);

/* Replaces the file |path| with |len| bytes of |text| (0600), through a
 * temporary file renamed over it. 0, or negative errno with the path it
 * failed on in |where|. */
int bf_config_file_replace(const char *path, const char *text, size_t len, char *where, size_t cap);

/* bf_config_file_replace() of the file |name| under |config_dir|. */
int bf_config_file_put(const char *config_dir, const char *name, const char *text, size_t len,
                       char *where, size_t cap);

/* The next line of |f| into |line| (|cap| bytes), its newline cut; a line
 * longer than |cap| - 1 bytes is skipped whole (the config files' lines are
 * short). 1, or 0 at the end of the file. */
int bf_config_read_line(FILE *f, char *line, size_t cap);

/* The last sender into |out| ("" when the file is missing, unreadable or not
 * one clean line: no prefill): the first line, printable ASCII without
 * spaces, of at most |cap| - 1 bytes (|cap| at most BF_LAST_SENDER_MAX). */
void bf_last_sender_read(const char *config_dir, char *out, size_t cap);

/* Remembers |target| (at most BF_LAST_SENDER_MAX - 1 bytes). 0, or negative errno with the path it
 * failed on in |where| (failures only cost the prefill). */
int bf_last_sender_write(const char *config_dir, const char *target, char *where, size_t cap);

#endif
