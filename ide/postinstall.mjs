// `npm ci` / `npm install` run this: it builds the GraphQL IDE into ide/dist (`npm run build:ide`, a few seconds).
// A production install (`npm ci --omit=dev`) has no Vite: it says so and succeeds. Build the IDE in the build
// stage and copy ide/dist into the image; without it the gateway answers /graphiql/ with a 503 that says how.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
try {
  require.resolve('vite/package.json');
} catch {
  console.warn('GraphQL IDE not built: Vite is not installed (dev dependencies omitted). /graphiql/ will answer 503.');
  process.exit(0);
}
// Through npm itself (npm_execpath is the npm that is running this script), so the build is exactly `npm run build:ide`.
const npm = process.env.npm_execpath;
const run = npm
  ? spawnSync(process.execPath, [npm, 'run', '--silent', 'build:ide'], { stdio: 'inherit' })
  : spawnSync('npm', ['run', '--silent', 'build:ide'], { stdio: 'inherit', shell: process.platform === 'win32' });
if (run.status !== 0) {
  console.error('GraphQL IDE build failed (npm run build:ide); see above.');
  process.exit(run.status ?? 1);
}
