#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "util.h"
#include "yamlload.h"
#include "unit.h"
#include "banned.h"

static struct diags *d;
static struct access *a;
static struct strvec users;
static char *printed;

static void setup(void)
{
	d = diags_new();
	a = NULL;
	printed = NULL;
	users = (struct strvec)STRVEC_INIT;
	strvec_pushl(&users, "admin", "alice", "bob", "carol", "argocd", "ci", NULL);
}

static void teardown(void)
{
	access_free(a);
	diags_free(d);
	strvec_clear(&users);
	free(printed);
}

static const char *print_diags(void)
{
	size_t len = 0;
	FILE *f;

	free(printed);
	f = open_memstream(&printed, &len);
	diags_print(d, f);
	fclose(f);
	return printed;
}

/* Parse text as access.yaml into a; return the diags as printed ("" when none). */
static const char *parse(const char *text)
{
	struct ydoc *doc = NULL;

	access_free(a);
	a = NULL;
	if (ydoc_load(&doc, "access.yaml", text, strlen(text), NULL, d) == 0)
		access_parse(&a, doc, &users, d);
	ydoc_free(doc);
	return print_diags();
}

/* The canonical form of a as compact JSON (static buffer, valid until the next call). */
static const char *canonical(void)
{
	static char *s;
	json_t *v = access_to_json(a);

	free(s);
	s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(v);
	return s;
}

static const char design_example[] =
	"admins: [admin]\n"
	"repos:                       # repo name or glob -> user -> read | write | admin\n"
	"  shop: { alice: write, bob: read }\n"
	"  \"team-*\": { carol: write }\n"
	"  deploy: { argocd: read }   # ArgoCD's key reads the deploy repo\n"
	"refs:\n"
	"  shop:\n"
	"    refs/tags/v*: [alice]    # who may tag a release is who may deploy to prod\n"
	"roles:\n"
	"  builder: [ci]\n";

/* ---- the example from DESIGN.md ---- */

START_TEST(example_parses)
{
	ck_assert_str_eq(parse(design_example), "");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(canonical(),
			 "{\"admins\":[\"admin\"],"
			 "\"repos\":{\"deploy\":{\"argocd\":\"read\"},"
			 "\"shop\":{\"alice\":\"write\",\"bob\":\"read\"},"
			 "\"team-*\":{\"carol\":\"write\"}},"
			 "\"refs\":{\"shop\":{\"refs/tags/v*\":[\"alice\"]}},"
			 "\"roles\":{\"builder\":[\"ci\"]}}");
}
END_TEST

START_TEST(example_permissions)
{
	parse(design_example);
	ck_assert_int_eq(access_perm(a, "shop", "alice"), ACCESS_WRITE);
	ck_assert_int_eq(access_perm(a, "shop", "bob"), ACCESS_READ);
	ck_assert_int_eq(access_perm(a, "shop", "carol"), ACCESS_NONE);
	ck_assert_int_eq(access_perm(a, "team-a", "carol"), ACCESS_WRITE);
	ck_assert_int_eq(access_perm(a, "team", "carol"), ACCESS_NONE);
	ck_assert_int_eq(access_perm(a, "deploy", "argocd"), ACCESS_READ);
	ck_assert_int_eq(access_perm(a, "deploy", "alice"), ACCESS_NONE);
	ck_assert_int_eq(access_perm(a, "anything", "admin"), ACCESS_ADMIN);
	ck_assert_int_eq(access_perm(a, "gitd-admin", "admin"), ACCESS_ADMIN);
	ck_assert_int_eq(access_perm(a, "gitd-admin", "alice"), ACCESS_NONE);
	ck_assert_int_eq(access_perm(a, "shop", "mallory"), ACCESS_NONE);
	ck_assert_int_eq(access_is_admin(a, "admin"), 1);
	ck_assert_int_eq(access_is_admin(a, "alice"), 0);
	ck_assert_int_eq(access_has_role(a, "ci", "builder"), 1);
	ck_assert_int_eq(access_has_role(a, "alice", "builder"), 0);
	ck_assert_int_eq(access_has_role(a, "ci", "deployer"), 0);
}
END_TEST

START_TEST(example_ref_rules)
{
	struct access_ref_rule rule;
	struct strbuf sb = STRBUF_INIT;

	parse(design_example);
	ck_assert_int_eq(access_ref_check(&rule, a, "shop", "alice", "refs/tags/v1.0"), 1);
	ck_assert_int_eq(access_ref_check(&rule, a, "shop", "bob", "refs/heads/main"), 1);
	ck_assert_int_eq(access_ref_check(NULL, a, "team-a", "carol", "refs/tags/v1"), 1);
	/* Server admins are not exempt. */
	ck_assert_int_eq(access_ref_check(NULL, a, "shop", "admin", "refs/tags/v2"), 0);
	ck_assert_int_eq(access_ref_check(&rule, a, "shop", "bob", "refs/tags/v1"), 0);
	ck_assert_str_eq(rule.repo, "shop");
	ck_assert_str_eq(rule.pattern, "refs/tags/v*");
	ck_assert_uint_eq(rule.users_nr, 1);
	ck_assert_str_eq(rule.users[0], "alice");
	access_ref_refusal(&sb, &rule, "refs/tags/v1");
	ck_assert_str_eq(sb.buf, "refs/tags/v1: only alice may create or move refs matching "
				 "refs/tags/v* (access.yaml refs.shop)");
	/* '*' matches across '/': the rule cannot be dodged with a deeper name. */
	ck_assert_int_eq(access_ref_check(NULL, a, "shop", "bob", "refs/tags/v1/x"), 0);
	strbuf_release(&sb);
}
END_TEST

START_TEST(refusal_wording)
{
	static const char *const two[] = { "alice", "bob" }, *const three[] = { "a", "b", "c" };
	struct access_ref_rule rule = { "team-*", "refs/heads/release/*", NULL, 0 };
	struct strbuf sb = STRBUF_INIT;

	access_ref_refusal(&sb, &rule, "refs/heads/release/1");
	ck_assert_str_eq(sb.buf, "refs/heads/release/1: nobody may create or move refs matching "
				 "refs/heads/release/* (access.yaml refs.team-*)");
	strbuf_reset(&sb);
	rule.users = two;
	rule.users_nr = 2;
	access_ref_refusal(&sb, &rule, "refs/heads/release/\033[31mx");
	ck_assert_str_eq(sb.buf, "refs/heads/release/x: only alice and bob may create or move refs "
				 "matching refs/heads/release/* (access.yaml refs.team-*)");
	strbuf_reset(&sb);
	rule.users = three;
	rule.users_nr = 3;
	access_ref_refusal(&sb, &rule, "r");
	ck_assert_str_eq(sb.buf, "r: only a, b and c may create or move refs matching "
				 "refs/heads/release/* (access.yaml refs.team-*)");
	strbuf_release(&sb);
}
END_TEST

/* ---- effective permissions ---- */

START_TEST(highest_of_matching_entries)
{
	ck_assert_str_eq(parse("admins: [admin]\n"
			       "repos:\n"
			       "  \"*\": { \"*\": read }\n"
			       "  \"team-*\": { carol: read, bob: admin }\n"
			       "  team-a: { carol: write }\n"
			       "  \"team-[0-9]\": { alice: write }\n"
			       "  gitd-admin: { bob: read }\n"),
			 "");
	ck_assert_int_eq(access_perm(a, "team-a", "carol"), ACCESS_WRITE);
	ck_assert_int_eq(access_perm(a, "team-b", "carol"), ACCESS_READ);
	ck_assert_int_eq(access_perm(a, "team-b", "bob"), ACCESS_ADMIN);
	ck_assert_int_eq(access_perm(a, "team-1", "alice"), ACCESS_WRITE);
	ck_assert_int_eq(access_perm(a, "team-x", "alice"), ACCESS_READ);
	ck_assert_int_eq(access_perm(a, "other", "ci"), ACCESS_READ);
	/* Patterns never cover the admin repository; the exact entry does. */
	ck_assert_int_eq(access_perm(a, "gitd-admin", "ci"), ACCESS_NONE);
	ck_assert_int_eq(access_perm(a, "gitd-admin", "alice"), ACCESS_NONE);
	ck_assert_int_eq(access_perm(a, "gitd-admin", "bob"), ACCESS_READ);
}
END_TEST

START_TEST(empty_sections)
{
	ck_assert_str_eq(parse("admins: [admin]\nrepos:\n  deploy:\nrefs:\nroles:\n"), "");
	ck_assert_str_eq(canonical(), "{\"admins\":[\"admin\"],\"repos\":{\"deploy\":{}}}");
	ck_assert_int_eq(access_has_repo(a, "deploy"), 1);
	ck_assert_int_eq(access_perm(a, "deploy", "alice"), ACCESS_NONE);
	ck_assert_str_eq(parse("admins: [admin]\n"), "");
	ck_assert_str_eq(canonical(), "{\"admins\":[\"admin\"],\"repos\":{}}");
}
END_TEST

START_TEST(canonical_order)
{
	ck_assert_str_eq(parse("roles: { builder: [ci, bob] }\n"
			       "refs:\n"
			       "  shop: { refs/tags/*: [bob, alice], refs/heads/main: [carol] }\n"
			       "repos:\n"
			       "  shop: { bob: read, alice: write, \"*\": read }\n"
			       "  api: {}\n"
			       "admins: [carol, admin]\n"),
			 "");
	ck_assert_str_eq(canonical(),
			 "{\"admins\":[\"admin\",\"carol\"],"
			 "\"repos\":{\"api\":{},\"shop\":{\"*\":\"read\",\"alice\":\"write\",\"bob\":\"read\"}},"
			 "\"refs\":{\"shop\":{\"refs/heads/main\":[\"carol\"],\"refs/tags/*\":[\"alice\",\"bob\"]}},"
			 "\"roles\":{\"builder\":[\"bob\",\"ci\"]}}");
	ck_assert_uint_eq(access_admin_count(a), 2);
	ck_assert_str_eq(access_admin(a, 1), "carol");
	ck_assert_ptr_null(access_admin(a, 2));
	ck_assert_uint_eq(access_repo_count(a), 2);
	ck_assert_str_eq(access_repo_key(a, 1), "shop");
	ck_assert_uint_eq(access_repo_grant_count(a, 1), 3);
	{
		enum access_perm p;

		ck_assert_str_eq(access_repo_grant(a, 1, 1, &p), "alice");
		ck_assert_int_eq(p, ACCESS_WRITE);
		ck_assert_ptr_null(access_repo_grant(a, 1, 3, &p));
	}
}
END_TEST

/* ---- errors, with positions ---- */

START_TEST(unknown_top_level_keys)
{
	ck_assert_str_eq(parse("admin: [admin]\nrepo: {}\ncolour: blue\n"),
			 "access.yaml:1:1: error: unknown key 'admin'; did you mean 'admins'? "
			 "[access-unknown-key]\n"
			 "access.yaml:2:1: error: unknown key 'repo'; did you mean 'repos'? "
			 "[access-unknown-key]\n"
			 "access.yaml:3:1: error: unknown key 'colour'; the keys are admins, repos, refs "
			 "and roles [access-unknown-key]\n"
			 "access.yaml: error: admins: is missing; add 'admins: [NAME]', or nobody can "
			 "change access [access-no-admins]\n");
	ck_assert_ptr_null(a);
}
END_TEST

START_TEST(admins_errors)
{
	ck_assert_str_eq(parse("admins: []\n"),
			 "access.yaml:1:9: error: admins: is empty; keep at least one admin, or nobody "
			 "can change access [access-no-admins]\n");
	diags_free(d);
	d = diags_new();
	ck_assert_str_eq(parse("admins: admin\n"),
			 "access.yaml:1:9: error: admins must be a list of user names, e.g. [alice]; "
			 "got a string [access-type]\n");
	diags_free(d);
	d = diags_new();
	ck_assert_str_eq(parse("admins:\n  - admin\n  - \"*\"\n  - Alice\n  - 42\n  - bobb\n"
			       "  - zed\n  - admin\n"),
			 "access.yaml:3:5: error: '*' (every user) is not allowed here; name the users "
			 "[access-everyone]\n"
			 "access.yaml:4:5: error: user name 'Alice' has uppercase letters; use lowercase "
			 "[access-user-name]\n"
			 "access.yaml:5:5: error: expected a user name; got a number [access-type]\n"
			 "access.yaml:6:5: error: unknown user 'bobb'; did you mean 'bob'? "
			 "[access-unknown-user]\n"
			 "access.yaml:7:5: error: unknown user 'zed'; add users/zed.pub first "
			 "[access-unknown-user]\n"
			 "access.yaml:8:5: warning: 'admin' is listed twice in admins [access-duplicate]\n");
}
END_TEST

START_TEST(repos_errors)
{
	ck_assert_str_eq(parse("admins: [admin]\n"
			       "repos:\n"
			       "  Shop: { alice: read }\n"
			       "  team/*: { alice: read }\n"
			       "  shop: { alice: wirte, bob: none, carol: owner, ci: yes }\n"
			       "  api: { \"*\": admin, bobb: read }\n"
			       "  web: [alice]\n"
			       "  db: { on: read }\n"),
			 "access.yaml:3:3: error: repository name 'Shop' has uppercase letters; use "
			 "lowercase [access-repo-name]\n"
			 "access.yaml:4:3: error: repository pattern 'team/*' has '/'; repositories do "
			 "not nest [access-repo-name]\n"
			 "access.yaml:5:18: error: unknown permission 'wirte'; did you mean 'write'? "
			 "[access-perm]\n"
			 "access.yaml:5:30: error: 'none' is not needed: remove the line to give no "
			 "access [access-perm]\n"
			 "access.yaml:5:43: error: unknown permission 'owner'; use read, write or admin "
			 "[access-perm]\n"
			 "access.yaml:5:54: error: permission must be read, write or admin; got 'yes', "
			 "which YAML reads as true/false; quote it [access-type]\n"
			 "access.yaml:6:15: error: '*' (every user) cannot have admin; give admin to "
			 "named users [access-everyone]\n"
			 "access.yaml:6:22: error: unknown user 'bobb'; did you mean 'bob'? "
			 "[access-unknown-user]\n"
			 "access.yaml:7:8: error: a repository maps users to read, write or admin, e.g. "
			 "{ alice: write }; got a list [access-type]\n"
			 "access.yaml:8:9: error: YAML reads the key 'on' as 'true'; quote it: \"on\" "
			 "[access-type]\n");
	ck_assert_ptr_null(a);
}
END_TEST

START_TEST(sections_must_be_mappings)
{
	ck_assert_str_eq(parse("admins: [admin]\nrepos: [shop]\nrefs: 3\nroles: builder\n"),
			 "access.yaml:2:8: error: repos: maps repositories to users, e.g. shop: { "
			 "alice: write }; got a list [access-type]\n"
			 "access.yaml:3:7: error: refs: maps repositories to ref rules, e.g. shop: { "
			 "refs/tags/v*: [alice] }; got a number [access-type]\n"
			 "access.yaml:4:8: error: roles: maps roles to users, e.g. builder: [ci]; got a "
			 "string [access-type]\n");
}
END_TEST

START_TEST(refs_errors)
{
	ck_assert_str_eq(parse("admins: [admin]\n"
			       "repos: { shop: {}, \"team-*\": {} }\n"
			       "refs:\n"
			       "  shop:\n"
			       "    tags/v*: [alice]\n"
			       "    refs/heads/a..b: [alice]\n"
			       "    refs/heads/main:\n"
			       "    refs/tags/x*: [\"*\", alice, alice]\n"
			       "    refs/heads/rel*: []\n"
			       "  shpo: { refs/tags/*: [alice] }\n"
			       "  team-a: { refs/tags/*: [alice] }\n"
			       "  api: [alice]\n"),
			 "access.yaml:5:5: error: ref pattern 'tags/v*' must start with refs/, e.g. "
			 "refs/tags/v* [access-ref-pattern]\n"
			 "access.yaml:6:5: error: ref pattern 'refs/heads/a..b' can never match a valid "
			 "ref name [access-ref-pattern]\n"
			 "access.yaml:7:21: error: refs.shop.refs/heads/main must list the users who may "
			 "update these refs; use [] for nobody [access-type]\n"
			 "access.yaml:8:20: error: '*' (every user) is not allowed here; name the users "
			 "[access-everyone]\n"
			 "access.yaml:8:32: warning: 'alice' is listed twice in refs.shop.refs/tags/x* "
			 "[access-duplicate]\n"
			 "access.yaml:10:3: warning: 'shpo' is not in repos:; check the name "
			 "[access-refs-repo]\n"
			 "access.yaml:12:3: warning: 'api' is not in repos:; check the name "
			 "[access-refs-repo]\n"
			 "access.yaml:12:8: error: refs rules map ref patterns to users, e.g. "
			 "refs/tags/v*: [alice]; got a list [access-type]\n");
}
END_TEST

START_TEST(ref_rule_semantics)
{
	struct access_ref_rule rule;

	ck_assert_str_eq(parse("admins: [admin]\n"
			       "repos: { shop: {}, \"team-*\": {} }\n"
			       "refs:\n"
			       "  shop: { refs/heads/rel*: [] }\n"
			       "  \"*\": { refs/tags/*: [alice, bob] }\n"
			       "  team-a: { refs/tags/v*: [bob] }\n"),
			 "");
	/* An empty list freezes the refs. */
	ck_assert_int_eq(access_ref_check(&rule, a, "shop", "admin", "refs/heads/release"), 0);
	ck_assert_uint_eq(rule.users_nr, 0);
	/* Every matching rule must allow the user. */
	ck_assert_int_eq(access_ref_check(NULL, a, "team-a", "bob", "refs/tags/v1"), 1);
	ck_assert_int_eq(access_ref_check(&rule, a, "team-a", "alice", "refs/tags/v1"), 0);
	ck_assert_str_eq(rule.repo, "team-a");
	ck_assert_int_eq(access_ref_check(NULL, a, "team-a", "alice", "refs/tags/x"), 1);
	ck_assert_int_eq(access_ref_check(&rule, a, "team-a", "carol", "refs/tags/x"), 0);
	ck_assert_str_eq(rule.repo, "*");
}
END_TEST

START_TEST(roles_errors)
{
	ck_assert_str_eq(parse("admins: [admin]\nroles:\n  biulder: [ci]\n  deployer: [ci]\n"
			       "  builder: [\"*\"]\n"),
			 "access.yaml:3:3: error: unknown role 'biulder'; did you mean 'builder'? "
			 "[access-role]\n"
			 "access.yaml:4:3: error: unknown role 'deployer'; the only role is builder "
			 "[access-role]\n"
			 "access.yaml:5:13: error: '*' (every user) is not allowed here; name the users "
			 "[access-everyone]\n");
}
END_TEST

START_TEST(document_shape)
{
	ck_assert_str_eq(parse("# nothing but a comment\n"),
			 "access.yaml: error: the file is empty; it needs at least 'admins: [NAME]' "
			 "[access-no-admins]\n");
	diags_free(d);
	d = diags_new();
	ck_assert_str_eq(parse("- admins\n"),
			 "access.yaml:1:1: error: the file must be a mapping with admins:, repos:, "
			 "refs: and roles: [access-type]\n");
	diags_free(d);
	d = diags_new();
	ck_assert_str_eq(parse("admins: [admin]\n---\nadmins: [alice]\n"),
			 "access.yaml:3:1: error: only one YAML document is allowed; remove the second "
			 "'---' [access-type]\n");
}
END_TEST

START_TEST(yaml_errors_are_reported)
{
	const char *out = parse("admins: [admin\n");

	ck_assert_ptr_null(a);
	ck_assert_msg(starts_with(out, "access.yaml:"), "%s", out);
	ck_assert_uint_ge(diags_count(d, DIAG_ERROR), 1);
}
END_TEST

START_TEST(unknown_users_unchecked_without_list)
{
	struct ydoc *doc = NULL;
	static const char text[] = "admins: [nobody]\nrepos: { x: { someone: read } }\n";

	ck_assert_int_eq(ydoc_load(&doc, "access.yaml", text, strlen(text), NULL, d), 0);
	ck_assert_int_eq(access_parse(&a, doc, NULL, d), 0);
	ck_assert_int_eq(access_perm(a, "x", "someone"), ACCESS_READ);
	ydoc_free(doc);
}
END_TEST

/* ---- changes ---- */

START_TEST(set_perm)
{
	struct strbuf err = STRBUF_INIT;

	parse(design_example);
	ck_assert_int_eq(access_set_perm(a, "shop", "carol", ACCESS_READ, &err), 0);
	ck_assert_int_eq(access_set_perm(a, "shop", "alice", ACCESS_ADMIN, &err), 0);
	ck_assert_int_eq(access_set_perm(a, "shop", "bob", ACCESS_NONE, &err), 0);
	ck_assert_int_eq(access_set_perm(a, "new", "bob", ACCESS_WRITE, &err), 0);
	ck_assert_int_eq(access_set_perm(a, "empty", "bob", ACCESS_NONE, &err), 0);
	ck_assert_int_eq(access_set_perm(a, "pub-*", "*", ACCESS_READ, &err), 0);
	ck_assert_str_eq(err.buf, "");
	ck_assert_int_eq(access_has_repo(a, "empty"), 0);
	ck_assert_int_eq(access_perm(a, "shop", "carol"), ACCESS_READ);
	ck_assert_int_eq(access_perm(a, "shop", "alice"), ACCESS_ADMIN);
	ck_assert_int_eq(access_perm(a, "shop", "bob"), ACCESS_NONE);
	ck_assert_int_eq(access_perm(a, "pub-x", "ci"), ACCESS_READ);
	ck_assert_str_eq(canonical(),
			 "{\"admins\":[\"admin\"],"
			 "\"repos\":{\"deploy\":{\"argocd\":\"read\"},\"new\":{\"bob\":\"write\"},"
			 "\"pub-*\":{\"*\":\"read\"},"
			 "\"shop\":{\"alice\":\"admin\",\"carol\":\"read\"},"
			 "\"team-*\":{\"carol\":\"write\"}},"
			 "\"refs\":{\"shop\":{\"refs/tags/v*\":[\"alice\"]}},"
			 "\"roles\":{\"builder\":[\"ci\"]}}");

	ck_assert_int_eq(access_set_perm(a, "shop", "*", ACCESS_ADMIN, &err), -1);
	ck_assert_str_eq(err.buf, "'*' (every user) cannot have admin; give admin to named users");
	strbuf_reset(&err);
	ck_assert_int_eq(access_set_perm(a, "../x", "bob", ACCESS_READ, &err), -1);
	ck_assert_str_eq(err.buf, "repository name '../x' has '/'; repositories do not nest");
	strbuf_reset(&err);
	ck_assert_int_eq(access_set_perm(a, "shop", "Bob", ACCESS_READ, &err), -1);
	ck_assert_str_eq(err.buf, "user name 'Bob' has uppercase letters; use lowercase");
	strbuf_release(&err);
}
END_TEST

START_TEST(add_and_remove_repo)
{
	struct strbuf err = STRBUF_INIT;

	parse(design_example);
	ck_assert_int_eq(access_add_repo(a, "api", &err), 0);
	ck_assert_int_eq(access_add_repo(a, "api", &err), 1);
	ck_assert_int_eq(access_add_repo(a, "shop", &err), 1);
	ck_assert_int_eq(access_add_repo(a, "-x", &err), -1);
	ck_assert_str_eq(err.buf, "repository name '-x' must start with a letter or digit");
	ck_assert_int_eq(access_has_repo(a, "api"), 1);
	ck_assert_int_eq(access_remove_repo(a, "shop"), 0);
	ck_assert_int_eq(access_remove_repo(a, "shop"), 1);
	ck_assert_int_eq(access_remove_repo(a, "team-a"), 1);
	ck_assert_int_eq(access_has_repo(a, "shop"), 0);
	/* The refs: rules of the repository went with it. */
	ck_assert_int_eq(access_ref_check(NULL, a, "shop", "bob", "refs/tags/v1"), 1);
	ck_assert_str_eq(canonical(),
			 "{\"admins\":[\"admin\"],"
			 "\"repos\":{\"api\":{},\"deploy\":{\"argocd\":\"read\"},\"team-*\":{\"carol\":\"write\"}},"
			 "\"roles\":{\"builder\":[\"ci\"]}}");
	strbuf_release(&err);
}
END_TEST

START_TEST(remove_user_everywhere)
{
	struct strbuf err = STRBUF_INIT;

	parse("admins: [admin, alice]\n"
	      "repos: { shop: { alice: write, bob: read }, \"team-*\": { alice: read } }\n"
	      "refs: { shop: { refs/tags/v*: [alice], refs/heads/main: [alice, bob] } }\n"
	      "roles: { builder: [alice, ci] }\n");
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(access_remove_user(a, "alice"), 6);
	ck_assert_uint_eq(access_remove_user(a, "alice"), 0);
	/* refs/tags/v* is left with nobody: it fails closed. */
	ck_assert_str_eq(canonical(),
			 "{\"admins\":[\"admin\"],"
			 "\"repos\":{\"shop\":{\"bob\":\"read\"},\"team-*\":{}},"
			 "\"refs\":{\"shop\":{\"refs/heads/main\":[\"bob\"],\"refs/tags/v*\":[]}},"
			 "\"roles\":{\"builder\":[\"ci\"]}}");
	ck_assert_int_eq(access_set_admin(a, "bob", 1, &err), 0);
	ck_assert_int_eq(access_is_admin(a, "bob"), 1);
	ck_assert_int_eq(access_set_admin(a, "admin", 0, &err), 0);
	ck_assert_int_eq(access_is_admin(a, "admin"), 0);
	ck_assert_int_eq(access_set_admin(a, "*", 1, &err), -1);
	ck_assert_str_eq(err.buf, "user name '*' has '*'; use only a-z, 0-9, '.', '_' and '-'");
	ck_assert_str_eq(access_admin(a, 0), "bob");
	strbuf_release(&err);
}
END_TEST

START_TEST(new_model)
{
	struct strbuf err = STRBUF_INIT;

	a = access_new();
	ck_assert_str_eq(canonical(), "{\"admins\":[],\"repos\":{}}");
	ck_assert_int_eq(access_perm(a, "x", "y"), ACCESS_NONE);
	ck_assert_int_eq(access_ref_check(NULL, a, "x", "y", "refs/heads/main"), 1);
	access_set_admin(a, "root", 1, &err);
	access_add_repo(a, "deploy", &err);
	ck_assert_str_eq(canonical(), "{\"admins\":[\"root\"],\"repos\":{\"deploy\":{}}}");
	strbuf_release(&err);
}
END_TEST

START_TEST(perm_names)
{
	enum access_perm p = ACCESS_ADMIN;

	ck_assert_str_eq(access_perm_name(ACCESS_NONE), "none");
	ck_assert_str_eq(access_perm_name(ACCESS_READ), "read");
	ck_assert_str_eq(access_perm_name(ACCESS_WRITE), "write");
	ck_assert_str_eq(access_perm_name(ACCESS_ADMIN), "admin");
	ck_assert_int_eq(access_perm_parse(&p, "none"), 0);
	ck_assert_int_eq(p, ACCESS_NONE);
	ck_assert_int_eq(access_perm_parse(&p, "write"), 0);
	ck_assert_int_eq(p, ACCESS_WRITE);
	ck_assert_int_eq(access_perm_parse(&p, "Write"), -1);
	ck_assert_int_eq(access_perm_parse(&p, ""), -1);
	ck_assert_int_eq(p, ACCESS_WRITE);
}
END_TEST

static Suite *access_suite(void)
{
	Suite *s = suite_create("access");
	TCase *model = tcase_create("model"), *errors = tcase_create("errors"),
	      *changes = tcase_create("changes");

	tcase_add_checked_fixture(model, setup, teardown);
	tcase_add_test(model, example_parses);
	tcase_add_test(model, example_permissions);
	tcase_add_test(model, example_ref_rules);
	tcase_add_test(model, refusal_wording);
	tcase_add_test(model, highest_of_matching_entries);
	tcase_add_test(model, empty_sections);
	tcase_add_test(model, canonical_order);
	tcase_add_test(model, ref_rule_semantics);
	tcase_add_test(model, unknown_users_unchecked_without_list);
	tcase_add_test(model, perm_names);
	suite_add_tcase(s, model);

	tcase_add_checked_fixture(errors, setup, teardown);
	tcase_add_test(errors, unknown_top_level_keys);
	tcase_add_test(errors, admins_errors);
	tcase_add_test(errors, repos_errors);
	tcase_add_test(errors, sections_must_be_mappings);
	tcase_add_test(errors, refs_errors);
	tcase_add_test(errors, roles_errors);
	tcase_add_test(errors, document_shape);
	tcase_add_test(errors, yaml_errors_are_reported);
	suite_add_tcase(s, errors);

	tcase_add_checked_fixture(changes, setup, teardown);
	tcase_add_test(changes, set_perm);
	tcase_add_test(changes, add_and_remove_repo);
	tcase_add_test(changes, remove_user_everywhere);
	tcase_add_test(changes, new_model);
	suite_add_tcase(s, changes);
	return s;
}

int main(void)
{
	return unit_run(access_suite());
}
