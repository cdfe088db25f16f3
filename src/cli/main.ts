/**
 * The operator CLI (`npx tessera …`): every admin API call, derived from the admin API's route
 * table (`tessera --help` lists them; `tessera <noun> <verb> --help` shows one's options), plus two
 * recovery commands. It works directly on the database (DATABASE_URL / DATA_DIR and
 * KEY_ENCRYPTION_KEY as for the server), not over HTTP, as the operator: through the same
 * validation, policy, services and audit events as the admin API.
 *
 *   tessera tenant create <slug> --name <name> [--alg ES256|RS256|EdDSA] [--admin-username u --admin-password p]
 *   tessera user create <tenant> <username> --password <p> [--role r]... [--email e] [--temporary-password]
 *   tessera user list <tenant> [--limit n] [--cursor c]      tessera user update <tenant> <id> --disabled
 *   tessera client create <tenant> --name <name> --grant <g>... [--role r]... [--public]
 *   tessera audit list <tenant> --type signin.failure --from 2026-12-01T00:00:00Z
 *   tessera admin reset-password [--username admin] [--password p]
 *   tessera admin recover [--username admin] [--password p]
 *
 * `--json` prints the result (the admin API's answer) or the error as JSON. Exit codes: 0 done,
 * 1 refused (the message says why), 64 usage, 78 configuration.
 */
import { ConfigError, EXIT_CONFIG, loadConfig } from '../config/index.ts';
import { AppError } from '../errors.ts';
import { optionOf } from './admin-commands.ts';
import { parseCommandLine, runAdmin, runRecovery, UsageError, USAGE, withCore, type CommandResult, type Parsed } from './commands.ts';

const EXIT_USAGE = 64;
const argv = process.argv.slice(2);
const out = (s: string) => process.stdout.write(s);
const err = (s: string) => process.stderr.write(s);

let parsed: Parsed;
try {
  parsed = parseCommandLine(argv);
} catch (e) {
  err(`tessera: ${(e as Error).message}\n${USAGE}`);
  process.exit(EXIT_USAGE);
}
if (parsed.kind === 'help') {
  out(parsed.text);
  process.exit(argv.length ? 0 : EXIT_USAGE);
}
const json = parsed.kind === 'admin' ? parsed.invocation.json : parsed.json;

let code = 0;
try {
  const config = loadConfig();
  const p = parsed;
  const result: CommandResult = await withCore(
    config,
    (core) => (p.kind === 'admin' ? runAdmin(core, p.command, p.invocation) : runRecovery(core, config, p)),
    (line) => err(`tessera: ${line}\n`),
  );
  out(json ? `${JSON.stringify(result.data)}\n` : `${result.text}\n`);
} catch (e) {
  if (e instanceof ConfigError) {
    err(`tessera: ${e.message}\n`);
    code = EXIT_CONFIG;
  } else if (e instanceof UsageError) {
    err(`tessera: ${e.message}\n`);
    code = EXIT_USAGE;
  } else if (e instanceof AppError) {
    // a validation error names the option that caused it
    const fields = ((e.details?.errors ?? []) as { path: string; message: string }[]).map((f) => ({
      ...f,
      option: parsed.kind === 'admin' ? optionOf(parsed.command, f.path) : f.path,
    }));
    if (json) err(`${JSON.stringify({ error: e.code, message: e.message, ...(fields.length ? { errors: fields } : {}) })}\n`);
    else err(`tessera: ${e.message}${fields.map((f) => `\n  ${f.option}: ${f.message}`).join('')}\n`);
    code = 1;
  } else {
    err(`tessera: ${(e as Error).message}\n`);
    code = 1;
  }
}
process.exit(code);
