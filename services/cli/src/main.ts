import { Command, CommanderError } from 'commander';
import { stderrWarning } from '@kd/trainer';
import { benchCommand } from './commands/bench.ts';
import { clusterCommand } from './commands/cluster.ts';
import { dataCommands } from './commands/data.ts';
import { demoCommand } from './commands/demo.ts';
import { distillCommand } from './commands/distill.ts';
import { evalCommand } from './commands/eval.ts';
import { eventsCommand } from './commands/events.ts';
import { experimentCommand } from './commands/experiment.ts';
import { exportCommand } from './commands/export.ts';
import { inferCommand } from './commands/infer.ts';
import { mapCommand } from './commands/map.ts';
import { makeDatasetCommand } from './commands/make_dataset.ts';
import { serveCommand } from './commands/serve.ts';
import { trainCommand } from './commands/train.ts';

// Node prints a process warning as "(node:PID) DataWarning: ... (Use `node --trace-warnings ...`)";
// kd's (the loaders' skipped files) and Node's own are lines of kd's log instead.
process.removeAllListeners('warning');
process.on('warning', (w) => stderrWarning(w.name === 'DataWarning' ? w.message : `${w.name}: ${w.message}`));

const program = new Command('kd')
  .description('Knowledge distillation for object detectors: a teacher service, student trainers, VOC mAP.')
  .version('0.1.0')
  .showHelpAfterError()
  .addHelpText('after', `
Environment:
  KD_BACKEND   tfjs backend: auto (default: tfjs-node-gpu, tfjs-node, wasm, cpu), tensorflow, wasm, cpu
  NATS_URL     the event bus of the services (kd serve, kd cluster, kd events tail)`);

program.addCommand(clusterCommand());
program.addCommand(demoCommand());
program.addCommand(benchCommand());
program.addCommand(makeDatasetCommand());
program.addCommand(serveCommand());
program.addCommand(eventsCommand());
for (const command of [trainCommand(), distillCommand(), evalCommand(), inferCommand(), exportCommand(), experimentCommand(), mapCommand(), ...dataCommands()]) program.addCommand(command);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  process.stderr.write(`kd: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
