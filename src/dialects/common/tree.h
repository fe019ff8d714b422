/*
 * tree.h: the bundled resource trees (the embedded default), read once into
 * memory at start so serving them never touches the disk. The layout is
 * DMTF's mockup layout: one file per resource path, named index.json (and
 * index.xml where a dialect serves XML), under one root directory:
 * ROOT/redfish/v1/Systems/1/index.json is the resource /redfish/v1/Systems/1.
 * Lookups ignore case and a trailing slash, as HPE iLO does, and give back
 * the canonical path. Loading also lets each dialect add the documents that
 * depend on nothing but the files (its render hook, dialect.h), so serving
 * them is a lookup too. Once loaded, a tree never changes: threads share it.
 */
#ifndef GH_TREE_H
#define GH_TREE_H

#include <jansson.h>

#include "../../core/gh.h"

/* Limits of a tree, each an error at load. */
#define GH_TREE_FILE_MAX    (1024 * 1024)       /* bytes of one file */
#define GH_TREE_TOTAL_MAX   (64 * 1024 * 1024)  /* bytes of all files */
#define GH_TREE_ENTRIES_MAX 65536               /* files */
#define GH_TREE_DEPTH_MAX   32                  /* directory levels below the root */
#define GH_TREE_PATH_MAX    1024                /* bytes of a resource path */

#define GH_TREE_ETAG_LEN    18                  /* '"' + 16 hex digits + '"' */

typedef struct gh_tree gh_tree;

typedef struct {
    const char   *path;    /* canonical resource path, "/redfish/v1/Systems/1" */
    const char   *body;    /* the file's bytes, a NUL after len */
    size_t        len;
    char          etag[GH_TREE_ETAG_LEN + 1];   /* strong ETag of the bytes, quoted */
    /* The bytes parsed, when the format is "json" and they are a JSON object
     * or array; else NULL. Shared by every request and thread, so never
     * changed: read it, and build new values that json_incref what they keep
     * of it (jansson's reference counts are atomic). */
    const json_t *json;
} gh_tree_entry;

/* A server loads its tree with gh_tree_load (dialect.h), which reads the
 * files, lets each dialect's render hook add its documents, and seals it. */

/* Read every index.json and index.xml under root; ROOT/index.json is "/".
 * Symbolic links and names starting with '.' are skipped. root NULL: an
 * empty tree. The tree is open to gh_tree_add until gh_tree_seal. *out owned
 * by the caller, freed with gh_tree_free. 0 on success, -1 with a message in
 * err. */
int gh_tree_load_files(const char *root, gh_tree **out, char *err, size_t errlen);
/* Done adding: index the tree for lookups (root only names it in err).
 * 0, or -1 with a message in err. */
int gh_tree_seal(gh_tree *tree, const char *root, char *err, size_t errlen);
void gh_tree_free(gh_tree *tree);

/* The resource at path in a format, or NULL: "json" or "xml" for a file,
 * "reply" for a dialect's rendered answer to a plain read of the resource at
 * path, where that answer is not the file itself. The entry lives as long as
 * the tree (during a render hook: until the next gh_tree_add). */
const gh_tree_entry *gh_tree_find(const gh_tree *tree, gh_str path, const char *format);

/* For a dialect's render hook: the i-th entry in the tree's order (path
 * ignoring case, then json, xml, reply), or NULL past the last. An entry
 * added at the same path as entry i comes after it. */
const gh_tree_entry *gh_tree_at(const gh_tree *tree, size_t i);

/* The strong ETag an entry of body's bytes has: the first 8 bytes of its
 * SHA-256 in hex, quoted. For a document a dialect makes per request of
 * what the tree would hold (the Redfish root taken from an upstream). */
void gh_tree_etag(const char *body, size_t len, char etag[GH_TREE_ETAG_LEN + 1]);

/* For a dialect's render hook only, while the tree loads: add body (malloc'd,
 * len bytes, a NUL after them; taken over, freed on failure too) as the
 * resource at path in a format. It takes the place of a file of the same
 * path and format, ignoring case: the dialect owns that path. Subject to the
 * limits above. 0, or -1 with a message in err. */
int gh_tree_add(gh_tree *tree, const char *path, const char *format, char *body, size_t len,
                char *err, size_t errlen);

#endif
