/**
 * The operator CLI: works on the same services as the admin API, directly on the database
 * (DATABASE_URL / DATA_DIR and KEY_ENCRYPTION_KEY as for the server), not over HTTP.
 *
 *   tessera tenant create <slug> --name <name> [--alg ES256|RS256|EdDSA] [--admin-username u --admin-password p]
 *   tessera user create <tenant> <username> --password <p> [--role r]... [--email e]
 *   tessera client create <tenant> --name <name> --grant <g>... [--role r]... [--default-resource url] [--redirect-uri url]... [--public]
 *   tessera keys rotate <tenant>
 *   tessera admin reset-password [--username admin] [--password p]
 *   tessera admin recover [--username admin] [--password p]        (makes a platform admin; bootstrap never re-grants)
 *
 * `--json` prints the result as JSON. Exit codes: 0 done, 1 refused (the message says why),
 * 64 usage, 78 configuration.
 */
import { parseArgs } from 'node:util';
import { ConfigError, EXIT_CONFIG, loadConfig } from '../config/index.ts';
import { AppError } from '../errors.ts';
import { runCommand, UsageError, USAGE } from './commands.ts';

const EXIT_USAGE = 64;

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        name: { type: 'string' },
        'temporary-password': { type: 'boolean' },
        alg: { type: 'string' },
        'admin-username': { type: 'string' },
        'admin-password': { type: 'string' },
        password: { type: 'string' },
        email: { type: 'string' },
        role: { type: 'string', multiple: true },
        grant: { type: 'string', multiple: true },
        'default-resource': { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        public: { type: 'boolean', default: false },
        username: { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`tessera: ${(err as Error).message}\n${USAGE}`);
    process.exit(EXIT_USAGE);
  }
})();

if (values.help || positionals.length === 0) {
  process.stdout.write(USAGE);
  process.exit(values.help ? 0 : EXIT_USAGE);
}

let code = 0;
try {
  const config = loadConfig();
  const result = await runCommand(config, positionals, values);
  process.stdout.write(values.json ? `${JSON.stringify(result.data)}\n` : `${result.text}\n`);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`tessera: ${err.message}\n`);
    code = EXIT_CONFIG;
  } else if (err instanceof UsageError) {
    process.stderr.write(`tessera: ${err.message}\n${USAGE}`);
    code = EXIT_USAGE;
  } else if (err instanceof AppError) {
    process.stderr.write(values.json ? `${JSON.stringify({ error: err.code, message: err.message })}\n` : `tessera: ${err.message}\n`);
    code = 1;
  } else {
    process.stderr.write(`tessera: ${(err as Error).message}\n`);
    code = 1;
  }
}
process.exit(code);
