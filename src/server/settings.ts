import type {SourceConfig} from '../config/schema.js'

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
