import type {DestinationConfig} from '../config/schema.js'

/** The fields of an event a destination's filter looks at. */
export interface FilterFields {
  type: string
  /** Track event, or page/screen name. */
  name: string | null
  source: string
  policy: 'blocked' | 'omitted' | null
}

/**
 * Whether a destination takes an event: the same rule the store applies in SQL when it queues
 * events (src/store/sqlite-deliveries.ts), for code that holds an event in hand.
 */
export function destinationTakes(config: DestinationConfig, event: FilterFields): boolean {
  if (event.policy === 'blocked') return false
  if (config.types && !config.types.includes(event.type)) return false
  if (config.events && (event.name === null || !config.events.includes(event.name))) return false
  if (config.sources && !config.sources.includes(event.source)) return false
  return true
}
