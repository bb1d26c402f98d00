/*
 * ranged: reads of part of a file (protocol(7), EXTENSIONS): a byte
 * range from an offset, or a range of lines, the way agent read tools
 * page through files of any size. Each part fits one reply; the reply
 * says where the next one starts, so nothing is ever cut silently.
 */
#include "fsops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "proto.h"

/* Most bytes one part can hold: every value a single digit. */
#define PART_MAX_FIT (KS_RANGE_REPLY_ROOM / 2)
/* Bytes read at a time while looking for where a line starts. */
#define SCAN_CHUNK 65536

/* The longest prefix of p[0..n) whose byte array fits room. */
static size_t
fitting(const unsigned char *p, size_t n, size_t room)
{
	size_t used = 2, i;

	for (i = 0; i < n; i++) {
		used += (p[i] >= 100 ? 3 : p[i] >= 10 ? 2 : 1) + (i > 0);
		if (used > room)
			break;
	}
	return i;
}

/* pread of up to want bytes at off into fs's buffer; *eof when the file
 * ended before want. */
static int
pread_upto(struct ks_fs *fs, int fd, uint64_t off, size_t want, size_t *got,
    bool *eof)
{
	ssize_t n;

	*got = 0;
	*eof = false;
	if (ks_fs_reserve(fs, want + 1) < 0)
		return -ENOMEM;
	while (*got < want) {
		n = pread(fd, fs->rbuf + *got, want - *got, (off_t)(off + *got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && *got > 0)
			break;
		if (n < 0)
			return -errno;
		if (n == 0) {
			*eof = true;
			break;
		}
		*got += (size_t)n;
	}
	return 0;
}

/* The byte where line (1-based) starts: after its line - 1 newlines.
 * *past: the file has fewer lines. */
static int
line_start(struct ks_fs *fs, int fd, uint64_t line, uint64_t *at, bool *past)
{
	uint64_t off = 0, seen = 0;
	size_t got, i;
	bool eof = false;
	int rc;

	*past = false;
	while (seen + 1 < line) {
		if ((rc = pread_upto(fs, fd, off, SCAN_CHUNK, &got, &eof)) < 0)
			return rc;
		for (i = 0; i < got && seen + 1 < line; i++)
			seen += fs->rbuf[i] == '\n';
		off += i;
		if (seen + 1 < line && (eof || got == 0)) {
			*past = true;
			break;
		}
	}
	*at = off;
	return 0;
}

/* Cuts buf[0..*n) after its count-th newline (count 0: no limit), and
 * to what fits; back to a line's end unless not even one line fits. */
static void
cut_lines(const unsigned char *buf, size_t *n, uint64_t count, bool limited)
{
	size_t fit = fitting(buf, *n, KS_RANGE_REPLY_ROOM), i, last = 0;
	uint64_t seen = 0;

	for (i = 0; i < fit; i++) {
		if (buf[i] != '\n')
			continue;
		last = i + 1;
		if (limited && ++seen == count)
			break;
	}
	if (limited && seen == count)
		*n = last;
	else if (fit < *n)
		*n = last > 0 ? last : fit;
}

static uint64_t
newlines(const unsigned char *p, size_t n)
{
	uint64_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += p[i] == '\n';
	return c;
}

int
ks_fs_read_range(struct ks_fs *fs, const char *path,
    const struct ks_range *r, const unsigned char **data, size_t *len,
    struct ks_range_info *info, struct ks_err *err)
{
	uint64_t start = r->has_offset ? r->offset : 0;
	uint64_t line = r->has_line ? r->line : 1;
	size_t want = PART_MAX_FIT, got = 0, raw;
	bool lines = r->has_line || r->has_lines, eof = false, past = false;
	struct stat st;
	int fd, rc;

	memset(info, 0, sizeof(*info));
	if (lines && line == 0)
		return ks_err_set(err, EINVAL, KS_CODE_IO,
		    "line numbers start at 1");
	if ((rc = ks_policy_read_verdict(&fs->pctx, path, path, err)) < 0)
		return rc;
	if ((fd = ks_fs_open_read(fs, path, &st, err)) < 0)
		return fd;
	/* A line range starts where the line does, unless the caller says
	 * (the next_offset of the part before). */
	if (lines && !r->has_offset)
		rc = line_start(fs, fd, line, &start, &past);
	if (r->has_max && r->max < want)
		want = (size_t)r->max;
	if (rc == 0 && !past && want > 0)
		rc = pread_upto(fs, fd, start, want, &got, &eof);
	close(fd);
	if (rc < 0)
		return ks_err_os(err, -rc);
	raw = got;
	if (lines)
		cut_lines(fs->rbuf, &got, r->lines, r->has_lines);
	else
		got = fitting(fs->rbuf, got, KS_RANGE_REPLY_ROOM);
	info->size_known = S_ISREG(st.st_mode);
	info->size = info->size_known ? (uint64_t)st.st_size : 0;
	info->next_offset = start + got;
	info->eof = past || (info->size_known ?
	    info->next_offset >= info->size : eof && got == raw);
	info->next_line = line + newlines(fs->rbuf, got);
	/* A last line without its newline was read whole too. */
	if (info->eof && got > 0 && fs->rbuf[got - 1] != '\n')
		info->next_line++;
	*data = fs->rbuf;
	*len = got;
	return 0;
}
