import { randomBytes } from 'node:crypto';
import { startNodeProcess, type StartedProcess } from '../support/processes.js';
import type { ContractNodes } from './contract-suite.js';

/** The compiled contract node (`npx tsc -b` first). */
export const CONTRACT_NODE_SCRIPT = 'test/dist/backplane/contract-node.js';
export const CLIENT_RESULT_TIMEOUT_MS = 1000;

/** Error-level lines (pino level ≥ 50) in a process's output. */
function errorLines(output: string): string[] {
  return output.split('\n').filter((line) => {
    if (!line.startsWith('{')) return false;
    try {
      return (JSON.parse(line) as { level?: number }).level! >= 50;
    } catch {
      return false;
    }
  });
}

/**
 * Starts two contract node processes with the same HUB_SECRET over the Redis given in `env`
 * (REDIS_URL or REDIS_CLUSTER_NODES, REDIS_PREFIX). `close()` stops both, then runs `release`
 * (stopping Redis); when starting fails, the caller releases Redis.
 */
export async function startContractNodes(env: Record<string, string>, release: () => Promise<void>): Promise<ContractNodes> {
  const common = { ...env, HUB_SECRET: randomBytes(32).toString('base64'), PORT: '0', LOG_LEVEL: 'warn', CLIENT_RESULT_TIMEOUT_MS: String(CLIENT_RESULT_TIMEOUT_MS) };
  const started = await Promise.allSettled([startNodeProcess(CONTRACT_NODE_SCRIPT, common), startNodeProcess(CONTRACT_NODE_SCRIPT, common)]);
  const procs = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(procs.map((p) => p.stop()));
    throw failed.reason;
  }
  const [a, b] = procs as [StartedProcess, StartedProcess];
  return {
    urls: [a.url, b.url],
    clientResultTimeoutMs: CLIENT_RESULT_TIMEOUT_MS,
    errorLines: () => procs.flatMap((p) => errorLines(p.output())),
    close: async () => {
      const codes = await Promise.all(procs.map((p) => p.stop()));
      await release();
      // SIGTERM must close the node cleanly (exit 0), not by the grace-period SIGKILL.
      if (codes.some((c) => c !== 0)) throw new Error(`contract nodes exited with ${codes.join(', ')} on SIGTERM. Output:\n${procs.map((p) => p.output()).join('\n')}`);
    },
  };
}
