/*
 * content: the byte array of a write request, read without jansson.
 * jansson would make one object per byte (262,144 of them for a 256 KiB
 * write); this reads a plain top-level "content" array of integers
 * straight into bytes and leaves jansson an empty array in its place.
 */
#ifndef KS_CONTENT_H
#define KS_CONTENT_H

#include <stddef.h>

/*
 * Looks for a top-level "content" array of integers 0..255 in the JSON
 * text p[0..len). Returns 1 with *text (the text with that array written
 * as []; caller frees), *bytes (caller frees) and *n; 0 when there is
 * none or anything about it is unusual (jansson then reads the text as
 * it is and says what is wrong); -ENOMEM.
 */
int ks_content_lift(const char *p, size_t len, char **text, size_t *tlen,
    unsigned char **bytes, size_t *n);

/*
 * The index of the '[' of the first top-level "content" array in the
 * first len bytes of a JSON text, or 0 when they hold none: what comes
 * before it must be an object's members, plain, as ks_content_lift
 * wants them.
 */
size_t ks_content_start(const char *p, size_t len);

struct ks_buf;

/*
 * Appends bytes[0..n) to b as the compact form writes them, each value
 * followed by a comma ("104,105,"): a lifted array's text again, for a
 * payload that must be read whole after all. 0 or -ENOMEM.
 */
int ks_content_print(struct ks_buf *b, const unsigned char *bytes,
    size_t n);

#endif
