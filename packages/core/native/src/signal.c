/*
 * signal.c - SIGQUIT asks for a fiber dump.
 *
 * The handler is async-signal-safe: it stores to an atomic flag and write(2)s one byte
 * to the monitor thread's wake pipe (rioco_service_signal_dump), then chains to the
 * handler that was installed before ours, if it was a function (libuv's, when a
 * JavaScript 'SIGQUIT' listener exists). It keeps errno. All formatting and the
 * write to stderr happen on the monitor thread, which is running for as long as the
 * handler is installed (the install holds a reference on it).
 *
 * Installs are reference counted under sig_lock; the first saves the previous
 * disposition, the last restores it. An install tied to a napi_env is undone by an
 * env cleanup hook if that environment ends first.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;
static int sig_refs;
static struct sigaction sig_old;

typedef struct env_install {
  void *env;
  struct env_install *next;
} env_install;
static env_install *sig_envs;

static void on_sigquit(int sig, siginfo_t *info, void *uc) {
  int saved = errno;
  rioco_service_signal_dump();
  if (sig_old.sa_flags & SA_SIGINFO) {
    if (sig_old.sa_sigaction != NULL) sig_old.sa_sigaction(sig, info, uc);
  } else if (sig_old.sa_handler != SIG_DFL && sig_old.sa_handler != SIG_IGN) {
    sig_old.sa_handler(sig);
  }
  errno = saved;
}

/* sig_lock held */
static void release_one(void) {
  if (sig_refs > 0 && --sig_refs == 0) {
    sigaction(SIGQUIT, &sig_old, NULL); /* restore first: no handler may wake a stopped thread */
    rioco_service_release();
  }
}

static void env_gone(void *arg) {
  pthread_mutex_lock(&sig_lock);
  for (env_install **p = &sig_envs; *p != NULL; p = &(*p)->next) {
    if (*p == arg) {
      *p = (*p)->next;
      release_one();
      break;
    }
  }
  pthread_mutex_unlock(&sig_lock);
  free(arg);
}

int rioco_signal_install(void *napi_env) {
  pthread_mutex_lock(&sig_lock);
  env_install *e = NULL;
  if (napi_env != NULL) {
    e = calloc(1, sizeof *e);
    if (e == NULL) {
      pthread_mutex_unlock(&sig_lock);
      return RIOCO_ENOMEM;
    }
    e->env = napi_env;
  }
  if (sig_refs == 0) {
    int rc = rioco_service_acquire();
    if (rc != RIOCO_OK) {
      pthread_mutex_unlock(&sig_lock);
      free(e);
      return rc;
    }
    struct sigaction sa = {0};
    sa.sa_sigaction = on_sigquit;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGQUIT, &sa, &sig_old) != 0) {
      rioco_service_release();
      pthread_mutex_unlock(&sig_lock);
      free(e);
      return RIOCO_ESYS;
    }
  }
  sig_refs++;
  if (e != NULL) {
    if (rioco_env_hook_add(napi_env, env_gone, e)) {
      e->next = sig_envs;
      sig_envs = e;
    } else {
      free(e); /* no Node: the caller uninstalls explicitly */
    }
  }
  pthread_mutex_unlock(&sig_lock);
  return RIOCO_OK;
}

void rioco_signal_uninstall(void *napi_env) {
  pthread_mutex_lock(&sig_lock);
  if (sig_refs == 0) {
    pthread_mutex_unlock(&sig_lock);
    return;
  }
  env_install *found = NULL;
  if (napi_env != NULL) {
    for (env_install **p = &sig_envs; *p != NULL; p = &(*p)->next) {
      if ((*p)->env == napi_env) {
        found = *p;
        *p = found->next;
        break;
      }
    }
  }
  release_one();
  pthread_mutex_unlock(&sig_lock);
  if (found != NULL) {
    rioco_env_hook_remove(napi_env, env_gone, found);
    free(found);
  }
}
