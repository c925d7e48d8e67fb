/*
 * notify: tell systemd (Type=notify) about the daemon's state through
 * $NOTIFY_SOCKET, as sd_notify(3) does, without linking libsystemd.
 * A no-op when the variable is unset.
 */
#ifndef GITD_NOTIFY_H
#define GITD_NOTIFY_H

/* Send state, e.g. "READY=1" or "STOPPING=1"; errors are ignored. */
void notify_systemd(const char *state);

#endif
