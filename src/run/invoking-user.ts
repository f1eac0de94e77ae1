// Who asked for this run: the user behind sudo, or the process's own user.
// Files they own are theirs to have written (--output) or read (--config).
export function invokingUid(): number {
  const sudo = Number(process.env.SUDO_UID);
  return process.geteuid?.() === 0 && Number.isInteger(sudo) && sudo > 0 ? sudo : (process.getuid?.() ?? 0);
}
