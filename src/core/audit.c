/*
 * audit.c: the audit log. Each record is one compact JSON object (jansson)
 * followed by a newline, handed to the kernel in a single write(2) on an
 * O_APPEND descriptor. For a regular file the kernel appends each write whole,
 * so records from every nginx worker and every thread-pool thread land as
 * whole lines without a lock of our own. The handle holds only the descriptor
 * and never changes after open, which is what makes it safe to share.
 *
 * Fields come from clients (a user name typed at a login prompt), so they are
 * bounded in length and made valid UTF-8 before they reach jansson, and
 * jansson escapes control characters: a user name cannot forge a record.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

/* Longest field we record, in bytes; longer values are cut. */
#define GH_AUDIT_FIELD_MAX 256

struct gh_audit {
    int fd;     /* -1: a log that writes nothing */
};

int gh_audit_open(const char *path, gh_audit **out)
{
    gh_audit *audit;

    *out = NULL;
    audit = malloc(sizeof(*audit));
    if (audit == NULL)
        return -1;
    audit->fd = -1;
    if (path != NULL && path[0] != '\0') {
        audit->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (audit->fd < 0) {
            int saved = errno;

            free(audit);
            errno = saved;
            return -1;
        }
    }
    *out = audit;
    return 0;
}

void gh_audit_close(gh_audit *audit)
{
    if (audit == NULL)
        return;
    if (audit->fd >= 0)
        close(audit->fd);
    free(audit);
}

const char *gh_audit_event_name(gh_audit_event event)
{
    switch (event) {
    case GH_AUDIT_LOGIN:           return "login";
    case GH_AUDIT_LOGIN_FAILED:    return "login_failed";
    case GH_AUDIT_LOGOUT:          return "logout";
    case GH_AUDIT_EXPIRED:         return "expired";
    case GH_AUDIT_REVOKED:         return "revoked";
    case GH_AUDIT_LOCKOUT:         return "lockout";
    case GH_AUDIT_ACCOUNT_CHANGED: return "account_changed";
    case GH_AUDIT_DIRECTORY_CHANGED: return "directory_changed";
    }
    return "unknown";
}

/*
 * Add key = value, cut to GH_AUDIT_FIELD_MAX on a character boundary. jansson
 * refuses invalid UTF-8, and a record must not lose a field because a client
 * sent Latin-1, so such a value is kept with its non-ASCII bytes as '?'.
 */
static int gh_audit_set(json_t *obj, const char *key, const char *value)
{
    char buf[GH_AUDIT_FIELD_MAX + 1];
    size_t len;
    json_t *str;

    if (value == NULL)
        return 0;
    len = strnlen(value, GH_AUDIT_FIELD_MAX + 1);
    if (len > GH_AUDIT_FIELD_MAX) {
        len = GH_AUDIT_FIELD_MAX;
        while (len > 0 && ((unsigned char)value[len] & 0xc0) == 0x80)
            len--;
    }
    memcpy(buf, value, len);
    buf[len] = '\0';
    str = json_stringn(buf, len);
    if (str == NULL) {
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)buf[i] >= 0x80)
                buf[i] = '?';
        str = json_stringn(buf, len);
    }
    if (str == NULL)
        return -1;
    return json_object_set_new(obj, key, str);
}

static int gh_audit_time(json_t *obj)
{
    char text[32];
    struct tm tm;
    time_t now = (time_t)gh_now();

    if (gmtime_r(&now, &tm) == NULL
        || strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return -1;
    return gh_audit_set(obj, "time", text);
}

void gh_audit_write(gh_audit *audit, gh_audit_event event, const char *user,
                    const char *client_addr, const char *method,
                    const char *session_id, const char *detail)
{
    json_t *obj = NULL;
    char usual[1024], *line = NULL, *out;
    size_t need, len;
    ssize_t n;

    if (audit == NULL || audit->fd < 0)
        return;
    obj = json_object();
    if (obj == NULL)
        goto done;
    if (gh_audit_time(obj) != 0
        || gh_audit_set(obj, "event", gh_audit_event_name(event)) != 0
        || gh_audit_set(obj, "user", user) != 0
        || gh_audit_set(obj, "client", client_addr) != 0
        || gh_audit_set(obj, "method", method) != 0
        || gh_audit_set(obj, "session", session_id) != 0
        || gh_audit_set(obj, "detail", detail) != 0)
        goto done;

    /* Dump into our own buffer so the newline goes out in the same write:
     * a record of the usual size in one pass, into the stack's; a longer
     * one (a long detail) measured by that pass, then dumped again. */
    need = json_dumpb(obj, usual, sizeof(usual) - 1, JSON_COMPACT);
    if (need == 0)
        goto done;
    if (need < sizeof(usual)) {
        out = usual;
    } else {
        line = malloc(need + 1);
        if (line == NULL || json_dumpb(obj, line, need, JSON_COMPACT) != need)
            goto done;
        out = line;
    }
    len = need;
    out[len++] = '\n';

    /* A retry after a partial write would split the record; only an
     * interrupted write that wrote nothing is tried again. */
    do
        n = write(audit->fd, out, len);
    while (n < 0 && errno == EINTR);
done:
    free(line);
    json_decref(obj);
}
