/*
 * userslot: at most limits.max_connections_per_user connections of one
 * user at once, so one key (a runaway CI job, a stolen laptop) cannot take
 * every connection gitd has.
 *
 * Each authenticated connection holds one of the user's slots: a lock
 * (flock) on DATA/run/slots/USER.N, N below the limit. The kernel drops
 * the lock when the connection's process ends, however it ends, so a
 * crash never leaks a slot, and no other process needs to keep count.
 */
#ifndef GITD_USERSLOT_H
#define GITD_USERSLOT_H

/*
 * Take a free slot of user (a valid user name) out of max. The descriptor
 * holding it (keep it open while the connection lasts; close-on-exec), or
 * -1 with errno EBUSY when all are taken, or another errno when the slot
 * files cannot be made.
 */
int userslot_take(const char *data_dir, const char *user, unsigned max);

#endif
