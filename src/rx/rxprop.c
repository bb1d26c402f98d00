/*
 * rxprop: the names of \p{...} as regex-syntax 0.6 (Unicode 14) resolves
 * them, turned into what PCRE2 10.4x (also Unicode 14) understands.
 *
 * PCRE2 knows the same binary properties, general categories and
 * scripts, but not under every alias, and it reads a bare script name as
 * Script_Extensions where Rust reads Script; so names are resolved here
 * and handed to PCRE2 in one unambiguous spelling. The few properties
 * PCRE2 lacks are given as explicit sets or as differences of ones it
 * has (checked against the Rust tables by the differential tests).
 */
#include "rxprop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rxprop_data.h"

struct alias {
	const char *name, *canon;
};

/* General_Category values (normalised alias -> PCRE2's short name). */
static const struct alias gencats[] = {
	{ "c", "C" }, { "casedletter", "LC" }, { "cc", "Cc" }, { "cf", "Cf" },
	{ "closepunctuation", "Pe" }, { "cn", "Cn" }, { "cntrl", "Cc" },
	{ "co", "Co" }, { "combiningmark", "M" },
	{ "connectorpunctuation", "Pc" }, { "control", "Cc" }, { "cs", "Cs" },
	{ "currencysymbol", "Sc" }, { "dashpunctuation", "Pd" },
	{ "decimalnumber", "Nd" }, { "digit", "Nd" }, { "enclosingmark", "Me" },
	{ "finalpunctuation", "Pf" }, { "format", "Cf" },
	{ "initialpunctuation", "Pi" }, { "l", "L" }, { "lc", "LC" },
	{ "letter", "L" }, { "letternumber", "Nl" }, { "lineseparator", "Zl" },
	{ "ll", "Ll" }, { "lm", "Lm" }, { "lo", "Lo" },
	{ "lowercaseletter", "Ll" }, { "lt", "Lt" }, { "lu", "Lu" },
	{ "m", "M" }, { "mark", "M" }, { "mathsymbol", "Sm" }, { "mc", "Mc" },
	{ "me", "Me" }, { "mn", "Mn" }, { "modifierletter", "Lm" },
	{ "modifiersymbol", "Sk" }, { "n", "N" }, { "nd", "Nd" },
	{ "nl", "Nl" }, { "no", "No" }, { "nonspacingmark", "Mn" },
	{ "number", "N" }, { "openpunctuation", "Ps" }, { "other", "C" },
	{ "otherletter", "Lo" }, { "othernumber", "No" },
	{ "otherpunctuation", "Po" }, { "othersymbol", "So" }, { "p", "P" },
	{ "paragraphseparator", "Zp" }, { "pc", "Pc" }, { "pd", "Pd" },
	{ "pe", "Pe" }, { "pf", "Pf" }, { "pi", "Pi" }, { "po", "Po" },
	{ "privateuse", "Co" }, { "ps", "Ps" }, { "punct", "P" },
	{ "punctuation", "P" }, { "s", "S" }, { "sc", "Sc" },
	{ "separator", "Z" }, { "sk", "Sk" }, { "sm", "Sm" }, { "so", "So" },
	{ "spaceseparator", "Zs" }, { "spacingmark", "Mc" },
	{ "surrogate", "Cs" }, { "symbol", "S" }, { "titlecaseletter", "Lt" },
	{ "unassigned", "Cn" }, { "uppercaseletter", "Lu" }, { "z", "Z" },
	{ "zl", "Zl" }, { "zp", "Zp" }, { "zs", "Zs" },
};

/* Binary properties (normalised alias -> canonical name). */
static const struct alias bools[] = {
	{ "ahex", "ASCII_Hex_Digit" }, { "alpha", "Alphabetic" },
	{ "alphabetic", "Alphabetic" }, { "asciihexdigit", "ASCII_Hex_Digit" },
	{ "bidic", "Bidi_Control" }, { "bidicontrol", "Bidi_Control" },
	{ "bidim", "Bidi_Mirrored" }, { "bidimirrored", "Bidi_Mirrored" },
	{ "cased", "Cased" }, { "caseignorable", "Case_Ignorable" },
	{ "changeswhencasefolded", "Changes_When_Casefolded" },
	{ "changeswhencasemapped", "Changes_When_Casemapped" },
	{ "changeswhenlowercased", "Changes_When_Lowercased" },
	{ "changeswhentitlecased", "Changes_When_Titlecased" },
	{ "changeswhenuppercased", "Changes_When_Uppercased" },
	{ "ci", "Case_Ignorable" }, { "cwcf", "Changes_When_Casefolded" },
	{ "cwcm", "Changes_When_Casemapped" },
	{ "cwl", "Changes_When_Lowercased" },
	{ "cwt", "Changes_When_Titlecased" },
	{ "cwu", "Changes_When_Uppercased" }, { "dash", "Dash" },
	{ "defaultignorablecodepoint", "Default_Ignorable_Code_Point" },
	{ "dep", "Deprecated" }, { "deprecated", "Deprecated" },
	{ "di", "Default_Ignorable_Code_Point" }, { "dia", "Diacritic" },
	{ "diacritic", "Diacritic" }, { "ebase", "Emoji_Modifier_Base" },
	{ "ecomp", "Emoji_Component" }, { "emod", "Emoji_Modifier" },
	{ "emoji", "Emoji" }, { "emojicomponent", "Emoji_Component" },
	{ "emojimodifier", "Emoji_Modifier" },
	{ "emojimodifierbase", "Emoji_Modifier_Base" },
	{ "emojipresentation", "Emoji_Presentation" },
	{ "epres", "Emoji_Presentation" }, { "ext", "Extender" },
	{ "extendedpictographic", "Extended_Pictographic" },
	{ "extender", "Extender" }, { "extpict", "Extended_Pictographic" },
	{ "graphemebase", "Grapheme_Base" },
	{ "graphemeextend", "Grapheme_Extend" },
	{ "graphemelink", "Grapheme_Link" }, { "grbase", "Grapheme_Base" },
	{ "grext", "Grapheme_Extend" }, { "grlink", "Grapheme_Link" },
	{ "hex", "Hex_Digit" }, { "hexdigit", "Hex_Digit" },
	{ "hyphen", "Hyphen" }, { "idc", "ID_Continue" },
	{ "idcontinue", "ID_Continue" }, { "ideo", "Ideographic" },
	{ "ideographic", "Ideographic" }, { "ids", "ID_Start" },
	{ "idsb", "IDS_Binary_Operator" },
	{ "idsbinaryoperator", "IDS_Binary_Operator" },
	{ "idst", "IDS_Trinary_Operator" }, { "idstart", "ID_Start" },
	{ "idstrinaryoperator", "IDS_Trinary_Operator" },
	{ "joinc", "Join_Control" }, { "joincontrol", "Join_Control" },
	{ "loe", "Logical_Order_Exception" },
	{ "logicalorderexception", "Logical_Order_Exception" },
	{ "lower", "Lowercase" }, { "lowercase", "Lowercase" },
	{ "math", "Math" }, { "nchar", "Noncharacter_Code_Point" },
	{ "noncharactercodepoint", "Noncharacter_Code_Point" },
	{ "oalpha", "Other_Alphabetic" },
	{ "odi", "Other_Default_Ignorable_Code_Point" },
	{ "ogrext", "Other_Grapheme_Extend" }, { "oidc", "Other_ID_Continue" },
	{ "oids", "Other_ID_Start" }, { "olower", "Other_Lowercase" },
	{ "omath", "Other_Math" }, { "otheralphabetic", "Other_Alphabetic" },
	{ "otherdefaultignorablecodepoint",
	    "Other_Default_Ignorable_Code_Point" },
	{ "othergraphemeextend", "Other_Grapheme_Extend" },
	{ "otheridcontinue", "Other_ID_Continue" },
	{ "otheridstart", "Other_ID_Start" },
	{ "otherlowercase", "Other_Lowercase" }, { "othermath", "Other_Math" },
	{ "otheruppercase", "Other_Uppercase" },
	{ "oupper", "Other_Uppercase" }, { "patsyn", "Pattern_Syntax" },
	{ "patternsyntax", "Pattern_Syntax" },
	{ "patternwhitespace", "Pattern_White_Space" },
	{ "patws", "Pattern_White_Space" },
	{ "pcm", "Prepended_Concatenation_Mark" },
	{ "prependedconcatenationmark", "Prepended_Concatenation_Mark" },
	{ "qmark", "Quotation_Mark" }, { "quotationmark", "Quotation_Mark" },
	{ "radical", "Radical" }, { "regionalindicator", "Regional_Indicator" },
	{ "ri", "Regional_Indicator" }, { "sd", "Soft_Dotted" },
	{ "sentenceterminal", "Sentence_Terminal" },
	{ "softdotted", "Soft_Dotted" }, { "space", "White_Space" },
	{ "sterm", "Sentence_Terminal" }, { "term", "Terminal_Punctuation" },
	{ "terminalpunctuation", "Terminal_Punctuation" },
	{ "uideo", "Unified_Ideograph" },
	{ "unifiedideograph", "Unified_Ideograph" }, { "upper", "Uppercase" },
	{ "uppercase", "Uppercase" },
	{ "variationselector", "Variation_Selector" },
	{ "vs", "Variation_Selector" }, { "whitespace", "White_Space" },
	{ "wspace", "White_Space" }, { "xidc", "XID_Continue" },
	{ "xidcontinue", "XID_Continue" }, { "xids", "XID_Start" },
	{ "xidstart", "XID_Start" },
};

/* Properties PCRE2 does not know: Unicode 14's PropList.txt sets, in
 * rxprop_data.h (generated), and ASCII. */
static const uint32_t set_ascii[] = { 0x0, 0x7f };

#define NSET(a) (sizeof(a) / sizeof((a)[0]) / 2)

/* The derived ones: the property minus the categories it is built on. */
static const struct alias derived[] = {
	{ "Other_Alphabetic", "(?:(?![\\p{L}\\p{Nl}])\\p{Alphabetic})" },
	{ "Other_Grapheme_Extend",
	    "(?:(?![\\p{Mn}\\p{Me}])\\p{Grapheme_Extend})" },
	{ "Other_Lowercase", "(?:(?!\\p{Ll})\\p{Lowercase})" },
	{ "Other_Math", "(?:(?!\\p{Sm})\\p{Math})" },
	{ "Other_Uppercase", "(?:(?!\\p{Lu})\\p{Uppercase})" },
};

/*
 * Where PCRE2's data differs from regex-syntax's: Bidi_Mirrored lacks
 * the mirrored math operators (taken from Unicode's
 * DerivedBinaryProperties as Rust does), and Script_Extensions of
 * Common and Inherited holds every character of that Script, also those
 * whose extensions name other scripts.
 */
static const char bidi_mirrored[] = "[\\p{Bidi_Mirrored}"
	    "\\x{2140}\\x{2201}-\\x{2204}\\x{2211}\\x{2216}"
	    "\\x{221a}-\\x{221d}\\x{2226}\\x{222b}-\\x{2233}\\x{2239}"
	    "\\x{223b}\\x{223e}-\\x{2242}\\x{2244}\\x{2246}-\\x{224b}"
	    "\\x{225f}-\\x{2260}\\x{2262}\\x{228c}\\x{22a7}\\x{22aa}"
	    "\\x{22ac}-\\x{22af}\\x{22be}-\\x{22bf}\\x{22f5}"
	    "\\x{22f8}-\\x{22f9}\\x{22ff}\\x{2320}-\\x{2321}\\x{27c0}"
	    "\\x{27cc}\\x{27d3}-\\x{27d4}\\x{299c}-\\x{299f}\\x{29a2}"
	    "\\x{29a6}-\\x{29a7}\\x{29c2}-\\x{29c3}\\x{29c9}\\x{29ce}"
	    "\\x{29dc}\\x{29e1}\\x{29e3}-\\x{29e5}\\x{29f4}"
	    "\\x{29f6}-\\x{29f7}\\x{2a0a}-\\x{2a1c}\\x{2a1e}-\\x{2a21}"
	    "\\x{2a24}\\x{2a26}\\x{2a29}\\x{2a3e}\\x{2a57}-\\x{2a58}"
	    "\\x{2a6a}-\\x{2a6d}\\x{2a6f}-\\x{2a70}\\x{2a73}-\\x{2a74}"
	    "\\x{2aa3}\\x{2adc}\\x{2ae2}\\x{2ae6}\\x{2af3}\\x{2afb}\\x{2afd}"
	    "\\x{1d6db}\\x{1d715}\\x{1d74f}\\x{1d789}\\x{1d7c3}"
	    "]";
static const char scx_common[] = "(?:(?!["
	    "\\x{60c}\\x{61b}\\x{61f}\\x{640}\\x{964}-\\x{965}\\x{10fb}"
	    "\\x{1735}-\\x{1736}\\x{1802}-\\x{1803}\\x{1805}\\x{1cd3}"
	    "\\x{1ce1}\\x{1ce9}-\\x{1cec}\\x{1cee}-\\x{1cf3}"
	    "\\x{1cf5}-\\x{1cf7}\\x{1cfa}\\x{202f}\\x{2e43}"
	    "\\x{3001}-\\x{3003}\\x{3006}\\x{3008}-\\x{3011}"
	    "\\x{3013}-\\x{301f}\\x{3030}-\\x{3035}\\x{3037}"
	    "\\x{303c}-\\x{303f}\\x{309b}-\\x{309c}\\x{30a0}"
	    "\\x{30fb}-\\x{30fc}\\x{3190}-\\x{319f}\\x{31c0}-\\x{31e3}"
	    "\\x{3220}-\\x{3247}\\x{3280}-\\x{32b0}\\x{32c0}-\\x{32cb}"
	    "\\x{32ff}\\x{3358}-\\x{3370}\\x{337b}-\\x{337f}"
	    "\\x{33e0}-\\x{33fe}\\x{a700}-\\x{a707}\\x{a830}-\\x{a839}"
	    "\\x{a92e}\\x{a9cf}\\x{fd3e}-\\x{fd3f}\\x{fe45}-\\x{fe46}"
	    "\\x{ff61}-\\x{ff65}\\x{ff70}\\x{ff9e}-\\x{ff9f}"
	    "\\x{10100}-\\x{10102}\\x{10107}-\\x{10133}\\x{10137}-\\x{1013f}"
	    "\\x{102e1}-\\x{102fb}\\x{1bca0}-\\x{1bca3}\\x{1d360}-\\x{1d371}"
	    "\\x{1f250}-\\x{1f251}"
	    "])\\p{sc:Common})";
static const char scx_inherited[] = "(?:(?!["
	    "\\x{342}\\x{345}\\x{363}-\\x{36f}\\x{485}-\\x{486}"
	    "\\x{64b}-\\x{655}\\x{670}\\x{951}-\\x{952}\\x{1cd0}-\\x{1cd2}"
	    "\\x{1cd4}-\\x{1ce0}\\x{1ce2}-\\x{1ce8}\\x{1ced}\\x{1cf4}"
	    "\\x{1cf8}-\\x{1cf9}\\x{1dc0}-\\x{1dc1}\\x{1df8}\\x{1dfa}"
	    "\\x{20f0}\\x{302a}-\\x{302d}\\x{3099}-\\x{309a}\\x{102e0}"
	    "\\x{1133b}"
	    "])\\p{sc:Inherited})";

static int
alias_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct alias *)elem)->name);
}

static const char *
find(const struct alias *tab, size_t n, const char *name)
{
	const struct alias *a;

	a = bsearch(name, tab, n, sizeof(*tab), alias_cmp);
	return a != NULL ? a->canon : NULL;
}

#define FIND(tab, name) find((tab), sizeof(tab) / sizeof((tab)[0]), (name))

/*
 * UAX44-LM3 as regex-syntax applies it: an "is" prefix, spaces,
 * underscores and hyphens go, ASCII letters are lowered, non-ASCII
 * bytes are dropped, and "isc" survives as itself.
 */
static void
normalize(const char *s, size_t n, char *out, size_t size)
{
	size_t i = 0, w = 0;
	bool is = n >= 2 && (s[0] == 'i' || s[0] == 'I') &&
	    (s[1] == 's' || s[1] == 'S');

	for (i = is ? 2 : 0; i < n && w + 1 < size; i++) {
		unsigned char b = s[i];

		if (b == ' ' || b == '_' || b == '-' || b > 0x7f)
			continue;
		out[w++] = (char)((b >= 'A' && b <= 'Z') ? b + ('a' - 'A') : b);
	}
	out[w] = '\0';
	if (is && strcmp(out, "c") == 0)
		memcpy(out, "isc", 4);
}

static void
set_esc(struct ks_rxprop *out, const char *prefix, const char *name)
{
	out->kind = KS_RXPROP_ESC;
	out->neg = false;
	snprintf(out->name, sizeof(out->name), "%s%s", prefix, name);
}

static void
set_set(struct ks_rxprop *out, const uint32_t *set, size_t n)
{
	out->kind = KS_RXPROP_SET;
	out->set = set;
	out->nset = n;
}

static int
binary(const char *canon, struct ks_rxprop *out)
{
	const char *expr;

	if (strcmp(canon, "Hyphen") == 0)
		set_set(out, ks_set_hyphen, NSET(ks_set_hyphen));
	else if (strcmp(canon, "Other_ID_Start") == 0)
		set_set(out, ks_set_oids, NSET(ks_set_oids));
	else if (strcmp(canon, "Other_ID_Continue") == 0)
		set_set(out, ks_set_oidc, NSET(ks_set_oidc));
	else if (strcmp(canon, "Other_Default_Ignorable_Code_Point") == 0)
		set_set(out, ks_set_odi, NSET(ks_set_odi));
	else if ((expr = FIND(derived, canon)) != NULL ||
	    (strcmp(canon, "Bidi_Mirrored") == 0 && (expr = bidi_mirrored))) {
		out->kind = KS_RXPROP_EXPR;
		out->expr = expr;
	} else
		set_esc(out, "", canon);
	return 0;
}

static int
gencat(const char *norm, struct ks_rxprop *out)
{
	const char *gc;

	if (strcmp(norm, "any") == 0)
		set_esc(out, "", "Any");
	else if (strcmp(norm, "ascii") == 0)
		set_set(out, set_ascii, 1);
	else if (strcmp(norm, "assigned") == 0) {
		set_esc(out, "", "Cn");
		out->neg = true;
	} else if ((gc = FIND(gencats, norm)) != NULL &&
	    strcmp(gc, "Cs") != 0)	/* Rust's classes hold no surrogates */
		set_esc(out, "", gc);
	else
		return -1;
	return 0;
}

/* A script under the Script (sc) or Script_Extensions (scx) property. */
static int
script(const char *norm, const char *prop, struct ks_rxprop *out)
{
	char pat[80];
	pcre2_code *code;
	PCRE2_SIZE off;
	int ec;

	/* regex-syntax has no table for these two; PCRE2 would accept them. */
	if (strcmp(norm, "zzzz") == 0 || strcmp(norm, "unknown") == 0 ||
	    strcmp(norm, "hrkt") == 0 ||
	    strcmp(norm, "katakanaorhiragana") == 0)
		return -1;
	if (strlen(norm) > 40 || strchr(norm, '}') != NULL ||
	    strchr(norm, '\\') != NULL)
		return -1;
	if (strcmp(prop, "scx:") == 0 && (strcmp(norm, "common") == 0 ||
	    strcmp(norm, "zyyy") == 0 || strcmp(norm, "inherited") == 0 ||
	    strcmp(norm, "zinh") == 0 || strcmp(norm, "qaai") == 0)) {
		out->kind = KS_RXPROP_EXPR;
		out->expr = strcmp(norm, "common") == 0 ||
		    strcmp(norm, "zyyy") == 0 ? scx_common : scx_inherited;
		return 0;
	}
	set_esc(out, prop, norm);
	snprintf(pat, sizeof(pat), "\\p{%s}", out->name);
	code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP, &ec, &off, NULL);
	if (code == NULL)
		return -1;
	pcre2_code_free(code);
	return 0;
}

static int
by_name(const char *name, size_t nlen, struct ks_rxprop *out,
    const char **why)
{
	char norm[64];
	const char *canon;

	normalize(name, nlen, norm, sizeof(norm));
	/* Property names are looked up first, so "lc" and "sc" (Lowercase_
	 * Mapping and Script) fail as regex-syntax fails them; "cf" is let
	 * through to the general category, as it does. */
	if ((canon = FIND(bools, norm)) != NULL)
		return binary(canon, out);
	if (strcmp(norm, "lc") == 0 || strcmp(norm, "sc") == 0) {
		*why = "Unicode property not found";
		return -1;
	}
	if (gencat(norm, out) == 0 || script(norm, "sc:", out) == 0)
		return 0;
	*why = "Unicode property not found";
	return -1;
}

static int
by_value(const char *name, size_t nlen, const char *value, size_t vlen,
    struct ks_rxprop *out, const char **why)
{
	char n[64], v[64];
	int rc;

	normalize(name, nlen, n, sizeof(n));
	normalize(value, vlen, v, sizeof(v));
	if (strcmp(n, "gc") == 0 || strcmp(n, "generalcategory") == 0)
		rc = gencat(v, out);
	else if (strcmp(n, "sc") == 0 || strcmp(n, "script") == 0)
		rc = script(v, "sc:", out);
	else if (strcmp(n, "scx") == 0 || strcmp(n, "scriptextensions") == 0)
		rc = script(v, "scx:", out);
	else if (strcmp(n, "age") == 0 || strcmp(n, "gcb") == 0 ||
	    strcmp(n, "graphemeclusterbreak") == 0 || strcmp(n, "sb") == 0 ||
	    strcmp(n, "sentencebreak") == 0 || strcmp(n, "wb") == 0 ||
	    strcmp(n, "wordbreak") == 0) {
		*why = "Unicode property not supported here "
		    "(PCRE2 has no Age or segmentation properties)";
		return -1;
	} else if (FIND(bools, n) != NULL) {
		*why = "Unicode property value not found";
		return -1;
	} else {
		*why = "Unicode property not found";
		return -1;
	}
	if (rc < 0)
		*why = "Unicode property value not found";
	return rc;
}

int
ks_rxprop_lookup(const char *name, size_t nlen, const char *value,
    size_t vlen, struct ks_rxprop *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	if (value == NULL)
		return by_name(name, nlen, out, why);
	return by_value(name, nlen, value, vlen, out, why);
}

static size_t
enc(uint32_t c, unsigned char *u)
{
	if (c < 0x80)
		return u[0] = (unsigned char)c, 1;
	if (c < 0x800)
		return u[0] = 0xc0 | c >> 6, u[1] = 0x80 | (c & 0x3f), 2;
	if (c < 0x10000)
		return u[0] = 0xe0 | c >> 12, u[1] = 0x80 | (c >> 6 & 0x3f),
		    u[2] = 0x80 | (c & 0x3f), 3;
	return u[0] = 0xf0 | c >> 18, u[1] = 0x80 | (c >> 12 & 0x3f),
	    u[2] = 0x80 | (c >> 6 & 0x3f), u[3] = 0x80 | (c & 0x3f), 4;
}

static uint32_t
dec(const unsigned char *u)
{
	if (u[0] < 0x80)
		return u[0];
	if (u[0] < 0xe0)
		return (u[0] & 0x1fu) << 6 | (u[1] & 0x3f);
	if (u[0] < 0xf0)
		return (u[0] & 0x0fu) << 12 | (u[1] & 0x3fu) << 6 |
		    (u[2] & 0x3f);
	return (u[0] & 0x07u) << 18 | (u[1] & 0x3fu) << 12 |
	    (u[2] & 0x3fu) << 6 | (u[3] & 0x3f);
}

/* Appends lo..hi, merging with the last range when they touch. */
static int
push(uint32_t **v, size_t *n, size_t *cap, uint32_t lo, uint32_t hi)
{
	uint32_t *w;

	if (*n > 0 && (*v)[2 * *n - 1] + 1 >= lo) {
		(*v)[2 * *n - 1] = hi;
		return 0;
	}
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		if ((w = realloc(*v, 2 * *cap * sizeof(**v))) == NULL)
			return -1;
		*v = w;
	}
	(*v)[2 * *n] = lo;
	(*v)[2 * *n + 1] = hi;
	(*n)++;
	return 0;
}

/* Every run of code points the compiled "(?:X)+" matches. */
static int
runs(pcre2_code *code, uint32_t **v, size_t *n)
{
	static const size_t chunk = 65536;
	unsigned char *buf;
	pcre2_match_data *md;
	PCRE2_SIZE *ov, len, at;
	size_t cap = 0;
	int rc = 0;

	buf = malloc(4 * chunk);
	md = pcre2_match_data_create(1, NULL);
	for (uint32_t c = 0; rc == 0 && buf && md && c <= 0x10ffff; ) {
		for (len = 0; c <= 0x10ffff && len < 3 * chunk; c++)
			if (c < 0xd800 || c > 0xdfff)
				len += enc(c, buf + len);
		ov = pcre2_get_ovector_pointer(md);
		for (at = 0; rc == 0 && pcre2_match(code, buf, len, at,
		    PCRE2_NO_UTF_CHECK, md, NULL) > 0; at = ov[1]) {
			size_t e = ov[1] - 1;

			while ((buf[e] & 0xc0) == 0x80)
				e--;
			rc = push(v, n, &cap, dec(buf + ov[0]), dec(buf + e));
		}
	}
	if (buf == NULL || md == NULL)
		rc = -1;
	free(buf);
	pcre2_match_data_free(md);
	return rc;
}

int
ks_rxprop_runs(const char *expr, uint32_t **out, size_t *n)
{
	size_t len = strlen(expr) + 16;
	bool single = expr[0] == '\\' && strchr(expr + 1, '\\') == NULL;
	pcre2_code *code;
	PCRE2_SIZE off;
	char *pat;
	int ec, rc;

	*out = NULL;
	*n = 0;
	if ((pat = malloc(len)) == NULL)
		return -1;
	/* A repeated group would overflow the JIT's stack on long runs:
	 * the JIT gets a plain \p{...}+, the interpreter the rest. */
	snprintf(pat, len, single ? "%s+" : "(?:%s)+", expr);
	code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP, &ec, &off, NULL);
	free(pat);
	if (code == NULL)
		return -1;
	if (single)
		pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	rc = runs(code, out, n);
	pcre2_code_free(code);
	return rc;
}

int
ks_rxprop_ranges(const struct ks_rxprop *p, uint32_t **out, size_t *n)
{
	char esc[64];
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (p->kind == KS_RXPROP_SET) {
		for (size_t i = 0; i < p->nset; i++)
			if (push(out, n, &cap, p->set[2 * i],
			    p->set[2 * i + 1]) < 0)
				return -1;
		return 0;
	}
	if (p->kind == KS_RXPROP_EXPR)
		return ks_rxprop_runs(p->expr, out, n);
	snprintf(esc, sizeof(esc), "\\p{%s}", p->name);
	return ks_rxprop_runs(esc, out, n);
}
