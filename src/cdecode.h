/*
 * cdecode: the fast decoders of a write's content array in the compact
 * form JSON encoders write ("[104,105]"): AVX-512 blocks or SSSE3
 * windows on x86-64 (chosen at run time), four scalar streams elsewhere.
 * content.c finds the array and falls back to its careful loop when
 * these give up.
 */
#ifndef KS_CDECODE_H
#define KS_CDECODE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The compact array at p[i] ('['), decoded into out, which has room for
 * (len - i) / 2 + 4 bytes. Returns the index after its ']' with *n set,
 * or 0 when the text is not compact, too short to gain, or invalid.
 */
size_t ks_cdec_compact(const char *p, size_t i, size_t len,
    unsigned char *out, size_t *n);

/*
 * The values in p[body..end): digits and commas, the last value ending
 * at p[end] (',' or ']'; no ']' before it). p[end + 1] must be readable.
 * true with out[0..*n) filled (out has room for (end - body) / 2 + 5
 * bytes); false when the text is not in the compact form.
 */
bool ks_cdec_run(const char *p, size_t body, size_t end,
    unsigned char *out, size_t *n);

/*
 * For tests, which run every decoder over the same text. AUTO is the
 * fastest this CPU runs, which is the one used unless one is forced.
 * ks_cdec_force returns false, and changes nothing, for a decoder this
 * CPU cannot run; ks_cdec_has says whether it can.
 */
enum { KS_CDEC_AUTO, KS_CDEC_WIDE, KS_CDEC_WINDOWS, KS_CDEC_STREAMS };
bool ks_cdec_force(int which);
bool ks_cdec_has(int which);

#endif
