#include "../src/internal.h"
#include "check.h"

#include <string.h>

TEST(region_starts_zeroed_and_registered) {
  uint32_t before = rioco_region_count();
  rioco_region *r = rioco_region_create(1, 8, 0.0, NULL);
  CHECK(r != NULL);
  CHECK(rioco_region_count() == before + 1);
  CHECK(rioco_region_capacity(r) == 8);
  rioco_header *h = rioco_region_header(r);
  CHECK(h->current == 0 && h->live == 0 && h->switch_seq == 0 && h->loop_beat == 0);
  rioco_slot *s = rioco_region_slots(r);
  for (int i = 0; i < 8; i++) CHECK(s[i].id == 0 && s[i].state == RIOCO_S_FREE);
  CHECK(((uintptr_t)s & 63) == 0);
  rioco_region_destroy(r);
  CHECK(rioco_region_count() == before);
}

TEST(region_rejects_bad_capacity) {
  CHECK(rioco_region_create(1, 0, 0.0, NULL) == NULL);
  CHECK(rioco_region_create(1, RIOCO_MAX_SLOTS + 1, 0.0, NULL) == NULL);
  rioco_region_destroy(NULL); /* no-op */
}

TEST(grow_keeps_data_and_zeroes_new_slots) {
  rioco_region *r = rioco_region_create(2, 4, 0.0, NULL);
  rioco_slot *old = rioco_region_slots(r);
  for (int i = 0; i < 4; i++) {
    old[i].id = 100 + i;
    old[i].priority = i;
    old[i].since = 1.5 * i;
  }
  rioco_header *h = rioco_region_header(r);
  CHECK(rioco_region_grow(r, 16) == RIOCO_OK);
  CHECK(rioco_region_header(r) == h); /* the header never moves */
  CHECK(rioco_region_capacity(r) == 16);
  rioco_slot *s = rioco_region_slots(r);
  CHECK(s != old);
  for (int i = 0; i < 4; i++) CHECK(s[i].id == 100 + i && s[i].priority == i && s[i].since == 1.5 * i);
  for (int i = 4; i < 16; i++) CHECK(s[i].id == 0);
  /* A stale view still points at live memory until the region ends (ASan checks this). */
  old[0].flags = 7;
  CHECK(s[0].flags == 0);
  CHECK(rioco_region_grow(r, 8) == RIOCO_OK); /* smaller: no-op */
  CHECK(rioco_region_capacity(r) == 16);
  rioco_region_destroy(r);
}

TEST(grow_past_the_limit_fails_and_leaves_the_table_intact) {
  rioco_region *r = rioco_region_create(3, 2, 0.0, NULL);
  rioco_region_slots(r)[1].id = 9;
  CHECK(rioco_region_grow(r, RIOCO_MAX_SLOTS + 1) == RIOCO_EFULL);
  CHECK(rioco_region_capacity(r) == 2);
  CHECK(rioco_region_slots(r)[1].id == 9);
  CHECK(rioco_region_grow(NULL, 4) == RIOCO_EINVAL);
  rioco_region_destroy(r);
}

TEST(abi_version_matches_header) { CHECK(rioco_abi_version() == RIOCO_ABI_VERSION); }

TEST(clock_offset_maps_js_time) {
  double js_now = 1234.5;
  rioco_region *r = rioco_region_create(4, 1, js_now, NULL);
  double back = rioco_region_js_ms(r, rioco_mono_ns());
  CHECK(back >= js_now && back < js_now + 1000);
  rioco_region_destroy(r);
}
