import type { ChildProcess } from 'node:child_process';
export interface StartedApp {
  readonly child: ChildProcess;
  /** The port the app said it listens on. */
  readonly port: number;
  /** Everything the app wrote to stderr so far. */
  readonly stderr: string;
  /** The exit code, once it exits. */
  readonly exited: Promise<number | null>;
}
export function startApp(mainPath: string, ready: RegExp, args?: string[]): Promise<StartedApp>;
