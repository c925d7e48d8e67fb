#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pubkey.h"
#include "strbuf.h"
#include "util.h"
#include "testkeys.h"
#include "unit.h"
#include "banned.h"

static struct pubkey_list *list;
static struct diags *d;
static char *printed;

static void setup(void)
{
	list = pubkey_list_new();
	d = diags_new();
	printed = NULL;
}

static void teardown(void)
{
	pubkey_list_free(list);
	diags_free(d);
	free(printed);
}

/* Parse text as users/alice.pub; return the diags as printed ("" when none). */
static const char *parse(const char *text)
{
	size_t len = 0;
	FILE *f;

	pubkey_list_parse(list, "alice", "users/alice.pub", text, strlen(text), d);
	free(printed);
	f = open_memstream(&printed, &len);
	diags_print(d, f);
	fclose(f);
	return printed;
}

/* ---- building blobs by hand, for malformed keys ---- */

static void put_string(struct strbuf *sb, const void *p, size_t len)
{
	unsigned char n[4] = { len >> 24, len >> 16, len >> 8, len };

	strbuf_add(sb, n, 4);
	strbuf_add(sb, p, len);
}

static char *b64(const struct strbuf *sb)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)sb->buf;
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < sb->len; i += 3) {
		unsigned v = p[i] << 16 | (i + 1 < sb->len ? p[i + 1] << 8 : 0) |
			     (i + 2 < sb->len ? p[i + 2] : 0);

		strbuf_addch(&out, a[v >> 18 & 63]);
		strbuf_addch(&out, a[v >> 12 & 63]);
		strbuf_addch(&out, i + 1 < sb->len ? a[v >> 6 & 63] : '=');
		strbuf_addch(&out, i + 2 < sb->len ? a[v & 63] : '=');
	}
	return strbuf_detach(&out, NULL);
}

/* "ssh-rsa" blob with a modulus of nbytes bytes, the first being first. */
static char *rsa_blob(size_t nbytes, unsigned char first)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char e[] = { 1, 0, 1 };
	unsigned char *n = xcalloc(nbytes, 1);
	char *s;

	memset(n, 0xab, nbytes);
	n[0] = first;
	put_string(&sb, "ssh-rsa", 7);
	put_string(&sb, e, sizeof(e));
	put_string(&sb, n, nbytes);
	s = b64(&sb);
	strbuf_release(&sb);
	free(n);
	return s;
}

static char *key_line(const char *type, const char *data)
{
	return xstrfmt("%s %s\n", type, data);
}

/* ---- accepted keys ---- */

struct good {
	const char *type, *b64, *fp;
	unsigned bits;
};

static const struct good goods[] = {
	{ "ssh-ed25519", KEY_ED25519_B64, KEY_ED25519_FP, 256 },
	{ "ssh-rsa", KEY_RSA2048_B64, KEY_RSA2048_FP, 2048 },
	{ "ssh-rsa", KEY_RSA3072_B64, KEY_RSA3072_FP, 3072 },
	{ "ecdsa-sha2-nistp256", KEY_ECDSA256_B64, KEY_ECDSA256_FP, 256 },
	{ "ecdsa-sha2-nistp384", KEY_ECDSA384_B64, KEY_ECDSA384_FP, 384 },
	{ "ecdsa-sha2-nistp521", KEY_ECDSA521_B64, KEY_ECDSA521_FP, 521 },
};

START_TEST(accepts_each_type)
{
	const struct good *g = &goods[_i];
	char *line = xstrfmt("%s %s  me@laptop  \n", g->type, g->b64);
	const struct pubkey *k;

	ck_assert_str_eq(parse(line), "");
	ck_assert_uint_eq(pubkey_list_count(list), 1);
	k = pubkey_list_get(list, 0);
	ck_assert_str_eq(k->type, g->type);
	ck_assert_uint_eq(k->bits, g->bits);
	ck_assert_str_eq(k->fingerprint, g->fp);
	ck_assert_str_eq(k->base64, g->b64);
	ck_assert_str_eq(k->comment, "me@laptop");
	ck_assert_str_eq(k->owner, "alice");
	ck_assert_str_eq(k->file, "users/alice.pub");
	ck_assert_uint_eq(k->line, 1);
	ck_assert_int_eq(ssh_key_type(k->key), ssh_key_type_from_name(g->type));
	free(line);
}
END_TEST

START_TEST(blank_comment_crlf_lines)
{
	const char *text = "# alice's keys\n"
			   "\n"
			   "   \t \n"
			   "  # indented comment\n"
			   "ssh-ed25519 " KEY_ED25519_B64 "\r\n"
			   "\tssh-rsa\t" KEY_RSA2048_B64 "\tsecond key \r\n"
			   "ssh-ed25519 " KEY_ED25519_2_B64; /* no final newline */

	ck_assert_str_eq(parse(text), "");
	ck_assert_uint_eq(pubkey_list_count(list), 3);
	ck_assert_uint_eq(pubkey_list_get(list, 0)->line, 5);
	ck_assert_str_eq(pubkey_list_get(list, 0)->comment, "");
	ck_assert_uint_eq(pubkey_list_get(list, 1)->line, 6);
	ck_assert_str_eq(pubkey_list_get(list, 1)->comment, "second key");
	ck_assert_uint_eq(pubkey_list_get(list, 2)->line, 7);
	ck_assert_ptr_null(pubkey_list_get(list, 3));
}
END_TEST

START_TEST(empty_input)
{
	ck_assert_int_eq(pubkey_list_parse(list, NULL, "x", "", 0, d), 0);
	ck_assert_uint_eq(pubkey_list_count(list), 0);
	ck_assert_uint_eq(diags_nr(d), 0);
}
END_TEST

START_TEST(padding_optional)
{
	/* The P-256 blob is 104 bytes: its base64 ends in one '='. */
	char *unpadded = xstrndup(KEY_ECDSA256_B64, strlen(KEY_ECDSA256_B64) - 1);
	char *line = key_line("ecdsa-sha2-nistp256", unpadded);

	ck_assert_str_eq(parse(line), "");
	ck_assert_str_eq(pubkey_list_get(list, 0)->base64, KEY_ECDSA256_B64);
	ck_assert_str_eq(pubkey_list_get(list, 0)->fingerprint, KEY_ECDSA256_FP);
	free(line);
	free(unpadded);
}
END_TEST

/* ---- refused keys: exact messages ---- */

START_TEST(refuses_small_rsa)
{
	ck_assert_str_eq(parse("ssh-rsa " KEY_RSA1024_B64 " old\n"),
			 "users/alice.pub:1:9: error: RSA key has only 1024 bits; use at least 2048, "
			 "or better ssh-ed25519 [pubkey-weak]\n");
	ck_assert_uint_eq(pubkey_list_count(list), 0);
}
END_TEST

START_TEST(refuses_huge_rsa)
{
	char *blob = rsa_blob(2049, 0x7f);
	char *line = key_line("ssh-rsa", blob);

	ck_assert_str_eq(parse(line), "users/alice.pub:1:9: error: RSA key has 16385 bits; "
				      "the limit is 16384 [pubkey-weak]\n");
	free(line);
	free(blob);
}
END_TEST

START_TEST(refuses_negative_rsa_modulus)
{
	char *blob = rsa_blob(256, 0x80);
	char *line = key_line("ssh-rsa", blob);

	ck_assert_str_eq(parse(line), "users/alice.pub:1:9: error: key data is corrupt (the RSA "
				      "modulus is invalid); copy the whole line again [pubkey-syntax]\n");
	free(line);
	free(blob);
}
END_TEST

START_TEST(refuses_dsa)
{
	ck_assert_str_eq(parse("ssh-dss " KEY_DSA_B64 "\n"),
			 "users/alice.pub:1:1: error: ssh-dss keys are too weak; use ssh-ed25519 "
			 "(ssh-keygen -t ed25519) [pubkey-type]\n");
}
END_TEST

START_TEST(refuses_security_keys)
{
	ck_assert_str_eq(parse("sk-ssh-ed25519@openssh.com AAAA\n"
			       "sk-ecdsa-sha2-nistp256@openssh.com AAAA\n"),
			 "users/alice.pub:1:1: error: security keys (sk-ssh-ed25519@openssh.com) are "
			 "not supported; use ssh-ed25519 [pubkey-type]\n"
			 "users/alice.pub:2:1: error: security keys (sk-ecdsa-sha2-nistp256@openssh.com) "
			 "are not supported; use ssh-ed25519 [pubkey-type]\n");
}
END_TEST

START_TEST(refuses_certificates)
{
	ck_assert_str_eq(parse("ssh-ed25519-cert-v01@openssh.com AAAA\n"),
			 "users/alice.pub:1:1: error: certificates are not supported; give the plain "
			 "public key [pubkey-type]\n");
}
END_TEST

START_TEST(refuses_signature_algorithm)
{
	ck_assert_str_eq(parse("rsa-sha2-512 " KEY_RSA2048_B64 "\n"),
			 "users/alice.pub:1:1: error: rsa-sha2-512 is a signature algorithm, not a key "
			 "type; the line should start with ssh-rsa [pubkey-type]\n");
}
END_TEST

START_TEST(refuses_options)
{
	static const char msg[] = "error: key options (command=, from=, ...) are not supported; "
				  "remove everything before the key type [pubkey-options]\n";
	char *want = xstrfmt("users/alice.pub:1:1: %susers/alice.pub:2:3: %s"
			     "users/alice.pub:3:1: %susers/alice.pub:4:1: %s",
			     msg, msg, msg, msg);

	ck_assert_str_eq(parse("command=\"/bin/sh -c 'id'\" ssh-ed25519 " KEY_ED25519_B64 "\n"
			       "  no-pty ssh-ed25519 " KEY_ED25519_B64 "\n"
			       "from=\"10.0.0.0/8\",no-agent-forwarding ssh-rsa " KEY_RSA2048_B64 "\n"
			       "restrict ecdsa-sha2-nistp256 " KEY_ECDSA256_B64 "\n"),
			 want);
	ck_assert_uint_eq(pubkey_list_count(list), 0);
	free(want);
}
END_TEST

START_TEST(refuses_unknown_type)
{
	ck_assert_str_eq(parse("hello world\nrsa " KEY_RSA2048_B64 " my rsa key\n"),
			 "users/alice.pub:1:1: error: unknown key type 'hello'; expected a line like "
			 "'ssh-ed25519 AAAA... comment' [pubkey-type]\n"
			 "users/alice.pub:2:1: error: unknown key type 'rsa'; expected a line like "
			 "'ssh-ed25519 AAAA... comment' [pubkey-type]\n");
}
END_TEST

START_TEST(refuses_type_mismatch)
{
	ck_assert_str_eq(parse("ssh-rsa " KEY_ED25519_B64 "\n"
			       "ecdsa-sha2-nistp384 " KEY_ECDSA256_B64 "\n"),
			 "users/alice.pub:1:9: error: the key data holds a ssh-ed25519 key but the line "
			 "says ssh-rsa; fix the key type [pubkey-syntax]\n"
			 "users/alice.pub:2:21: error: the key data holds a ecdsa-sha2-nistp256 key but "
			 "the line says ecdsa-sha2-nistp384; fix the key type [pubkey-syntax]\n");
}
END_TEST

START_TEST(refuses_bad_base64)
{
	ck_assert_str_eq(parse("ssh-ed25519 AAAAC3Nza!1lZDI1NTE5\n"),
			 "users/alice.pub:1:22: error: key data is not valid base64; copy the whole "
			 "line from the .pub file [pubkey-syntax]\n");
	/* Padding in the middle, or too much of it. */
	diags_free(d);
	d = diags_new();
	ck_assert_str_eq(parse("ssh-ed25519 AA==AAAA\n"),
			 "users/alice.pub:1:15: error: key data is not valid base64; copy the whole "
			 "line from the .pub file [pubkey-syntax]\n");
	diags_free(d);
	d = diags_new();
	ck_assert_str_eq(parse("ssh-ed25519 A===\n"),
			 "users/alice.pub:1:14: error: key data is not valid base64; copy the whole "
			 "line from the .pub file [pubkey-syntax]\n");
}
END_TEST

START_TEST(refuses_truncated_and_extra)
{
	char *cut = xstrndup(KEY_ED25519_B64, 40);
	char *line = xstrfmt("ssh-ed25519 %s\nssh-ed25519 %sAAAA\nssh-ed25519 AAAA\n", cut,
			     KEY_ED25519_B64);

	ck_assert_str_eq(parse(line),
			 "users/alice.pub:1:13: error: key data is corrupt (an Ed25519 key is 32 "
			 "bytes); copy the whole line again [pubkey-syntax]\n"
			 "users/alice.pub:2:13: error: key data is corrupt (there are extra bytes after "
			 "the key); copy the whole line again [pubkey-syntax]\n"
			 "users/alice.pub:3:13: error: key data is not an SSH public key; copy the "
			 "whole line from the .pub file [pubkey-syntax]\n");
	free(line);
	free(cut);
}
END_TEST

START_TEST(refuses_bad_curve)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char q[65] = { 4 };
	char *data, *line;

	put_string(&sb, "ecdsa-sha2-nistp256", 19);
	put_string(&sb, "nistp384", 8);
	put_string(&sb, q, sizeof(q));
	data = b64(&sb);
	line = key_line("ecdsa-sha2-nistp256", data);
	ck_assert_str_eq(parse(line), "users/alice.pub:1:21: error: key data is corrupt (the curve "
				      "does not match the key type, or the data is truncated); copy "
				      "the whole line again [pubkey-syntax]\n");
	free(line);
	free(data);
	strbuf_release(&sb);
}
END_TEST

START_TEST(refuses_point_not_on_curve)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char q[65];
	char *data, *line;

	memset(q, 0x11, sizeof(q));
	q[0] = 4;
	put_string(&sb, "ecdsa-sha2-nistp256", 19);
	put_string(&sb, "nistp256", 8);
	put_string(&sb, q, sizeof(q));
	data = b64(&sb);
	line = key_line("ecdsa-sha2-nistp256", data);
	ck_assert_str_eq(parse(line), "users/alice.pub:1:21: error: key data is corrupt (libssh "
				      "cannot read it); copy the whole line again [pubkey-syntax]\n");
	free(line);
	free(data);
	strbuf_release(&sb);
}
END_TEST

START_TEST(refuses_missing_data)
{
	ck_assert_str_eq(parse("ssh-ed25519   \n"),
			 "users/alice.pub:1:12: error: key data missing after ssh-ed25519; copy the "
			 "whole line from the .pub file [pubkey-syntax]\n");
}
END_TEST

START_TEST(refuses_private_key)
{
	const char *text = "-----BEGIN OPENSSH PRIVATE KEY-----\n"
			   "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
			   "QyNTUxOQAAACA1FA3d9PW09qOPFMPka/hb2S3dinkKIUzayd10MIAQ2wAAAJg=\n"
			   "-----END OPENSSH PRIVATE KEY-----\n"
			   "ssh-ed25519 " KEY_ED25519_B64 "\n";

	ck_assert_str_eq(parse(text), "users/alice.pub:1:1: error: this is a private key: never "
				      "share it; give the .pub file instead [pubkey-private]\n");
	ck_assert_uint_eq(pubkey_list_count(list), 1);
	ck_assert_uint_eq(pubkey_list_get(list, 0)->line, 5);
}
END_TEST

START_TEST(refuses_control_characters)
{
	ck_assert_str_eq(parse("ssh-ed25519 " KEY_ED25519_B64 " evil\033[2J\n"
			       "ssh-ed25519 " KEY_ED25519_B64 " bell\a\n"),
			 "users/alice.pub:1:86: error: control character in key line; remove it "
			 "[pubkey-syntax]\n"
			 "users/alice.pub:2:86: error: control character in key line; remove it "
			 "[pubkey-syntax]\n");
}
END_TEST

START_TEST(nul_inside_buffer)
{
	static const char text[] = "ssh-ed25519 " KEY_ED25519_B64 " a\0b\n";

	ck_assert_int_eq(pubkey_list_parse(list, NULL, "k", text, sizeof(text) - 1, d), -1);
	ck_assert_uint_eq(diags_nr(d), 1);
	ck_assert_uint_eq(diags_get(d, 0)->col, 83);
	ck_assert_str_eq(diags_get(d, 0)->message, "control character in key line; remove it");
}
END_TEST

START_TEST(refuses_long_line)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "ssh-ed25519 " KEY_ED25519_B64 " ");
	while (sb.len <= PUBKEY_LINE_MAX)
		strbuf_addch(&sb, 'x');
	ck_assert_str_eq(parse(sb.buf), "users/alice.pub:1:1: error: line is longer than 16384 "
					"bytes; is this a key? [pubkey-syntax]\n");
	strbuf_release(&sb);
}
END_TEST

START_TEST(errors_keep_good_keys)
{
	const char *text = "ssh-ed25519 " KEY_ED25519_B64 " one\n"
			   "ssh-dss " KEY_DSA_B64 "\n"
			   "ssh-ed25519 " KEY_ED25519_2_B64 " two\n";

	ck_assert_int_eq(pubkey_list_parse(list, "bob", "b.pub", text, strlen(text), d), -1);
	ck_assert_uint_eq(diags_nr(d), 1);
	ck_assert_uint_eq(diags_get(d, 0)->line, 2);
	ck_assert_uint_eq(pubkey_list_count(list), 2);
	ck_assert_str_eq(pubkey_list_get(list, 1)->comment, "two");
	ck_assert_str_eq(pubkey_list_get(list, 1)->owner, "bob");
}
END_TEST

/* ---- lookups ---- */

START_TEST(find_by_key_and_fingerprint)
{
	ssh_key probe = NULL, other = NULL;
	char *fp = NULL;

	parse("ssh-ed25519 " KEY_ED25519_B64 " one\nssh-rsa " KEY_RSA2048_B64 " two\n");
	ck_assert_int_eq(ssh_pki_import_pubkey_base64(KEY_RSA2048_B64, SSH_KEYTYPE_RSA, &probe), 0);
	ck_assert_str_eq(pubkey_list_find_key(list, probe)->comment, "two");
	ck_assert_int_eq(
		ssh_pki_import_pubkey_base64(KEY_ED25519_2_B64, SSH_KEYTYPE_ED25519, &other), 0);
	ck_assert_ptr_null(pubkey_list_find_key(list, other));

	ck_assert_str_eq(pubkey_list_find_fingerprint(list, KEY_ED25519_FP)->comment, "one");
	ck_assert_str_eq(pubkey_list_find_fingerprint(list, KEY_RSA2048_FP + 7)->comment, "two");
	ck_assert_ptr_null(pubkey_list_find_fingerprint(list, KEY_ED25519_2_FP));
	ck_assert_ptr_null(pubkey_list_find_fingerprint(list, "SHA256:"));
	ck_assert_ptr_null(pubkey_list_find_fingerprint(list, ""));

	ck_assert_int_eq(pubkey_fingerprint(&fp, probe), 0);
	ck_assert_str_eq(fp, KEY_RSA2048_FP);
	free(fp);
	ssh_key_free(probe);
	ssh_key_free(other);
}
END_TEST

START_TEST(format_is_canonical)
{
	struct strbuf sb = STRBUF_INIT;

	parse("  ssh-ed25519\t" KEY_ED25519_B64 "\t  alice@laptop \r\nssh-rsa " KEY_RSA2048_B64);
	pubkey_format(&sb, pubkey_list_get(list, 0));
	pubkey_format(&sb, pubkey_list_get(list, 1));
	ck_assert_str_eq(sb.buf, "ssh-ed25519 " KEY_ED25519_B64 " alice@laptop\n"
				 "ssh-rsa " KEY_RSA2048_B64 "\n");
	strbuf_release(&sb);
}
END_TEST

START_TEST(remove_by_fingerprint)
{
	static const char text[] = "# laptop\n"
				   "ssh-ed25519 " KEY_ED25519_B64 " one\n"
				   "ssh-rsa " KEY_RSA2048_B64 " two\r\n"
				   "\n"
				   "ssh-ed25519 " KEY_ED25519_B64 " one again\n"
				   "ssh-dss broken";
	struct strbuf sb = STRBUF_INIT;

	ck_assert_uint_eq(pubkey_remove(&sb, text, strlen(text), KEY_ED25519_FP), 2);
	ck_assert_str_eq(sb.buf, "# laptop\nssh-rsa " KEY_RSA2048_B64 " two\r\n\nssh-dss broken");
	strbuf_reset(&sb);
	ck_assert_uint_eq(pubkey_remove(&sb, text, strlen(text), KEY_RSA2048_FP + 7), 1);
	ck_assert_str_eq(sb.buf, "# laptop\nssh-ed25519 " KEY_ED25519_B64 " one\n\nssh-ed25519 "
				 KEY_ED25519_B64 " one again\nssh-dss broken");
	strbuf_reset(&sb);
	ck_assert_uint_eq(pubkey_remove(&sb, text, strlen(text), KEY_DSA_FP), 0);
	ck_assert_str_eq(sb.buf, text);
	strbuf_release(&sb);
}
END_TEST

static Suite *pubkey_suite(void)
{
	Suite *s = suite_create("pubkey");
	TCase *ok = tcase_create("accepted"), *bad = tcase_create("refused"),
	      *find = tcase_create("lookup");

	tcase_add_checked_fixture(ok, setup, teardown);
	tcase_add_loop_test(ok, accepts_each_type, 0, ARRAY_SIZE(goods));
	tcase_add_test(ok, blank_comment_crlf_lines);
	tcase_add_test(ok, empty_input);
	tcase_add_test(ok, padding_optional);
	suite_add_tcase(s, ok);

	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_test(bad, refuses_small_rsa);
	tcase_add_test(bad, refuses_huge_rsa);
	tcase_add_test(bad, refuses_negative_rsa_modulus);
	tcase_add_test(bad, refuses_dsa);
	tcase_add_test(bad, refuses_security_keys);
	tcase_add_test(bad, refuses_certificates);
	tcase_add_test(bad, refuses_signature_algorithm);
	tcase_add_test(bad, refuses_options);
	tcase_add_test(bad, refuses_unknown_type);
	tcase_add_test(bad, refuses_type_mismatch);
	tcase_add_test(bad, refuses_bad_base64);
	tcase_add_test(bad, refuses_truncated_and_extra);
	tcase_add_test(bad, refuses_bad_curve);
	tcase_add_test(bad, refuses_point_not_on_curve);
	tcase_add_test(bad, refuses_missing_data);
	tcase_add_test(bad, refuses_private_key);
	tcase_add_test(bad, refuses_control_characters);
	tcase_add_test(bad, nul_inside_buffer);
	tcase_add_test(bad, refuses_long_line);
	tcase_add_test(bad, errors_keep_good_keys);
	suite_add_tcase(s, bad);

	tcase_add_checked_fixture(find, setup, teardown);
	tcase_add_test(find, find_by_key_and_fingerprint);
	tcase_add_test(find, format_is_canonical);
	tcase_add_test(find, remove_by_fingerprint);
	suite_add_tcase(s, find);
	return s;
}

int main(void)
{
	return unit_run(pubkey_suite());
}
