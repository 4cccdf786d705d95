{{header}}
// @ts-check
{{validationImports}}

{{types}}

/** @typedef {string | number} Id */

/**
 * Who did it: a userId, an anonymousId, or both.
 * @typedef {{userId: Id; anonymousId?: Id} | {userId?: Id; anonymousId: Id}} Identity
 */

/**
 * What every call can carry besides its properties or traits.
 * @typedef {{
 *   context?: Record<string, unknown>
 *   timestamp?: Date | string
 *   integrations?: Record<string, boolean | Record<string, unknown>>
 *   messageId?: string
 * }} CallOptions
 */

/**
 * A call that breaks the tracking plan, found by the client's run-time check.
 * @typedef {{event: string; errors: {path: string; message: string}[]}} Violation
 */

/**
 * onViolation is called for a call that breaks the plan (clients generated with --validate).
 * Default: warn; throw under NODE_ENV=test.
 * @typedef {{onViolation?: (violation: Violation) => void}} TrackerOptions
 */

/**
 * The analytics-node calls the client needs (an Analytics instance has them).
 * @typedef {Pick<import('@segment/analytics-node').Analytics, 'track' | 'identify' | 'group'>} AnalyticsLike
 */

/** @typedef {Parameters<import('@segment/analytics-node').Analytics['track']>[0]} TrackParams */
/** @typedef {Parameters<import('@segment/analytics-node').Analytics['identify']>[0]} IdentifyParams */
/** @typedef {Parameters<import('@segment/analytics-node').Analytics['group']>[0]} GroupParams */

const generator = {{generator}}

/**
 * @param {Record<string, unknown> | undefined} context
 * @param {number} [eventVersion]
 * @returns {Record<string, unknown>}
 */
function withGenerator(context, eventVersion) {
  const protocols = eventVersion === undefined ? {} : {protocols: {.../** @type {object | undefined} */ (context?.protocols), event_version: eventVersion}}
  return {...context, ...protocols, cdp: generator}
}

{{validation}}

/**
 * A typed client for the tracking plan, over an @segment/analytics-node instance.
 * @param {AnalyticsLike} analytics
 * @param {TrackerOptions} [options]
 */
export function createTracker(analytics, options = {}) {
  /**
   * @param {string} event
   * @param {number | undefined} eventVersion
   * @param {Identity & CallOptions & {properties?: object}} message
   * @returns {void}
   */
  const track = (event, eventVersion, message) => {
    check(options, event, {properties: message.properties ?? {}})
    analytics.track(/** @type {TrackParams} */ ({...message, event, context: withGenerator(message.context, eventVersion)}))
  }
  return {
{{methods}}

    /**
     * Who the user is: traits from the plan's identify.json.
     * @param {Identity & CallOptions & {traits{{identifyOptional}}: IdentifyTraits}} message
     * @returns {void}
     */
    identify(message) {
      check(options, 'identify', {traits: message.traits ?? {}})
      analytics.identify(/** @type {IdentifyParams} */ ({...message, context: withGenerator(message.context)}))
    },

    /**
     * The group (account, company) the user belongs to: traits from the plan's group.json.
     * @param {Identity & CallOptions & {groupId: Id; traits{{groupOptional}}: GroupTraits}} message
     * @returns {void}
     */
    group(message) {
      check(options, 'group', {traits: message.traits ?? {}})
      analytics.group(/** @type {GroupParams} */ ({...message, context: withGenerator(message.context)}))
    },
  }
}
