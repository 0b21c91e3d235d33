#!/usr/bin/env node
// create-telekit: `npm create telekit@latest my-robot` runs this.
import { runCli } from '../dist/cli.js';

process.exitCode = await runCli(process.argv.slice(2));
