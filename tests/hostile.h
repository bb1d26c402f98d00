/*
 * hostile: the corpus of hostile paths check_traversal sends, and the
 * tree in and around the root that they are aimed at.
 */
#ifndef KS_HOSTILE_H
#define KS_HOSTILE_H

#include <stddef.h>

/* One hostile path: the body of a JSON string, escapes and raw bytes
 * included. */
struct ks_hostile {
	char *s;
	int flags;
};

enum {
	KS_MAY_END = 1,		/* not valid JSON text: may end the worker */
	KS_MUST_DENY = 2,	/* a write must be policy_denied */
	KS_MUST_WRITE = 4,	/* a write must succeed (inside the root) */
};

/* Makes the tree the corpus is aimed at: files beside root in its
 * parent base (outside it) and inside it, the protected places, and
 * links of every kind in root. */
void ks_hostile_tree(const char *base, const char *root);

/* The corpus for root, whose parent base is the worker's working
 * directory; *n set to its length. Free it with ks_hostile_free. */
struct ks_hostile *ks_hostile_corpus(const char *root, const char *base,
    size_t *n);
void ks_hostile_free(struct ks_hostile *c, size_t n);

#endif
