#!/usr/bin/env node
// telekit: `telekit replay FILE.mcap` serves a recording through a gateway, read-only;
// `telekit export lerobot FILE.mcap… --out DIR` writes a LeRobot v3.0 dataset.
import { runCli } from '../dist/cli.js';

process.exitCode = await runCli(process.argv.slice(2));
