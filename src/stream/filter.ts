import type {EventMatch} from '../store/filter-spec.js'
import type {StreamFilter} from './types.js'

/**
 * A reader's filter as the store's events filter, for history (SQL) and live items (in hand) alike.
 * `violations` is `valid: false`: an event breaks its plan exactly when it has violations.
 */
export function streamEventMatch(filter: StreamFilter): EventMatch {
  return {type: filter.type, event: filter.event, source: filter.source, user: filter.user, valid: filter.violations ? false : undefined}
}
