import {errorMessage} from '../errors.js'
import type {Logger} from '../log.js'

/**
 * The daemon's parts in the order they started, closed in the reverse order. Every part is closed
 * whatever the others do: a part that fails to close is logged and named in the AggregateError the
 * run ends with, and the parts started before it (the store last of all) still close.
 */
export class Shutdown {
  private readonly parts: {name: string; close: () => unknown}[] = []

  /** A part has started: it closes before every part added before it. */
  add(name: string, close: () => unknown): void {
    this.parts.push({name, close})
  }

  /** Closes every part, last started first; rejects after all of them if any failed. */
  async run(log: Logger): Promise<void> {
    const failures: Error[] = []
    for (const {name, close} of this.parts.splice(0).reverse()) {
      try {
        await close()
      } catch (error) {
        log.error(`while stopping, closing the ${name} failed: ${errorMessage(error)}`)
        failures.push(new Error(`${name}: ${errorMessage(error)}`, {cause: error}))
      }
    }
    if (failures.length > 0) {
      throw new AggregateError(failures, `cdp dev stopped, but ${failures.length} part${failures.length === 1 ? '' : 's'} failed to close: ${failures.map((f) => f.message).join('; ')}`)
    }
  }
}
