/*
 * tree.h: the bundled resource trees (the embedded default), read once into
 * memory at start so serving them never touches the disk. The layout is
 * DMTF's mockup layout: one file per resource path, named index.json (and
 * index.xml where a dialect serves XML), under one root directory:
 * ROOT/redfish/v1/Systems/1/index.json is the resource /redfish/v1/Systems/1.
 * Lookups ignore case and a trailing slash, as HPE iLO does, and give back
 * the canonical path.
 */
#ifndef GH_TREE_H
#define GH_TREE_H

#include "../core/gh.h"

/* Limits of a tree, each an error at load. */
#define GH_TREE_FILE_MAX    (1024 * 1024)       /* bytes of one file */
#define GH_TREE_TOTAL_MAX   (64 * 1024 * 1024)  /* bytes of all files */
#define GH_TREE_ENTRIES_MAX 65536               /* files */
#define GH_TREE_DEPTH_MAX   32                  /* directory levels below the root */
#define GH_TREE_PATH_MAX    1024                /* bytes of a resource path */

typedef struct gh_tree gh_tree;

typedef struct {
    const char *path;      /* canonical resource path, "/redfish/v1/Systems/1" */
    const char *body;      /* the file's bytes */
    size_t      len;
    const char *etag;      /* strong ETag of the bytes, quoted */
} gh_tree_entry;

/* Read every index.json and index.xml under root; ROOT/index.json is "/".
 * Symbolic links and names starting with '.' are skipped. *out owned by the
 * caller, freed with gh_tree_free. 0 on success, -1 with a message in err. */
int gh_tree_load(const char *root, gh_tree **out, char *err, size_t errlen);
void gh_tree_free(gh_tree *tree);

/* The resource at path in a format ("json" or "xml"), or NULL. The entry
 * lives as long as the tree. */
const gh_tree_entry *gh_tree_find(const gh_tree *tree, gh_str path, const char *format);

#endif
