/*
 * check.h - a minimal test harness: TEST(name) registers a test at load time, CHECK
 * records a failure without stopping, main (main.c) runs everything and prints
 * "N passed, M failed".
 */
#ifndef RIOCO_CHECK_H
#define RIOCO_CHECK_H

#include <stdbool.h>
#include <stdio.h>

typedef void rioco_test_fn(void);
void rioco_test_register(const char *name, rioco_test_fn *fn);
extern int rioco_test_failures;

#define TEST(name)                                                                 \
  static void name(void);                                                          \
  __attribute__((constructor)) static void register_##name(void) {                 \
    rioco_test_register(#name, name);                                              \
  }                                                                                \
  static void name(void)

#define CHECK(cond)                                                                \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      fprintf(stderr, "  CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      rioco_test_failures++;                                                       \
    }                                                                              \
  } while (0)

/* Helpers (util.c). */
/** Redirect report/dump output (g_report_fd) to a fresh pipe; returns its read end. */
int capture_begin(void);
/** Restore stderr as the output; closes the pipe. */
void capture_end(int fd);
/** Read from fd until `needle` shows up or timeout_ms passes; true if found. */
bool capture_wait(int fd, const char *needle, int timeout_ms);
/** Wait until `needle` occurs `times` times. */
bool capture_wait_n(int fd, const char *needle, int times, int timeout_ms);
/** What capture_wait has read so far (valid until the next capture_begin). */
const char *capture_text(void);
/** Threads of this process (/proc/self/task). */
int thread_count(void);
void sleep_ms(int ms);
double now_ms(void);

/* The fake Node of test_host.c (for test_io.c). */
void *fake_env(void);
void fake_turn(void);
int fake_handles(void);
bool fake_poll_refd(void);
int fake_scopes_open(void);
int fake_async_ctxs(void);
bool fake_async_hooks_live(void);
void fake_env_teardown(void);

#endif
