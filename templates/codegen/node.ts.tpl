{{header}}
import type {Analytics} from '@segment/analytics-node'
{{validationImports}}

{{types}}

type Id = string | number

/** Who did it: a userId, an anonymousId, or both. */
export type Identity = {userId: Id; anonymousId?: Id} | {userId?: Id; anonymousId: Id}

/** What every call can carry besides its properties or traits. */
export interface CallOptions {
  context?: Record<string, unknown>
  timestamp?: Date | string
  integrations?: Record<string, boolean | Record<string, unknown>>
  messageId?: string
}

/** A call that breaks the tracking plan, found by the client's run-time check. */
export interface Violation {
  event: string
  errors: {path: string; message: string}[]
}

export interface TrackerOptions {
  /** Called for a call that breaks the plan (clients generated with --validate). Default: warn; throw under NODE_ENV=test. */
  onViolation?: (violation: Violation) => void
}

/** The analytics-node calls the client needs (an Analytics instance has them). */
export type AnalyticsLike = Pick<Analytics, 'track' | 'identify' | 'group'>

type TrackParams = Parameters<Analytics['track']>[0]
type IdentifyParams = Parameters<Analytics['identify']>[0]
type GroupParams = Parameters<Analytics['group']>[0]

const generator = {{generator}}

function withGenerator(context: Record<string, unknown> | undefined, eventVersion?: number): Record<string, unknown> {
  const protocols = eventVersion === undefined ? {} : {protocols: {...(context?.protocols as object | undefined), event_version: eventVersion}}
  return {...context, ...protocols, cdp: generator}
}

{{validation}}

/** A typed client for the tracking plan, over an @segment/analytics-node instance. */
export function createTracker(analytics: AnalyticsLike, options: TrackerOptions = {}) {
  const track = (event: string, eventVersion: number | undefined, message: Identity & CallOptions & {properties?: object}): void => {
    check(options, event, {properties: message.properties ?? {}})
    analytics.track({...message, event, context: withGenerator(message.context, eventVersion)} as TrackParams)
  }
  return {
{{methods}}

    /** Who the user is: traits from the plan's identify.json. */
    identify(message: Identity & CallOptions & {traits{{identifyOptional}}: IdentifyTraits}): void {
      check(options, 'identify', {traits: message.traits ?? {}})
      analytics.identify({...message, context: withGenerator(message.context)} as IdentifyParams)
    },

    /** The group (account, company) the user belongs to: traits from the plan's group.json. */
    group(message: Identity & CallOptions & {groupId: Id; traits{{groupOptional}}: GroupTraits}): void {
      check(options, 'group', {traits: message.traits ?? {}})
      analytics.group({...message, context: withGenerator(message.context)} as GroupParams)
    },
  }
}
