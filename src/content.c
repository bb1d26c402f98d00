/*
 * content: a scanner for one shape of JSON only, a top-level object's
 * "content" array of plain integers. Anything it does not recognise it
 * leaves to jansson, so that what is accepted and what is refused stay
 * jansson's decision.
 */
#include "content.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

/* Streams the compact decoder interleaves: each value's length depends
 * on its bytes, so one stream is a chain of loads; four run abreast. */
#define STREAMS 4

/*
 * One value of the compact form at pos: 1-3 digits, no leading zero, at
 * most 255, then ',' or ']'. Stores it at out[*k], moves pos past its
 * separator; branch-free but for the result: false when the text is
 * anything else. Locals only: out may alias nothing the caller keeps.
 */
static inline bool
compact_one(const char *p, size_t *pos, unsigned char *out, size_t *k)
{
	size_t at = *pos;
	unsigned c0 = (unsigned char)p[at] - '0';
	unsigned c1 = (unsigned char)p[at + 1] - '0';
	unsigned c2 = (unsigned char)p[at + 2] - '0';
	unsigned a1 = c1 < 10, a2 = a1 & (c2 < 10), l = 1 + a1 + a2;
	unsigned v = a2 ? c0 * 100 + c1 * 10 + c2 : a1 ? c0 * 10 + c1 : c0;
	char sep = p[at + l];

	out[(*k)++] = (unsigned char)v;
	*pos = at + l + 1;
	return !((c0 > 9) | (v > 255) | ((l > 1) & (c0 == 0)) |
	    ((sep != ',') & (sep != ']')));
}

/*
 * The array at p[i] ('[') when it is in the compact form, split in
 * STREAMS parts at commas and decoded abreast. Returns the index after
 * it with out and *n filled, or 0 when the text is not compact (the
 * careful loop then reads it, blanks and all, or refuses it).
 */
static size_t
read_compact(const char *p, size_t i, size_t len, unsigned char *out,
    size_t *n)
{
	const char *close = memchr(p + i, ']', len - i);
	size_t pos[STREAMS], lim[STREAMS], k0[STREAMS], k[STREAMS];
	size_t body = i + 1, end, at, from = body, m = 0;
	bool ok = true;

	/* A value's three bytes stay inside p: "}" follows the "]". */
	if (close == NULL || (end = (size_t)(close - p)) + 1 >= len ||
	    end - body < 64)
		return 0;
	/* Stream j starts after a comma; before it lie at most half as
	 * many values as bytes, so it writes from there and moves down. */
	for (size_t j = 0; j < STREAMS; j++) {
		at = j + 1 == STREAMS ? end : body + (end - body) * (j + 1) /
		    STREAMS;
		while (at < end && p[at] != ',')
			at++;
		if (at == end && j + 1 < STREAMS)
			return 0;	/* too few commas to split */
		pos[j] = from;
		lim[j] = at + 1;
		k[j] = k0[j] = (from - body) / 2;
		from = at + 1;
	}
	while (ok && pos[0] < lim[0] && pos[1] < lim[1] && pos[2] < lim[2] &&
	    pos[3] < lim[3]) {
		ok &= compact_one(p, &pos[0], out, &k[0]);
		ok &= compact_one(p, &pos[1], out, &k[1]);
		ok &= compact_one(p, &pos[2], out, &k[2]);
		ok &= compact_one(p, &pos[3], out, &k[3]);
	}
	for (size_t j = 0; j < STREAMS && ok; j++)
		while (ok && pos[j] < lim[j])
			ok = compact_one(p, &pos[j], out, &k[j]);
	/* Each stream ends on its own separator, the last on ']'. */
	for (size_t j = 0; j < STREAMS && ok; j++) {
		ok = pos[j] == lim[j] && p[lim[j] - 1] ==
		    (j + 1 == STREAMS ? ']' : ',');
		memmove(out + m, out + k0[j], k[j] - k0[j]);
		m += k[j] - k0[j];
	}
	if (!ok)
		return 0;
	*n = m;
	return end + 1;
}

/* Reads the array at p[i] ('[') into out; the index after it, or 0. */
static size_t
read_bytes(const char *p, size_t i, size_t len, unsigned char *out,
    size_t *n)
{
	unsigned v;
	size_t fast;

	if ((fast = read_compact(p, i, len, out, n)) != 0)
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

/* Finds the top-level "content" array: its start and end in p, and its
 * bytes in out. Returns true when there is exactly one, plain. */
static bool
find_content(const char *p, size_t len, size_t *start, size_t *end,
    unsigned char *out, size_t *n)
{
	size_t i = skip_ws(p, 0, len), k;
	bool found = false, is_content;

	if (i >= len || p[i] != '{')
		return false;
	for (i = skip_ws(p, i + 1, len); i < len && p[i] == '"';) {
		if ((k = skip_string(p, i, len)) == 0)
			return false;
		is_content = k - i == 9 && memcmp(p + i, "\"content\"", 9) == 0;
		if ((i = skip_ws(p, k, len)) >= len || p[i] != ':')
			return false;
		i = skip_ws(p, i + 1, len);
		if (is_content && i < len && p[i] == '[') {
			if (found)
				return false;	/* jansson: duplicate key */
			found = true;
			*start = i;
			if ((i = *end = read_bytes(p, i, len, out, n)) == 0)
				return false;
		} else if ((i = skip_value(p, i, len)) == 0) {
			return false;
		}
		if ((i = skip_ws(p, i, len)) < len && p[i] == '}')
			return found;
		if (i >= len || p[i] != ',')
			return false;
		i = skip_ws(p, i + 1, len);
	}
	return false;
}

int
ks_content_lift(const char *p, size_t len, char **text, size_t *tlen,
    unsigned char **bytes, size_t *n)
{
	size_t start = 0, end = 0;
	unsigned char *out;
	char *t;

	*n = 0;
	/* Each value takes two characters at least ("0,"). */
	if ((out = malloc(len / 2 + 1)) == NULL)
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
