/*
 * shared_events.c: the ring of session events in the shared block. The
 * session table writes an event under the lock it already holds, whenever a
 * session is added (not loaded) or unlinked, whatever the reason: a logout,
 * a revocation by the command line's change log, expiry on a lookup or by
 * the sweep, or its account locked, disabled or deleted. So a reader sees
 * every end of a session, in order, without any writer knowing about it.
 *
 * Events are numbered from 1; the one numbered seq sits in slot
 * seq % GH_SHARED_EVENTS. A reader keeps its own position (the number of the
 * last event it read) and reads what came after it; a reader that fell more
 * than the ring behind loses the oldest ones and is told how many. Writing
 * costs one slot copy; reading holds the lock for the copy of what is new.
 *
 * Beside it, the table of open event streams: a slot per stream, free when
 * its id is 0, written by the worker that holds the stream (add, remove) and
 * marked closing by whoever asks to close it; the holder's timer sees the
 * mark and ends the stream. The table is small (GH_SHARED_STREAMS) and only
 * walked to list it or to find a free slot. A worker that dies holding
 * streams cannot remove them: listing drops those whose worker is gone, and
 * a full table takes their slots.
 */
#include "shared_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>

void shared_event_add(gh_shared *sh, gh_event_kind kind, const gh_session_record *rec)
{
    uint64_t seq = sh->hdr->event_last + 1;
    event_slot *e = &sh->events[seq % GH_SHARED_EVENTS];

    e->seq = seq;
    e->kind = (uint8_t)kind;
    memcpy(e->dialect, rec->dialect, sizeof(e->dialect));
    e->time = gh_now();
    e->account_id = rec->account_id;
    memcpy(e->session_id, rec->id, sizeof(e->session_id));
    sh->hdr->event_last = seq;
}

uint64_t gh_shared_event_last(gh_shared *sh)
{
    uint64_t last;

    shared_lock(sh);
    last = sh->hdr->event_last;
    shared_unlock(sh);
    return last;
}

size_t gh_shared_events_read(gh_shared *sh, uint64_t *after, gh_shared_event *out, size_t max,
                             uint64_t *lost)
{
    uint64_t from = *after, last;
    size_t n = 0;

    *lost = 0;
    shared_lock(sh);
    last = sh->hdr->event_last;
    /* A position past the newest event (a block formatted anew) starts over. */
    if (from > last)
        from = last;
    if (last - from > GH_SHARED_EVENTS) {
        *lost = last - from - GH_SHARED_EVENTS;
        from = last - GH_SHARED_EVENTS;
    }
    while (from < last && n < max) {
        from++;
        out[n++] = sh->events[from % GH_SHARED_EVENTS];
    }
    shared_unlock(sh);
    *after = from;
    return n;
}

static gh_shared_stream *stream_find(gh_shared *sh, uint64_t id)
{
    for (size_t i = 0; id != 0 && i < GH_SHARED_STREAMS; i++) {
        if (sh->streams[i].id == id)
            return &sh->streams[i];
    }
    return NULL;
}

/* A worker's pid that no longer names a process: its streams died with it. */
static bool stream_holder_gone(const gh_shared_stream *s)
{
    return s->pid > 0 && kill(s->pid, 0) != 0 && errno == ESRCH;
}

bool gh_shared_stream_add(gh_shared *sh, int64_t account_id, const char *dialect, int32_t pid,
                          int64_t now, uint64_t *id)
{
    gh_shared_stream *s = NULL;

    shared_lock(sh);
    for (size_t i = 0; s == NULL && i < GH_SHARED_STREAMS; i++) {
        if (sh->streams[i].id == 0)
            s = &sh->streams[i];
    }
    /* Full: a slot of a worker that died holding it is free after all. */
    for (size_t i = 0; s == NULL && i < GH_SHARED_STREAMS; i++) {
        if (stream_holder_gone(&sh->streams[i]))
            s = &sh->streams[i];
    }
    if (s != NULL) {
        *s = (gh_shared_stream){ .id = ++sh->hdr->stream_last, .account_id = account_id,
                                 .created = now, .pid = pid };
        snprintf(s->dialect, sizeof(s->dialect), "%s", dialect != NULL ? dialect : "");
        *id = s->id;
    }
    shared_unlock(sh);
    return s != NULL;
}

void gh_shared_stream_remove(gh_shared *sh, uint64_t id)
{
    gh_shared_stream *s;

    shared_lock(sh);
    if ((s = stream_find(sh, id)) != NULL)
        memset(s, 0, sizeof(*s));
    shared_unlock(sh);
}

gh_shared_result gh_shared_stream_close(gh_shared *sh, uint64_t id)
{
    gh_shared_stream *s;

    shared_lock(sh);
    if ((s = stream_find(sh, id)) != NULL)
        s->closing = 1;
    shared_unlock(sh);
    return s != NULL ? GH_SHARED_OK : GH_SHARED_NOT_FOUND;
}

bool gh_shared_stream_wanted(gh_shared *sh, uint64_t id)
{
    gh_shared_stream *s;
    bool wanted;

    shared_lock(sh);
    s = stream_find(sh, id);
    wanted = s != NULL && !s->closing;
    shared_unlock(sh);
    return wanted;
}

gh_shared_result gh_shared_stream_get(gh_shared *sh, uint64_t id, gh_shared_stream *out)
{
    gh_shared_stream *s;

    shared_lock(sh);
    if ((s = stream_find(sh, id)) != NULL)
        *out = *s;
    shared_unlock(sh);
    return s != NULL ? GH_SHARED_OK : GH_SHARED_NOT_FOUND;
}

size_t gh_shared_streams(gh_shared *sh, gh_shared_stream *out, size_t max)
{
    size_t n = 0;

    shared_lock(sh);
    for (size_t i = 0; i < GH_SHARED_STREAMS; i++) {
        gh_shared_stream *s = &sh->streams[i];

        if (s->id == 0)
            continue;
        if (stream_holder_gone(s)) {
            memset(s, 0, sizeof(*s));
            continue;
        }
        if (n < max)
            out[n++] = *s;
    }
    shared_unlock(sh);
    /* Slots are reused, so ids are in no order in the table: sort them. */
    for (size_t i = 1; i < n; i++) {
        gh_shared_stream t = out[i];
        size_t j = i;

        for (; j > 0 && out[j - 1].id > t.id; j--)
            out[j] = out[j - 1];
        out[j] = t;
    }
    return n;
}
