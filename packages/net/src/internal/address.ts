/**
 * Address helpers: Node.js reports addresses as loose objects (and as nothing at all for
 * a socket that died before we asked); these turn them into the frozen SocketAddress
 * shapes and readable labels for error messages.
 */
import { Buffer } from 'node:buffer';
import { isIP } from 'node:net';
import type { InetAddress, SocketAddress, UnixAddress } from '../SocketAddress.js';
import { InvalidArgumentError } from '@rioco/core';

export function inet(address: string | undefined, port: number | undefined, family: string | number | undefined): InetAddress {
  return Object.freeze({
    // Node.js 18.0-18.3 reported the family as a number.
    family: family === 'IPv6' || family === 6 ? 'IPv6' : 'IPv4',
    address: address ?? '',
    port: port ?? 0,
  });
}

export function unix(path: string): UnixAddress {
  return Object.freeze({ family: 'unix', path });
}

export function label(a: SocketAddress): string {
  if (a.family === 'unix') return `unix:${a.path}`;
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

export function checkPort(port: unknown, what: string, allowZero: boolean): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new InvalidArgumentError(`${what}: port must be an integer from ${allowZero ? 0 : 1} to 65535, got ${String(port)}`);
  }
  return port;
}

export function checkHost(host: unknown, what: string): string | undefined {
  if (host === undefined) return undefined;
  if (typeof host !== 'string' || host === '') throw new InvalidArgumentError(`${what}: host must be a non-empty string`);
  return host;
}

/**
 * Longest Unix socket path, in bytes without the terminating NUL: `sun_path` holds 108
 * bytes on Linux (and Solaris), 104 on macOS and the BSDs. Longer paths are not
 * rejected by every system call: node:net would bind a truncated path. Windows named
 * pipes (`\\?\pipe\…`) have no such limit.
 */
export const MAX_UNIX_PATH_BYTES =
  process.platform === 'win32' ? Infinity : process.platform === 'linux' || process.platform === 'android' || process.platform === 'sunos' ? 107 : 103;

export function checkPath(path: unknown, what: string): string {
  if (typeof path !== 'string' || path === '') throw new InvalidArgumentError(`${what}: path must be a non-empty string`);
  // The kernel ends a file system path at its first NUL, so "/tmp/a\0b" would bind or
  // reach "/tmp/a"; a leading NUL names Linux's abstract namespace, which the native
  // driver cannot express (it passes C strings). Both drivers reject either.
  const nul = path.indexOf('\0');
  if (nul >= 0) {
    throw new InvalidArgumentError(
      `${what}: the Unix socket path has a NUL byte at index ${nul}; a path must not contain NUL ` +
        `(abstract socket names are not supported): ${JSON.stringify(path.length > 60 ? `${path.slice(0, 60)}…` : path)}`,
    );
  }
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_UNIX_PATH_BYTES) {
    throw new InvalidArgumentError(
      `${what}: the Unix socket path is ${bytes} bytes long, but a Unix socket path may be at most ` +
        `${MAX_UNIX_PATH_BYTES} bytes on ${process.platform} (sun_path holds ${MAX_UNIX_PATH_BYTES + 1} with the terminating NUL); ` +
        `use a shorter path: ${JSON.stringify(path.length > 60 ? `${path.slice(0, 60)}…` : path)}`,
    );
  }
  return path;
}

/** `value` must be a boolean, or undefined unless `required` (`name` is the option's name in the message). */
export function checkBool(value: unknown, name: string, what: string, required = false): void {
  if ((required || value !== undefined) && typeof value !== 'boolean') {
    throw new InvalidArgumentError(`${what}: ${name} must be a boolean (true or false), got ${describeValue(value)}`);
  }
}

/** A delay: a finite number of milliseconds >= 0. */
export function checkDelay(delay: unknown, name: string, what: string): asserts delay is number {
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
    throw new InvalidArgumentError(`${what}: ${name} must be a finite number of milliseconds >= 0, got ${describeValue(delay)}`);
  }
}

/** An integer from `min` to `max` (when given, unless `required`). */
export function checkIntRange(value: unknown, name: string, what: string, min: number, max: number, required = false): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${what}: ${name} must be an integer from ${min} to ${max}, got ${describeValue(value)}`);
  }
}

/** An IP address literal (`'127.0.0.1'`, `'::1'`; when given, unless `required`). */
export function checkIp(value: unknown, name: string, what: string, required = false): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || isIP(value) === 0) {
    throw new InvalidArgumentError(`${what}: ${name} must be an IP address such as '127.0.0.1' or '::1', got ${describeValue(value)}`);
  }
}

/** A non-empty string (when given, unless `required`). */
export function checkString(value: unknown, name: string, what: string, required = false): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(`${what}: ${name} must be a non-empty string, got ${describeValue(value)}`);
  }
}

/** A value for an error message: strings quoted, the rest as String() shows them. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol' || typeof value === 'function') return typeof value;
  if (value !== null && typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
