/*
 * tree.c: the bundled resource trees, read into memory once (tree.h).
 *
 * Loading walks the root with openat/fstatat relative to each directory's own
 * descriptor, never by rebuilt path strings, and never follows a symbolic
 * link (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW): a link in the tree is skipped, so
 * nothing outside the root can be read through it. Names starting with '.'
 * are skipped too (".git", editors' files). Limits, each an error at load:
 * GH_TREE_FILE_MAX per file, GH_TREE_TOTAL_MAX in all, GH_TREE_ENTRIES_MAX
 * files, GH_TREE_DEPTH_MAX levels, GH_TREE_PATH_MAX bytes of a resource path;
 * a directory name must be visible ASCII without '%', '?' or '#', since it is
 * matched against the raw request path.
 *
 * Serving is the hot path, so everything a request could want of an entry is
 * worked out here, once: the entries sit in one array sorted by (path
 * ignoring ASCII case, format), and once the load is complete an index
 * hashes them (FNV-1a of the path folded to lower case, open addressing at
 * most half full), so gh_tree_find is one hash and, as a rule, one compare,
 * folding case on the fly and allocating nothing; while render hooks add
 * entries, it is a binary search of the array. Two paths that differ only in
 * case would make a lookup ambiguous, so such a tree is refused. Each entry's
 * strong ETag is the first 16 hex digits of the SHA-256 of its bytes, and a
 * JSON entry holds its parsed form, so no request ever parses the tree.
 * Between gh_tree_load_files and gh_tree_seal, gh_tree_load (dialect.c, which knows
 * the dialects) lets each dialect's render hook add the documents made from
 * the files (gh_tree_add inserts in order, so lookups work between two
 * additions).
 */
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../../core/token.h"

enum { GH_TREE_JSON = 0, GH_TREE_XML = 1, GH_TREE_REPLY = 2 };

typedef struct {
    gh_tree_entry entry;      /* views of the fields below (heap blocks: they stay
                               * put when the array moves) */
    int           format;
    size_t        path_len;
    char         *path;       /* malloc'd */
    char         *body;       /* malloc'd, NUL after len bytes */
    json_t       *json;       /* the parsed body, or NULL */
} gh_tree_item;

struct gh_tree {
    gh_tree_item *items;
    size_t        n;
    size_t        cap;
    size_t        total;      /* bytes of all bodies */
    uint32_t     *index;      /* hash of (path ignoring case, format) -> item number + 1,
                               * 0 empty, linear probing; NULL until the load ends */
    size_t        index_mask; /* slots - 1, a power of two at least twice n */
};

typedef struct {
    gh_tree    *tree;
    const char *root;
    char        rel[GH_TREE_PATH_MAX + 1];   /* "" for the root, else "/a/b" */
    char       *err;
    size_t      errlen;
} gh_tree_walk;

static unsigned char gh_tree_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Order of paths ignoring ASCII case, then of formats. */
static int gh_tree_cmp(const char *a, size_t alen, int afmt, const char *b, size_t blen, int bfmt)
{
    size_t n = alen < blen ? alen : blen;

    for (size_t i = 0; i < n; i++) {
        unsigned char ca = gh_tree_lower((unsigned char)a[i]);
        unsigned char cb = gh_tree_lower((unsigned char)b[i]);

        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return afmt == bfmt ? 0 : (afmt < bfmt ? -1 : 1);
}

/* FNV-1a of the path folded to lower case, then of the format. */
static uint32_t gh_tree_hash(const char *path, size_t len, int fmt)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++) {
        h ^= gh_tree_lower((unsigned char)path[i]);
        h *= 16777619u;
    }
    h ^= (uint32_t)fmt;
    return h * 16777619u;
}

/* Hash every entry, once the tree is complete; -1 when out of memory. */
static int gh_tree_index_build(gh_tree *t)
{
    size_t slots = 16, j;

    while (slots < 2 * t->n)
        slots *= 2;
    free(t->index);
    t->index = calloc(slots, sizeof(*t->index));
    if (t->index == NULL)
        return -1;
    t->index_mask = slots - 1;
    for (size_t i = 0; i < t->n; i++) {
        const gh_tree_item *it = &t->items[i];

        for (j = gh_tree_hash(it->path, it->path_len, it->format) & t->index_mask;
             t->index[j] != 0; j = (j + 1) & t->index_mask)
            ;
        t->index[j] = (uint32_t)(i + 1);
    }
    return 0;
}

static int gh_tree_item_cmp(const void *pa, const void *pb)
{
    const gh_tree_item *a = pa, *b = pb;

    return gh_tree_cmp(a->path, a->path_len, a->format, b->path, b->path_len, b->format);
}

static int gh_tree_format(const char *format)
{
    if (format == NULL)
        return -1;
    if (strcmp(format, "json") == 0)
        return GH_TREE_JSON;
    if (strcmp(format, "xml") == 0)
        return GH_TREE_XML;
    if (strcmp(format, "reply") == 0)
        return GH_TREE_REPLY;
    return -1;
}

static bool gh_tree_name_ok(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
        if (*p < 0x21 || *p > 0x7e || *p == '%' || *p == '?' || *p == '#')
            return false;
    }
    return true;
}

void gh_tree_etag(const char *body, size_t len, char etag[GH_TREE_ETAG_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int  mdlen = 0;

    if (EVP_Digest(body, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 8)
        memset(md, 0, 8);
    etag[0] = '"';
    gh_token_hex(md, 8, etag + 1);
    etag[GH_TREE_ETAG_LEN - 1] = '"';
    etag[GH_TREE_ETAG_LEN] = '\0';
}

/* Read all size bytes of an open file into a new buffer with a NUL after. */
static char *gh_tree_read(int fd, size_t size)
{
    char  *body = malloc(size + 1);
    size_t got = 0;

    if (body == NULL)
        return NULL;
    while (got < size) {
        ssize_t r = read(fd, body + got, size - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(body);
            return NULL;
        }
        got += (size_t)r;
    }
    body[size] = '\0';
    return body;
}

/* Room for one more entry of size bytes within the limits; false with a
 * message in err. */
static bool gh_tree_room(gh_tree *t, size_t size, const char *what, char *err, size_t errlen)
{
    gh_tree_item *items;
    size_t        cap;

    if (size > GH_TREE_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes", what, GH_TREE_FILE_MAX);
        return false;
    }
    if (t->total + size > GH_TREE_TOTAL_MAX || t->n >= GH_TREE_ENTRIES_MAX) {
        snprintf(err, errlen, "%s: tree larger than %d bytes or %d files", what,
                 GH_TREE_TOTAL_MAX, GH_TREE_ENTRIES_MAX);
        return false;
    }
    if (t->n < t->cap)
        return true;
    cap = t->cap ? t->cap * 2 : 64;
    items = realloc(t->items, cap * sizeof(*items));
    if (items == NULL) {
        snprintf(err, errlen, "%s: out of memory", what);
        return false;
    }
    t->items = items;
    t->cap = cap;
    return true;
}

/* Fill it as the resource at path (malloc'd) with body (malloc'd, len bytes,
 * NUL after), taking both over, freed by gh_tree_item_clear even on failure:
 * its ETag, and the parsed form of JSON. Bytes that are no JSON object or
 * array stay a resource of bytes (the tree serves what it was given); only
 * running out of memory fails. */
static int gh_tree_item_set(gh_tree_item *it, char *path, int format, char *body, size_t len,
                            char *err, size_t errlen)
{
    json_error_t jerr;

    memset(it, 0, sizeof(*it));
    it->format = format;
    it->path = path;
    it->path_len = strlen(path);
    it->body = body;
    if (format == GH_TREE_JSON) {
        it->json = json_loadb(body, len, 0, &jerr);
        if (it->json == NULL && json_error_code(&jerr) == json_error_out_of_memory) {
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
    }
    it->entry.path = path;
    it->entry.body = body;
    it->entry.len = len;
    it->entry.json = it->json;
    gh_tree_etag(body, len, it->entry.etag);
    return 0;
}

static void gh_tree_item_clear(gh_tree_item *it)
{
    json_decref(it->json);
    free(it->path);
    free(it->body);
}

/* Add dir/name (an index.json or index.xml) as the resource w->rel. */
static int gh_tree_add_file(gh_tree_walk *w, int dfd, const char *name, int format)
{
    gh_tree      *t = w->tree;
    struct stat   st;
    char          what[PATH_MAX + GH_TREE_PATH_MAX + 16];
    char         *body = NULL, *path = NULL;
    int           fd, rc = -1;
    size_t        size;

    snprintf(what, sizeof(what), "%s%s/%s", w->root, w->rel, name);
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(w->err, w->errlen, "%s: cannot read", what);
        goto done;
    }
    size = (size_t)st.st_size;
    if (!gh_tree_room(t, size, what, w->err, w->errlen))
        goto done;
    body = gh_tree_read(fd, size);
    path = strdup(w->rel[0] != '\0' ? w->rel : "/");
    if (body == NULL || path == NULL) {
        snprintf(w->err, w->errlen, "%s: cannot read", what);
        goto done;
    }
    rc = gh_tree_item_set(&t->items[t->n], path, format, body, size, w->err, w->errlen);
    path = NULL;
    body = NULL;
    if (rc != 0) {
        gh_tree_item_clear(&t->items[t->n]);
        goto done;
    }
    t->n++;
    t->total += size;
done:
    free(body);
    free(path);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Walk the directory open on fd (taken over and closed) whose resource path
 * is w->rel, rel_len bytes long. */
static int gh_tree_walk_dir(gh_tree_walk *w, int fd, size_t rel_len, int depth)
{
    DIR           *d = fdopendir(fd);
    struct dirent *de;
    int            rc = -1;

    if (d == NULL) {
        close(fd);
        snprintf(w->err, w->errlen, "%s%s: cannot open directory", w->root, w->rel);
        goto done;
    }
    if (depth > GH_TREE_DEPTH_MAX) {
        snprintf(w->err, w->errlen, "%s%s: deeper than %d levels", w->root, w->rel,
                 GH_TREE_DEPTH_MAX);
        goto done;
    }
    for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
        const char *name = de->d_name;
        size_t      nlen = strlen(name);
        struct stat st;
        int         cfd;

        if (name[0] == '.')
            continue;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            snprintf(w->err, w->errlen, "%s%s/%s: cannot stat", w->root, w->rel, name);
            goto done;
        }
        if (S_ISREG(st.st_mode) && strcmp(name, "index.json") == 0) {
            if (gh_tree_add_file(w, dirfd(d), name, GH_TREE_JSON) != 0)
                goto done;
        } else if (S_ISREG(st.st_mode) && strcmp(name, "index.xml") == 0) {
            if (gh_tree_add_file(w, dirfd(d), name, GH_TREE_XML) != 0)
                goto done;
        } else if (S_ISDIR(st.st_mode)) {
            if (!gh_tree_name_ok(name) || rel_len + 1 + nlen > GH_TREE_PATH_MAX) {
                snprintf(w->err, w->errlen, "%s%s/%s: directory name not usable in a path",
                         w->root, w->rel, name);
                goto done;
            }
            cfd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (cfd < 0) {
                snprintf(w->err, w->errlen, "%s%s/%s: cannot open directory", w->root,
                         w->rel, name);
                goto done;
            }
            w->rel[rel_len] = '/';
            memcpy(w->rel + rel_len + 1, name, nlen + 1);
            if (gh_tree_walk_dir(w, cfd, rel_len + 1 + nlen, depth + 1) != 0)
                goto done;
            w->rel[rel_len] = '\0';
        }
    }
    if (errno != 0) {
        snprintf(w->err, w->errlen, "%s%s: cannot read directory", w->root, w->rel);
        goto done;
    }
    rc = 0;
done:
    if (d != NULL)
        closedir(d);
    return rc;
}

int gh_tree_load_files(const char *root, gh_tree **out, char *err, size_t errlen)
{
    char         scratch[1];
    gh_tree_walk w;
    gh_tree     *t = NULL;
    int          fd, rc = -1;

    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    err[0] = '\0';
    if (out == NULL) {
        snprintf(err, errlen, "no tree to load into");
        goto done;
    }
    *out = NULL;
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "%s: out of memory", root != NULL ? root : "tree");
        goto done;
    }
    if (root == NULL)
        goto ok;                /* no files: an empty tree */
    fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", root, strerror(errno));
        goto done;
    }
    memset(&w, 0, sizeof(w));
    w.tree = t;
    w.root = root;
    w.err = err;
    w.errlen = errlen;
    if (gh_tree_walk_dir(&w, fd, 0, 0) != 0)
        goto done;

    if (t->n > 0)
        qsort(t->items, t->n, sizeof(t->items[0]), gh_tree_item_cmp);
    for (size_t i = 1; i < t->n; i++) {
        if (gh_tree_item_cmp(&t->items[i - 1], &t->items[i]) == 0) {
            snprintf(err, errlen, "%s: %s and %s differ only in case", root,
                     t->items[i - 1].path, t->items[i].path);
            goto done;
        }
    }
ok:
    *out = t;
    t = NULL;
    rc = 0;
done:
    gh_tree_free(t);
    return rc;
}

int gh_tree_seal(gh_tree *tree, const char *root, char *err, size_t errlen)
{
    if (gh_tree_index_build(tree) != 0) {
        snprintf(err, errlen, "%s: out of memory", root != NULL ? root : "tree");
        return -1;
    }
    return 0;
}

void gh_tree_free(gh_tree *tree)
{
    if (tree == NULL)
        return;
    for (size_t i = 0; i < tree->n; i++)
        gh_tree_item_clear(&tree->items[i]);
    free(tree->items);
    free(tree->index);
    free(tree);
}

/* The first item not before (path, fmt); *found when it is that one. */
static size_t gh_tree_search(const gh_tree *tree, const char *path, size_t len, int fmt,
                             bool *found)
{
    size_t lo = 0, hi = tree->n;

    *found = false;
    while (lo < hi) {
        size_t              mid = lo + (hi - lo) / 2;
        const gh_tree_item *it = &tree->items[mid];
        int c = gh_tree_cmp(path, len, fmt, it->path, it->path_len, it->format);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

const gh_tree_entry *gh_tree_find(const gh_tree *tree, gh_str path, const char *format)
{
    int    fmt = gh_tree_format(format);
    bool   found;
    size_t i;

    if (tree == NULL || fmt < 0 || path.data == NULL || path.len == 0 || path.data[0] != '/')
        return NULL;
    if (path.len > 1 && path.data[path.len - 1] == '/')
        path.len--;
    if (tree->index != NULL) {
        for (i = gh_tree_hash(path.data, path.len, fmt) & tree->index_mask;
             tree->index[i] != 0; i = (i + 1) & tree->index_mask) {
            const gh_tree_item *it = &tree->items[tree->index[i] - 1];

            /* As a rule the path comes spelled as the tree spells it. */
            if (it->format == fmt && it->path_len == path.len &&
                (memcmp(it->path, path.data, path.len) == 0 ||
                 gh_tree_cmp(path.data, path.len, fmt, it->path, it->path_len, fmt) == 0))
                return &it->entry;
        }
        return NULL;
    }
    i = gh_tree_search(tree, path.data, path.len, fmt, &found);
    return found ? &tree->items[i].entry : NULL;
}

const gh_tree_entry *gh_tree_at(const gh_tree *tree, size_t i)
{
    return tree != NULL && i < tree->n ? &tree->items[i].entry : NULL;
}

int gh_tree_add(gh_tree *tree, const char *path, const char *format, char *body, size_t len,
                char *err, size_t errlen)
{
    int           fmt = gh_tree_format(format);
    char         *copy = NULL;
    gh_tree_item  it;
    bool          found;
    size_t        i, plen = path != NULL ? strlen(path) : 0;

    if (tree == NULL || fmt < 0 || plen == 0 || plen > GH_TREE_PATH_MAX || path[0] != '/') {
        snprintf(err, errlen, "%s: not a resource path and format", path != NULL ? path : "-");
        goto fail;
    }
    if (!gh_tree_room(tree, len, path, err, errlen))
        goto fail;
    copy = strdup(path);
    if (copy == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    if (gh_tree_item_set(&it, copy, fmt, body, len, err, errlen) != 0) {
        gh_tree_item_clear(&it);
        return -1;
    }
    /* Numbers move: lookups search the array until the index is built anew. */
    free(tree->index);
    tree->index = NULL;
    i = gh_tree_search(tree, path, plen, fmt, &found);
    if (found) {
        tree->total -= tree->items[i].entry.len;
        gh_tree_item_clear(&tree->items[i]);
    } else {
        memmove(&tree->items[i + 1], &tree->items[i], (tree->n - i) * sizeof(tree->items[0]));
        tree->n++;
    }
    tree->items[i] = it;
    tree->total += len;
    return 0;
fail:
    free(body);
    return -1;
}
