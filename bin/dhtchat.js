#!/usr/bin/env node
// Entry point for `npx dhtchat`: runs the TypeScript CLI through tsx's loader (no build step needed).
import { register } from 'tsx/esm/api';

register();
await import('../src/app/cli.ts');
