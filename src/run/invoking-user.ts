// Who asked for this run: the user behind sudo, or the process's own user.
// Files they own are theirs to have written (--output) or read (--config).
export function invokingUid(): number {
  const text = process.env.SUDO_UID ?? '';
  const sudo = /^\d+$/.test(text) ? Number(text) : 0; // decimal only, as sudo writes it
  return process.geteuid?.() === 0 && sudo > 0 && sudo < 2 ** 32 - 1 ? sudo : (process.getuid?.() ?? 0);
}
