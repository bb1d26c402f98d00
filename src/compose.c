/*
 * compose: a parent policy and a child's into one never wider than the
 * parent (SPEC §4): denials unioned, allowances the parent's, booleans
 * ANDed, limits the smaller, trust the stricter, and a child's read
 * holes kept only inside denials the child added itself.
 */
#include "policy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Appends to out the strings of in that out lacks, in order. */
static int
union_into(struct ks_strv *out, const struct ks_strv *in)
{
	int rc;

	for (size_t i = 0; i < in->n; i++)
		if (!ks_strv_has(out, in->v[i]) &&
		    (rc = ks_strv_push(out, in->v[i], strlen(in->v[i]))) < 0)
			return rc;
	return 0;
}

/* Appends every string of in (socket_map pairs may repeat a domain). */
static int
copy_into(struct ks_strv *out, const struct ks_strv *in)
{
	int rc;

	for (size_t i = 0; i < in->n; i++)
		if ((rc = ks_strv_push(out, in->v[i], strlen(in->v[i]))) < 0)
			return rc;
	return 0;
}

/* True when path and some base are beneath one another. */
static bool
overlaps_any(const char *path, const struct ks_strv *bases)
{
	for (size_t i = 0; i < bases->n; i++)
		if (ks_path_beneath(path, bases->v[i]) ||
		    ks_path_beneath(bases->v[i], path))
			return true;
	return false;
}

/* A child may open read holes only inside denials it added itself, and
 * never over one of the parent's: a hole that lies beneath a parent
 * denial, or holds one, is dropped. */
static int
compose_holes(const struct ks_policy *parent, const struct ks_policy *child,
    struct ks_strv *out)
{
	const char *hole;
	bool own;
	int rc;

	if ((rc = union_into(out, &parent->allow_read_within_deny)) < 0)
		return rc;
	for (size_t i = 0; i < child->allow_read_within_deny.n; i++) {
		hole = child->allow_read_within_deny.v[i];
		own = false;
		for (size_t j = 0; j < child->deny_read.n && !own; j++)
			own = !ks_strv_has(&parent->deny_read,
			    child->deny_read.v[j]) &&
			    ks_path_beneath(hole, child->deny_read.v[j]);
		if (own && !overlaps_any(hole, &parent->deny_read) &&
		    !ks_strv_has(out, hole) &&
		    (rc = ks_strv_push(out, hole, strlen(hole))) < 0)
			return rc;
	}
	return 0;
}

static struct ks_limit
min_limit(struct ks_limit a, struct ks_limit b)
{
	if (!a.set)
		return b;
	if (!b.set)
		return a;
	return a.v <= b.v ? a : b;
}

int
ks_policy_compose(const struct ks_policy *parent,
    const struct ks_policy *child, struct ks_policy *out)
{
	const struct ks_policy *a = parent, *b = child;
	int rc = 0;

	ks_policy_init(out);
	if ((rc = union_into(&out->deny_read, &a->deny_read)) < 0 ||
	    (rc = union_into(&out->deny_read, &b->deny_read)) < 0 ||
	    (rc = compose_holes(a, b, &out->allow_read_within_deny)) < 0 ||
	    (rc = union_into(&out->allow_write, &a->allow_write)) < 0 ||
	    (rc = union_into(&out->deny_write_within_allow,
	    &a->deny_write_within_allow)) < 0 ||
	    (rc = union_into(&out->deny_write_within_allow,
	    &b->deny_write_within_allow)) < 0 ||
	    (rc = union_into(&out->allowed_domains, &a->allowed_domains)) < 0 ||
	    (rc = union_into(&out->denied_domains, &a->denied_domains)) < 0 ||
	    (rc = union_into(&out->denied_domains, &b->denied_domains)) < 0)
		goto out;
	out->allow_git_config = a->allow_git_config && b->allow_git_config;
	out->depth = a->depth > b->depth ? a->depth : b->depth;
	out->allow_local_binding = a->allow_local_binding &&
	    b->allow_local_binding;
	out->weaker_macos_isolation = a->weaker_macos_isolation &&
	    b->weaker_macos_isolation;
	if (a->has_mitm) {
		out->has_mitm = true;
		if ((out->mitm_ca_bundle = strdup(a->mitm_ca_bundle)) == NULL ||
		    (rc = copy_into(&out->mitm_domains, &a->mitm_domains)) < 0 ||
		    (rc = copy_into(&out->mitm_sockets, &a->mitm_sockets)) < 0)
			goto out;
	}
	out->cpu_time_secs = min_limit(a->cpu_time_secs, b->cpu_time_secs);
	out->wall_time_secs = min_limit(a->wall_time_secs, b->wall_time_secs);
	out->max_rss_bytes = min_limit(a->max_rss_bytes, b->max_rss_bytes);
	out->max_open_fds = min_limit(a->max_open_fds, b->max_open_fds);
	out->max_write_bytes = min_limit(a->max_write_bytes,
	    b->max_write_bytes);
	out->max_output_bytes = min_limit(a->max_output_bytes,
	    b->max_output_bytes);
	out->trust = a->trust > b->trust ? a->trust : b->trust;
out:
	if (rc < 0 || (a->has_mitm && out->mitm_ca_bundle == NULL)) {
		ks_policy_free(out);
		return -ENOMEM;
	}
	return 0;
}
