// TEST-ONLY crash points. With `CAPIT_TEST_CRASH_AT=<step>` in the environment, capit kills itself with SIGKILL when
// the install transaction reaches that step, exactly like `kill -9` at that instant (no cleanup, no finally blocks).
// The crash-consistency tests use it to prove recovery; it does nothing unless the variable names the step.
//
// Steps (in order): after-pending, after-create, after-key-id, after-backup-dir, after-manifest,
// before-rename:<fileId>, after-write:<fileId>, before-active; during recovery: recovery-after-settle.

//
// `CAPIT_TEST_FAIL_AT=<step>` instead throws an ordinary error at that step: a write that fails (disk full, EACCES)
// without the process dying, which tests running as root cannot provoke with file modes.

export function crashPoint(step: string, env: Readonly<Record<string, string | undefined>> = process.env): void {
  if (env.CAPIT_TEST_CRASH_AT === step) process.kill(process.pid, `SIGKILL`);
  if (env.CAPIT_TEST_FAIL_AT === step) throw new Error(`test fault at ${step}`);
}
