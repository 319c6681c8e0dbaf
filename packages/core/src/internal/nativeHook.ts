/**
 * Where the runtime gets native table memory. The native module registers itself here
 * (see internal/native) so that runtimes without `native` never load koffi.
 */
import type { TableMemory } from './table.js';
import { RiocoError } from '../errors.js';

export interface NativeMemory {
  memory: TableMemory;
  close: () => void;
}

type Provider = (required: boolean) => NativeMemory | undefined;

let provider: Provider | undefined;

export function setNativeProvider(p: Provider): void {
  provider = p;
}

export function nativeTableMemoryFor(required: boolean): NativeMemory | undefined {
  if (provider === undefined) {
    if (required) {
      throw new RiocoError(
        'NATIVE_UNAVAILABLE',
        'run({ native: true }) needs the native library; import "@rioco/core/native" once before run() to enable it',
      );
    }
    return undefined;
  }
  return provider(required);
}
