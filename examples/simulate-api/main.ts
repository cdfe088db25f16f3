/**
 * Runs the example: ISSUERS (comma-separated), AUDIENCE, PORT (default 4000).
 *   ISSUERS=http://localhost:3000/t/health-a AUDIENCE=https://epi.example.org/api npx tsx examples/simulate-api/main.ts
 */
import { createSimulateApi } from './app.ts';

const issuers = (process.env.ISSUERS ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const audience = process.env.AUDIENCE ?? '';
const port = Number(process.env.PORT ?? 4000);
if (issuers.length === 0 || !audience || !Number.isInteger(port)) {
  console.error('simulate-api: set ISSUERS (comma-separated issuer URLs), AUDIENCE and optionally PORT');
  process.exit(78);
}
const server = createSimulateApi({ issuers, audience }).listen(port, () => {
  console.log(`simulate-api listening on :${port} for ${issuers.join(', ')}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
