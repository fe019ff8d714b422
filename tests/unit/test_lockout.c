/*
 * test_lockout.c: lockout.h: the source of an address (IPv4, IPv6 /64, an
 * IPv4-mapped address as IPv4, garbage), the keys (distinct per name, source
 * and kind, and none holds the name), the counting window and lock, the
 * throttle's doubling delay and its counter moved between clocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/core/lockout.h"

static void expect_source(const char *addr, const char *want)
{
    char out[GH_SOURCE_MAX];

    gh_lockout_source(addr, out);
    assert_string_equal(out, want);
}

static void test_source(void **state)
{
    (void)state;
    expect_source("192.0.2.7", "192.0.2.7");
    expect_source("::ffff:192.0.2.7", "192.0.2.7");
    expect_source("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64");
    expect_source("2001:db8:1:2::1", "2001:db8:1:2::/64");
    expect_source("2001:DB8:1:2::FFFF", "2001:db8:1:2::/64");
    expect_source("::1", "::/64");
    expect_source("unix:", "");
    expect_source("", "");
    expect_source(NULL, "");
    expect_source("192.0.2.7.8", "");
}

static void test_keys(void **state)
{
    uint8_t secret[GH_DIGEST_LEN], other[GH_DIGEST_LEN];
    uint8_t o1[GH_DIGEST_LEN], o2[GH_DIGEST_LEN], o3[GH_DIGEST_LEN];
    uint8_t k1[GH_DIGEST_LEN], k2[GH_DIGEST_LEN], k3[GH_DIGEST_LEN], k4[GH_DIGEST_LEN];

    (void)state;
    memset(secret, 7, sizeof(secret));
    memset(other, 8, sizeof(other));
    gh_lockout_owner(secret, "alice", o1);
    gh_lockout_owner(secret, "alicf", o2);
    gh_lockout_owner(other, "alice", o3);
    assert_memory_not_equal(o1, o2, GH_DIGEST_LEN);
    assert_memory_not_equal(o1, o3, GH_DIGEST_LEN);
    gh_lockout_key_source(secret, o1, "192.0.2.7", k1);
    gh_lockout_key_source(secret, o1, "192.0.2.8", k2);
    gh_lockout_key_source(secret, o2, "192.0.2.7", k3);
    gh_lockout_key_account(secret, o1, k4);
    assert_memory_not_equal(k1, k2, GH_DIGEST_LEN);
    assert_memory_not_equal(k1, k3, GH_DIGEST_LEN);
    assert_memory_not_equal(k1, k4, GH_DIGEST_LEN);
    assert_memory_not_equal(k4, o1, GH_DIGEST_LEN);
    assert_null(memmem(o1, GH_DIGEST_LEN, "alice", 5));
    /* a source's throttle key is none of an account's */
    gh_lockout_key_throttle(secret, "192.0.2.7", k2);
    gh_lockout_key_throttle(secret, "192.0.2.8", k3);
    gh_lockout_key_throttle(other, "192.0.2.7", k4);
    assert_memory_not_equal(k2, k1, GH_DIGEST_LEN);
    assert_memory_not_equal(k2, k3, GH_DIGEST_LEN);
    assert_memory_not_equal(k2, k4, GH_DIGEST_LEN);
    assert_null(memmem(k2, GH_DIGEST_LEN, "192.0.2.7", 9));
}

/* A throttle counter moves between clocks: the block's monotonic one and
 * the wall clock of the store; a wait over at that instant is none. */
static void test_throttle_clocks(void **state)
{
    gh_throttle_policy p = { 3, 10, 1, 4 };
    gh_throttle_count c = { .failures = 4, .window_start = 5000, .blocked_until = 9000 };

    (void)state;
    gh_throttle_rebase(&c, 8000, 1700000000000);     /* block -> store */
    assert_int_equal(c.window_start, 1699999997000);
    assert_int_equal(c.blocked_until, 1700000001000);
    assert_int_equal(gh_throttle_end_ms(&c, &p), 1700000007000);   /* the window's end */
    gh_throttle_rebase(&c, 1700000000500, 200);       /* store -> a rebooted block */
    assert_int_equal(c.window_start, -3300);
    assert_int_equal(c.blocked_until, 700);
    c.blocked_until = 150;
    gh_throttle_rebase(&c, 200, 1000);                /* the wait is over */
    assert_int_equal(c.blocked_until, 0);
    c.blocked_until = 60000;
    assert_int_equal(gh_throttle_end_ms(&c, &p), 60000);                /* the wait's end */
}

static void test_count(void **state)
{
    gh_failure f;

    (void)state;
    memset(&f, 0, sizeof(f));
    assert_false(gh_lockout_count(&f, 1000, 100, 3, 50));
    assert_false(gh_lockout_count(&f, 1050, 100, 3, 50));
    assert_int_equal(f.failures, 2);
    assert_int_equal(f.expires, 1100);
    /* the window ran out: the count starts again */
    assert_false(gh_lockout_count(&f, 1100, 100, 3, 50));
    assert_int_equal(f.failures, 1);
    assert_int_equal(f.window_start, 1100);
    assert_false(gh_lockout_count(&f, 1101, 100, 3, 50));
    assert_false(gh_lockout_locked(&f, 1101));
    assert_true(gh_lockout_count(&f, 1102, 100, 3, 500));
    assert_true(gh_lockout_locked(&f, 1102));
    assert_true(gh_lockout_locked(&f, 1601));
    assert_false(gh_lockout_locked(&f, 1602));
    assert_int_equal(f.failures, 0);
    assert_int_equal(f.expires, 1602);
    /* threshold 0: counted, never locked */
    memset(&f, 0, sizeof(f));
    for (int i = 0; i < 100; i++)
        assert_false(gh_lockout_count(&f, 1000, 100, 0, 50));
    assert_int_equal(f.failures, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_throttle_clocks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
