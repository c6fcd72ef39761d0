import type { MessagePort } from 'node:worker_threads';

/** CPU tasks that run in piscina threads: input and output per kind. */
export interface TaskTypes {
  /** Iterated SHA-256: `rounds` times over the previous digest, starting from sha256(seed). */
  hash: { input: { seed: string; rounds: number }; output: string };
  /** A deterministic CPU-bound checksum over `items` items. */
  transform: { input: { items: number }; output: string };
}
export type TaskKind = keyof TaskTypes;

/** What a thread receives: the task plus the port it reports progress (0-100) on. */
export type TaskRequest = { [K in TaskKind]: { kind: K; input: TaskTypes[K]['input']; port: MessagePort } }[TaskKind];

/** Messages a thread posts on its progress port. */
export type TaskMessage = { type: 'progress'; percent: number };
