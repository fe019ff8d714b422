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
 */
#include "shared_internal.h"

void shared_event_add(gh_shared *sh, gh_event_kind kind, const gh_session_record *rec)
{
    uint64_t seq = sh->hdr->event_last + 1;
    event_slot *e = &sh->events[seq % GH_SHARED_EVENTS];

    e->seq = seq;
    e->kind = (uint8_t)kind;
    e->dialect = rec->dialect;
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
