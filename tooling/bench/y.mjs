import { run, yieldNow } from '@rioco/core';
const n = 2_000_000;
for (let k = 0; k < 8; k++) {
  const t = performance.now();
  await run(function* () { for (let i = 0; i < n; i++) yield* yieldNow(); });
  console.log(((performance.now() - t) * 1e6 / n).toFixed(1));
}
