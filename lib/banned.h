/*
 * Functions that are easy to misuse in a daemon that handles hostile input.
 * Included last by every .c file of gitd: a call to one of these fails to
 * compile. Use strbuf, snprintf, and lib/spawn.h instead.
 */
#ifndef GITD_BANNED_H
#define GITD_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_gitd

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef system
#define system(x) BANNED(system)
#undef popen
#define popen(x, y) BANNED(popen)

#endif
