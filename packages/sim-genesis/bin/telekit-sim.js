#!/usr/bin/env node
// telekit-sim: the simulator package's command line (`telekit-sim setup` installs the Python
// sidecar beside the app; see the package README, "Install").
import { runSimCli } from '../dist/setup.js';

process.exitCode = await runSimCli(process.argv.slice(2));
