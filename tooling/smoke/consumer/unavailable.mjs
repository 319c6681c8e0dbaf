// Run without any native library: `native: true` must fail with NATIVE_UNAVAILABLE and a
// message that says how to get the library. Prints the error as JSON for packed.mjs.
import { run } from '@rioco/core';

try {
  await run(function* () {}, { native: true });
  console.log(JSON.stringify({ code: 'none' }));
} catch (e) {
  console.log(JSON.stringify({ code: e.code, message: e.message }));
}
