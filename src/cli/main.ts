import { SluiceError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { EXIT } from './exit-codes.js';
import { runCommand } from './commands/run.js';
import { schemaRegistryCommand } from './commands/schema-registry.js';
import { validateCommand } from './commands/validate.js';
import { serveCommand } from './commands/serve.js';
import { deployCommand } from './commands/deploy.js';
import { pipelineCommand } from './commands/pipeline.js';
import { writeErr, writeOut } from './output.js';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}

const commands: Command[] = [runCommand, validateCommand, schemaRegistryCommand, serveCommand, deployCommand, pipelineCommand];

const HELP = `sluice — stream-processing dataflow runtime

Usage: sluice <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(Math.max(...commands.map((x) => x.name.length)) + 2)}${c.summary}`).join('\n')}

Run 'sluice <command> --help' for a command's options.
Exit codes: 0 done, 1 run failed, 2 invalid topology or usage.
`;

/** Runs the command line and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    writeOut(HELP);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    writeErr(`sluice: unknown command '${name}'\n\n${HELP}`);
    return EXIT.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    writeOut(`${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (
      error instanceof SluiceError &&
      (error.code === 'SLUICE_TOPOLOGY_INVALID' || error.code === 'SLUICE_CONFIG_INVALID' || error.code === 'SLUICE_ENV_MISSING')
    ) {
      writeErr(`${error.message}\n`);
      return EXIT.usage;
    }
    if (String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) {
      writeErr(`sluice ${name}: ${(error as Error).message}\n\n${command.usage}\n`);
      return EXIT.usage;
    }
    writeErr(`sluice ${name}: ${(error as Error).message}\n`);
    return EXIT.failed;
  } finally {
    logger.flush();
  }
}
