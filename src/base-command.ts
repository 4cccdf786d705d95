import {Command} from '@oclif/core'
import chalk from 'chalk'
import {AbortSilent, BugError, ExitCode, UserError} from './errors.js'
import {printableLines} from './printable.js'

/**
 * The top-level error handler of every command: a UserError prints its message and hint (or a
 * JSON error under --json) and exits with its code; a BugError says it is a bug; Ctrl-C is silent.
 */
export abstract class BaseCommand extends Command {
  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof AbortSilent) this.exit(130)
    if (error instanceof UserError) {
      if (this.jsonEnabled()) {
        this.logJson({error: {code: error.code, message: error.message, hint: error.hint}})
      } else {
        process.stderr.write(`${chalk.red('Error:')} ${printableLines(error.message)}\n`)
        if (error.hint) process.stderr.write(`${chalk.dim('Try:')} ${printableLines(error.hint)}\n`)
      }
      this.exit(error.exitCode)
    }
    if (error instanceof BugError) {
      process.stderr.write(`${chalk.red('cdp hit a bug:')} ${printableLines(error.message)}\nPlease report it with the command you ran.\n`)
      this.exit(ExitCode.bug)
    }
    return super.catch(error)
  }
}
