import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

/**
 * Preloaded (`--import`, allowed in NODE_OPTIONS where `--cpu-prof` is not) by `npm run bench --
 * --profile` into hub and Socket.IO nodes: samples the CPU from start to exit and writes
 * `<BENCH_PROFILE_DIR>/<BENCH_PROFILE_NAME>-<pid>.cpuprofile` (open it in Chrome DevTools or
 * https://www.speedscope.app).
 */
const dir = process.env['BENCH_PROFILE_DIR'];
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  process.on('exit', () => {
    // The in-process session answers synchronously, so this completes inside the exit handler.
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      writeFileSync(join(dir, `${process.env['BENCH_PROFILE_NAME'] ?? 'node'}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
