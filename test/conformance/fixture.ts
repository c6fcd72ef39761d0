import { afterAll, afterEach, beforeAll } from 'vitest';
import { clientPool } from '../support/signalr.js';
import { startConformanceApp, type ConformanceApp, type ConformanceOptions } from './app.js';

/**
 * The conformance app for one test file, with a pool of official clients: the app starts before
 * the file's tests (on port 0) and closes after them; clients the pool made are stopped after each
 * test. `app` is readable once the tests run.
 */
export function conformanceFixture(options: ConformanceOptions = { port: 0 }): { readonly app: ConformanceApp; readonly pool: ReturnType<typeof clientPool> } {
  let app: ConformanceApp | undefined;
  const pool = clientPool();
  beforeAll(async () => {
    app = await startConformanceApp(options);
  });
  afterEach(() => pool.stopAll());
  afterAll(() => app?.close());
  return {
    get app(): ConformanceApp {
      if (!app) throw new Error('the conformance app is not started yet (read fixture.app inside a test or hook)');
      return app;
    },
    pool,
  };
}
