/*
 * log: one line per event on stderr, for journald or a container runtime.
 *
 *   text: 2026-11-22T10:00:00Z info auth user=alice key=SHA256:... result=ok
 *   json: {"time":"...","level":"info","event":"auth","user":"alice",...}
 *
 * An event is a short name plus key=value fields given as a NULL-terminated
 * list of (key, value) string pairs. Values are sanitized (no control
 * characters) and quoted in text mode when they contain spaces. Never pass
 * a secret: log lines are for operators and end up in shared systems.
 */
#ifndef GITD_LOG_H
#define GITD_LOG_H

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
};

/* "text" (default) or "json"; unknown names keep text. */
void log_set_format(const char *format);
void log_set_level(enum log_level min);
/* Prefix every line with pid=N (for per-connection processes). */
void log_set_pid(int enabled);

/* log_event(LOG_INFO, "auth", "user", name, "result", "ok", NULL); */
void log_event(enum log_level level, const char *event, ...) __attribute__((sentinel));

#endif
