#include "../src/internal.h"
#include "check.h"

#include <string.h>

static rioco_region *region_with_spinner(int32_t runtime_id) {
  rioco_region *r = rioco_region_create(runtime_id, 4, now_ms(), NULL);
  rioco_slot *s = &rioco_region_slots(r)[1];
  s->state = RIOCO_S_RUNNING;
  s->name = rioco_string_put(r, "spinner");
  s->since = now_ms();
  s->id = 5;
  rioco_header *h = rioco_region_header(r);
  h->live = 1;
  h->switch_seq = 10;
  h->current = 5;
  return r;
}

TEST(watch_rejects_no_threshold) { CHECK(rioco_watch_add(NULL, 0, 0, 0) == RIOCO_EINVAL); }

TEST(monitor_thread_starts_and_is_joined) {
  int before = thread_count();
  CHECK(rioco_monitor_tid() == 0);
  int32_t w = rioco_watch_add(NULL, 1000, 0, 0);
  CHECK(w >= 0);
  for (int i = 0; i < 1000 && rioco_monitor_tid() == 0; i++) sleep_ms(1);
  CHECK(rioco_monitor_tid() != 0);
  CHECK(thread_count() == before + 1);
  int32_t w2 = rioco_watch_add(NULL, 1000, 0, 0); /* refcounted: same thread */
  CHECK(thread_count() == before + 1);
  rioco_watch_remove(w);
  CHECK(rioco_monitor_tid() != 0);
  rioco_watch_remove(w2);
  CHECK(rioco_monitor_tid() == 0);
  CHECK(thread_count() == before);
  rioco_watch_remove(w2); /* stale id: ignored */
}

TEST(stuck_fiber_without_host_goes_to_stderr) {
  int fd = capture_begin();
  rioco_region *r = region_with_spinner(41);
  int32_t w = rioco_watch_add(NULL, 30, 0, 5);
  CHECK(capture_wait(fd, "without yielding\n", 5000));
  CHECK(strstr(capture_text(), "rioco: fiber #5 \"spinner\" (runtime 41, thread ") != NULL);
  /* Once per episode: a new episode starts when SWITCH_SEQ moves. */
  sleep_ms(60);
  CHECK(!capture_wait_n(fd, "without yielding", 2, 0));
  rioco_region_header(r)->switch_seq = 11;
  CHECK(capture_wait_n(fd, "without yielding", 2, 5000));
  rioco_watch_remove(w);
  rioco_region_destroy(r);
  capture_end(fd);
}

TEST(a_fiber_that_keeps_switching_is_not_stuck) {
  int fd = capture_begin();
  rioco_region *r = region_with_spinner(42);
  rioco_header *h = rioco_region_header(r);
  int32_t w = rioco_watch_add(NULL, 30, 0, 5);
  /* Play a scheduler that resumes a fiber every 2 ms for 150 ms. */
  for (int i = 0; i < 75; i++) {
    h->switch_seq += 1;
    sleep_ms(2);
  }
  CHECK(!capture_wait(fd, "without yielding", 0));
  /* Nothing running is not stuck either. */
  h->current = 0;
  sleep_ms(60);
  CHECK(!capture_wait(fd, "without yielding", 0));
  h->current = 5; /* now it sticks */
  CHECK(capture_wait(fd, "without yielding", 5000));
  rioco_watch_remove(w);
  rioco_region_destroy(r);
  capture_end(fd);
}

TEST(watches_of_other_threads_do_not_see_this_region) {
  int fd = capture_begin();
  rioco_region *r = region_with_spinner(43);
  r->tid = 1; /* pretend another thread owns it */
  int32_t w = rioco_watch_add(NULL, 10, 0, 5);
  sleep_ms(80);
  CHECK(!capture_wait(fd, "without yielding", 0));
  rioco_watch_remove(w);
  rioco_region_destroy(r);
  capture_end(fd);
}

TEST(dump_request_writes_the_dump) {
  int fd = capture_begin();
  rioco_region *r = region_with_spinner(44);
  int32_t w = rioco_watch_add(NULL, 100000, 0, 0);
  rioco_dump_request();
  CHECK(capture_wait(fd, "=== end of rioco fiber dump ===", 5000));
  CHECK(strstr(capture_text(), "fiber #5 \"spinner\" state=running") != NULL);
  rioco_watch_remove(w);
  rioco_region_destroy(r);
  capture_end(fd);
}

TEST(at_most_64_watches) {
  int32_t ids[RIOCO_MAX_WATCHES];
  for (int i = 0; i < RIOCO_MAX_WATCHES; i++) {
    ids[i] = rioco_watch_add(NULL, 100000, 0, 0);
    CHECK(ids[i] >= 0);
  }
  CHECK(rioco_watch_add(NULL, 100000, 0, 0) == RIOCO_EFULL);
  for (int i = 0; i < RIOCO_MAX_WATCHES; i++) rioco_watch_remove(ids[i]);
  CHECK(rioco_monitor_tid() == 0);
  int32_t again = rioco_watch_add(NULL, 100000, 0, 0);
  CHECK(again >= 0 && again != ids[again & 63]); /* a reused index gets a new id */
  rioco_watch_remove(again);
}
