{{header}}
import type {AnalyticsBrowser} from '@segment/analytics-next'
{{validationImports}}

{{types}}

/** What every call can carry besides its properties or traits. */
export interface CallOptions {
  context?: Record<string, unknown>
  timestamp?: Date | string
  integrations?: Record<string, boolean | Record<string, unknown>>
  anonymousId?: string
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

/** The analytics.js calls the client needs (an AnalyticsBrowser has them). */
export type AnalyticsLike = Pick<AnalyticsBrowser, 'track' | 'identify' | 'group'>

type BrowserOptions = Parameters<AnalyticsBrowser['track']>[2]

const generator = {{generator}}

function withGenerator(options: CallOptions, eventVersion?: number): BrowserOptions {
  const context = options.context
  const protocols = eventVersion === undefined ? {} : {protocols: {...(context?.protocols as object | undefined), event_version: eventVersion}}
  return {...options, context: {...context, ...protocols, cdp: generator}} as BrowserOptions
}

{{validation}}

/** A typed client for the tracking plan, over an @segment/analytics-next instance. */
export function createTracker(analytics: AnalyticsLike, options: TrackerOptions = {}) {
  const track = (event: string, eventVersion: number | undefined, properties: object | undefined, callOptions: CallOptions = {}) => {
    check(options, event, {properties: properties ?? {}})
    return analytics.track(event, properties, withGenerator(callOptions, eventVersion))
  }
  return {
{{methods}}

    /** Who the user is: traits from the plan's identify.json. */
    identify(userId: string, traits{{identifyOptional}}: IdentifyTraits, callOptions: CallOptions = {}) {
      check(options, 'identify', {traits: traits ?? {}})
      return analytics.identify(userId, traits, withGenerator(callOptions))
    },

    /** The group (account, company) the user belongs to: traits from the plan's group.json. */
    group(groupId: string, traits{{groupOptional}}: GroupTraits, callOptions: CallOptions = {}) {
      check(options, 'group', {traits: traits ?? {}})
      return analytics.group(groupId, traits, withGenerator(callOptions))
    },
  }
}
