/** Client methods of the chat hub (`/hubs/chat`). */
export interface ChatClient {
  ReceiveMessage(user: string, message: string): void;
}

/** Server methods of the chat hub. */
export interface ChatServer {
  SendMessage(user: string, message: string): Promise<void>;
}

/** Client methods of the clock hub (`/hubs/clock`). */
export interface ClockClient {
  onTimeReceived(time: string): void;
}

/**
 * What the benchmark publishes to `/hubs/bench` (`bench/`): a sequence number `s`, a publish time
 * `t` in milliseconds (the benchmark uses the machine's monotonic clock, so receivers in other
 * processes compute the latency) and padding `p`.
 */
export interface BenchTick {
  s: number;
  t: number;
  p: string;
}

/** Client methods of the benchmark hub (`/hubs/bench`, served when a hub node runs with BENCH_HUB=1). */
export interface BenchClient {
  tick(payload: BenchTick): void;
}

/** Server methods of the benchmark hub. */
export interface BenchServer {
  JoinGroup(name: string): Promise<void>;
  LeaveGroup(name: string): Promise<void>;
}
