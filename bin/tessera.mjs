#!/usr/bin/env node
// `npx tessera <command>`: the operator CLI (src/cli/main.ts), run through tsx like `npm start`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
