/*
 * cdecode: the fast decoders of a content array in its compact form,
 * "[v,v,...,v]" with each v 0..255 written as JSON writes it (1-3
 * digits, no leading zero, no blank). Anything else makes them give up,
 * and the careful loop of content.c (or jansson) reads the text.
 *
 * Three decoders, which must agree byte for byte (tests and a fuzzer
 * compare them); the fastest this CPU runs is used:
 *  - wide (x86-64 with AVX-512 VBMI2): 64 bytes at a time, each value
 *    built in the lane of its comma and the commas' lanes compressed
 *    into the output (see wide() below). 12 GB/s of text, 3x windows.
 *  - windows (x86-64 with SSSE3): the body cut in 8-byte windows. A
 *    value belongs to the window that holds its comma; the commas of a
 *    window and of the three bytes before it index a table that places
 *    each value's digits in a 32-bit lane, and two multiply-adds turn
 *    lanes into values. Windows do not depend on each other, so nothing
 *    waits on the length of the value before.
 *  - streams (anywhere): one value at a time, branch-free, four streams
 *    abreast, each started after a comma.
 */
#include "cdecode.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Bodies shorter than this go to the careful loop: no gain below. */
#define BODY_MIN 64

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
 * Values from p[pos] on, the last one ending on ']' at end. A value
 * starts before its separator, so compact_one reads at most p[end + 1].
 */
static bool
compact_tail(const char *p, size_t pos, size_t end, unsigned char *out,
    size_t *k)
{
	bool ok = true;

	while (ok && pos < end)
		ok = compact_one(p, &pos, out, k);
	return ok && pos == end + 1;
}

/* The values in p[body..end) in STREAMS parts split at commas, or all
 * by compact_tail when there are too few commas to split. */
static bool
streams(const char *p, size_t body, size_t end, unsigned char *out,
    size_t *n)
{
	size_t pos[STREAMS], lim[STREAMS], k0[STREAMS], k[STREAMS];
	size_t at, from = body, m = 0;
	bool ok = true;

	/* Stream j starts after a comma; before it lie at most half as
	 * many values as bytes, so it writes from there and moves down.
	 * Its values start before lim[j] - 1, its separator. */
	for (size_t j = 0; j < STREAMS; j++) {
		at = j + 1 == STREAMS ? end : body + (end - body) * (j + 1) /
		    STREAMS;
		while (at < end && p[at] != ',')
			at++;
		if (at == end && j + 1 < STREAMS) {
			*n = 0;
			return compact_tail(p, body, end, out, n);
		}
		pos[j] = from;
		lim[j] = at + 1;
		k[j] = k0[j] = (from - body) / 2;
		from = at + 1;
	}
	while (ok && pos[0] + 1 < lim[0] && pos[1] + 1 < lim[1] &&
	    pos[2] + 1 < lim[2] && pos[3] + 1 < lim[3]) {
		ok &= compact_one(p, &pos[0], out, &k[0]);
		ok &= compact_one(p, &pos[1], out, &k[1]);
		ok &= compact_one(p, &pos[2], out, &k[2]);
		ok &= compact_one(p, &pos[3], out, &k[3]);
	}
	for (size_t j = 0; j < STREAMS && ok; j++)
		while (ok && pos[j] + 1 < lim[j])
			ok = compact_one(p, &pos[j], out, &k[j]);
	/* Each stream ends on its own comma, the last on the caller's
	 * p[end]. */
	for (size_t j = 0; j < STREAMS && ok; j++) {
		ok = pos[j] == lim[j] && (j + 1 == STREAMS ||
		    p[lim[j] - 1] == ',');
		memmove(out + m, out + k0[j], k[j] - k0[j]);
		m += k[j] - k0[j];
	}
	*n = m;
	return ok;
}

/*
 * The faults of the 64-byte block at b, from its masks and those of the
 * block before (pcm, pdm; a separator before the first): a byte neither
 * digit nor comma, an empty value, a leading zero, four digits in a row.
 * Reads b[64] (at most the ']').
 */
static inline uint64_t
block_bad(const char *b, uint64_t cm, uint64_t dm, uint64_t zm,
    uint64_t pcm, uint64_t pdm)
{
	uint64_t after = (unsigned)(unsigned char)b[64] - '0' < 10u;
	uint64_t before = cm << 1 | pcm >> 63;

	return ~(cm | dm) | (cm & before) |
	    (zm & before & (dm >> 1 | after << 63)) |
	    (dm & (dm << 1 | pdm >> 63) & (dm << 2 | pdm >> 62) &
	    (dm << 3 | pdm >> 61));
}

/*
 * After nblk blocks from body gave k values (each value is the block's
 * that holds its comma): the rest, from the blocks' last comma (a value
 * has at most three digits, so it is one of their last four bytes).
 */
static bool
blocks_tail(const char *p, size_t body, size_t nblk, size_t end,
    unsigned char *out, size_t k, size_t *n)
{
	size_t pos = body + 64 * nblk;

	while (pos > body && p[pos - 1] != ',')
		pos--;
	if (!compact_tail(p, pos, end, out, &k))
		return false;
	*n = k;
	return true;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_X86_SIMD 1
#include <cpuid.h>
#include <immintrin.h>

/*
 * The window table, indexed by the comma bits of the 3 bytes before a
 * window (bits 0-2) and of its 8 bytes (bits 3-10): in the 16 bytes
 * loaded for a window, bytes 5-7 and 8-15. For each value whose comma
 * is in the window, a lane of four shuffle indices: 0x80 (a zero), then
 * the hundreds, tens and units digit, right-aligned; count says how
 * many lanes. The table trusts the masks of windows(): only digits and
 * commas, no empty value, no value of four digits. 36 KiB, built once.
 */
#define WINDOW_KEYS 2048
static uint8_t win_shuf[WINDOW_KEYS][16] __attribute__((aligned(16)));
static uint8_t win_count[WINDOW_KEYS];
static bool cpu_ssse3, cpu_wide;

/*
 * Once, at the first large write: what this CPU can run. Two cpuid and
 * an xgetbv: __builtin_cpu_supports would link libgcc's start-up probe,
 * a dozen cpuid that a virtual machine traps, into the start of every
 * worker (150 us under Firecracker). The wide decoder needs AVX-512 F,
 * BW, VBMI and VBMI2, BMI2 and POPCNT, and the kernel saving the opmask
 * and ZMM registers (XCR0 bits 1, 2, 5, 6, 7).
 */
static void
cpu_probe(void)
{
	unsigned eax, ebx, ecx, edx, lo, hi;
	const unsigned b7 = bit_AVX512F | bit_AVX512BW | bit_BMI2;
	const unsigned c7 = bit_AVX512VBMI | bit_AVX512VBMI2;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return;
	cpu_ssse3 = (ecx & bit_SSSE3) != 0;
	if ((ecx & (bit_OSXSAVE | bit_POPCNT)) != (bit_OSXSAVE | bit_POPCNT) ||
	    !__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) ||
	    (ebx & b7) != b7 || (ecx & c7) != c7)
		return;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	cpu_wide = (lo & 0xe6) == 0xe6;
}

/* The window table, built by choose() when this CPU can use it. */
static void
window_build(void)
{
	for (unsigned key = 0; key < WINDOW_KEYS; key++) {
		uint8_t *shuf = win_shuf[key];
		int last = 4, n = 0;	/* no comma before: three digits */

		memset(shuf, 0x80, 16);
		for (int b = 5; b < 8; b++)
			if (key >> (b - 5) & 1)
				last = b;
		for (int b = 8; b < 16 && n < 4; b++) {
			int len = b - last - 1;

			if (!(key >> (b - 5) & 1))
				continue;
			for (int d = 0; len <= 3 && d < len; d++)
				shuf[n * 4 + 4 - len + d] = (uint8_t)(last + 1 +
				    d);
			n += len > 0;
			last = b;
		}
		win_count[key] = (uint8_t)n;
	}
}

/* The 64 bytes at p as bits: commas, digits, '0's (bit i: byte i). */
struct masks {
	uint64_t comma, digit, zero;
};

__attribute__((target("ssse3"))) static inline struct masks
masks64(const char *p)
{
	const __m128i comma = _mm_set1_epi8(','), zero = _mm_set1_epi8('0');
	const __m128i nine = _mm_set1_epi8(9);
	struct masks m = { 0, 0, 0 };

	for (size_t j = 0; j < 4; j++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)
		    (p + 16 * j));
		__m128i t = _mm_sub_epi8(v, zero);

		m.comma |= (uint64_t)(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(v, comma)) << (16 * j);
		m.digit |= (uint64_t)(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(_mm_min_epu8(t, nine), t)) << (16 * j);
		m.zero |= (uint64_t)(unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(v, zero)) << (16 * j);
	}
	return m;
}

/*
 * Blocks of 64 bytes from body while one fits before end: their masks
 * check the text (only digits and commas; no empty value, no leading
 * zero, no run of four digits), then each of the block's 8 windows is
 * shuffled and summed. The partial value at the end of the last block
 * and the rest go to compact_tail. out needs 4 bytes of room past the
 * values.
 */
__attribute__((target("ssse3"))) static bool
windows(const char *p, size_t body, size_t end, unsigned char *out,
    size_t *n)
{
	const __m128i zero = _mm_set1_epi8('0');
	const __m128i weight = _mm_set1_epi32(0x010a6400);  /* 0,100,10,1 */
	const __m128i ones = _mm_set1_epi16(1), max = _mm_set1_epi32(255);
	const __m128i pack = _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1,
	    -1, -1, -1, -1, -1, -1, -1);
	size_t nblk = (end - body) / 64, k = 0;
	uint64_t pcm = 1ull << 63, pdm = 0, bad = 0;  /* '[' before body */
	__m128i over = _mm_setzero_si128();

	for (size_t blk = 0; blk < nblk; blk++) {
		const char *b = p + body + 64 * blk;
		struct masks m = masks64(b);
		uint64_t cm = m.comma, dm = m.digit;

		bad |= block_bad(b, cm, dm, m.zero, pcm, pdm);
		for (size_t w = 0; w < 8; w++) {
			unsigned key = w == 0 ? (unsigned)((cm & 0xff) << 3 |
			    pcm >> 61) : (unsigned)(cm >> (8 * w - 3) & 0x7ff);
			/* The first window's 8 bytes before are not read: body
			 * may start a buffer. */
			__m128i v = blk == 0 && w == 0 ? _mm_slli_si128(
			    _mm_loadu_si128((const __m128i *)(const void *)b),
			    8) : _mm_loadu_si128((const __m128i *)(const void *)
			    (b + 8 * w - 8));
			__m128i lanes = _mm_shuffle_epi8(_mm_sub_epi8(v, zero),
			    _mm_load_si128((const __m128i *)(const void *)
			    win_shuf[key]));
			__m128i val = _mm_madd_epi16(_mm_maddubs_epi16(lanes,
			    weight), ones);
			uint32_t four;

			over = _mm_or_si128(over, _mm_cmpgt_epi32(val, max));
			four = (uint32_t)_mm_cvtsi128_si32(_mm_shuffle_epi8(val,
			    pack));
			memcpy(out + k, &four, 4);
			k += win_count[key];
		}
		pcm = cm;
		pdm = dm;
	}
	return bad == 0 && _mm_movemask_epi8(over) == 0 &&
	    blocks_tail(p, body, nblk, end, out, k, n);
}

/*
 * The wide decoder (AVX-512 VBMI2): a 64-byte block at a time. Lane i of
 * the block holds the value whose comma is byte i: its units, tens and
 * hundreds digits are bytes i-1, i-2 and i-3, loaded as three vectors
 * moved back by one, two and three bytes; two table lookups (vpermb)
 * weigh the tens and hundreds, present where the digit masks say. The
 * sum is kept in a byte, so a value over 255 is caught by comparing its
 * digits. The commas' lanes are compressed in a register and stored
 * with a mask (the memory form of vpcompressb is slow on AMD Zen 4) as
 * the block's values. The text's faults are those of block_bad().
 */
static const uint8_t wide_tens[64] = { 0, 10, 20, 30, 40, 50, 60, 70, 80,
    90 };
static const uint8_t wide_hundreds[64] = { 0, 100, 200, 300 % 256,
    400 % 256, 500 % 256, 600 % 256, 700 % 256, 800 % 256, 900 % 256 };

#define WIDE_TARGET "avx512f,avx512bw,avx512vbmi,avx512vbmi2,bmi2,popcnt"

__attribute__((target(WIDE_TARGET))) static bool
wide(const char *p, size_t body, size_t end, unsigned char *out, size_t *n)
{
	const __m512i zero = _mm512_set1_epi8('0');
	const __m512i comma = _mm512_set1_epi8(','), nine = _mm512_set1_epi8(9);
	const __m512i two = _mm512_set1_epi8(2), x55 = _mm512_set1_epi8(55);
	const __m512i tens = _mm512_loadu_si512((const void *)wide_tens);
	const __m512i hundreds = _mm512_loadu_si512((const void *)
	    wide_hundreds);
	size_t nblk = (end - body) / 64, k = 0;
	uint64_t pcm = 1ull << 63, pdm = 0, bad = 0, over = 0;

	for (size_t blk = 0; blk < nblk; blk++) {
		const char *b = p + body + 64 * blk;
		__m512i x0 = _mm512_loadu_si512((const void *)b), x1, x2, x3;
		uint64_t cm, dm, zm, t, h;
		__m512i d0, tu, v;

		/* The first block does not read before body, which may
		 * start a buffer: masked lanes are neither read nor set. */
		if (blk == 0) {
			x1 = _mm512_maskz_loadu_epi8(~0ull << 1, b - 1);
			x2 = _mm512_maskz_loadu_epi8(~0ull << 2, b - 2);
			x3 = _mm512_maskz_loadu_epi8(~0ull << 3, b - 3);
		} else {
			x1 = _mm512_loadu_si512((const void *)(b - 1));
			x2 = _mm512_loadu_si512((const void *)(b - 2));
			x3 = _mm512_loadu_si512((const void *)(b - 3));
		}
		d0 = _mm512_sub_epi8(x0, zero);
		cm = _mm512_cmpeq_epi8_mask(x0, comma);
		dm = _mm512_cmple_epu8_mask(d0, nine);
		zm = _mm512_cmpeq_epi8_mask(x0, zero);
		bad |= block_bad(b, cm, dm, zm, pcm, pdm);
		/* Lane i has a tens digit when byte i-2 is one (byte i-1,
		 * its units, is: block_bad), hundreds when byte i-3 too. */
		t = cm & (dm << 2 | pdm >> 62);
		h = t & (dm << 3 | pdm >> 61);
		x2 = _mm512_sub_epi8(x2, zero);
		x3 = _mm512_sub_epi8(x3, zero);
		tu = _mm512_add_epi8(_mm512_sub_epi8(x1, zero),
		    _mm512_maskz_permutexvar_epi8(t, x2, tens));
		v = _mm512_add_epi8(tu, _mm512_maskz_permutexvar_epi8(h, x3,
		    hundreds));
		over |= h & (_mm512_cmpgt_epu8_mask(x3, two) |
		    (_mm512_cmpeq_epi8_mask(x3, two) &
		    _mm512_cmpgt_epu8_mask(tu, x55)));
		_mm512_mask_storeu_epi8(out + k, _bzhi_u64(~0ull,
		    (unsigned)_mm_popcnt_u64(cm)), _mm512_maskz_compress_epi8(
		    cm, v));
		k += (size_t)_mm_popcnt_u64(cm);
		pcm = cm;
		pdm = dm;
	}
	return (bad | over) == 0 && blocks_tail(p, body, nblk, end, out, k, n);
}
#endif

typedef bool (*decoder_fn)(const char *, size_t, size_t,
    unsigned char *, size_t *);

/* Each decoder by its KS_CDEC_ number, NULL where this CPU cannot run
 * it; best, the first that it can. Set once, by choose(). */
static decoder_fn decoders[KS_CDEC_STREAMS + 1];
static decoder_fn best, forced;
static pthread_once_t chosen = PTHREAD_ONCE_INIT;

static void
choose(void)
{
#ifdef HAVE_X86_SIMD
	cpu_probe();
	if (cpu_wide)
		decoders[KS_CDEC_WIDE] = wide;
	if (cpu_ssse3) {
		window_build();
		decoders[KS_CDEC_WINDOWS] = windows;
	}
#endif
	decoders[KS_CDEC_STREAMS] = streams;
	for (int i = KS_CDEC_STREAMS; i > KS_CDEC_AUTO; i--)
		if (decoders[i] != NULL)
			best = decoders[i];
}

bool
ks_cdec_run(const char *p, size_t body, size_t end, unsigned char *out,
    size_t *n)
{
	decoder_fn run;

	if (end - body < BODY_MIN) {
		*n = 0;
		return compact_tail(p, body, end, out, n);
	}
	pthread_once(&chosen, choose);
	run = forced != NULL ? forced : best;
	return run(p, body, end, out, n);
}

size_t
ks_cdec_compact(const char *p, size_t i, size_t len, unsigned char *out,
    size_t *n)
{
	const char *close = memchr(p + i, ']', len - i);
	size_t end;

	/* A value's three bytes stay inside p: "}" follows the "]". */
	if (close == NULL || (end = (size_t)(close - p)) + 1 >= len ||
	    end - (i + 1) < BODY_MIN)
		return 0;
	return ks_cdec_run(p, i + 1, end, out, n) ? end + 1 : 0;
}

bool
ks_cdec_has(int which)
{
	pthread_once(&chosen, choose);
	return which > KS_CDEC_AUTO && which <= KS_CDEC_STREAMS &&
	    decoders[which] != NULL;
}

bool
ks_cdec_force(int which)
{
	if (which != KS_CDEC_AUTO && !ks_cdec_has(which))
		return false;
	forced = which == KS_CDEC_AUTO ? NULL : decoders[which];
	return true;
}
