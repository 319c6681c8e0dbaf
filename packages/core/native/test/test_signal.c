#include "../src/internal.h"
#include "check.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t previous_calls;
static void previous_handler(int sig) {
  (void)sig;
  previous_calls++;
}

TEST(sigquit_dumps_from_the_monitor_thread_and_chains) {
  struct sigaction prev = {0}, saved, now;
  prev.sa_handler = previous_handler;
  sigemptyset(&prev.sa_mask);
  sigaction(SIGQUIT, &prev, &saved);
  int before = thread_count();
  int fd = capture_begin();
  rioco_region *r = rioco_region_create(51, 2, now_ms(), NULL);
  rioco_slot *s = rioco_region_slots(r);
  s->state = RIOCO_S_RUNNING;
  s->name = rioco_string_put(r, "busy");
  s->id = 9;
  rioco_region_header(r)->current = 9;
  CHECK(rioco_signal_install(NULL) == RIOCO_OK);
  CHECK(rioco_signal_install(NULL) == RIOCO_OK); /* refcounted */
  CHECK(thread_count() == before + 1);
  raise(SIGQUIT);
  CHECK(capture_wait(fd, "=== end of rioco fiber dump ===", 5000));
  CHECK(strstr(capture_text(), "fiber #9 \"busy\" state=running") != NULL);
  CHECK(previous_calls == 1);
  rioco_signal_uninstall(NULL);
  sigaction(SIGQUIT, NULL, &now);
  CHECK(!(now.sa_flags & SA_SIGINFO) || now.sa_handler != previous_handler); /* still ours */
  rioco_signal_uninstall(NULL);
  sigaction(SIGQUIT, NULL, &now);
  CHECK(now.sa_handler == previous_handler); /* restored */
  CHECK(rioco_monitor_tid() == 0);
  CHECK(thread_count() == before);
  rioco_signal_uninstall(NULL); /* extra: ignored */
  sigaction(SIGQUIT, &saved, NULL);
  rioco_region_destroy(r);
  capture_end(fd);
}
