#define _GNU_SOURCE
#include "../src/internal.h"
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char text[1 << 16];
static size_t text_len;

int capture_begin(void) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  text_len = 0;
  text[0] = '\0';
  g_report_fd = fds[1];
  return fds[0];
}

void capture_end(int fd) {
  int w = g_report_fd;
  g_report_fd = 2;
  close(w);
  close(fd);
}

static int count(const char *needle) {
  int n = 0;
  for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) n++;
  return n;
}

bool capture_wait(int fd, const char *needle, int timeout_ms) {
  return capture_wait_n(fd, needle, 1, timeout_ms);
}

bool capture_wait_n(int fd, const char *needle, int times, int timeout_ms) {
  double deadline = now_ms() + timeout_ms;
  for (;;) {
    if (count(needle) >= times) return true;
    int left = (int)(deadline - now_ms());
    if (left < 0) left = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, left) <= 0) {
      if (left == 0) return false;
      continue;
    }
    ssize_t n = read(fd, text + text_len, sizeof text - 1 - text_len);
    if (n <= 0) return count(needle) >= times;
    text_len += (size_t)n;
    text[text_len] = '\0';
  }
}

const char *capture_text(void) { return text; }

int thread_count(void) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

void sleep_ms(int ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

double now_ms(void) { return (double)rioco_mono_ns() / 1e6; }
