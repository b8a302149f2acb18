/**
 * What the test suite needs from the operating system, checked before any test starts: a real `redis-server` (and
 * `redis-cli`), Debian's `chromium` for the IDE's browser test and `haproxy` for the replicas test. Run as root (as
 * CI runs), it installs what is missing with apt-get; otherwise it stops at once with the one line to run. `npm test`
 * calls it first.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

interface Need {
  /** Debian package providing it. */
  pkg: string;
  /** Present when this is an executable on PATH, or an absolute path that exists. */
  check: string;
}

const NEEDS: readonly Need[] = [
  { pkg: 'redis-server', check: 'redis-server' },
  { pkg: 'redis-tools', check: 'redis-cli' },
  { pkg: 'chromium', check: '/usr/bin/chromium' },
  // test/support/haproxy.ts runs Debian's binary by its path.
  { pkg: 'haproxy', check: '/usr/sbin/haproxy' },
];

function present(check: string): boolean {
  if (check.startsWith('/')) {
    try {
      accessSync(check, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  return spawnSync('sh', ['-c', `command -v ${check}`], { stdio: 'ignore' }).status === 0;
}

const missing = [...new Set(NEEDS.filter((n) => !present(n.check)).map((n) => n.pkg))];
if (missing.length > 0) {
  const line = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !present('apt-get')) {
    console.error(`The tests need Debian packages that are not installed: ${missing.join(', ')}.\nInstall them, then run npm test again:\n\n  sudo ${line}\n`);
    process.exit(1);
  }
  console.log(`Installing what the tests need: ${missing.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...missing]]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error(`apt-get ${args[0]} failed (exit ${r.status}); run it yourself: ${line}`);
      process.exit(1);
    }
  }
}
