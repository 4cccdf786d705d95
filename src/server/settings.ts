import type {SourceConfig} from '../config/schema.js'
import {HttpError} from './http-error.js'

/** Where analytics.js loads its settings: /v1/projects/<write key>/settings. */
export const settingsPath = /^\/v1\/projects\/([^/]+)\/settings$/

/**
 * The write key in a settings path, undefined for any other path. A key that is not valid
 * percent-encoding ("%" not followed by two hex digits) is the client's mistake: a 400, not a 500.
 */
export function settingsWriteKey(path: string): string | undefined {
  const match = settingsPath.exec(path)
  if (!match) return undefined
  try {
    return decodeURIComponent(match[1])
  } catch {
    throw new HttpError(400, 'invalid_path', `the write key in ${path} is not valid percent-encoding ("%" must start a %XX escape, such as %25 for "%" itself); put the write key in the path as cdp dev printed it`)
  }
}

/**
 * The settings document analytics.js (@segment/analytics-next) loads from its CDN at start
 * (`/v1/projects/:writeKey/settings`). It points the Segment.io integration at this daemon, so
 * the browser SDK sends here when its cdnURL is the daemon's URL. No device-mode destinations,
 * no remote plugins, metrics off.
 */
export function analyticsSettings(source: SourceConfig, apiHost: string, protocol: 'http' | 'https'): Record<string, unknown> {
  return {
    integrations: {
      'Segment.io': {
        apiKey: source.writeKey,
        apiHost,
        protocol,
        unbundledIntegrations: [],
        addBundledMetadata: true,
        maybeBundledConfigIds: {},
        versionSettings: {version: '4.4.7', componentTypes: ['browser']},
      },
    },
    plan: {
      track: {__default: {enabled: true, integrations: {}}},
      identify: {__default: {enabled: true}},
      group: {__default: {enabled: true}},
    },
    edgeFunction: {},
    analyticsNextEnabled: true,
    middlewareSettings: {},
    enabledMiddleware: {},
    metrics: {sampleRate: 0},
    legacyVideoPluginsEnabled: false,
    remotePlugins: [],
  }
}

/**
 * Where RudderStack's browser SDK (@rudderstack/analytics-js) loads its source config when its
 * configUrl is the daemon: `/sourceConfig/?writeKey=…&p=…&v=…` with the write key also as HTTP
 * Basic auth. Routing drops the trailing slash, so `/sourceConfig` answers too.
 */
export const sourceConfigPath = '/sourceConfig'

/** How the source config route is told the write key, for its 401. */
export const sourceConfigKeyHint = 'as the HTTP Basic auth user name, or as ?writeKey= in the URL (RudderStack\'s SDK sends both when its configUrl is this daemon)'

/**
 * The source config RudderStack's browser SDK loads at start, for one source: enabled, with no
 * device-mode destinations (so it loads no integration from RudderStack's CDN) and an empty
 * config (no `statsCollection`: no error or metrics reports to RudderStack). It names the source
 * and nothing more of the workspace: any page holding the write key may read it, as any page may
 * send events with it.
 */
export function rudderSourceConfig(source: SourceConfig): {source: {id: string; name: string; enabled: true; config: Record<string, never>; destinations: []}} {
  return {source: {id: source.name, name: source.name, enabled: true, config: {}, destinations: []}}
}
