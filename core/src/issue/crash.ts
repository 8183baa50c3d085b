// TEST-ONLY crash points. With `CAPIT_TEST_CRASH_AT=<step>` in the environment, capit kills itself with SIGKILL when
// the install transaction reaches that step, exactly like `kill -9` at that instant (no cleanup, no finally blocks).
// The crash-consistency tests use it to prove recovery; it does nothing unless the variable names the step.
//
// Steps (in order): after-pending, after-create, after-key-id, after-backup-dir, after-manifest,
// before-rename:<fileId>, after-write:<fileId>, before-active; during recovery: recovery-after-settle.

export function crashPoint(step: string, env: Readonly<Record<string, string | undefined>> = process.env): void {
  if (env.CAPIT_TEST_CRASH_AT === step) process.kill(process.pid, `SIGKILL`);
}
