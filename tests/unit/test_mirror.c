#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>
#include <libssh/libssh.h>

#include "config.h"
#include "mirror.h"
#include "spawn.h"
#include "testkeys.h"
#include "util.h"
#include "unit.h"
#include "banned.h"

/* ---- targets and URLs ---- */

START_TEST(patterns)
{
	ck_assert_int_eq(mirror_pattern_matches("*", "shop"), 1);
	ck_assert_int_eq(mirror_pattern_matches("*", "deploy"), 1);
	ck_assert_int_eq(mirror_pattern_matches("*", "gitd-admin"), 0);
	ck_assert_int_eq(mirror_pattern_matches("gitd-*", "gitd-admin"), 0);
	ck_assert_int_eq(mirror_pattern_matches("gitd-admin", "gitd-admin"), 1);
	ck_assert_int_eq(mirror_pattern_matches("shop", "shop"), 1);
	ck_assert_int_eq(mirror_pattern_matches("shop", "blog"), 0);
	ck_assert_int_eq(mirror_pattern_matches("team-*", "team-a"), 1);
	ck_assert_int_eq(mirror_pattern_matches("team-*", "deploy"), 0);
}
END_TEST

static void check_str(char *got, const char *want)
{
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(urls)
{
	check_str(mirror_url_expand("ssh://git@github.com/org/{repo}.git", "shop"),
		  "ssh://git@github.com/org/shop.git");
	check_str(mirror_url_expand("/srv/{repo}/{repo}.git", "a"), "/srv/a/a.git");
	check_str(mirror_url_expand("/srv/fixed.git", "a"), "/srv/fixed.git");
	check_str(mirror_url_display("https://bot:s3cret@github.com/org/shop.git"),
		  "https://bot@github.com/org/shop.git");
	check_str(mirror_url_display("https://bot@github.com/org/shop.git"), "https://bot@github.com/org/shop.git");
	check_str(mirror_url_display("https://github.com/a@b:c"), "https://github.com/a@b:c");
	check_str(mirror_url_display("https://u:p@host:8443/x"), "https://u@host:8443/x");
	check_str(mirror_url_display("git@github.com:org/shop.git"), "git@github.com:org/shop.git");
	ck_assert_str_eq(mirror_url_local_path("/srv/x.git"), "/srv/x.git");
	ck_assert_str_eq(mirror_url_local_path("file:///srv/x.git"), "/srv/x.git");
	ck_assert_ptr_null(mirror_url_local_path("ssh://git@host/srv/x.git"));
	ck_assert_ptr_null(mirror_url_local_path("git@host:/srv/x.git"));
}
END_TEST

struct host_case {
	const char *url;
	const char *host; /* NULL: not SSH */
	unsigned port;
};

static const struct host_case host_cases[] = {
	{ "ssh://git@github.com/org/x.git", "github.com", 22 },
	{ "ssh://git@127.0.0.1:2201/srv/x.git", "127.0.0.1", 2201 },
	{ "ssh://host/x", "host", 22 },
	{ "ssh://git@[::1]:2200/x", "::1", 2200 },
	{ "ssh://[::1]/x", "::1", 22 },
	{ "git@github.com:org/x.git", "github.com", 22 },
	{ "github.com:org/x.git", "github.com", 22 },
	{ "ssh://git@host:0/x", NULL, 0 },
	{ "ssh://git@host:99999/x", NULL, 0 },
	{ "ssh://git@host:22a/x", NULL, 0 },
	{ "ssh:///x", NULL, 0 },
	{ "https://github.com/org/x.git", NULL, 0 },
	{ "file:///srv/x.git", NULL, 0 },
	{ "/srv/x.git", NULL, 0 },
	{ "relative/x:y", NULL, 0 },
};

START_TEST(ssh_hosts)
{
	const struct host_case *c = &host_cases[_i];
	char *host = NULL;
	unsigned port = 0;
	int rc = mirror_url_ssh_host(&host, &port, c->url);

	if (!c->host) {
		ck_assert_msg(rc == -1, "%s should not be SSH", c->url);
		ck_assert_ptr_null(host);
		return;
	}
	ck_assert_msg(rc == 0, "%s should be SSH", c->url);
	ck_assert_str_eq(host, c->host);
	ck_assert_uint_eq(port, c->port);
	free(host);
}
END_TEST

static struct gitd_config *parse_config(const char *text)
{
	struct diags *d = diags_new();
	struct gitd_config *cfg = NULL;

	ck_assert_int_eq(config_parse(&cfg, "gitd.yaml", text, strlen(text), d), 0);
	diags_free(d);
	return cfg;
}

START_TEST(targets)
{
	struct gitd_config *cfg = parse_config(
		"mirrors:\n"
		"  - repos: \"*\"\n"
		"    url: ssh://git@github.com/org/{repo}.git\n"
		"    key: /k\n"
		"    known_hosts: /kh\n"
		"  - repos: shop\n"
		"    url: ssh://git@github.com/org/{repo}.git\n"
		"    key: /other\n"
		"    known_hosts: /kh\n"
		"  - repos: gitd-admin\n"
		"    url: https://bot:pw@example.com/{repo}.git\n"
		"    token_file: /t\n");
	struct mirror_target *t, *t2;
	size_t n = mirror_targets(&t, cfg, "shop");

	ck_assert_uint_eq(n, 1); /* the second entry names the same remote: the first wins */
	ck_assert_str_eq(t[0].url, "ssh://git@github.com/org/shop.git");
	ck_assert_str_eq(t[0].cfg->key, "/k");
	ck_assert_uint_eq(strlen(t[0].id), 16);
	ck_assert_uint_eq(strspn(t[0].id, "0123456789abcdef"), 16);
	ck_assert_uint_eq(mirror_targets(&t2, cfg, "shop"), 1);
	ck_assert_str_eq(t[0].id, t2[0].id); /* stable: it names the state file */
	mirror_targets_free(t2, 1);
	ck_assert_uint_eq(mirror_targets(&t2, cfg, "blog"), 1);
	ck_assert_str_ne(t[0].id, t2[0].id);
	mirror_targets_free(t2, 1);
	mirror_targets_free(t, n);

	n = mirror_targets(&t, cfg, "gitd-admin");
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(t[0].url, "https://bot:pw@example.com/gitd-admin.git");
	ck_assert_str_eq(t[0].display, "https://bot@example.com/gitd-admin.git");
	mirror_targets_free(t, n);
	config_free(cfg);

	cfg = config_default();
	ck_assert_uint_eq(mirror_targets(&t, cfg, "shop"), 0);
	ck_assert_ptr_null(t);
	config_free(cfg);
}
END_TEST

/* ---- back-off and coalescing ---- */

START_TEST(backoff)
{
	ck_assert_uint_eq(mirror_backoff_ms(0, 12345), 0);
	/* attempt 1: 1 s, of which random takes off up to half */
	ck_assert_uint_eq(mirror_backoff_ms(1, 0), 1000);
	ck_assert_uint_eq(mirror_backoff_ms(1, 250), 750);
	ck_assert_uint_eq(mirror_backoff_ms(1, 500), 500);
	ck_assert_uint_eq(mirror_backoff_ms(1, 501), 1000);
	ck_assert_uint_eq(mirror_backoff_ms(2, 0), 2000);
	ck_assert_uint_eq(mirror_backoff_ms(3, 0), 4000);
	ck_assert_uint_eq(mirror_backoff_ms(9, 0), 256000);
	/* capped at five minutes, however many attempts */
	ck_assert_uint_eq(mirror_backoff_ms(10, 0), 300000);
	ck_assert_uint_eq(mirror_backoff_ms(64, 0), 300000);
	ck_assert_uint_eq(mirror_backoff_ms(100000, 0), 300000);
	ck_assert_uint_eq(mirror_backoff_ms(100000, 150000), 150000);
	for (unsigned a = 1; a < 40; a++)
		for (uint32_t r = 0; r < 4000000000u; r += 333333333u) {
			uint64_t d = mirror_backoff_ms(a, r), full = mirror_backoff_ms(a, 0);

			ck_assert(d >= full / 2 && d <= full && full <= MIRROR_BACKOFF_CAP_MS);
		}
}
END_TEST

START_TEST(due_time)
{
	int64_t t = 1000000;

	/* never ran, or idle for longer than the settle time: at once */
	ck_assert_int_eq(mirror_due_time(t, t, 0, 0, 0), t);
	ck_assert_int_eq(mirror_due_time(t, t + 50, t - MIRROR_SETTLE_MS, 0, 0), t);
	/* ran just before: wait for the requests to settle */
	ck_assert_int_eq(mirror_due_time(t, t, t - 10, 0, 0), t + MIRROR_SETTLE_MS);
	ck_assert_int_eq(mirror_due_time(t, t + 400, t - 10, 0, 0), t + 400 + MIRROR_SETTLE_MS);
	/* but not forever */
	ck_assert_int_eq(mirror_due_time(t, t + 60000, t - 10, 0, 0), t + MIRROR_MAX_WAIT_MS);
	/* after a failure, the back-off decides */
	ck_assert_int_eq(mirror_due_time(t, t, t - 10, 2, t + 1234), t + 1234);
}
END_TEST

/* ---- refs ---- */

START_TEST(ref_scope)
{
	json_t *branches = json_pack("[s, s]", "main", "release/*");

	ck_assert_int_eq(mirror_ref_in_scope("refs/heads/main", NULL), 1);
	ck_assert_int_eq(mirror_ref_in_scope("refs/heads/any/thing", NULL), 1);
	ck_assert_int_eq(mirror_ref_in_scope("refs/tags/v1", NULL), 1);
	ck_assert_int_eq(mirror_ref_in_scope("refs/pull/1/head", NULL), 0);
	ck_assert_int_eq(mirror_ref_in_scope("refs/notes/commits", NULL), 0);
	ck_assert_int_eq(mirror_ref_in_scope("refs/heads/", NULL), 0);
	ck_assert_int_eq(mirror_ref_in_scope("HEAD", NULL), 0);
	ck_assert_int_eq(mirror_ref_in_scope("refs/heads/main", branches), 1);
	ck_assert_int_eq(mirror_ref_in_scope("refs/heads/mainline", branches), 0);
	ck_assert_int_eq(mirror_ref_in_scope("refs/heads/release/1.0", branches), 1);
	ck_assert_int_eq(mirror_ref_in_scope("refs/heads/dev", branches), 0);
	ck_assert_int_eq(mirror_ref_in_scope("refs/tags/v1", branches), 1);
	json_decref(branches);
}
END_TEST

static struct mirror_ref ref(const char *name, char fill)
{
	struct mirror_ref r = { name, { { 0 } } };

	memset(r.oid.id, fill, sizeof(r.oid.id));
	return r;
}

static void check_specs(const struct strvec *got, const char *const *want, size_t n)
{
	ck_assert_uint_eq(got->nr, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(got->v[i], want[i]);
}

START_TEST(refspecs)
{
	struct mirror_ref local[] = { ref("refs/heads/main", 1), ref("refs/heads/feature", 2),
				      ref("refs/tags/v1", 3), ref("refs/heads/same", 7) };
	struct mirror_ref remote[] = { ref("refs/heads/main", 9), ref("refs/heads/old", 4),
				       ref("refs/tags/v0", 5), ref("refs/pull/1/head", 6),
				       ref("refs/heads/same", 7) };
	static const char *const all[] = { "+refs/heads/main:refs/heads/main",
		"+refs/heads/feature:refs/heads/feature", "+refs/tags/v1:refs/tags/v1",
		":refs/heads/old", ":refs/tags/v0" };
	static const char *const only_main[] = { "+refs/heads/main:refs/heads/main",
		"+refs/tags/v1:refs/tags/v1", ":refs/tags/v0" };
	json_t *branches = json_pack("[s]", "main");
	struct strvec specs = STRVEC_INIT;

	mirror_refspecs(&specs, local, ARRAY_SIZE(local), remote, ARRAY_SIZE(remote), NULL);
	check_specs(&specs, all, ARRAY_SIZE(all));
	strvec_clear(&specs);
	mirror_refspecs(&specs, local, ARRAY_SIZE(local), remote, ARRAY_SIZE(remote), branches);
	check_specs(&specs, only_main, ARRAY_SIZE(only_main));
	strvec_clear(&specs);
	/* up to date: nothing to push */
	mirror_refspecs(&specs, local, ARRAY_SIZE(local), local, ARRAY_SIZE(local), NULL);
	ck_assert_uint_eq(specs.nr, 0);
	/* an empty remote gets everything; an empty local repo deletes everything in scope */
	mirror_refspecs(&specs, local, ARRAY_SIZE(local), NULL, 0, NULL);
	ck_assert_uint_eq(specs.nr, 4);
	strvec_clear(&specs);
	mirror_refspecs(&specs, NULL, 0, remote, ARRAY_SIZE(remote), NULL);
	ck_assert_uint_eq(specs.nr, 4);
	ck_assert_str_eq(specs.v[3], ":refs/heads/same");
	strvec_clear(&specs);
	json_decref(branches);
}
END_TEST

/* ---- known_hosts ---- */

static void key_sha256(unsigned char out[32], const char *b64)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t len = 0;

	ck_assert_int_eq(ssh_pki_import_pubkey_base64(b64, SSH_KEYTYPE_ED25519, &key), SSH_OK);
	ck_assert_int_eq(ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len), 0);
	ck_assert_uint_eq(len, 32);
	memcpy(out, hash, 32);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
}

static int kh(const char *text, const char *host, unsigned port, const char *b64, struct strbuf *err)
{
	unsigned char sha[32];

	key_sha256(sha, b64);
	strbuf_reset(err);
	return mirror_known_hosts_check(text, host, port, sha, err);
}

START_TEST(known_hosts)
{
	static const char text[] =
		"# a comment\n"
		"\n"
		"github.com,140.82.121.4 ssh-ed25519 " KEY_ED25519_B64 "\r\n"
		"[127.0.0.1]:2201 ssh-ed25519 " KEY_ED25519_2_B64 " local\n"
		"@cert-authority *.example.com ssh-ed25519 " KEY_ED25519_2_B64 "\n"
		"*.corp.example ssh-ed25519 " KEY_ED25519_B64 "\n";
	/* ssh-keygen -H of "[127.0.0.1]:2201" with the first key */
	static const char hashed[] = "|1|HwrF2cTSjqu1E8VcQpXNGGdwYXg=|khfj3Xmvb1q6PwLXQ+TjmoWKiqM= "
				     "ssh-ed25519 " KEY_ED25519_B64 "\n";
	static const char revoked[] = "@revoked * ssh-ed25519 " KEY_ED25519_B64 "\n"
				      "github.com ssh-ed25519 " KEY_ED25519_B64 "\n";
	struct strbuf err = STRBUF_INIT;

	ck_assert_int_eq(kh(text, "github.com", 22, KEY_ED25519_B64, &err), 0);
	ck_assert_int_eq(kh(text, "140.82.121.4", 22, KEY_ED25519_B64, &err), 0);
	ck_assert_int_eq(kh(text, "127.0.0.1", 2201, KEY_ED25519_2_B64, &err), 0);
	ck_assert_int_eq(kh(text, "git.corp.example", 22, KEY_ED25519_B64, &err), 0);
	ck_assert_int_eq(kh(hashed, "127.0.0.1", 2201, KEY_ED25519_B64, &err), 0);

	ck_assert_int_eq(kh(text, "github.com", 22, KEY_ED25519_2_B64, &err), -1);
	ck_assert_str_eq(err.buf, "host key github.com does not match known_hosts: " KEY_ED25519_2_FP);
	ck_assert_int_eq(kh(text, "127.0.0.1", 2202, KEY_ED25519_2_B64, &err), -1);
	ck_assert_str_eq(err.buf, "host key [127.0.0.1]:2202 is not in known_hosts: " KEY_ED25519_2_FP);
	ck_assert_int_eq(kh(text, "127.0.0.1", 22, KEY_ED25519_2_B64, &err), -1);
	ck_assert_int_eq(kh(hashed, "127.0.0.1", 2202, KEY_ED25519_B64, &err), -1);
	/* a certificate authority is not a host key */
	ck_assert_int_eq(kh(text, "a.example.com", 22, KEY_ED25519_2_B64, &err), -1);
	ck_assert_str_eq(err.buf, "host key a.example.com is not in known_hosts: " KEY_ED25519_2_FP);
	ck_assert_int_eq(kh(revoked, "github.com", 22, KEY_ED25519_B64, &err), -1);
	ck_assert_str_eq(err.buf, "host key github.com is revoked: " KEY_ED25519_FP);
	ck_assert_int_eq(kh("", "github.com", 22, KEY_ED25519_B64, &err), -1);
	ck_assert_int_eq(kh("garbage line\n", "github.com", 22, KEY_ED25519_B64, &err), -1);
	strbuf_release(&err);
}
END_TEST

/* ---- state and runs, against local repositories ---- */

static char tmpdir[64];

/* A commit on refs/heads/NAME of the bare repo at path, with a file holding text. */
static void commit_to(const char *path, const char *branch, const char *text)
{
	git_repository *repo;
	git_treebuilder *tb;
	git_signature *sig;
	git_oid blob, tree, commit, tip;
	git_commit *parent = NULL;
	git_tree *t;
	char *ref = xstrfmt("refs/heads/%s", branch);

	if (git_repository_open_bare(&repo, path) < 0)
		ck_assert_int_eq(git_repository_init(&repo, path, 1), 0);
	ck_assert_int_eq(git_blob_create_from_buffer(&blob, repo, text, strlen(text)), 0);
	ck_assert_int_eq(git_treebuilder_new(&tb, repo, NULL), 0);
	ck_assert_int_eq(git_treebuilder_insert(NULL, tb, "file", &blob, GIT_FILEMODE_BLOB), 0);
	ck_assert_int_eq(git_treebuilder_write(&tree, tb), 0);
	ck_assert_int_eq(git_tree_lookup(&t, repo, &tree), 0);
	ck_assert_int_eq(git_signature_new(&sig, "t", "t@example.com", 1700000000, 0), 0);
	if (git_reference_name_to_id(&tip, repo, ref) == 0)
		ck_assert_int_eq(git_commit_lookup(&parent, repo, &tip), 0);
	ck_assert_int_eq(git_commit_create(&commit, repo, ref, sig, sig, NULL, text, t, parent ? 1 : 0,
					   (const git_commit **)&parent), 0);
	git_commit_free(parent);
	git_signature_free(sig);
	git_tree_free(t);
	git_treebuilder_free(tb);
	git_repository_free(repo);
	free(ref);
}

static char *ref_of(const char *path, const char *name)
{
	git_repository *repo;
	git_oid oid;
	char hex[GIT_OID_HEXSZ + 1] = "";

	ck_assert_int_eq(git_repository_open_bare(&repo, path), 0);
	if (git_reference_name_to_id(&oid, repo, name) == 0)
		git_oid_tostr(hex, sizeof(hex), &oid);
	git_repository_free(repo);
	return xstrdup(hex);
}

static void check_same_ref(const char *a, const char *b, const char *name)
{
	char *x = ref_of(a, name), *y = ref_of(b, name);

	ck_assert_str_ne(x, "");
	ck_assert_str_eq(x, y);
	free(x);
	free(y);
}

static void check_no_ref(const char *path, const char *name)
{
	char *x = ref_of(path, name);

	ck_assert_str_eq(x, "");
	free(x);
}

static const json_t *status_of(json_t *list, const char *repo)
{
	size_t i;
	json_t *m;

	json_array_foreach(list, i, m)
		if (!strcmp(json_string_value(json_object_get(m, "repo")), repo))
			return m;
	ck_abort_msg("no status for %s", repo);
	return NULL;
}

static const char *field(const json_t *m, const char *key)
{
	return json_string_value(json_object_get(m, key));
}

static void setup_dirs(char **data, char **src, char **dst, struct gitd_config **cfg, const char *remote)
{
	char *text;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_mirror.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	*data = xstrfmt("%s/data", tmpdir);
	*src = xstrfmt("%s/repos/shop.git", *data);
	*dst = xstrfmt("%s/remote/shop.git", tmpdir);
	text = xstrfmt("mirrors:\n  - repos: \"*\"\n    url: %s/%s/{repo}.git\n", tmpdir, remote);
	*cfg = parse_config(text);
	free(text);
	git_libgit2_init();
}

static void teardown_dirs(void)
{
	struct child c = CHILD_INIT;

	strvec_pushl(&c.argv, "/bin/rm", "-rf", tmpdir, NULL);
	if (child_start(&c) == 0)
		child_finish(&c);
	else
		child_release(&c);
	git_libgit2_shutdown();
}

START_TEST(request_run_status)
{
	char *data, *src, *dst;
	struct gitd_config *cfg;
	struct mirror_note *notes;
	struct mirror_due *due;
	int64_t next;
	json_t *st;
	const json_t *m;

	setup_dirs(&data, &src, &dst, &cfg, "remote");
	commit_to(src, "main", "one");
	commit_to(src, "old", "old");
	commit_to(dst, "stale", "stale");

	ck_assert_int_eq(mirror_request(&notes, data, cfg, "shop"), 1);
	ck_assert_ptr_null(notes[0].last_error);
	ck_assert_str_eq(notes[0].display, dst);
	mirror_notes_free(notes, 1);
	ck_assert_int_eq(mirror_request(NULL, data, cfg, "shop"), 1); /* coalesced */
	ck_assert_uint_eq(mirror_due(&due, &next, data, cfg, mirror_now_ms(), 0), 1);
	ck_assert_str_eq(due[0].repo, "shop");
	ck_assert_int_eq(next, INT64_MAX);

	st = mirror_status(data, cfg);
	m = status_of(st, "shop");
	ck_assert_str_eq(field(m, "state"), "pending");
	ck_assert_uint_eq(json_array_size(json_object_get(m, "pending_refs")), 2);
	json_decref(st);

	ck_assert_int_eq(mirror_run(data, cfg, "shop", due[0].id), 0);
	check_same_ref(src, dst, "refs/heads/main");
	check_same_ref(src, dst, "refs/heads/old");
	check_no_ref(dst, "refs/heads/stale"); /* a mirror: deleted */
	mirror_due_free(due, 1);
	ck_assert_uint_eq(mirror_due(&due, &next, data, cfg, mirror_now_ms(), 0), 0);
	/* a request for a repository that is gone (deleted) is never due */
	ck_assert_int_eq(mirror_request(NULL, data, cfg, "ghost"), 1);
	ck_assert_uint_eq(mirror_due(&due, &next, data, cfg, mirror_now_ms(), 1), 0);

	st = mirror_status(data, cfg);
	m = status_of(st, "shop");
	ck_assert_str_eq(field(m, "state"), "ok");
	ck_assert_ptr_nonnull(field(m, "last_success"));
	ck_assert_uint_eq(json_array_size(json_object_get(m, "pending_refs")), 0);
	ck_assert(json_is_null(json_object_get(m, "next_retry")));
	json_decref(st);

	/* a new commit is pending until the next run; "deploy" has no repository, so no status */
	commit_to(src, "main", "two");
	st = mirror_status(data, cfg);
	ck_assert_uint_eq(json_array_size(st), 1);
	m = status_of(st, "shop");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(m, "pending_refs"), 0)),
			 "refs/heads/main");
	json_decref(st);
	config_free(cfg);
	free(data);
	free(src);
	free(dst);
}
END_TEST

START_TEST(failure_backoff_retry)
{
	char *data, *src, *dst;
	struct gitd_config *cfg;
	struct mirror_note *notes;
	struct mirror_due *due;
	int64_t next, now;
	json_t *st;
	const json_t *m;
	char id[17], *want;

	setup_dirs(&data, &src, &dst, &cfg, "nowhere");
	commit_to(src, "main", "one");
	ck_assert_int_eq(mirror_request(NULL, data, cfg, "shop"), 1);
	ck_assert_uint_eq(mirror_due(&due, &next, data, cfg, mirror_now_ms(), 0), 1);
	memcpy(id, due[0].id, sizeof(id));
	mirror_due_free(due, 1);
	ck_assert_int_eq(mirror_run(data, cfg, "shop", id), 1);

	now = mirror_now_ms();
	ck_assert_uint_eq(mirror_due(&due, &next, data, cfg, now, 0), 0);
	ck_assert(next > now && next <= now + MIRROR_BACKOFF_BASE_MS);
	ck_assert_uint_eq(mirror_due(&due, &next, data, cfg, now + MIRROR_BACKOFF_BASE_MS, 0), 1);
	mirror_due_free(due, 1);
	ck_assert_uint_eq(mirror_due(&due, &next, data, cfg, now, 1), 1); /* at startup */
	mirror_due_free(due, 1);

	st = mirror_status(data, cfg);
	m = status_of(st, "shop");
	ck_assert_str_eq(field(m, "state"), "retrying");
	ck_assert_int_eq(json_integer_value(json_object_get(m, "attempts")), 1);
	want = xstrfmt("no repository at %s/nowhere/shop.git", tmpdir);
	ck_assert_str_eq(field(m, "last_error"), want);
	free(want);
	ck_assert_ptr_nonnull(field(m, "next_retry"));
	json_decref(st);

	/* the next request tells the job why the last run failed */
	ck_assert_int_eq(mirror_request(&notes, data, cfg, "shop"), 1);
	ck_assert_ptr_nonnull(notes[0].last_error);
	ck_assert_uint_eq(notes[0].attempts, 1);
	ck_assert_int_eq(notes[0].paused, 0);
	mirror_notes_free(notes, 1);

	/* a run that died is a failure too; the back-off grows */
	mirror_record_crash(data, "shop", id, "the mirror process died (signal 9)");
	st = mirror_status(data, cfg);
	m = status_of(st, "shop");
	ck_assert_int_eq(json_integer_value(json_object_get(m, "attempts")), 2);
	ck_assert_str_eq(field(m, "last_error"), "the mirror process died (signal 9)");
	json_decref(st);

	/* an admin's retry runs it now; once the remote exists, it succeeds */
	ck_assert_int_eq(mirror_retry(data, cfg, NULL), 1);
	ck_assert_uint_eq(mirror_due(&due, &next, data, cfg, mirror_now_ms(), 0), 1);
	mirror_due_free(due, 1);
	ck_assert_int_eq(mirror_retry(data, cfg, "gitd-admin"), 0); /* "*" does not select it */
	config_free(cfg);
	free(data);
	free(src);
	free(dst);
}
END_TEST

static Suite *mirror_suite(void)
{
	Suite *s = suite_create("mirror");
	TCase *tc = tcase_create("pure");
	TCase *runs = tcase_create("runs");

	tcase_add_test(tc, patterns);
	tcase_add_test(tc, urls);
	tcase_add_loop_test(tc, ssh_hosts, 0, ARRAY_SIZE(host_cases));
	tcase_add_test(tc, targets);
	tcase_add_test(tc, backoff);
	tcase_add_test(tc, due_time);
	tcase_add_test(tc, ref_scope);
	tcase_add_test(tc, refspecs);
	tcase_add_test(tc, known_hosts);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(runs, NULL, teardown_dirs);
	tcase_add_test(runs, request_run_status);
	tcase_add_test(runs, failure_backoff_retry);
	suite_add_tcase(s, runs);
	return s;
}

int main(void)
{
	return unit_run(mirror_suite());
}
