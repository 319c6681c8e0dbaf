/*
 * rioco.h - the native core of Rioco: the process-wide fiber table, the monitor
 * thread and the fiber dump.
 *
 * Memory model
 * ------------
 * The fiber table is one *region* per runtime (one runtime per JavaScript thread is
 * the common case, a thread may own several). A region is a 64-byte header plus an
 * array of 64-byte slots, both in native memory that JavaScript views as typed arrays
 * (koffi.view). The layout below mirrors packages/core/src/internal/table.ts exactly;
 * the static_asserts keep the two in step.
 *
 * Who writes what:
 *  - Slots and the header fields CURRENT, LIVE, SWITCH_SEQ, HEARTBEAT are written only
 *    by the owning runtime's JavaScript thread, with plain stores and no native call.
 *  - LOOP_BEAT is written by the monitor's uv hooks, which also run on the owning
 *    thread.
 *  - Every other thread (the monitor thread, a dump requested from another worker)
 *    only reads. Readers use relaxed atomic loads and tolerate torn records: a slot
 *    whose ID changed while it was read is skipped.
 *  - The registry of regions, the slot pointer of a region (which moves when the table
 *    grows), the string areas and the monitor's subscriber lists are guarded by one
 *    process-wide mutex. A slot array that a grow replaced stays allocated until the
 *    region is destroyed, so a stale JavaScript view never writes into freed memory.
 *
 * Every worker thread that loads the library shares its globals (the dynamic loader
 * maps it once); the library pins itself (RTLD_NODELETE) on load so that neither the
 * monitor thread nor the SIGQUIT handler can outlive its code.
 *
 * Times in the table are JavaScript `performance.now()` milliseconds of the owning
 * thread. A region records the offset between CLOCK_MONOTONIC and that clock when it
 * is created, so native code converts both ways.
 */
#ifndef RIOCO_H
#define RIOCO_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RIOCO_API __attribute__((visibility("default")))
#else
#define RIOCO_API
#endif

/* ---- Layout (shared with src/internal/table.ts) ------------------------------------ */

#define RIOCO_SLOT_BYTES 64
#define RIOCO_HEADER_BYTES 64
/** Largest table a region may grow to (table.ts MAX_SLOTS). */
#define RIOCO_MAX_SLOTS (1u << 22)
/** Names longer than this many bytes are truncated (at a UTF-8 boundary). */
#define RIOCO_NAME_MAX 200

/** Fiber states (table.ts S_*). */
enum rioco_state {
  RIOCO_S_FREE = 0,
  RIOCO_S_READY = 1,
  RIOCO_S_RUNNING = 2,
  RIOCO_S_PARKED = 3,
  RIOCO_S_CHILDREN = 4,
  RIOCO_S_DONE = 5
};

/** Slot FLAGS bits. */
enum rioco_flag {
  RIOCO_F_SUPERVISOR = 1,
  RIOCO_F_CANCEL_REQUESTED = 2,
  RIOCO_F_IN_CLEANUP = 4
};

/** One fiber. ID is written last on allocation and zeroed first on free. */
typedef struct rioco_slot {
  int32_t id;       /* i32[0] fiber id (> 0); 0 marks a free slot */
  int32_t state;    /* i32[1] enum rioco_state */
  int32_t priority; /* i32[2] 0..7 */
  int32_t parent;   /* i32[3] parent fiber id, 0 for a root */
  int32_t reason;   /* i32[4] wait-reason id while parked (0 = none) */
  int32_t name;     /* i32[5] string id in the region's string area, 0 = unnamed */
  int32_t runtime;  /* i32[6] owning runtime id */
  int32_t flags;    /* i32[7] enum rioco_flag */
  double spawned;   /* f64[4] spawn time (ms) */
  double since;     /* f64[5] time of the last state change (ms) */
  double switches;  /* f64[6] times resumed */
  double reserved;  /* f64[7] */
} rioco_slot;

/** The per-runtime header. */
typedef struct rioco_header {
  int32_t current;   /* i32[0] fiber running now, 0 when none */
  int32_t live;      /* i32[1] live fibers */
  double switch_seq; /* f64[1] total resumptions */
  double heartbeat;  /* f64[2] last drain (ms) */
  double loop_beat;  /* f64[3] last event-loop turn (ms), written by the uv hooks */
  double reserved[4];
} rioco_header;

static_assert(sizeof(rioco_slot) == RIOCO_SLOT_BYTES, "slot is 64 bytes");
static_assert(offsetof(rioco_slot, id) == 0 * 4, "F_ID");
static_assert(offsetof(rioco_slot, state) == 1 * 4, "F_STATE");
static_assert(offsetof(rioco_slot, priority) == 2 * 4, "F_PRIORITY");
static_assert(offsetof(rioco_slot, parent) == 3 * 4, "F_PARENT");
static_assert(offsetof(rioco_slot, reason) == 4 * 4, "F_REASON");
static_assert(offsetof(rioco_slot, name) == 5 * 4, "F_NAME");
static_assert(offsetof(rioco_slot, runtime) == 6 * 4, "F_RUNTIME");
static_assert(offsetof(rioco_slot, flags) == 7 * 4, "F_FLAGS");
static_assert(offsetof(rioco_slot, spawned) == 4 * 8, "D_SPAWNED");
static_assert(offsetof(rioco_slot, since) == 5 * 8, "D_SINCE");
static_assert(offsetof(rioco_slot, switches) == 6 * 8, "D_SWITCHES");
static_assert(sizeof(rioco_header) == RIOCO_HEADER_BYTES, "header is 64 bytes");
static_assert(offsetof(rioco_header, current) == 0 * 4, "H_CURRENT");
static_assert(offsetof(rioco_header, live) == 1 * 4, "H_LIVE");
static_assert(offsetof(rioco_header, switch_seq) == 1 * 8, "HD_SWITCH_SEQ");
static_assert(offsetof(rioco_header, heartbeat) == 2 * 8, "HD_HEARTBEAT");
static_assert(offsetof(rioco_header, loop_beat) == 3 * 8, "HD_LOOP_BEAT");

/* ---- Errors ------------------------------------------------------------------------ */

enum rioco_status {
  RIOCO_OK = 0,
  RIOCO_EINVAL = -1, /* bad argument */
  RIOCO_ENOMEM = -2, /* allocation failed */
  RIOCO_EFULL = -3,  /* table would exceed RIOCO_MAX_SLOTS, or no watch index left */
  RIOCO_EHOST = -4,  /* Node symbols (uv_*, napi_*) not found in the process */
  RIOCO_ESYS = -5    /* a system call failed (errno kept) */
};

/** Version of this header's ABI; JavaScript refuses a library with another one. */
#define RIOCO_ABI_VERSION 4
RIOCO_API int32_t rioco_abi_version(void);

/* ---- Regions (table.c) ------------------------------------------------------------- */

typedef struct rioco_region rioco_region;

/**
 * Create a region for runtime `runtime_id` with `capacity` slots (zeroed), owned by
 * the calling thread. `now_ms` is the caller's clock (performance.now()) at the call.
 * `napi_env` (may be NULL) is the owning thread's Node environment: the region is
 * then destroyed automatically if that environment ends without destroying it.
 * Returns NULL on bad arguments or when out of memory.
 */
RIOCO_API rioco_region *rioco_region_create(int32_t runtime_id, uint32_t capacity, double now_ms,
                                            void *napi_env);
/** Destroy a region (owning thread only). Views of its memory become invalid. */
RIOCO_API void rioco_region_destroy(rioco_region *r);
/** The header; its address never changes. */
RIOCO_API rioco_header *rioco_region_header(rioco_region *r);
/** The slots; the address changes when the region grows. */
RIOCO_API rioco_slot *rioco_region_slots(rioco_region *r);
RIOCO_API uint32_t rioco_region_capacity(rioco_region *r);
/**
 * Grow to `capacity` slots, keeping the data (owning thread only). RIOCO_EFULL past
 * RIOCO_MAX_SLOTS, RIOCO_ENOMEM when out of memory: the region is unchanged then.
 */
RIOCO_API int rioco_region_grow(rioco_region *r, uint32_t capacity);
/** Set the runtime id shown in dumps (when the region was made before its runtime). */
RIOCO_API void rioco_region_set_runtime(rioco_region *r, int32_t runtime_id);
/** Regions alive in the process (all threads). */
RIOCO_API uint32_t rioco_region_count(void);

/* ---- Strings (strings.c) ----------------------------------------------------------- */

/** Store a fiber name; returns its id (> 0) or a negative rioco_status. */
RIOCO_API int32_t rioco_string_put(rioco_region *r, const char *utf8);
/** Release a name id (unknown ids are ignored). */
RIOCO_API int rioco_string_drop(rioco_region *r, int32_t id);
/** Copy a stored name into buf (NUL-terminated); returns its length or -1. */
RIOCO_API int32_t rioco_string_get(rioco_region *r, int32_t id, char *buf, uint32_t cap);
/** Record the label of wait-reason `id` (ids are per JavaScript realm). */
RIOCO_API int rioco_reason_set(rioco_region *r, int32_t id, const char *label);

/* ---- Dump (dump.c) ----------------------------------------------------------------- */

/**
 * Every fiber of every region as text (the same text as the SIGQUIT dump). Returns a
 * malloc'd string to release with free() / rioco_free(), or NULL when out of memory.
 */
RIOCO_API char *rioco_dump(void);
RIOCO_API void rioco_free(void *p);

/* ---- Monitor (monitor.c, host.c, signal.c) ----------------------------------------- */

/** Report kinds passed to a rioco_report_fn. */
enum rioco_report_kind { RIOCO_REPORT_STUCK_FIBER = 1, RIOCO_REPORT_LOOP_STALL = 2 };

/** Called on the subscriber's own thread, from its event loop. */
typedef void rioco_report_fn(int32_t kind, int32_t watch, int32_t runtime_id, int32_t fiber_id,
                             double ms);

typedef struct rioco_host rioco_host;

/** 1 when the Node (uv_*, napi_*) symbols the host needs are present in the process. */
RIOCO_API int32_t rioco_host_available(void);
/**
 * Attach to the calling thread's event loop (found through `napi_env`): an unref'd
 * uv_async that delivers reports to `cb` inside a callback scope, and unref'd
 * prepare/check hooks that stamp LOOP_BEAT. Closed by rioco_host_close or, if the
 * environment ends first, by an async cleanup hook. NULL when Node symbols are missing.
 */
RIOCO_API rioco_host *rioco_host_open(void *napi_env, rioco_report_fn *cb);
/** Close a host (its thread only); removes its watches first. */
RIOCO_API void rioco_host_close(rioco_host *h);

/**
 * Subscribe to stuck-fiber and loop-stall reports for the regions of the calling
 * thread, starting the monitor thread if it is not running. `host` may be NULL: the
 * reports then go to stderr only. A threshold of 0 disables that kind; `sample_ms` is
 * the sampling period (0 = derived from the thresholds, at most 100 ms).
 * Returns a watch index (>= 0) or a negative rioco_status.
 */
RIOCO_API int32_t rioco_watch_add(rioco_host *host, uint32_t stuck_ms, uint32_t loop_stall_ms,
                                  uint32_t sample_ms);
/** Unsubscribe; stops and joins the monitor thread when nothing needs it any more. */
RIOCO_API void rioco_watch_remove(int32_t watch);

/**
 * Install the SIGQUIT handler (reference counted). The handler only wakes the monitor
 * thread, which writes the dump to stderr. A handler installed before is chained.
 * `napi_env` (may be NULL) uninstalls automatically when that environment ends.
 */
RIOCO_API int rioco_signal_install(void *napi_env);
RIOCO_API void rioco_signal_uninstall(void *napi_env);

/** Ask the monitor thread for a dump on stderr (what the signal handler does). */
RIOCO_API void rioco_dump_request(void);

/** Kernel thread id of the monitor thread, 0 when it is not running. */
RIOCO_API int32_t rioco_monitor_tid(void);

/* ---- Sockets on the native readiness path (io.c, Linux) ---------------------------- */

/*
 * One io per JavaScript thread: an epoll set of non-blocking sockets, registered once
 * and edge-triggered, watched by one uv_poll on that thread's loop. All functions run
 * on that thread. Socket functions return a descriptor or 0 on success and -errno on
 * failure (-EAGAIN: not ready; wait for the socket's next readiness event).
 */
typedef struct rioco_io rioco_io;

/** Events delivered per callback at most (more stay queued for the next loop turn). */
#define RIOCO_IO_BATCH 256

/** Readiness bits in the ready array. */
enum rioco_io_readiness {
  RIOCO_IO_READABLE = 1, /* input, end of stream, hang-up or error: read(2) will tell */
  RIOCO_IO_WRITABLE = 2, /* output space, or an error: write(2) will tell */
  RIOCO_IO_ERROR = 4,
  RIOCO_IO_HANGUP = 8,
  /* An armed read took fewer bytes than it had room for: the receive queue is empty. */
  RIOCO_IO_DRAINED = 16
};

/*
 * Armed reads: rioco_io_arms(io)[fd] = 1 asks the io to read the socket itself on its
 * next readable event, into the slab given with rioco_io_set_slab, and to deliver the
 * result with the event: ready[4i + 2] is the offset in the slab and ready[4i + 3] the
 * result (bytes read, 0 at the end of stream, -errno), or RIOCO_IO_NOT_READ. A read
 * disarms the descriptor (an EAGAIN leaves it armed); so does closing it. Descriptors
 * from RIOCO_IO_ARM_MAX up cannot be armed. A read happens only while the slab has
 * RIOCO_IO_MIN_READ bytes of room; ready[4 * RIOCO_IO_BATCH] is the slab offset after
 * the batch.
 */
#define RIOCO_IO_ARM_MAX 65536

/*
 * Queued writes: rioco_io_wq(io) holds RIOCO_IO_WQ_MAX entries (fd, offset, length) of
 * bytes at offset..offset+length in rioco_io_wq_bytes(io) (RIOCO_IO_WQ_BYTES long).
 * rioco_io_flush(io, n) sends the first n in order, as rioco_io_write does, and puts
 * each result (bytes taken, or -errno; -EINVAL for an entry outside the bytes) in place
 * of its length. The caller queues at most one entry per descriptor per flush, so a
 * short write never lets a later one of the same stream go first.
 */
#define RIOCO_IO_WQ_MAX 1024
#define RIOCO_IO_WQ_BYTES (256 * 1024)
#define RIOCO_IO_MIN_READ 16384
#define RIOCO_IO_NOT_READ INT32_MIN

/** `family` arguments: 4, 6, or RIOCO_IO_UNIX (the address is then a path). */
#define RIOCO_IO_UNIX 0

/** rioco_io_listen flags. */
enum rioco_io_listen_flag {
  RIOCO_IO_REUSEPORT = 1,
  RIOCO_IO_V6ONLY = 2,
  RIOCO_IO_READABLE_ALL = 4,
  RIOCO_IO_WRITABLE_ALL = 8
};

/** Stream options (accept, connect, setopt). */
enum rioco_io_opt {
  RIOCO_IO_NODELAY = 1,
  RIOCO_IO_KEEPALIVE = 2,
  RIOCO_IO_SET_NODELAY = 4,  /* setopt: apply the NODELAY bit */
  RIOCO_IO_SET_KEEPALIVE = 8 /* setopt: apply the KEEPALIVE bit */
};

/** Called from the loop with `count` entries (token, readiness, offset, result) in the ready array. */
typedef void rioco_io_fn(int32_t count);

/** 1 when the Node symbols the io needs (uv_poll_*, napi_*) are in the process. */
RIOCO_API int32_t rioco_io_available(void);
/** Open the calling thread's io (`napi_env` is that thread's). NULL without Node symbols. */
RIOCO_API rioco_io *rioco_io_open(void *napi_env, rioco_io_fn *cb);
/** Close the io and every descriptor it still owns (also done when the environment ends). */
RIOCO_API void rioco_io_close(rioco_io *io);
/**
 * The ready array: 4 * RIOCO_IO_BATCH + 1 int32 (token, readiness, slab offset, armed
 * read's result; then the slab offset after the batch); its address never changes.
 */
RIOCO_API int32_t *rioco_io_ready(rioco_io *io);
/** The arm table: RIOCO_IO_ARM_MAX bytes, one per descriptor; its address never changes. */
RIOCO_API uint8_t *rioco_io_arms(rioco_io *io);
/**
 * The memory armed reads fill from offset 0 (`len` bytes; NULL: no armed reads). The
 * caller keeps it alive until it sets another one or closes the io.
 */
RIOCO_API void rioco_io_set_slab(rioco_io *io, uint8_t *slab, int32_t len);
/** Keep the event loop alive (1) or not (0) because of this io. */
RIOCO_API void rioco_io_ref(rioco_io *io, int32_t on);
/** Move ready events into the ready array without calling back; returns the count. */
RIOCO_API int32_t rioco_io_poll(rioco_io *io);

/** A listening stream socket on a numeric address (or a path), registered with `token`. */
RIOCO_API int32_t rioco_io_listen(rioco_io *io, int32_t family, const char *addr, int32_t port,
                                  int32_t backlog, int32_t flags, int32_t token);
/** Accept one connection (-EAGAIN: none queued), registered with `token`. */
RIOCO_API int32_t rioco_io_accept(rioco_io *io, int32_t lfd, int32_t token, int32_t opts,
                                  int32_t keepalive_s);
/** Start connecting; the first writable event ends it, then rioco_io_sock_error tells how. */
RIOCO_API int32_t rioco_io_connect(rioco_io *io, int32_t family, const char *addr, int32_t port,
                                   const char *local_addr, int32_t local_port, int32_t token,
                                   int32_t opts, int32_t keepalive_s);
/** The pending error of a socket (SO_ERROR) as -errno, 0 when none. */
RIOCO_API int32_t rioco_io_sock_error(int32_t fd);
/** read(2) into buf[off, off + len): bytes read, 0 at the end of stream, or -errno. */
RIOCO_API int32_t rioco_io_read(int32_t fd, uint8_t *buf, int32_t off, int32_t len);
/** send(2) of buf[off, off + len) without SIGPIPE: bytes taken by the kernel, or -errno. */
RIOCO_API int32_t rioco_io_write(int32_t fd, const uint8_t *buf, int32_t off, int32_t len);
/** The write queue: 3 * RIOCO_IO_WQ_MAX int32 (fd, offset, length); its address never changes. */
RIOCO_API int32_t *rioco_io_wq(rioco_io *io);
/** The queued writes' bytes: RIOCO_IO_WQ_BYTES; its address never changes. */
RIOCO_API uint8_t *rioco_io_wq_bytes(rioco_io *io);
/**
 * Send the first `n` queued writes; each result replaces its length. Returns how many
 * were not taken whole (0: nothing to look at), or -EINVAL for a bad `n`.
 */
RIOCO_API int32_t rioco_io_flush(rioco_io *io, int32_t n);
/** Half-close: end of stream to the peer after what was written. */
RIOCO_API int32_t rioco_io_shutdown(int32_t fd);
/** Change stream options (the SET_* bits say which). */
RIOCO_API int32_t rioco_io_setopt(int32_t fd, int32_t opts, int32_t keepalive_s);
/** Close an owned descriptor; `reset` sends RST instead of FIN (SO_LINGER 0). */
RIOCO_API int32_t rioco_io_close_fd(rioco_io *io, int32_t fd, int32_t reset);
/** The local (peer 0) or remote (peer 1) address as "4 PORT ADDR", "6 PORT ADDR" or "u 0 PATH". */
RIOCO_API int32_t rioco_io_addr(int32_t fd, int32_t peer, char *out, int32_t cap);

#ifdef __cplusplus
}
#endif
#endif /* RIOCO_H */
