/**
 * The one logger. Level from CDP_LOG (error, warn, info, debug; default info). It writes to
 * stderr so that stdout stays clean for data and --json. The daemon's parts receive a Logger, so
 * tests pass silentLogger.
 */
import {printableLines} from './printable.js'

export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug'

const ranks: Record<LogLevel, number> = {silent: 0, error: 1, warn: 2, info: 3, debug: 4}

export interface Logger {
  level: LogLevel
  error(message: string): void
  warn(message: string): void
  info(message: string): void
  debug(message: string): void
}

export function parseLogLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  if (value && value in ranks) return value as LogLevel
  return fallback
}

export function createLogger(
  options: {level?: LogLevel; write?: (line: string) => void; prefix?: string} = {},
): Logger {
  const level = options.level ?? parseLogLevel(process.env.CDP_LOG)
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const prefix = options.prefix ?? ''
  const at = (wanted: LogLevel) => (message: string) => {
    // Messages quote event data and destinations' answers: no control sequence reaches the terminal.
    if (ranks[wanted] <= ranks[level]) write(prefix + printableLines(message))
  }
  return {level, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug')}
}

export const silentLogger: Logger = createLogger({level: 'silent'})
