/* SPDX-License-Identifier: Apache-2.0 */
/* banned.h - functions that are easy to misuse become compile errors. Included last by common.h. */
#ifndef TAMS_CORE_BANNED_H
#define TAMS_CORE_BANNED_H

#define BANNED(func) sorry_##func##_is_banned

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef atoi
#define atoi(s) BANNED(atoi)

#ifndef TAMS_ALLOC_IMPL
#undef malloc
#define malloc(n) BANNED(malloc)
#undef calloc
#define calloc(n, m) BANNED(calloc)
#undef realloc
#define realloc(p, n) BANNED(realloc)
#undef free
#define free(p) BANNED(free)
#endif

#endif
