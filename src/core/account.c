/*
 * account.c: the account name rule and the password length count shared by
 * every place that makes or changes an account, and whether an account is
 * locked (see account.h).
 *
 * Both are plain byte scans that ignore the locale: isalnum() follows it (a
 * single-byte locale such as Latin-1 counts bytes above 127 as letters), and
 * the answer must be the same in the command line and in an nginx worker
 * whatever their environment.
 */
#include "account.h"

#include <string.h>

static bool gh_account_ascii_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool gh_account_name_valid(const char *name)
{
    size_t n;

    if (name == NULL)
        return false;
    /* strnlen: a name longer than the limit is refused without reading on */
    n = strnlen(name, GH_USER_NAME_MAX + 1);
    if (n == 0 || n > GH_USER_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!gh_account_ascii_alnum(c) && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return false;
    }
    return true;
}

size_t gh_account_password_chars(const char *pw, size_t len)
{
    size_t n = 0;

    if (pw == NULL)
        return 0;
    /* every byte but 10xxxxxx starts a character; invalid UTF-8 still
     * counts, one character per byte that is not a continuation */
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)pw[i] & 0xc0) != 0x80;
    return n;
}

bool gh_account_locked(const gh_account *acct, int64_t now)
{
    return acct->locked_until != 0 && now < acct->locked_until;
}

bool gh_account_admin_locked(const gh_account *acct)
{
    return acct->locked_until == GH_LOCKED_BY_ADMIN;
}
