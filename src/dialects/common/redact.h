/*
 * redact.h: credentials taken out of a log line before it is written. The
 * nginx adapter runs every error-log line nginx or gatehouse writes through
 * gh_redact_line (ngx_http_gatehouse_log.c); redact.c says what it removes.
 */
#ifndef GH_REDACT_H
#define GH_REDACT_H

#include <stddef.h>

/* What stands in the place of a removed value. */
#define GH_REDACTED "[redacted]"

/* Copies the log line in[0..len) (any bytes, no terminator needed) to out,
 * at most cap bytes, with every credential replaced by GH_REDACTED, and
 * returns the number of bytes written (no NUL is added). When out is too
 * small the copy is cut short; a cut never lets a credential through, since
 * redacted bytes are skipped, never copied. Nothing is allocated. */
size_t gh_redact_line(const char *in, size_t len, char *out, size_t cap);

#endif
