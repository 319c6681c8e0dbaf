// Test helper for the demo apps: start `src/main.ts` of an app in a child process (through
// tsx, against sources) and wait until its stderr says it listens.
import { spawn } from 'node:child_process';

/**
 * @param {string} mainPath absolute path of the app's main.ts
 * @param {RegExp} ready a pattern of stderr whose first group is the port
 * @param {string[]} [args] command-line arguments (default: port 0)
 */
export async function startApp(mainPath, ready, args = ['0']) {
  const child = spawn(process.execPath, ['--no-deprecation', '--import', 'tsx', '--conditions=@rioco/source', mainPath, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const app = { child, port: 0, stderr: '', exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  child.stderr.on('data', (d) => (app.stderr += d.toString()));
  app.port = await new Promise((resolve, reject) => {
    const onData = () => {
      const m = ready.exec(app.stderr);
      if (m) {
        child.stderr.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    child.stderr.on('data', onData);
    child.on('exit', () => reject(new Error(`${mainPath} exited before it listened: ${app.stderr}`)));
  });
  return app;
}
