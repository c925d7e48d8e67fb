/*
 * The webhook builder: gitd asks a CI system to build, and waits for it
 * to answer over SSH.
 *
 *   1. DATA/builds/webhook/JOB.wait says job JOB waits for a build;
 *   2. POST builder.url a JSON build request, signed with HMAC-SHA256
 *      of the body under the key in builder.secret_file (header
 *      X-Gitd-Signature-256: sha256=HEX), retried with back-off on network
 *      errors and 408, 429 and 5xx answers;
 *   3. the CI runs `ssh gitd build-done JOB DIGEST` (or `build-failed JOB
 *      REASON`) as a user with the builder role: build_report() writes
 *      JOB.result, which the job picks up, until builder.timeout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "build_int.h"
#include "config.h"
#include "fileutil.h"
#include "queue.h"
#include "util.h"
#include "banned.h"

#define DEFAULT_REQUEST_TIMEOUT 30
#define DEFAULT_RETRIES 3
#define SECRET_MAX 4096
#define REASON_MAX 400
/* How often the job looks for the builder's answer. */
#define RESULT_POLL_MS 200

void build_hmac_sha256_hex(char out[65], const void *key, size_t key_len, const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	HMAC(EVP_sha256(), key, (int)key_len, data, len, md, &md_len);
	for (unsigned i = 0; i < md_len && i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

static char *wait_path(const char *data_dir, unsigned long job, const char *ext)
{
	return xstrfmt("%s/builds/webhook/%lu.%s", data_dir, job, ext);
}

/* ---- the answer, from `build-done` / `build-failed` ---- */

int build_report(const char *data_dir, unsigned long job, const char *digest, const char *reason,
		 struct strbuf *err)
{
	char *wait = wait_path(data_dir, job, "wait"), *result = wait_path(data_dir, job, "result");
	json_t *answer = NULL;
	char *text = NULL;
	int rc = -1;

	if (access(wait, F_OK) < 0) {
		strbuf_addf(err, "job %lu is not waiting for a build (it finished, timed out, or builds "
			    "with another builder)", job);
		goto cleanup;
	}
	if (digest && !build_digest_ok(digest)) {
		strbuf_addstr(err, "DIGEST must be sha256: followed by 64 lowercase hex digits, as "
			      "`buildah push --digestfile` or `docker push` print it");
		goto cleanup;
	}
	if (digest) {
		answer = json_pack("{s:s}", "digest", digest);
	} else {
		struct strbuf why;

		strbuf_init_capped(&why, REASON_MAX);
		strbuf_add_sanitized(&why, reason, strlen(reason), 0);
		answer = json_pack("{s:s}", "reason", why.buf);
		strbuf_release(&why);
	}
	text = json_dumps(answer, 0);
	if (!text || write_file_atomic(result, text, strlen(text), 0600) < 0) {
		strbuf_addf(err, "cannot record the result: %s", strerror(errno));
		goto cleanup;
	}
	rc = 0;
cleanup:
	free(text);
	json_decref(answer);
	free(wait);
	free(result);
	return rc;
}

/* ---- the request ---- */

static char *request_body(const struct build *b)
{
	const struct build_request *req = b->req;
	json_t *envs = json_array(), *body;
	char *text;

	for (size_t i = 0; i < req->nenvs; i++)
		json_array_append_new(envs, json_string(req->envs[i]));
	body = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o}", "job", (json_int_t)req->job->id,
			 "repo", req->job->repo, "app", req->app, "commit", req->commit, "dockerfile",
			 req->dockerfile, "image", b->tag, "environments", envs);
	text = json_dumps(body, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(body);
	return text;
}

/* The signing key from builder.secret_file; -1 with err. */
static int read_secret(struct strbuf *out, const struct build *b, struct strbuf *err)
{
	char *path = build_conf_path(b, "secret_file");
	int rc = -1;

	strbuf_init_capped(out, SECRET_MAX);
	if (!path || strbuf_read_file(out, path) < 0)
		strbuf_addf(err, "cannot read builder.secret_file %s: %s", path ? path : "(not set)",
			    strerror(errno));
	else if (strbuf_rtrim(out), !out->len)
		strbuf_addf(err, "builder.secret_file %s is empty", path);
	else
		rc = 0;
	free(path);
	return rc;
}

static size_t collect(char *data, size_t size, size_t n, void *payload)
{
	strbuf_add(payload, data, size * n); /* capped: the rest is dropped */
	return size * n;
}

static int keep_going(void *payload, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return build_should_stop(payload) != BUILD_GO;
}

/* One POST; the HTTP status, or 0 with err on a transfer error. */
static long post_once(struct build *b, const char *body, struct curl_slist *headers, struct strbuf *err)
{
	long timeout = build_conf_int(b, "request_timeout", DEFAULT_REQUEST_TIMEOUT), status = 0;
	struct strbuf answer;
	CURL *curl = curl_easy_init();
	CURLcode res;

	strbuf_init_capped(&answer, 1024);
	if (!curl) {
		strbuf_addstr(err, "cannot start an HTTP request");
		return 0;
	}
	curl_easy_setopt(curl, CURLOPT_URL, build_conf_str(b, "url", ""));
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout : 10L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, keep_going);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, b);
	res = curl_easy_perform(curl);
	if (res == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		strbuf_addf(err, "HTTP %ld", status);
		if (answer.len) {
			strbuf_addstr(err, ": ");
			strbuf_add_sanitized(err, answer.buf, strcspn(answer.buf, "\n"), 0);
		}
	} else {
		strbuf_addstr(err, curl_easy_strerror(res));
	}
	curl_easy_cleanup(curl);
	strbuf_release(&answer);
	return status;
}

static int retryable(long status)
{
	return status == 0 || status == 408 || status == 429 || status >= 500;
}

/* Sleep ms, looking whether to stop every 100 ms; 1 if the build must stop. */
static int sleep_unless_stopped(struct build *b, int64_t ms)
{
	for (int64_t until = now_ms() + ms; now_ms() < until; build_nap(100))
		if (build_should_stop(b) != BUILD_GO)
			return 1;
	return build_should_stop(b) != BUILD_GO;
}

/* POST the request, retrying; 0 once accepted, BUILD_STOPPED, -1 with err. */
static int post_request(struct build *b, const char *body, struct curl_slist *headers, struct strbuf *err)
{
	long attempts = 1 + build_conf_int(b, "retries", DEFAULT_RETRIES);
	struct strbuf why = STRBUF_INIT;
	int64_t backoff = 1000;

	for (long i = 0; i < attempts; i++) {
		long status;

		strbuf_reset(&why);
		status = post_once(b, body, headers, &why);
		if (build_should_stop(b) != BUILD_GO)
			return BUILD_STOPPED;
		if (status >= 200 && status < 300) {
			strbuf_release(&why);
			return 0;
		}
		if (!retryable(status) || i + 1 == attempts)
			break;
		build_logf(b, "the builder did not take the request (%s); trying again in %lld s", why.buf,
			   (long long)backoff / 1000);
		if (sleep_unless_stopped(b, backoff)) {
			strbuf_release(&why);
			return BUILD_STOPPED;
		}
		backoff = backoff < 16000 ? backoff * 2 : 30000;
	}
	strbuf_addf(err, "the builder at %s refused the build request: %s", build_conf_str(b, "url", ""),
		    why.buf);
	strbuf_release(&why);
	return -1;
}

/* The builder's answer in JOB.result, if it came; 1 when it did (b->digest or err set). */
static int take_result(struct build *b, const char *path, int *failed, struct strbuf *err)
{
	json_t *answer = json_load_file(path, 0, NULL);
	const char *digest = json_string_value(json_object_get(answer, "digest"));
	const char *reason = json_string_value(json_object_get(answer, "reason"));

	if (!answer)
		return 0;
	if (digest && build_digest_ok(digest)) {
		b->digest = xstrdup(digest);
	} else {
		strbuf_addf(err, "the builder reported: %s", reason ? reason : "a malformed result");
		*failed = 1;
	}
	json_decref(answer);
	return 1;
}

/* Wait for build-done / build-failed; 0, BUILD_STOPPED or -1 with err. */
static int wait_result(struct build *b, const char *result, struct strbuf *err)
{
	int64_t started = now_ms();
	int failed = 0;

	build_logf(b, "build of %s requested from %s; waiting for the builder to report "
		   "(build-done %lu DIGEST)", b->tag, build_conf_str(b, "url", ""), b->req->job->id);
	while (!take_result(b, result, &failed, err)) {
		enum build_stop stop = build_should_stop(b);

		if (stop == BUILD_STOP_TIMEOUT) {
			strbuf_addf(err, "the builder did not report within builder.timeout (%ld s)",
				    build_conf_int(b, "timeout", BUILD_DEFAULT_TIMEOUT));
			return -1;
		}
		if (stop != BUILD_GO)
			return BUILD_STOPPED;
		build_heartbeat(b, started, "waiting for the builder");
		build_nap(RESULT_POLL_MS);
	}
	b->builder_ms = now_ms() - started;
	return failed ? -1 : 0;
}

int build_with_webhook(struct build *b, struct strbuf *err)
{
	char *dir = build_path(b->req->data_dir, "webhook");
	char *wait = wait_path(b->req->data_dir, b->req->job->id, "wait");
	char *result = wait_path(b->req->data_dir, b->req->job->id, "result");
	char *body = request_body(b), *header = NULL, sig[65];
	struct curl_slist *headers = NULL;
	struct strbuf secret = STRBUF_INIT;
	int rc = -1;

	if (read_secret(&secret, b, err) < 0)
		goto cleanup;
	unlink(result); /* an answer to an earlier request of this job */
	if (mkdir_p(dir, 0700) < 0 || write_file_atomic(wait, b->tag, strlen(b->tag), 0600) < 0) {
		strbuf_addf(err, "cannot record the build request in %s: %s", dir, strerror(errno));
		goto cleanup;
	}
	build_hmac_sha256_hex(sig, secret.buf, secret.len, body, strlen(body));
	header = xstrfmt("X-Gitd-Signature-256: sha256=%s", sig);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "User-Agent: gitd");
	headers = curl_slist_append(headers, "X-Gitd-Event: build");
	headers = curl_slist_append(headers, header);
	rc = post_request(b, body, headers, err);
	if (rc == 0)
		rc = wait_result(b, result, err);
cleanup:
	unlink(wait);
	unlink(result);
	curl_slist_free_all(headers);
	strbuf_release(&secret);
	free(header);
	free(body);
	free(result);
	free(wait);
	free(dir);
	return rc;
}
