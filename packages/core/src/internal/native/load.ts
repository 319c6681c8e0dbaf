/**
 * Finding and binding the native library (librioco).
 *
 * Resolution order, esbuild-style:
 *  1. `RIOCO_NATIVE_PATH`: an explicit path. When set it is the only candidate, so a
 *     typo fails loudly instead of silently loading something else.
 *  2. The per-platform package `@rioco/core-<os>-<arch>[-<libc>]`, resolved from here
 *     with `createRequire(import.meta.url).resolve` (the package manager installs only
 *     the one whose `os`/`cpu`/`libc` match).
 *  3. The dev build `packages/core/native/build/librioco.so` (built by `pnpm build`).
 * On failure: one `RiocoError('NATIVE_UNAVAILABLE')` listing every candidate and why it
 * failed, and how to fix it. The outcome is cached per thread (per JavaScript realm)
 * and per value of `RIOCO_NATIVE_PATH`.
 *
 * koffi is required lazily, here, so a program that never asks for the native library
 * never loads koffi. Each worker thread loads its own koffi and binds its own
 * functions; the dynamic loader maps the library once, so its globals are shared.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as KoffiModule from 'koffi';
import { RiocoError } from '../../errors.js';

type Koffi = typeof KoffiModule;

/** ABI of native/include/rioco.h this binding was written for. */
export const ABI_VERSION = 4;

/** Opaque native pointer (koffi represents them as values it alone interprets). */
export type NativePointer = { readonly __brand: 'NativePointer' };

/** rioco_status codes. */
export const RIOCO_OK = 0;
export const RIOCO_EINVAL = -1;
export const RIOCO_ENOMEM = -2;
export const RIOCO_EFULL = -3;
export const RIOCO_EHOST = -4;
export const RIOCO_ESYS = -5;

/** The library's functions, typed (see native/include/rioco.h for each contract). */
export interface NativeFunctions {
  abiVersion(): number;
  regionCreate(runtimeId: number, capacity: number, nowMs: number, env: unknown): NativePointer | null;
  regionDestroy(r: NativePointer): void;
  regionHeader(r: NativePointer): NativePointer;
  regionSlots(r: NativePointer): NativePointer;
  regionCapacity(r: NativePointer): number;
  regionGrow(r: NativePointer, capacity: number): number;
  regionSetRuntime(r: NativePointer, runtimeId: number): void;
  regionCount(): number;
  stringPut(r: NativePointer, text: string): number;
  stringDrop(r: NativePointer, id: number): number;
  reasonSet(r: NativePointer, id: number, label: string): number;
  dump(): string | null;
  hostAvailable(): number;
  hostOpen(env: unknown, cb: unknown): NativePointer | null;
  hostClose(h: NativePointer): void;
  watchAdd(host: NativePointer | null, stuckMs: number, loopStallMs: number, sampleMs: number): number;
  watchRemove(watch: number): void;
  signalInstall(env: unknown): number;
  signalUninstall(env: unknown): void;
  dumpRequest(): void;
  monitorTid(): number;
  ioAvailable(): number;
  ioOpen(env: unknown, cb: unknown): NativePointer | null;
  ioClose(io: NativePointer): void;
  ioReady(io: NativePointer): NativePointer;
  ioArms(io: NativePointer): NativePointer;
  ioSetSlab(io: NativePointer, slab: Uint8Array | null, len: number): void;
  ioRef(io: NativePointer, on: number): void;
  ioPoll(io: NativePointer): number;
  ioListen(io: NativePointer, family: number, addr: string, port: number, backlog: number, flags: number, token: number): number;
  ioAccept(io: NativePointer, lfd: number, token: number, opts: number, keepAliveS: number): number;
  ioConnect(
    io: NativePointer,
    family: number,
    addr: string,
    port: number,
    localAddr: string | null,
    localPort: number,
    token: number,
    opts: number,
    keepAliveS: number,
  ): number;
  ioSockError(fd: number): number;
  ioRead(fd: number, buf: Uint8Array, off: number, len: number): number;
  ioWrite(fd: number, buf: Uint8Array, off: number, len: number): number;
  ioWq(io: NativePointer): NativePointer;
  ioWqBytes(io: NativePointer): NativePointer;
  ioFlush(io: NativePointer, n: number): number;
  ioShutdown(fd: number): number;
  ioSetopt(fd: number, opts: number, keepAliveS: number): number;
  ioCloseFd(io: NativePointer, fd: number, reset: number): number;
  ioAddr(fd: number, peer: number, out: Uint8Array, cap: number): number;
}

/**
 * A loaded native library.
 * @internal
 */
export interface NativeLib {
  /** Absolute path of the file that was loaded. */
  readonly path: string;
  /** Which candidate it was: `RIOCO_NATIVE_PATH`, the platform package's name, or `dev build`. */
  readonly source: string;
  readonly koffi: Koffi;
  readonly fn: NativeFunctions;
  /** Prototype of rioco_report_fn, for koffi.register. */
  readonly reportFnType: unknown;
  /** Prototype of rioco_io_fn, for koffi.register. */
  readonly ioFnType: unknown;
}

const require = createRequire(import.meta.url);

/** File name of the library on this platform. */
export function libraryFileName(): string {
  return process.platform === 'darwin' ? 'librioco.dylib' : process.platform === 'win32' ? 'rioco.dll' : 'librioco.so';
}

/** `@rioco/core-<os>-<arch>` plus `-gnu`/`-musl` on Linux. */
export function platformPackageName(): string {
  let name = `@rioco/core-${process.platform}-${process.arch}`;
  if (process.platform === 'linux') {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    name += report?.header?.glibcVersionRuntime ? '-gnu' : '-musl';
  }
  return name;
}

/** Path of the dev build, relative to this module (src/ or dist/, same depth). */
export function devBuildPath(): string {
  return fileURLToPath(new URL(`../../../native/build/${libraryFileName()}`, import.meta.url));
}

/** The build script next to the dev build: it writes `devBuildPath()` (in a checkout or an installed package). */
function buildScriptPath(): string {
  return fileURLToPath(new URL('../../../native/build.mjs', import.meta.url));
}

interface Attempt {
  source: string;
  path: string | undefined;
  failure: string | undefined;
}

function bind(koffi: Koffi, path: string): NativeLib {
  const lib = koffi.load(path);
  // Opaque types and the callback prototype are registered once per koffi instance
  // (one per thread); a second load in the same thread reuses them.
  const types = bindTypes(koffi);
  const f = (decl: string) => lib.func(decl) as unknown;
  // The ABI first: a stale build may lack functions bound below.
  const abiVersion = f('int32_t rioco_abi_version()') as () => number;
  const abi = abiVersion();
  if (abi !== ABI_VERSION) {
    throw new Error(`ABI version ${abi}, expected ${ABI_VERSION} (a stale build: rebuild it)`);
  }
  const fn = {
    abiVersion,
    regionCreate: f('rioco_region *rioco_region_create(int32_t runtime_id, uint32_t capacity, double now_ms, void *env)'),
    regionDestroy: f('void rioco_region_destroy(rioco_region *r)'),
    regionHeader: f('void *rioco_region_header(rioco_region *r)'),
    regionSlots: f('void *rioco_region_slots(rioco_region *r)'),
    regionCapacity: f('uint32_t rioco_region_capacity(rioco_region *r)'),
    regionGrow: f('int rioco_region_grow(rioco_region *r, uint32_t capacity)'),
    regionSetRuntime: f('void rioco_region_set_runtime(rioco_region *r, int32_t runtime_id)'),
    regionCount: f('uint32_t rioco_region_count()'),
    stringPut: f('int32_t rioco_string_put(rioco_region *r, const char *utf8)'),
    stringDrop: f('int rioco_string_drop(rioco_region *r, int32_t id)'),
    reasonSet: f('int rioco_reason_set(rioco_region *r, int32_t id, const char *label)'),
    // str!: koffi copies the string and frees the malloc'd original.
    dump: f('str! rioco_dump()'),
    hostAvailable: f('int32_t rioco_host_available()'),
    hostOpen: f('rioco_host *rioco_host_open(void *env, rioco_report_fn *cb)'),
    hostClose: f('void rioco_host_close(rioco_host *h)'),
    watchAdd: f('int32_t rioco_watch_add(rioco_host *host, uint32_t stuck_ms, uint32_t loop_stall_ms, uint32_t sample_ms)'),
    watchRemove: f('void rioco_watch_remove(int32_t watch)'),
    signalInstall: f('int rioco_signal_install(void *env)'),
    signalUninstall: f('void rioco_signal_uninstall(void *env)'),
    dumpRequest: f('void rioco_dump_request()'),
    monitorTid: f('int32_t rioco_monitor_tid()'),
    ioAvailable: f('int32_t rioco_io_available()'),
    ioOpen: f('rioco_io *rioco_io_open(void *env, rioco_io_fn *cb)'),
    ioClose: f('void rioco_io_close(rioco_io *io)'),
    ioReady: f('void *rioco_io_ready(rioco_io *io)'),
    ioArms: f('void *rioco_io_arms(rioco_io *io)'),
    // The slab's bytes stay where they are (an off-heap Buffer): the io keeps the pointer.
    ioSetSlab: f('void rioco_io_set_slab(rioco_io *io, uint8_t *slab, int32_t len)'),
    ioRef: f('void rioco_io_ref(rioco_io *io, int32_t on)'),
    ioPoll: f('int32_t rioco_io_poll(rioco_io *io)'),
    ioListen: f('int32_t rioco_io_listen(rioco_io *io, int32_t family, const char *addr, int32_t port, int32_t backlog, int32_t flags, int32_t token)'),
    ioAccept: f('int32_t rioco_io_accept(rioco_io *io, int32_t lfd, int32_t token, int32_t opts, int32_t keepalive_s)'),
    ioConnect: f(
      'int32_t rioco_io_connect(rioco_io *io, int32_t family, const char *addr, int32_t port, const char *local_addr, int32_t local_port, int32_t token, int32_t opts, int32_t keepalive_s)',
    ),
    ioSockError: f('int32_t rioco_io_sock_error(int32_t fd)'),
    // Buffers are passed as pointers to their bytes for the duration of the call (no copy).
    ioRead: f('int32_t rioco_io_read(int32_t fd, uint8_t *buf, int32_t off, int32_t len)'),
    ioWrite: f('int32_t rioco_io_write(int32_t fd, const uint8_t *buf, int32_t off, int32_t len)'),
    ioWq: f('void *rioco_io_wq(rioco_io *io)'),
    ioWqBytes: f('void *rioco_io_wq_bytes(rioco_io *io)'),
    ioFlush: f('int32_t rioco_io_flush(rioco_io *io, int32_t n)'),
    ioShutdown: f('int32_t rioco_io_shutdown(int32_t fd)'),
    ioSetopt: f('int32_t rioco_io_setopt(int32_t fd, int32_t opts, int32_t keepalive_s)'),
    ioCloseFd: f('int32_t rioco_io_close_fd(rioco_io *io, int32_t fd, int32_t reset)'),
    ioAddr: f('int32_t rioco_io_addr(int32_t fd, int32_t peer, _Out_ uint8_t *out, int32_t cap)'),
  } as unknown as NativeFunctions;
  return { path, source: '', koffi, fn, reportFnType: types.reportFn, ioFnType: types.ioFn };
}

let boundTypes: { reportFn: unknown; ioFn: unknown } | undefined;
function bindTypes(koffi: Koffi): { reportFn: unknown; ioFn: unknown } {
  if (boundTypes === undefined) {
    koffi.opaque('rioco_region');
    koffi.opaque('rioco_host');
    koffi.opaque('rioco_io');
    const reportFn = koffi.proto(
      'void rioco_report_fn(int32_t kind, int32_t watch, int32_t runtime_id, int32_t fiber_id, double ms)',
    );
    const ioFn = koffi.proto('void rioco_io_fn(int32_t count)');
    boundTypes = { reportFn, ioFn };
  }
  return boundTypes;
}

function candidates(attempts: Attempt[]): Attempt[] {
  const override = process.env.RIOCO_NATIVE_PATH;
  if (override !== undefined && override !== '') {
    return [{ source: 'RIOCO_NATIVE_PATH', path: override, failure: undefined }];
  }
  const list: Attempt[] = [];
  const pkg = platformPackageName();
  try {
    const manifest = require.resolve(`${pkg}/package.json`);
    list.push({ source: pkg, path: join(dirname(manifest), libraryFileName()), failure: undefined });
  } catch {
    attempts.push({ source: pkg, path: undefined, failure: 'package not installed' });
  }
  list.push({ source: 'dev build', path: devBuildPath(), failure: undefined });
  return list;
}

function unavailable(attempts: readonly Attempt[], cause: unknown): RiocoError {
  const overridden = attempts.some((a) => a.source === 'RIOCO_NATIVE_PATH');
  const lines = attempts.map((a) => `  - ${a.source}${a.path ? ` (${a.path})` : ''}: ${a.failure ?? 'failed'}`);
  const fix = overridden
    ? 'To fix: point RIOCO_NATIVE_PATH at a built librioco (`pnpm --filter @rioco/core build` writes ' +
      'packages/core/native/build/librioco.so), or unset it to use the platform package or the dev build.'
    : `To fix: install ${platformPackageName()} (your package manager skips it on other platforms), ` +
      `or compile the library from the sources @rioco/core ships with \`node ${buildScriptPath()}\` (needs a C compiler), ` +
      'or set RIOCO_NATIVE_PATH to a built librioco.';
  return new RiocoError(
    'NATIVE_UNAVAILABLE',
    `the Rioco native library could not be loaded. Tried:\n${lines.join('\n')}\n${fix}\n` +
      'Without it the fiber table lives in an ArrayBuffer; the monitor thread and the SIGQUIT fiber dump are unavailable.',
    { cause },
  );
}

let cached: { key: string | undefined; lib: NativeLib | undefined; error: RiocoError | undefined } | undefined;

/**
 * Load the native library (once per thread), or throw the one `NATIVE_UNAVAILABLE`
 * error that names what was tried and how to fix it.
 * @internal
 */
export function loadNative(): NativeLib {
  const key = process.env.RIOCO_NATIVE_PATH;
  if (cached === undefined || cached.key !== key) cached = { key, ...attemptLoad() };
  if (cached.lib !== undefined) return cached.lib;
  throw cached.error as RiocoError;
}

/**
 * Like {@link loadNative}, but `null` instead of the error.
 * @internal
 */
export function tryLoadNative(): NativeLib | null {
  try {
    return loadNative();
  } catch {
    return null;
  }
}

function attemptLoad(): { lib: NativeLib | undefined; error: RiocoError | undefined } {
  const attempts: Attempt[] = [];
  let koffi: Koffi;
  try {
    koffi = require('koffi') as Koffi;
  } catch (err) {
    attempts.push({ source: 'koffi', path: undefined, failure: `cannot load koffi: ${message(err)}` });
    return { lib: undefined, error: unavailable(attempts, err) };
  }
  let lastError: unknown;
  for (const c of candidates(attempts)) {
    attempts.push(c);
    const path = c.path as string;
    if (!existsSync(path)) {
      c.failure = 'file not found';
      continue;
    }
    try {
      const lib = bind(koffi, path);
      return { lib: { ...lib, source: c.source }, error: undefined };
    } catch (err) {
      lastError = err;
      c.failure = message(err);
    }
  }
  return { lib: undefined, error: unavailable(attempts, lastError) };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
