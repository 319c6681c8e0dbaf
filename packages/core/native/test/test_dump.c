#include "../src/internal.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fiber(rioco_region *r, int slot, int32_t id, int32_t state, int32_t parent,
                  int32_t reason, const char *name, double since) {
  rioco_slot *s = &rioco_region_slots(r)[slot];
  s->state = state;
  s->priority = 3;
  s->parent = parent;
  s->reason = reason;
  s->name = name ? rioco_string_put(r, name) : 0;
  s->runtime = 1;
  s->since = since;
  s->switches = 2;
  s->id = id; /* last, as the scheduler does */
}

TEST(dump_lists_every_fiber_with_its_wait) {
  double t0 = now_ms();
  rioco_region *r = rioco_region_create(11, 8, t0, NULL);
  rioco_reason_set(r, 7, "channel recv");
  fiber(r, 0, 1, RIOCO_S_CHILDREN, 0, 0, "main", t0 - 500);
  fiber(r, 2, 5, RIOCO_S_RUNNING, 1, 0, "spin \"er\"", t0 - 1200);
  fiber(r, 3, 6, RIOCO_S_PARKED, 1, 7, NULL, t0 - 20);
  fiber(r, 4, 8, RIOCO_S_PARKED, 1, 99, "odd reason", t0);
  rioco_region_slots(r)[3].flags = RIOCO_F_SUPERVISOR | RIOCO_F_CANCEL_REQUESTED;
  rioco_header *h = rioco_region_header(r);
  h->current = 5;
  h->live = 4;
  h->switch_seq = 42;
  char *d = rioco_dump();
  CHECK(d != NULL);
  CHECK(strstr(d, "=== rioco fiber dump: pid ") == d);
  CHECK(strstr(d, "runtime 11 (thread ") != NULL);
  CHECK(strstr(d, "4 live, 42 switches, running #5") != NULL);
  CHECK(strstr(d, "fiber #1 \"main\" state=awaiting children prio=3 parent=- waiting-on=-") != NULL);
  CHECK(strstr(d, "fiber #5 \"spin \\\"er\\\"\" state=running prio=3 parent=#1") != NULL);
  CHECK(strstr(d, "<- running now") != NULL);
  CHECK(strstr(d, "fiber #6 \"fiber-6\" state=parked prio=3 parent=#1 waiting-on=\"channel recv\"") != NULL);
  CHECK(strstr(d, "flags=supervisor,cancel-requested\n") != NULL);
  CHECK(strstr(d, "waiting-on=reason-99") != NULL);
  const char *line5 = strstr(d, "fiber #5 ");
  const char *age = line5 ? strstr(line5, "for=") : NULL;
  double ms = -1;
  CHECK(age != NULL && sscanf(age, "for=%lfms", &ms) == 1 && ms >= 1200 && ms < 1500);
  CHECK(strstr(d, "fiber #0") == NULL); /* free slots are skipped */
  CHECK(strstr(d, "=== end of rioco fiber dump ===\n") != NULL);
  rioco_free(d);
  rioco_region_destroy(r);
}

TEST(dump_covers_every_region_oldest_first) {
  rioco_region *a = rioco_region_create(21, 2, now_ms(), NULL);
  rioco_region *b = rioco_region_create(22, 2, now_ms(), NULL);
  char *d = rioco_dump();
  const char *pa = strstr(d, "runtime 21 "), *pb = strstr(d, "runtime 22 ");
  CHECK(pa != NULL && pb != NULL && pa < pb);
  CHECK(strstr(d, "last drain ? ago") != NULL); /* never drained: unknown, not garbage */
  rioco_free(d);
  rioco_region_destroy(a);
  rioco_region_destroy(b);
}

TEST(buffer_grows_for_large_dumps) {
  rioco_region *r = rioco_region_create(31, 5000, now_ms(), NULL);
  for (int i = 0; i < 5000; i++) fiber(r, i, i + 1, RIOCO_S_READY, 0, 0, NULL, now_ms());
  char *d = rioco_dump();
  CHECK(d != NULL && strlen(d) > 5000 * 60);
  CHECK(strstr(d, "fiber #5000 ") != NULL);
  rioco_free(d);
  rioco_region_destroy(r);
}

TEST(dump_leaves_out_a_region_kept_for_reuse) {
  rioco_region *kept = rioco_region_create(0, 2, now_ms(), NULL); /* runtime 0, no fibers */
  rioco_region *live = rioco_region_create(31, 2, now_ms(), NULL);
  char *d = rioco_dump();
  CHECK(d != NULL && strstr(d, "runtime 31 ") != NULL);
  CHECK(strstr(d, "runtime 0 ") == NULL);
  CHECK(strstr(d, ", 1 runtime(s), 0 live fiber(s)") != NULL);
  rioco_free(d);
  /* Once it has fibers again (the next runtime names itself), it is listed. */
  rioco_region_set_runtime(kept, 32);
  d = rioco_dump();
  CHECK(strstr(d, "runtime 32 ") != NULL);
  rioco_free(d);
  rioco_region_destroy(live);
  rioco_region_destroy(kept);
}
