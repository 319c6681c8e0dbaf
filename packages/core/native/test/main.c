/* Runs every registered test and prints the closing line CI reads. */
#include "check.h"

#include <stdlib.h>

#define MAX_TESTS 256
static struct {
  const char *name;
  rioco_test_fn *fn;
} tests[MAX_TESTS];
static int ntests;
int rioco_test_failures;

void rioco_test_register(const char *name, rioco_test_fn *fn) {
  if (ntests < MAX_TESTS) {
    tests[ntests].name = name;
    tests[ntests].fn = fn;
    ntests++;
  }
}

int main(void) {
  int passed = 0, failed = 0;
  for (int i = 0; i < ntests; i++) {
    int before = rioco_test_failures;
    tests[i].fn();
    if (rioco_test_failures == before) {
      passed++;
      printf("ok   %s\n", tests[i].name);
    } else {
      failed++;
      printf("FAIL %s\n", tests[i].name);
    }
    fflush(stdout);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
