import { jsonLogger } from '@switchboard/hub-server';
import { startConformanceApp } from './app.js';

const rawPort = process.env['PORT'];
const port = rawPort === undefined || rawPort === '' ? 5000 : Number(rawPort);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`conformance: PORT must be an integer from 0 to 65535, got '${rawPort}'.`);
  process.exit(2);
}
const app = await startConformanceApp({ port, logger: jsonLogger((process.env['LOG_LEVEL'] as 'info') || 'info', { app: 'conformance' }) });
console.log(`listening on ${app.url}`);
const stop = async () => {
  await app.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
