/*
 * audit.c: the audit log. Each record is one compact JSON object (jansson)
 * followed by a newline, handed to the kernel in a single write(2) on an
 * O_APPEND descriptor. For a regular file the kernel appends each write whole,
 * so records from every nginx worker and every thread-pool thread land as
 * whole lines without a lock of our own. The handle holds only the descriptor
 * and never changes after open, which is what makes it safe to share.
 *
 * Rotation (logrotate, then nginx's reopen): gh_audit_reopen opens the path
 * anew and puts the new file on the handle's descriptor with dup3, which the
 * kernel does in one step; a write(2) in another thread at that moment
 * holds its own reference to the file it started on. So the descriptor's
 * number never changes, no lock is needed, and no record is split or lost.
 *
 * With [audit] target = syslog each record is one syslog(3) call (glibc's
 * is thread-safe), its message the record's JSON object, its severity by
 * event: a failed login notice, a lockout warning, the rest info. journald
 * reads /dev/log and keeps such a message whole.
 *
 * Fields come from clients (a user name typed at a login prompt), so they are
 * bounded in length and made valid UTF-8 before they reach jansson, and
 * jansson escapes control characters: a user name cannot forge a record.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

/* Longest field we record, in bytes; longer values are cut. */
#define GH_AUDIT_FIELD_MAX 256

struct gh_audit {
    int   fd;       /* -1: no file (syslog, or a log that writes nothing) */
    int   facility; /* syslog's, or -1: not syslog */
    char *path;     /* the file's, for gh_audit_reopen; NULL: none */
};

static int gh_audit_new(int fd, const char *path, int facility, gh_audit **out)
{
    gh_audit *audit = calloc(1, sizeof(*audit));

    *out = NULL;
    if (audit == NULL)
        return -1;
    audit->fd = fd;
    audit->facility = facility;
    if (path != NULL && (audit->path = strdup(path)) == NULL) {
        free(audit);
        return -1;
    }
    *out = audit;
    return 0;
}

int gh_audit_open(const char *path, gh_audit **out)
{
    int fd = -1, saved;

    *out = NULL;
    if (path != NULL && path[0] != '\0') {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            return -1;
    }
    if (gh_audit_open_fd(fd, path, out) != 0) {
        saved = errno;
        if (fd >= 0)
            close(fd);
        errno = saved;
        return -1;
    }
    return 0;
}

int gh_audit_open_fd(int fd, const char *path, gh_audit **out)
{
    return gh_audit_new(fd, fd >= 0 ? path : NULL, -1, out);
}

int gh_audit_facility(const char *name)
{
    static const struct { const char *name; int facility; } names[] = {
        { "auth", LOG_AUTH },     { "authpriv", LOG_AUTHPRIV }, { "daemon", LOG_DAEMON },
        { "user", LOG_USER },     { "local0", LOG_LOCAL0 },     { "local1", LOG_LOCAL1 },
        { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },     { "local4", LOG_LOCAL4 },
        { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },     { "local7", LOG_LOCAL7 },
    };

    for (size_t i = 0; name != NULL && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i].name, name) == 0)
            return names[i].facility;
    return -1;
}

int gh_audit_open_syslog(const char *facility, gh_audit **out)
{
    int f = gh_audit_facility(facility);

    *out = NULL;
    if (f < 0) {
        errno = EINVAL;
        return -1;
    }
    if (gh_audit_new(-1, NULL, f, out) != 0)
        return -1;
    openlog("gatehouse", LOG_PID | LOG_NDELAY, f);
    return 0;
}

bool gh_audit_path(const gh_config *cfg, const char *data_dir, char *path, size_t len)
{
    int n;

    if (strcmp(cfg->audit_target, "syslog") == 0)
        return false;
    if (cfg->audit_log[0] != '\0')
        n = snprintf(path, len, "%s", cfg->audit_log);
    else
        n = snprintf(path, len, "%s/%s", data_dir, GH_AUDIT_FILE);
    return n >= 0 && (size_t)n < len;
}

int gh_audit_open_config(const gh_config *cfg, const char *data_dir, gh_audit **out)
{
    char path[GH_PATH_MAX + 32];

    *out = NULL;
    if (strcmp(cfg->audit_target, "syslog") == 0)
        return gh_audit_open_syslog(cfg->audit_syslog_facility, out);
    if (!gh_audit_path(cfg, data_dir, path, sizeof(path))) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return gh_audit_open(path, out);
}

int gh_audit_reopen(gh_audit *audit)
{
    int fd, rc = 0, saved;

    if (audit == NULL || audit->fd < 0 || audit->path == NULL)
        return 0;
    fd = open(audit->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (dup3(fd, audit->fd, O_CLOEXEC) < 0)
        rc = -1;
    saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

void gh_audit_close(gh_audit *audit)
{
    if (audit == NULL)
        return;
    if (audit->fd >= 0)
        close(audit->fd);
    if (audit->facility >= 0)
        closelog();
    free(audit->path);
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

static int gh_audit_severity(gh_audit_event event)
{
    switch (event) {
    case GH_AUDIT_LOGIN_FAILED: return LOG_NOTICE;
    case GH_AUDIT_LOCKOUT:      return LOG_WARNING;
    default:                    return LOG_INFO;
    }
}

void gh_audit_write(gh_audit *audit, gh_audit_event event, const char *user,
                    const char *client_addr, const char *method,
                    const char *session_id, const char *detail)
{
    gh_audit_write_for(audit, NULL, event, user, client_addr, method, session_id, detail);
}

void gh_audit_write_for(gh_audit *audit, gh_audit_origin *origin,
                        gh_audit_event event, const char *user, const char *client_addr,
                        const char *method, const char *session_id, const char *detail)
{
    json_t *obj = NULL;
    char usual[1024], *line = NULL, *out;
    size_t need, len;
    ssize_t n;

    if (audit == NULL || (audit->fd < 0 && audit->facility < 0))
        return;
    if (origin != NULL)
        origin->events |= UINT32_C(1) << event;
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
    if (origin != NULL
        && (gh_audit_set(obj, "dialect", origin->dialect) != 0
            || gh_audit_set(obj, "request_id", origin->request_id[0] != '\0'
                                               ? origin->request_id : NULL) != 0))
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
    if (audit->fd < 0) {
        out[len] = '\0';
        syslog(audit->facility | gh_audit_severity(event), "%s", out);
        goto done;
    }
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
