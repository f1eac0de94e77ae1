// Timers of any length. Node's setTimeout and setInterval take at most
// 2^31-1 ms (24.8 days): a longer delay fires after 1 ms, with a warning
// (TimeoutOverflowWarning). --duration and the intervals come from the user,
// so timers of theirs go through here: a longer delay is a chain of shorter
// timers.

/** The longest delay Node's timers honour. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Timer {
  cancel(): void;
}

/** Calls `fn` once, `ms` milliseconds from now (any length; Infinity: never). */
export function after(ms: number, fn: () => void): Timer {
  let t: NodeJS.Timeout | undefined;
  const arm = (left: number): void => {
    const step = Math.min(left, MAX_TIMER_MS);
    t = setTimeout(() => (left > step ? arm(left - step) : fn()), step);
  };
  arm(ms);
  return { cancel: () => clearTimeout(t) };
}

/** Calls `fn` every `ms` milliseconds (any length) until cancelled. */
export function every(ms: number, fn: () => void): Timer {
  if (ms <= MAX_TIMER_MS) {
    const t = setInterval(fn, ms);
    return { cancel: () => clearInterval(t) };
  }
  let cancelled = false;
  let next: Timer | undefined;
  const arm = (): void => {
    next = after(ms, () => {
      if (cancelled) return;
      arm();
      fn();
    });
  };
  arm();
  return {
    cancel: () => {
      cancelled = true;
      next?.cancel();
    },
  };
}
