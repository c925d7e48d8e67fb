#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "strbuf.h"
#include "banned.h"

static int log_json;
static int log_with_pid;
static enum log_level log_min = LOG_INFO;

static const char *level_names[] = { "debug", "info", "warn", "error" };

void log_set_format(const char *format)
{
	log_json = format && !strcmp(format, "json");
}

void log_set_level(enum log_level min)
{
	log_min = min;
}

void log_set_pid(int enabled)
{
	log_with_pid = enabled;
}

static void add_text_value(struct strbuf *line, const char *value)
{
	struct strbuf clean;

	strbuf_init_capped(&clean, 1024);
	strbuf_add_sanitized(&clean, value, strlen(value), 0);
	if (!clean.len || strpbrk(clean.buf, " \"=")) {
		strbuf_addch(line, '"');
		for (size_t i = 0; i < clean.len; i++) {
			if (clean.buf[i] == '"' || clean.buf[i] == '\\')
				strbuf_addch(line, '\\');
			strbuf_addch(line, clean.buf[i]);
		}
		strbuf_addch(line, '"');
	} else {
		strbuf_add(line, clean.buf, clean.len);
	}
	strbuf_release(&clean);
}

static void format_text(struct strbuf *line, const char *stamp, enum log_level level,
			const char *event, va_list ap)
{
	const char *key;

	strbuf_addf(line, "%s %s %s", stamp, level_names[level], event);
	if (log_with_pid)
		strbuf_addf(line, " pid=%d", (int)getpid());
	while ((key = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);
		strbuf_addf(line, " %s=", key);
		add_text_value(line, value ? value : "");
	}
}

static void format_json(struct strbuf *line, const char *stamp, enum log_level level,
			const char *event, va_list ap)
{
	json_t *obj = json_pack("{s:s, s:s, s:s}", "time", stamp, "level", level_names[level],
				"event", event);
	const char *key;
	char *text;

	if (log_with_pid)
		json_object_set_new(obj, "pid", json_integer(getpid()));
	while ((key = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);
		struct strbuf clean;

		strbuf_init_capped(&clean, 1024);
		strbuf_add_sanitized(&clean, value ? value : "", value ? strlen(value) : 0, 0);
		json_object_set_new(obj, key, json_stringn(clean.buf, clean.len));
		strbuf_release(&clean);
	}
	text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text)
		strbuf_addstr(line, text);
	free(text);
	json_decref(obj);
}

void log_event(enum log_level level, const char *event, ...)
{
	struct strbuf line = STRBUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	if (level < log_min)
		return;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, event);
	if (log_json)
		format_json(&line, stamp, level, event, ap);
	else
		format_text(&line, stamp, level, event, ap);
	va_end(ap);
	strbuf_addch(&line, '\n');
	/* One write per line, so lines from concurrent processes do not interleave. */
	if (write(STDERR_FILENO, line.buf, line.len) < 0) {
		/* stderr is gone: nowhere left to report it */
	}
	strbuf_release(&line);
}
