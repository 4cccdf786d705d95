{{header}}
// @ts-check
{{validationImports}}

{{types}}

/**
 * What every call can carry besides its properties or traits.
 * @typedef {{
 *   context?: Record<string, unknown>
 *   timestamp?: Date | string
 *   integrations?: Record<string, boolean | Record<string, unknown>>
 *   anonymousId?: string
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
 * The analytics.js calls the client needs (an AnalyticsBrowser has them).
 * @typedef {Pick<import('@segment/analytics-next').AnalyticsBrowser, 'track' | 'identify' | 'group'>} AnalyticsLike
 */

/** @typedef {Parameters<import('@segment/analytics-next').AnalyticsBrowser['track']>[2]} BrowserOptions */

const generator = {{generator}}

/**
 * @param {CallOptions} options
 * @param {number} [eventVersion]
 * @returns {BrowserOptions}
 */
function withGenerator(options, eventVersion) {
  const context = options.context
  const protocols = eventVersion === undefined ? {} : {protocols: {.../** @type {object | undefined} */ (context?.protocols), event_version: eventVersion}}
  return /** @type {BrowserOptions} */ ({...options, context: {...context, ...protocols, cdp: generator}})
}

{{validation}}

/**
 * A typed client for the tracking plan, over an @segment/analytics-next instance.
 * @param {AnalyticsLike} analytics
 * @param {TrackerOptions} [options]
 */
export function createTracker(analytics, options = {}) {
  /**
   * @param {string} event
   * @param {number | undefined} eventVersion
   * @param {object | undefined} properties
   * @param {CallOptions} [callOptions]
   */
  const track = (event, eventVersion, properties, callOptions = {}) => {
    check(options, event, {properties: properties ?? {}})
    return analytics.track(event, properties, withGenerator(callOptions, eventVersion))
  }
  return {
{{methods}}

    /**
     * Who the user is: traits from the plan's identify.json.
     * @param {string} userId
     * @param {IdentifyTraits} {{identifyTraitsParam}}
     * @param {CallOptions} [callOptions]
     */
    identify(userId, traits, callOptions = {}) {
      check(options, 'identify', {traits: traits ?? {}})
      return analytics.identify(userId, traits, withGenerator(callOptions))
    },

    /**
     * The group (account, company) the user belongs to: traits from the plan's group.json.
     * @param {string} groupId
     * @param {GroupTraits} {{groupTraitsParam}}
     * @param {CallOptions} [callOptions]
     */
    group(groupId, traits, callOptions = {}) {
      check(options, 'group', {traits: traits ?? {}})
      return analytics.group(groupId, traits, withGenerator(callOptions))
    },
  }
}
