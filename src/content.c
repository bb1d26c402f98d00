/*
 * content: a scanner for one shape of JSON only, a top-level object's
 * "content" array of plain integers. Anything it does not recognise it
 * leaves to jansson, so that what is accepted and what is refused stay
 * jansson's decision.
 */
#include "content.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdecode.h"
#include "frame.h"

static size_t
skip_ws(const char *p, size_t i, size_t len)
{
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	return i;
}

/* The index after the string that starts at p[i] ('"'), or 0. */
static size_t
skip_string(const char *p, size_t i, size_t len)
{
	for (i++; i < len; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			return i + 1;
	}
	return 0;
}

/* The index after the value at p[i], or 0. Only the structure is
 * followed; jansson checks the rest. */
static size_t
skip_value(const char *p, size_t i, size_t len)
{
	size_t depth = 0;

	while (i < len) {
		if (p[i] == '"') {
			if ((i = skip_string(p, i, len)) == 0)
				return 0;
			if (depth == 0)
				return i;
			continue;
		}
		if (p[i] == '[' || p[i] == '{') {
			depth++;
		} else if (p[i] == ']' || p[i] == '}') {
			if (depth == 0)
				return i;	/* a scalar its object ends */
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (p[i] == ',' || p[i] == ' ' ||
		    p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) {
			return i;
		}
		i++;
	}
	return 0;
}

/* Reads the array at p[i] ('[') into out; the index after it, or 0. */
static size_t
read_bytes(const char *p, size_t i, size_t len, unsigned char *out,
    size_t *n)
{
	unsigned v;
	size_t fast;

	if ((fast = ks_cdec_compact(p, i, len, out, n)) != 0)
		return fast;
	*n = 0;
	if ((i = skip_ws(p, i + 1, len)) < len && p[i] == ']')
		return i + 1;
	for (;;) {
		if (i >= len || p[i] < '0' || p[i] > '9')
			return 0;
		v = (unsigned)(p[i++] - '0');
		/* No leading zero, at most three digits, no fraction. */
		for (int d = 1; i < len && p[i] >= '0' && p[i] <= '9'; d++) {
			if (v == 0 || d == 3)
				return 0;
			v = v * 10 + (unsigned)(p[i++] - '0');
		}
		if (v > 255 || (i < len && (p[i] == '.' || p[i] == 'e' ||
		    p[i] == 'E')))
			return 0;
		out[(*n)++] = (unsigned char)v;
		/* The compact form first: "N," or "N]", no blank. */
		if (i < len && p[i] == ',' && i + 1 < len && p[i + 1] >= '0' &&
		    p[i + 1] <= '9') {
			i++;
			continue;
		}
		if ((i = skip_ws(p, i, len)) < len && p[i] == ']')
			return i + 1;
		if (i >= len || p[i] != ',')
			return 0;
		i = skip_ws(p, i + 1, len);
	}
}

/*
 * Walks the members of the top-level object from p[i], a key, to its
 * first "content" member whose value is an array: the index of that
 * '[', or 0 (*closed then says whether the object ended well there).
 */
static size_t
members(const char *p, size_t len, size_t i, bool *closed)
{
	size_t k;
	bool is_content;

	*closed = false;
	while (i < len && p[i] == '"') {
		if ((k = skip_string(p, i, len)) == 0)
			return 0;
		is_content = k - i == 9 && memcmp(p + i, "\"content\"", 9) == 0;
		if ((i = skip_ws(p, k, len)) >= len || p[i] != ':')
			return 0;
		i = skip_ws(p, i + 1, len);
		if (is_content && i < len && p[i] == '[')
			return i;
		if ((i = skip_value(p, i, len)) == 0)
			return 0;
		if ((i = skip_ws(p, i, len)) < len && p[i] == '}') {
			*closed = true;
			return 0;
		}
		if (i >= len || p[i] != ',')
			return 0;
		i = skip_ws(p, i + 1, len);
	}
	return 0;
}

/* The index of the first key of the object p starts with, or 0. */
static size_t
first_key(const char *p, size_t len)
{
	size_t i = skip_ws(p, 0, len);

	return i < len && p[i] == '{' ? skip_ws(p, i + 1, len) : 0;
}

size_t
ks_content_start(const char *p, size_t len)
{
	bool closed;
	size_t i = first_key(p, len);

	return i == 0 ? 0 : members(p, len, i, &closed);
}

/* Finds the top-level "content" array: its start and end in p, and its
 * bytes in out. Returns true when there is exactly one, plain. */
static bool
find_content(const char *p, size_t len, size_t *start, size_t *end,
    unsigned char *out, size_t *n)
{
	size_t i;
	bool closed;

	if ((i = first_key(p, len)) == 0 ||
	    (*start = members(p, len, i, &closed)) == 0 ||
	    (i = *end = read_bytes(p, *start, len, out, n)) == 0)
		return false;
	if ((i = skip_ws(p, i, len)) < len && p[i] == '}')
		return true;
	if (i >= len || p[i] != ',')
		return false;
	/* Another "content" array: jansson refuses the duplicate key. */
	return members(p, len, skip_ws(p, i + 1, len), &closed) == 0 &&
	    closed;
}

int
ks_content_lift(const char *p, size_t len, char **text, size_t *tlen,
    unsigned char **bytes, size_t *n)
{
	size_t start = 0, end = 0;
	unsigned char *out;
	char *t;

	*n = 0;
	/* Each value takes two characters at least ("0,"); the compact
	 * decoders store four bytes at a time. */
	if ((out = malloc(len / 2 + 4)) == NULL)
		return -ENOMEM;
	if (!find_content(p, len, &start, &end, out, n)) {
		free(out);
		return 0;
	}
	if ((t = malloc(len - (end - start) + 3)) == NULL) {
		free(out);
		return -ENOMEM;
	}
	memcpy(t, p, start);
	memcpy(t + start, "[]", 2);
	memcpy(t + start + 2, p + end, len - end);
	*tlen = len - (end - start) + 2;
	t[*tlen] = '\0';
	*text = t;
	*bytes = out;
	return 1;
}

int
ks_content_print(struct ks_buf *b, const unsigned char *bytes, size_t n)
{
	char v[8];

	for (size_t i = 0; i < n; i++)
		if (ks_buf_put(b, v, (size_t)snprintf(v, sizeof(v), "%u,",
		    bytes[i])) < 0)
			return -ENOMEM;
	return 0;
}
