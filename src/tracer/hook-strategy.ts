// What --hook-strategy names: which optional groups of the hook table
// (native/hooks.cc) a trace attaches, and so where its byte counts come from.

export interface HookStrategy {
  summary: string;
  /** Groups not attached even where the kernel has them. */
  excludeGroups: readonly string[];
  /** Groups that must be attached: a kernel without them cannot run this strategy. */
  requireGroups: readonly string[];
}

export const HOOK_STRATEGIES = {
  auto: {
    summary: 'calls where the kernel has the send and receive tracepoints (Linux 6.3+), counters elsewhere',
    excludeGroups: [],
    requireGroups: [],
  },
  calls: {
    summary:
      "bytes are the sums of the application's send and receive calls (sock:sock_send_length and sock:sock_recv_length, Linux 6.3+)",
    excludeGroups: [],
    requireGroups: ['io'],
  },
  counters: {
    summary:
      "bytes are TCP's own counters: payload acknowledged by the peer, and payload received in order (any kernel nettracer runs on)",
    excludeGroups: ['io'],
    requireGroups: [],
  },
} as const satisfies Record<string, HookStrategy>;

export type HookStrategyName = keyof typeof HOOK_STRATEGIES;
export const HOOK_STRATEGY_NAMES = Object.keys(HOOK_STRATEGIES) as HookStrategyName[];

/** Where byte counts come from: the strategy a trace runs with, once its hooks are attached. */
export type BytesFrom = Exclude<HookStrategyName, 'auto'>;

/** `calls` when every hook of the send/receive group is among those attached. */
export function bytesFrom(
  attached: readonly string[],
  table: readonly { section: string; group?: string }[],
): BytesFrom {
  const io = table.filter((h) => h.group === 'io');
  return io.length > 0 && io.every((h) => attached.includes(h.section)) ? 'calls' : 'counters';
}
