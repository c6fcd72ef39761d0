import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Preloaded (`--import`) into the server processes of the idle-memory scenario: SIGUSR2 runs a
 * full garbage collection (so every stack is read with its garbage collected, not depending on
 * when its runtime last collected), then writes `process.memoryUsage()` as JSON to
 * BENCH_MEMORY_FILE.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
process.on('SIGUSR2', () => {
  gc();
  gc();
  const file = process.env['BENCH_MEMORY_FILE'];
  if (file) writeFileSync(file, JSON.stringify(process.memoryUsage()));
});
