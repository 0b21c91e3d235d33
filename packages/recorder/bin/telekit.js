#!/usr/bin/env node
// telekit: `telekit replay FILE.mcap` serves a recording through a gateway, read-only.
import { runCli } from '../dist/cli.js';

process.exitCode = await runCli(process.argv.slice(2));
